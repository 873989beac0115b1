"""Reads of the dashboards and the API: periods, sums of rollups, targets, red/amber/green.

Every read is for one unit the caller may see with `kpi.view` (404 otherwise, see `unit_for`):
its figures are the sums of the rollup rows of the unit and every unit below it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Max, Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from grassroots.accounts.scope import scope_paths
from grassroots.core.dates import VIETNAM
from grassroots.training.querysets import staff_trained, staff_trained_by_unit
from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

from .indicators import INDICATORS, Indicator, Totals
from .models import FLOW_FIELDS, STOCK_FIELDS, DailyRollup, DeviceDay, MonthRollup, Target

PERMISSION = "kpi.view"
URBAN = (UnitKind.WARD, UnitKind.TOWNSHIP)  # phường, thị trấn: target 100 %
RURAL = (UnitKind.COMMUNE, UnitKind.SPECIAL_ZONE)  # xã, đặc khu: target > 70 % (2025)
AMBER_POINTS = 10.0  # within 10 percentage points of the target: amber
MAX_DAYS = 3 * 366 + 1  # longest period a caller may ask for
CELL = '<td class="text-end">{}</td>'
FEW_ACKS = 2000  # up to this many emergency acknowledgements in scope: read them in one query


class PeriodError(ValueError):
    """A period a person wrote that we cannot use; the message says what to write."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    kind: str  # "thang", "quy", "nam", "tuy-chon"
    value: str

    @property
    def label(self) -> str:
        from django.utils.translation import gettext

        if self.kind == "thang":
            return gettext("Tháng %(month)s") % {"month": f"{self.start:%m/%Y}"}
        if self.kind == "quy":
            quarter = f"{(self.start.month - 1) // 3 + 1}/{self.start.year}"
            return gettext("Quý %(quarter)s") % {"quarter": quarter}
        if self.kind == "nam":
            return gettext("Năm %(year)s") % {"year": self.start.year}
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    def last_year(self) -> Period:
        """The same period one year earlier (29/02 becomes 28/02)."""

        def back(d: date) -> date:
            try:
                return d.replace(year=d.year - 1)
            except ValueError:
                return d.replace(year=d.year - 1, day=28)

        return Period(back(self.start), back(self.end), self.kind, self.value)

    def query(self) -> str:
        if self.kind == "tuy-chon":
            return f"ky=tuy-chon&tu={self.start.isoformat()}&den={self.end.isoformat()}"
        return f"ky={self.kind}&gia-tri={self.value}"


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def parse_period(kind: str, value: str = "", start: str = "", end: str = "",
                 *, today: date | None = None) -> Period:  # fmt: skip
    """A period from the picker: `nam` 2026, `quy` 2026-Q3, `thang` 2026-07, or `tuy-chon`
    with `tu`/`den` dates (YYYY-MM-DD). Empty: this year. PeriodError says what to write."""
    today = today or timezone.localdate()
    kind = (kind or "nam").strip()
    value = (value or "").strip()
    try:
        if kind == "nam":
            year = int(value or today.year)
            if not 2000 <= year <= 2100:
                raise ValueError
            return Period(date(year, 1, 1), date(year, 12, 31), kind, str(year))
        if kind == "quy":
            y, q = (value or f"{today.year}-Q{(today.month - 1) // 3 + 1}").upper().split("-Q")
            year, quarter = int(y), int(q)
            if not (2000 <= year <= 2100 and 1 <= quarter <= 4):
                raise ValueError
            m = 3 * quarter - 2
            return Period(date(year, m, 1), _month_end(year, m + 2), kind, f"{year}-Q{quarter}")
        if kind == "thang":
            y, m = (value or f"{today:%Y-%m}").split("-")
            year, month = int(y), int(m)
            if not (2000 <= year <= 2100 and 1 <= month <= 12):
                raise ValueError
            return Period(
                date(year, month, 1), _month_end(year, month), kind, f"{year}-{month:02d}"
            )
    except ValueError:
        examples = {"nam": "2026", "quy": "2026-Q3", "thang": "2026-07"}
        raise PeriodError(f"Kỳ '{value[:20]}' chưa đúng; hãy viết dạng {examples[kind]}.") from None
    if kind == "tuy-chon":
        return custom_period(start, end)
    raise PeriodError(f"Loại kỳ '{kind[:20]}' không có; hãy chọn nam, quy, thang hoặc tuy-chon.")


