"""KPI API: the indicators (with the plan's targets) and their values for a unit and a range.

Scoped like everything else: a unit outside the caller's `kpi.view` scope answers 404; a
commune operator sees only their commune, the province sees every unit.
"""

from __future__ import annotations

from ninja import Query, Router

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem

from . import querysets
from .indicators import BY_ID, INDICATORS
from .models import Target
from .schemas import IndicatorRead, ValuesRead, YearlyReportDetail, YearlyReportRead

PREFIX = "/kpi"
router = Router(tags=["kpi"])
BY = ("day", "month", "year")
MAX_POINTS = 400  # day buckets in one answer


def _target(t: Target | None) -> dict | None:
    if t is None:
        return None
    return {"year": t.year, "comparison": t.comparison, "value": t.value, "source": t.source}


@router.get("/indicators", response=list[IndicatorRead], summary="Các chỉ số và mục tiêu")
def indicators(request):
    """Every indicator: id, Vietnamese name and definition, formula, unit, targets by year
    (the provincial plan's, section I.2, as the province has edited them)."""
    require(request.user, querysets.PERMISSION)
    targets = list(Target.objects.order_by("year"))
    return [
        {
            "id": i.id, "name": str(i.name), "definition": str(i.definition),
            "formula": str(i.formula), "unit": str(i.unit), "group": str(i.group),
            "higher_is_better": i.higher_is_better,
            "has_data": bool(i.facts),
            "targets": [_target(t) for t in targets if t.indicator == i.id],
        }
        for i in INDICATORS
    ]  # fmt: skip


@router.get("/values", response=ValuesRead, summary="Giá trị một chỉ số theo ngày, tháng, năm")
def values(
    request,
    indicator: str,
    unit: str | None = None,
    start: str = Query("", alias="from", description="ngày đầu, YYYY-MM-DD (mặc định: 1/1)"),
    end: str = Query("", alias="to", description="ngày cuối, YYYY-MM-DD (mặc định: hôm nay)"),
    by: str = "month",
):
    """`indicator` over [from, to] for `unit` (a unit code; default: the caller's highest
    unit), per day, month or year. 422 with a Vietnamese detail on a bad indicator, date or
    `by`; 404 for a unit outside the caller's scope."""
    require(request.user, querysets.PERMISSION)
    ind = BY_ID.get(indicator)
    if ind is None:
        raise Problem(
            422,
            f"Không có chỉ số '{indicator[:40]}'. Danh sách chỉ số: GET /api/v1/kpi/indicators.",
        )
    if by not in BY:
        raise Problem(422, "'by' phải là day, month hoặc year.")
    today = querysets.today()
    try:
        period = querysets.custom_period(start or f"{today.year}-01-01", end or today.isoformat())
    except querysets.PeriodError as exc:
        raise Problem(422, f"from/to: {exc}") from None
    if by == "day" and (period.end - period.start).days >= MAX_POINTS:
        raise Problem(422, f"Theo ngày chỉ xem được tối đa {MAX_POINTS} ngày; hãy dùng by=month.")
    where = querysets.unit_for(request.user, unit)
    total, series = querysets.totals_and_series(where, period.start, period.end, by)
    return {
        "indicator": ind.id, "unit": where.code, "unit_name": where.name,
        "start": period.start, "end": period.end, "by": by, "total": ind.value(total),
        "target": _target(querysets.target_for(ind.id, period.end.year)),
        "values": [{"start": k, "value": ind.value(t)} for k, t in series],
    }  # fmt: skip


# --- the yearly report (docs/reports.md) -----------------------------------------------------


def _report_read(r) -> dict:
    return {
        "id": r.pk, "kind": r.kind, "year": r.year,
        "unit": {"code": r.unit.code, "name": r.unit.name},
        "body": r.body.name if r.body_id else None, "reporter": r.reporter,
        "state": r.state, "state_label": r.get_state_display(),
        "submitted_at": r.submitted_at, "reviewed_at": r.reviewed_at,
        "review_comment": r.review_comment, "times_returned": r.times_returned,
    }  # fmt: skip


@router.get("/reports", response=list[YearlyReportRead], summary="Các báo cáo năm")
def yearly_reports(request, year: int | None = None, state: str | None = None):
    """The yearly reports in the caller's scope (`kpi.view`), for a year and a state."""
    from .choices import ReportState
    from .models import YearlyReport

    require(request.user, querysets.PERMISSION)
    qs = YearlyReport.objects.restrict(request.user, querysets.PERMISSION)
    if year is not None:
        qs = qs.filter(year=year)
    if state:
        if state not in ReportState.values:
            raise Problem(422, "Trạng thái phải là draft, submitted, returned hoặc accepted.")
        qs = qs.filter(state=state)
    return [_report_read(r) for r in qs.select_related("unit", "body")[:1000]]


@router.get("/reports/{report_id}", response=YearlyReportDetail, summary="Một báo cáo năm")
def yearly_report(request, report_id: int):
    """One report: its text, its figures (as sent), its heading and history; 404 outside the
    caller's scope."""
    from django.shortcuts import get_object_or_404

    from .models import YearlyReport

    require(request.user, querysets.PERMISSION)
    r = get_object_or_404(
        YearlyReport.objects.restrict(request.user, querysets.PERMISSION).select_related(
            "unit", "body"
        ),
        pk=report_id,
    )
    return {
        **_report_read(r),
        "texts": r.texts or {}, "figures": r.figures or {}, "figures_at": r.figures_at,
        "number": r.number, "signed_on": r.signed_on, "signer_name": r.signer_name,
        "events": [
            {"at": e.at, "user": str(e.user or ""), "from_state": e.from_state,
             "to_state": e.to_state, "comment": e.comment}
            for e in r.events.select_related("user")
        ],
    }  # fmt: skip
