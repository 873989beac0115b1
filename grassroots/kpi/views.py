"""Console: the province dashboard (tiles, drill-down, devices, relay compliance), the facts
behind each number, the map; every table downloads as XLSX or CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from grassroots.accounts.policies import require

from . import export, facts, querysets
from .indicators import BY_ID, INDICATORS
from .querysets import PERMISSION, PeriodError


def _period(request):
    """(period, error message) from the picker's GET parameters; this year on a bad input."""
    g = request.GET
    try:
        return querysets.parse_period(
            g.get("ky", ""), g.get("gia-tri", ""), g.get("tu", ""), g.get("den", "")
        ), ""
    except PeriodError as exc:
        return querysets.parse_period("nam"), str(exc)


def _export_format(request) -> str:
    fmt = request.GET.get("xuat", "")
    if fmt and fmt not in export.FORMATS:
        raise Http404
    return fmt


@login_required
def dashboard(request, code: str | None = None):
    """A unit's indicators for a period: tiles, the units below it, its clusters."""
    require(request.user, PERMISSION)
    unit = querysets.unit_for(request.user, code)
    period, error = _period(request)
    fmt = _export_format(request)
    table = request.GET.get("bang", "chi-so")
    if fmt and table == "don-vi":
        rows = querysets.children(unit, period)
        return export.response(
            fmt, f"chi-so-{unit.code}-don-vi", "Đơn vị",
            ["Đơn vị", *[str(i.name) for i in INDICATORS]],
            [[r["unit"].name, *[r["values"][i.id] for i in INDICATORS]] for r in rows],
        )  # fmt: skip
    if fmt and table == "thiet-bi":
        headers, rows = facts.devices(unit, period)
        return export.response(fmt, f"chi-so-{unit.code}-thiet-bi", "Thiết bị", headers, rows)
    tiles = querysets.tiles(unit, period)
    if fmt:
        return export.response(
            fmt, f"chi-so-{unit.code}", "Chỉ số",
            ["Chỉ số", "Đơn vị tính", "Giá trị", "Mục tiêu", "Đánh giá", "Cùng kỳ năm trước"],
            [[str(t["indicator"].name), str(t["indicator"].unit),
              t["value"] if t["value"] is not None else "chưa có dữ liệu",
              str(t["target"]) if t["target"] else "", t["rag_label"], t["last_year"]]
             for t in tiles],
        )  # fmt: skip
    kids = querysets.children(unit, period)
    commune_level = unit.is_commune_level or not kids
    chosen = BY_ID.get(request.GET.get("chi-so", ""), INDICATORS[0])
    chosen_tile = next(t for t in tiles if t["indicator"].id == chosen.id)
    context = {
        "unit": unit,
        "ancestors": [
            a
            for a in unit.ancestors()
            if querysets.Unit.objects.restrict(request.user, PERMISSION).filter(pk=a.pk).exists()
        ],  # fmt: skip
        "period": period,
        "error": error,
        "tiles": tiles,
        "children": kids,
        "indicators": INDICATORS,
        "devices": querysets.devices(unit, period) if commune_level else [],
        "relay_days": facts.relay_days(unit, period, max_days=7) if commune_level else [],
        "chosen": chosen,
        "chart": {
            "label": str(chosen.name),
            "unit": str(chosen.unit),
            "points": chosen_tile["trend"],
            "last_year": chosen_tile["last_year_trend"],
        },
    }
    return render(request, "kpi/dashboard.html", context)


@login_required
def fact_list(request, indicator: str):
    """The facts an indicator's number stands on, for a unit and a period."""
    require(request.user, PERMISSION)
    ind = BY_ID.get(indicator)
    if ind is None:
        raise Http404
    unit = querysets.unit_for(request.user, request.GET.get("don-vi"))
    period, error = _period(request)
    fmt = _export_format(request)
    if not ind.facts:
        headers, rows = [], []
    else:
        headers, rows = facts.KINDS[ind.facts](unit, period)
    if fmt:
        return export.response(fmt, f"{ind.id}-{unit.code}", str(ind.name)[:31], headers, rows)
    return render(request, "kpi/facts.html", {
        "indicator": ind, "unit": unit, "period": period, "error": error,
        "headers": headers, "rows": rows[: facts.PAGE], "total": len(rows),
    })  # fmt: skip


@login_required
def relay_view(request, code: str):
    """A commune's mandated relay slots, day by day: relayed, partly relayed or missed."""
    require(request.user, PERMISSION)
    unit = querysets.unit_for(request.user, code)
    period, error = _period(request)
    days = facts.relay_days(unit, period)
    fmt = _export_format(request)
    if fmt:
        rows = [[d, f"{r.start:%H:%M}–{r.end:%H:%M}", r.label, r.percent]
                for d, results in days for r in results]  # fmt: skip
        return export.response(
            fmt,
            f"tiep-song-{unit.code}",
            "Tiếp sóng",
            ["Ngày", "Khung giờ", "Kết quả", "Thời lượng (%)"],
            rows,
        )
    return render(
        request, "kpi/relay.html", {"unit": unit, "period": period, "error": error, "days": days}
    )


@login_required
def map_view(request):
    """Communes as points at their centroids, coloured by an indicator's value."""
    require(request.user, PERMISSION)
    unit = querysets.unit_for(request.user, request.GET.get("don-vi"))
    period, error = _period(request)
    chosen = BY_ID.get(request.GET.get("chi-so", ""), BY_ID["device_availability"])
    points = []
    for row in querysets.communes(unit, period):
        u = row["unit"]
        if u.latitude is None or u.longitude is None:
            continue
        value = row["values"][chosen.id]
        target = querysets.target_for(chosen.id, period.end.year)
        points.append({
            "name": u.name, "code": u.code, "lat": u.latitude, "lon": u.longitude,
            "value": value, "rag": querysets.rag(chosen, value, target),
        })  # fmt: skip
    from grassroots.devices.maps import tile_layer

    layer = tile_layer()  # validated, like the fleet map's (docs/operations.md, "Fleet map")
    return render(request, "kpi/map.html", {
        "unit": unit, "period": period, "error": error, "chosen": chosen,
        "indicators": [i for i in INDICATORS if i.facts], "points": points,
        "tiles_url": layer["url"] if layer else "",
        "tiles_max_zoom": layer["max_zoom"] if layer else 18,
        "no_data": _("chưa có dữ liệu"),
    })  # fmt: skip