def custom_period(start: str, end: str) -> Period:
    """From/to dates (YYYY-MM-DD, inclusive), at most three years."""
    try:
        a, b = date.fromisoformat(str(start).strip()), date.fromisoformat(str(end).strip())
    except ValueError:
        raise PeriodError(
            "Ngày bắt đầu và ngày kết thúc phải là ngày có thật, dạng YYYY-MM-DD "
            "(ví dụ 2026-03-01)."
        ) from None
    if b < a:
        raise PeriodError("Ngày kết thúc phải sau hoặc bằng ngày bắt đầu.")
    if (b - a).days > MAX_DAYS:
        raise PeriodError("Kỳ dài nhất là 3 năm; hãy chọn kỳ ngắn hơn.")
    if a.year < 2000 or b.year > 2100:
        raise PeriodError("Chỉ xem được số liệu từ năm 2000 đến năm 2100.")
    return Period(a, b, "tuy-chon", "")


def default_unit(user) -> Unit:
    """The highest unit where the user holds kpi.view (the province for province roles)."""
    if user.is_superuser:
        unit = Unit.objects.filter(parent__isnull=True, valid_to__isnull=True).first()
    else:
        paths = sorted(scope_paths(user, PERMISSION), key=len)
        unit = Unit.objects.filter(path=paths[0]).first() if paths else None
    if unit is None:
        raise Http404
    return unit


def unit_for(user, code: str | None) -> Unit:
    """The unit with this code if the user may see its figures (404 otherwise)."""
    if not code:
        return default_unit(user)
    unit = (
        Unit.objects.restrict(user, PERMISSION)
        .filter(code=str(code)[:16])
        .order_by("valid_to")
        .first()
    )
    if unit is None:
        raise Http404
    return unit


def _subtree(unit: Unit) -> list[tuple[int, str, str, bool]]:
    """(pk, path, kind, in force) of `unit` and every unit under it: the rollups are then read
    by their (unit, day) index, not joined to the unit table row by row."""
    return [
        (pk, path, kind, valid_to is None)
        for pk, path, kind, valid_to in Unit.objects.filter(path__startswith=unit.path)
        .values_list("pk", "path", "kind", "valid_to")
    ]  # fmt: skip


def _sums():
    out = {f"s_{f}": Sum(f) for f in (*FLOW_FIELDS, *STOCK_FIELDS)}
    out["covered"] = Count("pk", filter=Q(boards_working__gt=0))
    return out


def _unit_counts(sub) -> tuple[int, int]:
    """(phường/thị trấn, xã/đặc khu) in force in the subtree `sub` (`_subtree`)."""
    return (
        sum(1 for _pk, _p, kind, now in sub if now and kind in URBAN),
        sum(1 for _pk, _p, kind, now in sub if now and kind in RURAL),
    )


def _fold(rows: list[dict], wards: int, communes: int) -> Totals:
    t = Totals(wards=wards, communes=communes, has_rows=bool(rows))
    last = max((r["day"] for r in rows), default=None)
    for r in rows:
        for f in FLOW_FIELDS:
            t.flow[f] += r[f"s_{f}"] or 0
        if r["day"] == last:
            for f in STOCK_FIELDS:
                t.stock[f] += r[f"s_{f}"] or 0
            if r["unit__kind"] in URBAN:
                t.wards_covered += r["covered"]
            elif r["unit__kind"] in RURAL:
                t.communes_covered += r["covered"]
    return t


