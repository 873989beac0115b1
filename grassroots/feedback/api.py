"""Officer API for citizen feedback: inbox, detail, assign, re-route, merge, answer, close."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from grassroots.accounts.models import User
from grassroots.accounts.policies import require
from grassroots.core.errors import Problem
from grassroots.units.models import Unit

from . import actions, catalog
from .models import Category, Holiday, Report
from .policies import HANDLE, VIEW, visible_report
from .schemas import (
    AnswerIn,
    AssignIn,
    CloseIn,
    HolidayImportIn,
    HolidayIn,
    HolidayRead,
    MergeIn,
    ReopenIn,
    ReportCategoryDetail,
    ReportCategoryIn,
    ReportCategoryRead,
    ReportListItem,
    ReportRead,
    RerouteIn,
)

PREFIX = "/feedback"
router = Router(tags=["feedback"])


def _unit(u: Unit) -> dict:
    return {"code": u.code, "name": u.name}


def list_row(r: Report) -> dict:
    """A report as one inbox row."""
    return {
        "id": r.id,
        "tracking_code": r.tracking_code,
        "category": r.category.code,
        "category_name": r.category.name,
        "unit": _unit(r.unit),
        "origin_unit": _unit(r.origin_unit),
        "status": r.status,
        "status_label": r.get_status_display(),
        "resolution": r.resolution,
        "assignee": r.assignee.username if r.assignee else None,
        "created_at": r.created_at,
        "due_at": r.due_at,
        "overdue": r.is_open and r.due_at < timezone.now(),
        "escalation_level": r.escalation_level,
    }


def detail_row(r: Report) -> dict:
    """A report with its text, contact details, photos and timeline (officers only)."""
    rating = r.latest_rating()
    return {
        **list_row(r),
        "text": r.text,
        "address": r.address,
        "latitude": r.latitude,
        "longitude": r.longitude,
        "name": r.name,
        "phone": r.phone,
        "email": r.email,
        "channel": r.channel,
        "public_answer": r.public_answer,
        "private_answer": r.private_answer,
        "answered_at": r.answered_at,
        "closed_at": r.closed_at,
        "merged_into": r.merged_into.tracking_code if r.merged_into else None,
        "photos": [f"/phan-anh/anh/{p.token}.jpg" for p in r.photos.all()],
        "rating": rating.stars if rating else None,
        "events": [
            {
                "time": e.time,
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "user": e.user.username if e.user else None,
                "note": e.note,
                "from_unit": e.from_unit.name if e.from_unit else None,
                "to_unit": e.to_unit.name if e.to_unit else None,
            }
            for e in r.events.select_related("user", "from_unit", "to_unit")
        ],
    }


# --- province-wide settings: categories and holidays (feedback.handle on the province) ----------

CATEGORY_FIELDS = ("name", "description", "group", "keywords", "deadline_working_days",
                   "escalation_working_days", "is_active", "order")  # fmt: skip


@router.get(
    "/categories/all", response=list[ReportCategoryDetail], summary="Mọi lĩnh vực (cả ngừng dùng)"
)
def all_categories(request):
    require(request.user, HANDLE)
    return list(Category.objects.order_by("order", "name"))


@router.post("/categories", response={201: ReportCategoryDetail}, summary="Thêm lĩnh vực phản ánh")
def create_category(request, data: ReportCategoryIn):
    category = catalog.save_category(user=request.user, data=data.dict(exclude_none=True))
    return Status(201, category)


@router.put(
    "/categories/{category_id}", response=ReportCategoryDetail, summary="Sửa lĩnh vực phản ánh"
)
def update_category(request, category_id: int, data: ReportCategoryIn):
    catalog.require_configure(request.user)
    category = get_object_or_404(Category, pk=category_id)
    merged = {f: getattr(category, f) for f in CATEGORY_FIELDS}
    merged.update(data.dict(exclude_none=True, exclude={"code"}))
    return catalog.save_category(user=request.user, data=merged, category=category)


@router.delete(
    "/categories/{category_id}",
    response={204: None},
    summary="Xoá lĩnh vực phản ánh",
    description="409 khi lĩnh vực đã có phản ánh: hãy sửa `is_active` thành false.",
)
def delete_category(request, category_id: int):
    catalog.require_configure(request.user)
    category = get_object_or_404(Category, pk=category_id)
    try:
        catalog.delete_category(user=request.user, category=category)
    except ValidationError as exc:
        raise Problem(409, " ".join(exc.messages)) from None
    return Status(204, None)


@router.get("/holidays", response=list[HolidayRead], summary="Ngày nghỉ lễ của một năm")
def list_holidays(request, year: int):
    require(request.user, VIEW)
    return list(Holiday.objects.filter(date__year=year).order_by("date"))


@router.post("/holidays", response={201: HolidayRead}, summary="Thêm ngày nghỉ lễ")
def create_holiday(request, data: HolidayIn):
    return Status(201, catalog.save_holiday(user=request.user, date=data.date, name=data.name))


@router.post(
    "/holidays/import",
    response={201: list[HolidayRead]},
    summary="Nhập ngày nghỉ chính thức của một năm",
    description="Thêm các ngày (mặc định: mọi ngày) trong danh sách chính thức của năm mà lịch "
    "chưa có; ngày đã có giữ nguyên. Trả về các ngày vừa thêm.",
)
def import_holidays(request, data: HolidayImportIn):
    catalog.require_configure(request.user)
    official = [day for day, _name in catalog.official_holidays(data.year)]
    if data.dates is None:
        chosen = official
    else:
        chosen = []
        for raw in data.dates:
            try:
                chosen.append(dt.date.fromisoformat(raw))
            except ValueError:
                raise Problem(422, f"'{raw[:20]}' không phải ngày dạng YYYY-MM-DD.") from None
    return Status(201, catalog.import_holidays(user=request.user, year=data.year, dates=chosen))


@router.put("/holidays/{holiday_id}", response=HolidayRead, summary="Sửa ngày nghỉ lễ")
def update_holiday(request, holiday_id: int, data: HolidayIn):
    catalog.require_configure(request.user)
    holiday = get_object_or_404(Holiday, pk=holiday_id)
    return catalog.save_holiday(user=request.user, date=data.date, name=data.name, holiday=holiday)


@router.delete("/holidays/{holiday_id}", response={204: None}, summary="Xoá ngày nghỉ lễ")
def delete_holiday(request, holiday_id: int):
    catalog.require_configure(request.user)
    catalog.delete_holiday(user=request.user, holiday=get_object_or_404(Holiday, pk=holiday_id))
    return Status(204, None)


class ReportFilter(Schema):
    status: str | None = None
    unit: str | None = None
    category: str | None = None
    overdue: bool = False
    limit: int = 100


@router.get("/categories", response=list[ReportCategoryRead], summary="Lĩnh vực phản ánh")
def list_categories(request):
    """Active categories with their deadlines in working days."""
    return list(Category.objects.filter(is_active=True))


@router.get("/reports", response=list[ReportListItem], summary="Phản ánh trong phạm vi")
def list_reports(request, filters: Query[ReportFilter]):
    """Reports the user may view: filed in or handled by units in scope."""
    require(request.user, VIEW)
    qs = Report.objects.restrict(request.user, VIEW).select_related(
        "category", "unit", "origin_unit", "assignee"
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.unit:
        qs = qs.filter(unit__code=filters.unit)
    if filters.category:
        qs = qs.filter(category__code=filters.category)
    if filters.overdue:
        qs = qs.overdue()
    return [list_row(r) for r in qs[: max(1, min(filters.limit, 1000))]]


@router.get("/reports/{report_id}", response=ReportRead, summary="Một phản ánh")
def get_report(request, report_id: int):
    """One report in scope, with its timeline."""
    return detail_row(visible_report(request.user, report_id))


@router.post("/reports/{report_id}/assign", response=ReportRead, summary="Giao cán bộ xử lý")
def assign_report(request, report_id: int, data: AssignIn):
    """Give the report to an officer who handles the report's unit."""
    report = visible_report(request.user, report_id, HANDLE)
    assignee = User.objects.filter(username=data.assignee, is_active=True).first()
    if assignee is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"assignee": ["Không có cán bộ với tên đăng nhập này."]})
    return detail_row(actions.assign(report=report, user=request.user, assignee=assignee))


