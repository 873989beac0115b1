"""Plan implementation API (/api/v1/planning/...): investments and funding by source and year
(plan IV), e-board sites (V.2), inspections of commune radio (V.6). Scoped like the rest."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Router, Status

from grassroots.accounts.policies import require
from grassroots.broadcast.models import Station
from grassroots.core.errors import Problem
from grassroots.devices.models import Device
from grassroots.training.models import Course
from grassroots.units.models import Unit

from . import actions
from .choices import CHECKLIST
from .models import EboardSite, Inspection, Investment
from .querysets import funding_summary
from .schemas import (
    FundingSummaryRead,
    InspectionIn,
    InspectionRead,
    InvestmentIn,
    InvestmentRead,
    SiteBoardIn,
    SiteIn,
    SiteRead,
    SiteReviewIn,
)

PREFIX = "/planning"
router = Router(tags=["planning"])
VIEW, MANAGE, PROPOSE = actions.VIEW, actions.MANAGE, actions.PROPOSE


def _brief(u: Unit) -> dict:
    return {"code": u.code, "name": u.name}


def investment_read(i: Investment) -> dict:
    return {
        "id": i.pk, "unit": _brief(i.unit), "year": i.year, "purpose": i.purpose,
        "purpose_label": i.get_purpose_display(), "source": i.source,
        "source_label": i.get_source_display(), "title": i.title,
        "planned_amount": i.planned_amount, "spent_amount": i.spent_amount,
        "station": i.station_id, "board": i.board_id, "course": i.course_id,
        "decision": i.decision, "note": i.note,
    }  # fmt: skip


def site_read(s: EboardSite) -> dict:
    return {
        "id": s.pk, "unit": _brief(s.unit), "address": s.address, "latitude": s.latitude,
        "longitude": s.longitude, "reason": s.reason, "status": s.status,
        "status_label": s.get_status_display(), "review_note": s.review_note,
        "reviewed_at": s.reviewed_at, "board": s.board_id, "installed_on": s.installed_on,
    }  # fmt: skip


def inspection_read(i: Inspection) -> dict:
    return {
        "id": i.pk, "station": i.station_id, "unit": _brief(i.station.unit), "kind": i.kind,
        "kind_label": i.get_kind_display(), "inspected_on": i.inspected_on,
        "inspector": i.inspector, "period_start": i.period_start, "period_end": i.period_end,
        "checklist": {name: getattr(i, name) for name, _l in CHECKLIST},
        "findings": i.findings, "follow_up": i.follow_up,
        "follow_up_deadline": i.follow_up_deadline, "evidence": i.evidence,
    }  # fmt: skip


def _under(user, qs, code: str | None, field: str = "unit"):
    if not code:
        return qs
    unit = Unit.objects.restrict(user, VIEW).current().filter(code=code[:16]).first()
    if unit is None:
        raise Problem(404, f"Không có đơn vị mã '{code[:16]}' trong phạm vi của bạn.")
    return qs.filter(**{f"{field}__path__startswith": unit.path})


# --- funding ---------------------------------------------------------------------------------


@router.get("/investments", response=list[InvestmentRead], summary="Các khoản đầu tư")
def list_investments(request, year: int | None = None, unit: str | None = None):
    require(request.user, VIEW)
    qs = _under(request.user, Investment.objects.restrict(request.user, VIEW), unit)
    if year is not None:
        qs = qs.filter(year=year)
    return [investment_read(i) for i in qs.select_related("unit")[:2000]]


@router.post("/investments", response={201: InvestmentRead}, summary="Ghi một khoản đầu tư")
def create_investment(request, data: InvestmentIn):
    require(request.user, MANAGE)
    unit = actions.unit_for(request.user, data.unit, MANAGE)
    payload = data.dict(exclude={"unit", "station", "board", "course"})
    payload["purpose"], payload["source"] = str(data.purpose), str(data.source)
    if data.station is not None:
        payload["station"] = get_object_or_404(
            Station.objects.restrict(request.user, "broadcast.view"), pk=data.station
        )
    if data.board is not None:
        payload["board"] = get_object_or_404(
            Device.objects.restrict(request.user, "devices.view"), pk=data.board
        )
    if data.course is not None:
        payload["course"] = get_object_or_404(
            Course.objects.restrict(request.user, "training.view"), pk=data.course
        )
    inv = actions.save_investment(user=request.user, unit=unit, data=payload)
    return Status(201, investment_read(inv))


@router.get(
    "/funding",
    response=FundingSummaryRead,
    summary="Kinh phí dự kiến và đã giải ngân theo nguồn và năm",
)
def funding(request, year: int | None = None, unit: str | None = None):
    require(request.user, VIEW)
    qs = _under(request.user, Investment.objects.restrict(request.user, VIEW), unit)
    if year is not None:
        qs = qs.filter(year=year)
    s = funding_summary(qs)
    return {
        "rows": s["rows"],
        "total_planned": s["total"]["planned"],
        "total_spent": s["total"]["spent"],
    }


# --- e-board sites ---------------------------------------------------------------------------


@router.get("/eboard-sites", response=list[SiteRead], summary="Vị trí bảng tin điện tử")
def list_sites(request, unit: str | None = None, status: str | None = None):
    require(request.user, VIEW)
    qs = _under(request.user, EboardSite.objects.restrict(request.user, VIEW), unit)
    if status:
        qs = qs.filter(status=status[:10])
    return [site_read(s) for s in qs.select_related("unit")[:2000]]


@router.post("/eboard-sites", response={201: SiteRead}, summary="Đề xuất vị trí bảng tin")
def create_site(request, data: SiteIn):
    require(request.user, PROPOSE)
    unit = actions.unit_for(request.user, data.unit, PROPOSE)
    site = actions.propose_site(
        user=request.user,
        unit=unit,
        address=data.address,
        reason=data.reason,
        latitude=data.latitude,
        longitude=data.longitude,
    )
    return Status(201, site_read(site))


@router.post(
    "/eboard-sites/{site_id}/review",
    response=SiteRead,
    summary="Thẩm định vị trí bảng tin (duyệt hoặc không)",
)
def review_site(request, site_id: int, data: SiteReviewIn):
    require(request.user, MANAGE)
    site = get_object_or_404(EboardSite.objects.restrict(request.user, MANAGE), pk=site_id)
    return site_read(
        actions.review_site(user=request.user, site=site, approve=data.approve, note=data.note)
    )


@router.post(
    "/eboard-sites/{site_id}/board", response=SiteRead, summary="Gắn bảng tin đã lắp vào vị trí"
)
def link_board(request, site_id: int, data: SiteBoardIn):
    require(request.user, PROPOSE)
    site = get_object_or_404(EboardSite.objects.restrict(request.user, PROPOSE), pk=site_id)
    board = get_object_or_404(Device.objects.restrict(request.user, PROPOSE), pk=data.board)
    return site_read(
        actions.link_board(
            user=request.user, site=site, board=board, installed_on=data.installed_on
        )
    )


# --- inspections -----------------------------------------------------------------------------


def _inspections(user):
    return Inspection.objects.restrict(user, VIEW).select_related("station", "station__unit")


@router.get("/inspections", response=list[InspectionRead], summary="Biên bản kiểm tra đài")
def list_inspections(request, unit: str | None = None, year: int | None = None):
    require(request.user, VIEW)
    qs = _under(request.user, _inspections(request.user), unit, "station__unit")
    if year is not None:
        qs = qs.filter(inspected_on__year=year)
    return [inspection_read(i) for i in qs[:2000]]


@router.post("/inspections", response={201: InspectionRead}, summary="Ghi biên bản kiểm tra")
def create_inspection(request, data: InspectionIn):
    require(request.user, MANAGE)
    station = get_object_or_404(Station.objects.restrict(request.user, MANAGE), pk=data.station)
    payload = data.dict(exclude={"station"})
    payload["kind"] = str(data.kind)
    inspection = actions.record_inspection(user=request.user, station=station, data=payload)
    return Status(201, inspection_read(inspection))


@router.get(
    "/inspections/{inspection_id}", response=InspectionRead, summary="Một biên bản kiểm tra"
)
def inspection_detail(request, inspection_id: int):
    require(request.user, VIEW)
    return inspection_read(get_object_or_404(_inspections(request.user), pk=inspection_id))