def _split(start: date, end: date) -> tuple[list[tuple[date, date]], list[date]]:
    """[start, end] as the whole months inside it (their first days) and the day ranges left
    at either end: a year is 12 month rows per unit, a custom range adds its edge days."""
    months = []
    m = start if start.day == 1 else _month_end(start.year, start.month) + timedelta(days=1)
    while _month_end(m.year, m.month) <= end:
        months.append(m)
        m = _month_end(m.year, m.month) + timedelta(days=1)
    if not months:
        return [(start, end)], []
    edges = [(start, months[0] - timedelta(days=1)), (m, end)]
    return [(a, b) for a, b in edges if a <= b], months


def _by_day(unit: Unit, start: date, end: date, sub, by: str = "") -> list[dict]:
    """The period's sums grouped by (stock day, unit kind): daily rows for `by=day` and for the
    edge days, month rows (`MonthRollup`, keyed by their last day) for whole months."""
    ids = [u[0] for u in sub]
    ranges, months = ([(start, end)], []) if by == "day" else _split(start, end)
    rows = []
    for a, b in ranges:
        rows += (
            DailyRollup.objects.filter(unit_id__in=ids, day__gte=a, day__lte=b)
            .values("day", "unit__kind")
            .annotate(**_sums())
        )
    if months:
        for r in (
            MonthRollup.objects.filter(unit_id__in=ids, month__gte=months[0], month__lte=months[-1])
            .values("last_day", "unit__kind")
            .annotate(**_sums())
        ):
            r["day"] = r.pop("last_day")
            rows.append(r)
    return rows


def _per_unit(ids, start: date, end: date):
    """{unit: (flow sums, last day with a row)} over [start, end], from month and day rows."""
    ranges, months = _split(start, end)
    sums = {f: Sum(f) for f in FLOW_FIELDS}
    parts = [
        DailyRollup.objects.filter(unit_id__in=ids, day__gte=a, day__lte=b)
        .values("unit_id")
        .annotate(last=Max("day"), **sums)
        for a, b in ranges
    ]
    if months:
        parts.append(
            MonthRollup.objects.filter(unit_id__in=ids, month__gte=months[0], month__lte=months[-1])
            .values("unit_id")
            .annotate(last=Max("last_day"), **sums)
        )
    out: dict[int, tuple[dict, date]] = {}
    for part in parts:
        for r in part:
            flow, last = out.get(r["unit_id"], (dict.fromkeys(FLOW_FIELDS, 0), r["last"]))
            for f in FLOW_FIELDS:
                flow[f] += r[f] or 0
            out[r["unit_id"]] = (flow, max(last, r["last"]))
    return out


def totals(unit: Unit, start: date, end: date, *, emergencies: bool = True) -> Totals:
    """Sums over [start, end] for `unit` and below; inventory of the last day with rows."""
    return totals_and_series(unit, start, end, "", emergencies=emergencies)[0]


def series(unit: Unit, start: date, end: date, by: str) -> list[tuple[date, Totals]]:
    """Totals per day, month or year of [start, end] (each bucket keyed by its first day)."""
    return totals_and_series(unit, start, end, by, emergencies=False)[1]


def totals_and_series(
    unit: Unit, start: date, end: date, by: str, *, emergencies: bool = True
) -> tuple[Totals, list[tuple[date, Totals]]]:
    """Both from one query: the period's totals and its buckets (`by`: day, month, year, or
    '' for none)."""
    sub = _subtree(unit)
    wards, communes = _unit_counts(sub)
    rows = _by_day(unit, start, end, sub, by)
    t = _fold(rows, wards, communes)
    t.staff = staff_trained(unit, start=start, end=end)
    if emergencies:
        add_emergencies(t, unit, start, end, [u[0] for u in sub])
    if not by:
        return t, []
    buckets: dict[date, list[dict]] = defaultdict(list)
    for r in rows:
        buckets[_bucket(r["day"], by)].append(r)
    keys = sorted(buckets)
    out = [(key, _fold(buckets[key], wards, communes)) for key in keys]
    if t.staff is not None:
        ranges = [(max(k, start), min(_bucket_end(k, by), end)) for k in keys]
        for (_k, bt), share in zip(out, staff_shares(unit, ranges), strict=True):
            bt.staff = share
    return t, out


