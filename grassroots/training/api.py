"""Training API (/api/v1/training/...): roster, courses, sessions, attendance, its XLSX import,
who still needs training and the "staff trained" indicator. Scoped like the rest: rows outside
the user's units answer 404."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Router, Status
from ninja.files import UploadedFile

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem
from grassroots.units.models import Unit

from . import actions
from .models import Attendance, Course, Session, StaffMember
from .querysets import needing_training, period_of_year, staff_trained
from .schemas import (
    AttendanceImportRead,
    AttendanceIn,
    AttendanceRead,
    CourseIn,
    CourseRead,
    SessionIn,
    SessionRead,
    StaffIn,
    StaffRead,
    StaffUpdate,
    TrainedShareRead,
)

PREFIX = "/training"
router = Router(tags=["training"])
MAX_UPLOAD = 5 * 1024 * 1024
VIEW, MANAGE = actions.VIEW, actions.MANAGE


def _brief(u: Unit) -> dict:
    return {"code": u.code, "name": u.name}


def staff_read(s: StaffMember) -> dict:
    return {
        "id": s.pk,
        "unit": _brief(s.unit),
        "full_name": s.full_name,
        "position": s.position,
        "position_label": s.get_position_display(),
        "job_title": s.job_title,
        "requires_training": s.requires_training,
        "start_date": s.start_date,
        "end_date": s.end_date,
        "phone": s.phone,
        "note": s.note,
    }


def course_read(c: Course) -> dict:
    return {
        "id": c.pk,
        "unit": _brief(c.unit),
        "title": c.title,
        "topics": c.topics,
        "topic_labels": c.topic_labels(),
        "description": c.description,
    }


def session_read(s: Session) -> dict:
    rows = list(s.attendance.values_list("result", flat=True))
    return {
        "id": s.pk,
        "course": s.course_id,
        "course_title": s.course.title,
        "unit": _brief(s.course.unit),
        "starts_on": s.starts_on,
        "ends_on": s.ends_on,
        "place": s.place,
        "trainer": s.trainer,
        "hours": float(s.hours),
        "attendees": len(rows),
        "passed": rows.count("passed"),
    }


def attendance_read(a: Attendance) -> dict:
    return {
        "id": a.pk,
        "session": a.session_id,
        "staff": a.staff_id,
        "full_name": a.staff.full_name,
        "unit": _brief(a.staff.unit),
        "result": a.result,
        "result_label": a.get_result_display(),
        "score": float(a.score) if a.score is not None else None,
        "attended_on": a.attended_on,
        "note": a.note,
    }


def _unit_filter(user, code: str | None):
    if not code:
        return None
    unit = Unit.objects.restrict(user, VIEW).current().filter(code=code[:16]).first()
    if unit is None:
        raise Problem(404, f"Không có đơn vị mã '{code[:16]}' trong phạm vi của bạn.")
    return unit


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    default = period_of_year(timezone.localdate().year)
    start, end = start or default[0], end or default[1]
    if end < start:
        raise Problem(422, "'end' phải sau hoặc bằng 'start' (ngày dạng YYYY-MM-DD).")
    return start, end


# --- roster ----------------------------------------------------------------------------------


@router.get("/staff", response=list[StaffRead], summary="Danh sách cán bộ làm thông tin cơ sở")
def list_staff(request, unit: str | None = None):
    require(request.user, VIEW)
    qs = StaffMember.objects.restrict(request.user, VIEW).select_related("unit")
    root = _unit_filter(request.user, unit)
    if root:
        qs = qs.filter(unit__path__startswith=root.path)
    return [staff_read(s) for s in qs[:2000]]


@router.post("/staff", response={201: StaffRead}, summary="Thêm cán bộ vào danh sách")
def create_staff(request, data: StaffIn):
    require(request.user, MANAGE)
    unit = actions.managed_unit(request.user, data.unit)
    payload = data.dict(exclude={"unit"})
    staff = actions.save_staff(user=request.user, unit=unit, data=payload)
    return Status(201, staff_read(staff))


@router.patch("/staff/{staff_id}", response=StaffRead, summary="Sửa thông tin cán bộ")
def update_staff(request, staff_id: int, data: StaffUpdate):
    require(request.user, MANAGE)
    staff = get_object_or_404(StaffMember.objects.restrict(request.user, MANAGE), pk=staff_id)
    staff = actions.save_staff(
        user=request.user, unit=staff.unit, staff=staff, data=data.dict(exclude_unset=True)
    )
    return staff_read(staff)


# --- courses and sessions --------------------------------------------------------------------


@router.get("/courses", response=list[CourseRead], summary="Khóa học")
def list_courses(request):
    require(request.user, VIEW)
    qs = Course.objects.restrict(request.user, VIEW).select_related("unit")
    return [course_read(c) for c in qs[:500]]


@router.post("/courses", response={201: CourseRead}, summary="Tạo khóa học")
def create_course(request, data: CourseIn):
    require(request.user, MANAGE)
    unit = actions.managed_unit(request.user, data.unit)
    course = actions.save_course(
        user=request.user,
        unit=unit,
        title=data.title,
        topics=[str(t) for t in data.topics],
        description=data.description,
    )
    return Status(201, course_read(course))


def _sessions(user, permission: str = VIEW):
    return Session.objects.restrict(user, permission).select_related("course", "course__unit")


@router.get("/sessions", response=list[SessionRead], summary="Lớp học")
def list_sessions(request, course: int | None = None):
    require(request.user, VIEW)
    qs = _sessions(request.user)
    if course is not None:
        qs = qs.filter(course_id=course)
    return [session_read(s) for s in qs[:500]]


@router.post("/sessions", response={201: SessionRead}, summary="Mở lớp học của một khóa")
def create_session(request, data: SessionIn):
    require(request.user, MANAGE)
    course = get_object_or_404(Course.objects.restrict(request.user, MANAGE), pk=data.course)
    session = actions.save_session(
        user=request.user,
        course=course,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        place=data.place,
        trainer=data.trainer,
        hours=data.hours,
    )
    return Status(201, session_read(session))


@router.get("/sessions/{session_id}", response=SessionRead, summary="Một lớp học")
def session_detail(request, session_id: int):
    require(request.user, VIEW)
    return session_read(get_object_or_404(_sessions(request.user), pk=session_id))


@router.get(
    "/sessions/{session_id}/attendance", response=list[AttendanceRead], summary="Kết quả lớp học"
)
def list_attendance(request, session_id: int):
    require(request.user, VIEW)
    session = get_object_or_404(_sessions(request.user), pk=session_id)
    qs = (
        Attendance.objects.restrict(request.user, VIEW)
        .filter(session=session)
        .select_related("staff", "staff__unit")
    )
    return [attendance_read(a) for a in qs]


@router.post(
    "/sessions/{session_id}/attendance",
    response={200: AttendanceRead},
    summary="Ghi kết quả một học viên",
)
def record_attendance(request, session_id: int, data: AttendanceIn):
    require(request.user, MANAGE)
    session = get_object_or_404(_sessions(request.user, MANAGE), pk=session_id)
    staff = get_object_or_404(StaffMember.objects.restrict(request.user, VIEW), pk=data.staff)
    row = actions.record_attendance(
        user=request.user,
        session=session,
        staff=staff,
        result=str(data.result),
        score=data.score,
        attended_on=data.attended_on,
        note=data.note,
    )
    return attendance_read(row)


@router.post(
    "/sessions/{session_id}/attendance/import",
    response={200: AttendanceImportRead},
    summary="Nhập danh sách học viên (Excel); có lỗi thì không lưu gì",
)
def import_attendance(request, session_id: int, file: File[UploadedFile]):
    require(request.user, MANAGE)
    session = get_object_or_404(_sessions(request.user, MANAGE), pk=session_id)
    if file.size and file.size > MAX_UPLOAD:
        raise Problem(413, "Tệp lớn hơn 5 MB; hãy chia nhỏ danh sách học viên.")
    result = actions.import_attendance(
        user=request.user, session=session, data=file.read(), filename=file.name or ".xlsx"
    )
    return {"created": result.created, "updated": result.updated}


# --- who needs training, the indicator -------------------------------------------------------


@router.get("/needs", response=list[StaffRead], summary="Cán bộ còn phải đào tạo")
def needs(
    request, unit: str | None = None, start: dt.date | None = None, end: dt.date | None = None
):
    require(request.user, VIEW)
    start, end = _period(start, end)
    qs = StaffMember.objects.restrict(request.user, VIEW)
    root = _unit_filter(request.user, unit)
    if root:
        qs = qs.filter(unit__path__startswith=root.path)
    return [staff_read(s) for s in needing_training(qs, start=start, end=end)[:2000]]


@router.get("/indicator", response=TrainedShareRead, summary="Tỷ lệ cán bộ được đào tạo")
def indicator(
    request, unit: str | None = None, start: dt.date | None = None, end: dt.date | None = None
):
    require(request.user, VIEW)
    start, end = _period(start, end)
    root = _unit_filter(request.user, unit) or _top_unit(request.user)
    share = staff_trained(root, start=start, end=end)
    return {
        "unit": _brief(root),
        "start": start,
        "end": end,
        "trained": share.trained if share else None,
        "required": share.required if share else None,
        "ratio": round(share.ratio, 4) if share else None,
    }


def _top_unit(user) -> Unit:
    """The highest unit the user sees training of (the province for provincial staff)."""
    unit = Unit.objects.restrict(user, VIEW).current().order_by("depth", "code").first()
    if unit is None:
        raise Problem(404, "Bạn chưa được giao đơn vị nào để xem đào tạo.")
    return unit