@router.post("/reports/{report_id}/reroute", response=ReportRead, summary="Chuyển đơn vị")
def reroute_report(request, report_id: int, data: RerouteIn):
    """Send it sideways to another unit, or pull it up to an ancestor (reason required)."""
    report = visible_report(request.user, report_id, HANDLE)
    unit = Unit.objects.filter(code=data.unit_code, valid_to__isnull=True).first()
    if unit is None:
        raise Http404
    actions.reroute(report=report, user=request.user, unit=unit, reason=data.reason)
    report.refresh_from_db()
    return detail_row(report)


@router.post("/reports/{report_id}/merge", response=ReportRead, summary="Gộp vào phản ánh khác")
def merge_report(request, report_id: int, data: MergeIn):
    """Close this report as a duplicate of `into_id`."""
    report = visible_report(request.user, report_id, HANDLE)
    into = visible_report(request.user, data.into_id, HANDLE)
    return detail_row(actions.merge(report=report, into=into, user=request.user))


@router.post("/reports/{report_id}/answer", response=ReportRead, summary="Trả lời")
def answer_report(request, report_id: int, data: AnswerIn):
    """Answer publicly and/or privately; with a resolution, also close it."""
    report = visible_report(request.user, report_id, HANDLE)
    return detail_row(actions.answer(report=report, user=request.user, **data.dict()))


@router.post("/reports/{report_id}/close", response=ReportRead, summary="Đóng với kết quả")
def close_report(request, report_id: int, data: CloseIn):
    """Close with a resolution; `hidden_abuse` takes it out of public view."""
    report = visible_report(request.user, report_id, HANDLE)
    return detail_row(actions.close(report=report, user=request.user, **data.dict()))


@router.post("/reports/{report_id}/reopen", response=ReportRead, summary="Mở lại")
def reopen_report(request, report_id: int, data: ReopenIn):
    """Reopen with a fresh deadline."""
    report = visible_report(request.user, report_id, HANDLE)
    return detail_row(actions.reopen(report=report, user=request.user, reason=data.reason))