def _bucket(d: date, by: str) -> date:
    return d if by == "day" else d.replace(day=1) if by == "month" else d.replace(month=1, day=1)


def _bucket_end(key: date, by: str) -> date:
    if by == "day":
        return key
    if by == "month":
        return _month_end(key.year, key.month)
    return date(key.year, 12, 31)


def staff_shares(unit: Unit, ranges: list[tuple[date, date]]) -> list:
    """`training.querysets.staff_trained(unit, ...)` for each (start, end) range, from two
    queries (a trend's buckets): the same rule, counted in Python."""
    from grassroots.training.choices import Result
    from grassroots.training.models import Attendance
    from grassroots.training.querysets import TrainedShare, required_staff

    if not ranges:
        return []
    lo, hi = min(a for a, _b in ranges), max(b for _a, b in ranges)
    staff = list(
        required_staff(start=lo, end=hi)
        .filter(unit__path__startswith=unit.path)
        .values_list("pk", "start_date", "end_date")
    )
    passed: dict[int, list[date]] = defaultdict(list)
    for pk, ends_on in Attendance.objects.filter(
        result=Result.PASSED, session__ends_on__gte=lo, session__ends_on__lte=hi,
        staff_id__in=[s[0] for s in staff],
    ).values_list("staff_id", "session__ends_on"):  # fmt: skip
        passed[pk].append(ends_on)
    out = []
    for a, b in ranges:
        mine = [pk for pk, s, e in staff if (s is None or s <= b) and (e is None or e >= a)]
        trained = sum(1 for pk in mine if any(a <= d <= b for d in passed.get(pk, ())))
        out.append(TrainedShare(trained, len(mine)) if mine else None)
    return out


def add_emergencies(t: Totals, unit: Unit, start: date, end: date, ids=None) -> None:
    """Emergencies sent in the period over `unit` (or over a unit above it): devices of `unit`
    expected to take each one, those that acknowledged `ok`, seconds until 95 % had."""
    from grassroots.alerts.models import Emergency, EmergencyAck
    from grassroots.devices.models import Device

    a = datetime.combine(start, time(0), VIETNAM)
    b = datetime.combine(end + timedelta(days=1), time(0), VIETNAM)
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
    sent = list(
        Emergency.objects.filter(sent_at__gte=a, sent_at__lt=b)
        .filter(Q(unit__path__startswith=unit.path) | Q(unit_id__in=ancestors))
        .values_list("pk", "sent_at", "expected_devices", "unit__path")
    )
    if not sent:
        return
    t.has_emergencies = True
    ids = ids if ids is not None else [u[0] for u in _subtree(unit)]
    here = None
    # Counted by the database, and only the ⌈0.95·N⌉-th acknowledgement fetched per emergency:
    # a province's year of emergencies is tens of thousands of acknowledgements.
    ok = EmergencyAck.objects.filter(status="ok", device__unit_id__in=ids)
    counts = dict(
        ok.filter(emergency_id__in=[s[0] for s in sent])
        .values_list("emergency_id")
        .annotate(n=Count("pk"))
        .values_list("emergency_id", "n")
    )
    times: dict[int, list[datetime]] | None = None
    if sum(counts.values()) <= FEW_ACKS:  # a commune's: one query for all of them
        times = defaultdict(list)
        for eid, at in ok.filter(emergency_id__in=list(counts)).values_list(
            "emergency_id", "acked_at"
        ):
            times[eid].append(at)
    for eid, sent_at, expected, path in sent:
        if not path.startswith(unit.path):  # over a unit above: only our devices count
            if here is None:
                here = Device.objects.filter(
                    unit_id__in=ids, kind="speaker", technology="ip_4g", enabled=True
                ).count()
            expected = here
        n = counts.get(eid, 0)
        t.emergency_expected += expected
        t.emergency_delivered += min(n, expected)
        need = math.ceil(0.95 * expected)
        if expected and n >= need:
            if times is not None:
                kth = sorted(times[eid])[need - 1]
            else:
                kth = (
                    ok.filter(emergency_id=eid)
                    .order_by("acked_at")
                    .values_list("acked_at", flat=True)[need - 1]
                )
            t.emergency_t95.append(max((kth - sent_at).total_seconds(), 0.0))


def target_for(indicator: str, year: int, targets: list[Target] | None = None) -> Target | None:
    """The target set for `year` or the latest year before it; before any, the first one."""
    rows = [x for x in (targets if targets is not None else Target.objects.all())
            if x.indicator == indicator]  # fmt: skip
    rows.sort(key=lambda x: x.year)
    before = [x for x in rows if x.year <= year]
    return before[-1] if before else (rows[0] if rows else None)


def rag(indicator: Indicator, value: float | None, target: Target | None) -> str:
    """'green' (target met), 'amber' (within 10 points), 'red', or '' (no data or no target)."""
    if value is None or target is None:
        return ""
    if target.met_by(value):
        return "green"
    gap = abs(value - target.value)
    return "amber" if gap <= AMBER_POINTS else "red"


RAG_LABELS = {"green": _("Đạt"), "amber": _("Gần đạt"), "red": _("Chưa đạt"), "": "—"}


def tiles(unit: Unit, period: Period) -> list[dict]:
    """One tile per indicator: value, target, red/amber/green, last year's value, monthly trend."""
    by = "day" if (period.end - period.start).days <= 31 else "month"
    now_t, trend = totals_and_series(unit, period.start, period.end, by)
    ly = period.last_year()
    last_t, last_trend = totals_and_series(unit, ly.start, ly.end, by)
    targets = list(Target.objects.all())
    out = []
    for ind in INDICATORS:
        value = ind.value(now_t)
        target = target_for(ind.id, period.end.year, targets)
        before = ind.value(last_t)
        out.append({
            "indicator": ind,
            "value": value,
            "target": target,
            "rag": rag(ind, value, target),
            "rag_label": RAG_LABELS[rag(ind, value, target)],
            "last_year": before,
            "delta": None if value is None or before is None else round(value - before, ind.digits),
            "trend": [[k.isoformat(), ind.value(tt)] for k, tt in trend],
        })  # fmt: skip
        out[-1]["spark"] = sparkline([v for _k, v in out[-1]["trend"]])
        out[-1]["last_year_trend"] = [[k.isoformat(), ind.value(tt)] for k, tt in last_trend]
    return out


def communes(unit: Unit, period: Period) -> list[dict]:
    """Every commune-level unit in force at or under `unit`, with every indicator's value."""
    kids = list(
        Unit.objects.descendants_of(unit, include_self=True)
        .filter(valid_to__isnull=True, kind__in=(*URBAN, *RURAL))
        .order_by("name")
    )
    return children(unit, period, kids)


def sparkline(values: list[float | None], width: int = 120, height: int = 28) -> str:
    """SVG polyline points of a small trend line (gaps skipped); '' with fewer than 2 values."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return ""
    lo, hi = min(v for _i, v in pts), max(v for _i, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    return " ".join(
        f"{width * i / n:.1f},{height - 2 - (height - 4) * (v - lo) / span:.1f}" for i, v in pts
    )


def children(unit: Unit, period: Period, kids: list[Unit] | None = None) -> list[dict]:
    """The units right below `unit` (in force), or `kids`, each with every indicator's value:
    flows summed per unit over the period, inventory from the period's last day with rows."""
    if kids is None:
        kids = list(unit.children.filter(valid_to__isnull=True).order_by("name"))
    if not kids:
        return []
    kid_of_path = {k.path: k.pk for k in kids}

    def owner(path: str) -> int | None:
        cut = len(unit.path)
        while True:
            cut = path.find("/", cut) + 1
            if not cut:
                return None
            if path[:cut] in kid_of_path:
                return kid_of_path[path[:cut]]

    totals_of = {k.pk: Totals() for k in kids}
    sub = _subtree(unit)
    path_of = {pk: path for pk, path, _kind, _now in sub}
    kind_of = {pk: kind for pk, _path, kind, _now in sub}
    for _pk, path, kind, in_force in sub:
        pk = owner(path)
        if pk is not None and in_force:
            if kind in URBAN:
                totals_of[pk].wards += 1
            elif kind in RURAL:
                totals_of[pk].communes += 1
    last = None
    for unit_id, (flow, unit_last) in _per_unit(list(path_of), period.start, period.end).items():
        last = max(last or unit_last, unit_last)
        pk = owner(path_of[unit_id])
        if pk is not None:
            t = totals_of[pk]
            t.has_rows = True
            for f in FLOW_FIELDS:
                t.flow[f] += flow[f]
    for r in DailyRollup.objects.filter(unit_id__in=list(path_of), day=last).values(
        "unit_id", *STOCK_FIELDS
    ):
        pk = owner(path_of[r["unit_id"]])
        if pk is not None:
            t = totals_of[pk]
            t.has_rows = True
            for f in STOCK_FIELDS:
                t.stock[f] += r[f]
            if r["boards_working"] > 0:
                if kind_of[r["unit_id"]] in URBAN:
                    t.wards_covered += 1
                elif kind_of[r["unit_id"]] in RURAL:
                    t.communes_covered += 1
    for pk, share in staff_trained_by_unit(kids, start=period.start, end=period.end).items():
        totals_of[pk].staff = share
    out = []
    for k in kids:
        values = {i.id: i.value(totals_of[k.pk]) for i in INDICATORS}
        cells = [number(values[i.id], i.digits) for i in INDICATORS]
        out.append({
            "unit": k, "values": values, "cells": cells,
            # one escaped string per row: a province's 104 × 17 cells through the template
            # engine cost more than every query of the page
            "cells_html": format_html_join("", CELL, [(c,) for c in cells]),
        })  # fmt: skip
    return out


def number(value: float | None, digits: int = 1) -> str:
    """A value as the console shows it in Vietnamese: 1.234,5 ('—' for no data)."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def devices(unit: Unit, period: Period) -> list[dict]:
    """Each loudspeaker cluster at or under `unit`: plays, punctuality, availability."""
    from grassroots.devices.models import Device

    ids = [u[0] for u in _subtree(unit)]
    sums = (
        DeviceDay.objects.filter(unit_id__in=ids, day__gte=period.start, day__lte=period.end)
        .values("device_id")
        .annotate(
            n_plays=Sum("plays"),
            failed=Sum("plays_failed"),
            scheduled=Sum("plays_scheduled"),
            on_time=Sum("plays_on_time"),
            online=Sum("online_s"),
            expected=Sum("expected_s"),
        )  # fmt: skip
    )
    by_device = {r["device_id"]: r for r in sums}
    out = []
    for d in (
        Device.objects.filter(unit_id__in=ids)
        .select_related("unit", "station", "status")
        .order_by("unit__name", "kind", "name")
    ):
        r = by_device.get(d.pk, {})
        out.append({
            "device": d,
            "plays": r.get("n_plays") or 0,
            "failed": r.get("failed") or 0,
            "on_time": _pct(r.get("on_time"), r.get("scheduled")),
            "availability": _pct(r.get("online"), r.get("expected")),
        })  # fmt: skip
    return out


def _pct(num, den) -> float | None:
    return round(100.0 * (num or 0) / den, 1) if den else None


def today() -> date:
    return timezone.localdate()
