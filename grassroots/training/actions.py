"""Business rules of the training records: every write checks `training.manage` on the unit
concerned, writes, and leaves an audit row (ObjectChange)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from grassroots.accounts.policies import require, require_on
from grassroots.core import audit
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots.units.models import Unit
from grassroots.units.text import fold

from . import attendance as sheet
from .choices import Position, Result, Topic
from .models import Attendance, Course, Session, StaffMember

MANAGE = "training.manage"
VIEW = "training.view"
MAX_HOURS = Decimal("999")


def managed_unit(user, code: str) -> Unit:
    """A unit in force that the user manages training for; 404 otherwise (scope is not told)."""
    unit = Unit.objects.current().filter(code=(code or "").strip()).first()
    if unit is None or not Unit.objects.restrict(user, MANAGE).filter(pk=unit.pk).exists():
        raise Http404
    return unit


def _check_dates(start, end, *, start_field: str, end_field: str) -> None:
    if start and end and end < start:
        raise ValidationError(
            {
                end_field: f"Ngày kết thúc ({end:%d/%m/%Y}) phải sau hoặc bằng "
                f"ngày bắt đầu ({start:%d/%m/%Y})."
            }
        )


STAFF_FIELDS = (
    "full_name",
    "position",
    "job_title",
    "requires_training",
    "start_date",
    "end_date",
    "phone",
    "note",
)


@transaction.atomic
def save_staff(*, user, unit: Unit, data: dict[str, Any], staff: StaffMember | None = None):
    """Add a person to a unit's roster, or change one. `requires_training` defaults from the
    position (plan III.4.b names every position but "other")."""
    require(user, MANAGE)
    require_on(user, MANAGE, unit)
    before = audit.snapshot(staff) if staff else None
    staff = staff or StaffMember(unit=unit)
    staff.unit = unit
    if "position" in data and data["position"] not in Position.values:
        raise ValidationError({"position": "Vị trí không hợp lệ; chọn một vị trí trong danh sách."})
    if before is None and data.get("requires_training") is None and data.get("position"):
        data = {**data, "requires_training": Position.requires_training(data["position"])}
    for name in STAFF_FIELDS:
        if name in data and data[name] is not None:
            value = data[name]
            setattr(staff, name, value.strip() if isinstance(value, str) else value)
    if not staff.full_name:
        raise ValidationError({"full_name": "Hãy ghi họ và tên cán bộ."})
    _check_dates(staff.start_date, staff.end_date, start_field="start_date", end_field="end_date")
    staff.full_clean(exclude=["unit"])
    staff.save()
    audit.record(
        staff, ChangeAction.UPDATE if before else ChangeAction.CREATE, user=user, before=before
    )
    return staff


@transaction.atomic
def save_course(*, user, unit: Unit, title: str, topics: list[str], description: str = ""):
    """A new course organised by `unit`, on the plan's topics (III.4.a)."""
    require_on(user, MANAGE, unit)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Hãy ghi tên khóa học."})
    unknown = [t for t in topics if t not in Topic.values]
    if unknown or not topics:
        raise ValidationError(
            {
                "topics": "Chọn ít nhất một nội dung trong danh sách của kế "
                "hoạch (khai thác nội dung, biên tập, viết tin...)."
            }
        )
    course = Course(
        unit=unit,
        title=title[:300],
        topics=list(dict.fromkeys(topics)),
        description=description or "",
        created_by=user,
    )
    course.full_clean(exclude=["unit", "created_by"])
    course.save()
    audit.record(course, ChangeAction.CREATE, user=user)
    return course


@transaction.atomic
def save_session(
    *,
    user,
    course: Course,
    starts_on: dt.date,
    ends_on: dt.date | None,
    place: str,
    trainer: str,
    hours: Decimal,
) -> Session:
    """A class of a course: dates (one day when `ends_on` is empty), place, trainer, hours."""
    require_on(user, MANAGE, course.unit)
    ends_on = ends_on or starts_on
    _check_dates(starts_on, ends_on, start_field="starts_on", end_field="ends_on")
    if hours is None or not Decimal("0.5") <= Decimal(hours) <= MAX_HOURS:
        raise ValidationError({"hours": "Số giờ phải từ 0,5 đến 999."})
    session = Session(
        course=course,
        starts_on=starts_on,
        ends_on=ends_on,
        place=(place or "").strip(),
        trainer=(trainer or "").strip(),
        hours=Decimal(hours),
    )
    session.full_clean(exclude=["course"])
    session.save()
    audit.record(session, ChangeAction.CREATE, user=user)
    return session


def _check_attended_on(session: Session, day: dt.date | None, field: str = "attended_on"):
    if day and not session.starts_on <= day <= session.ends_on:
        raise ValidationError(
            {
                field: f"Ngày dự {day:%d/%m/%Y} nằm ngoài thời gian của lớp "
                f"({session.starts_on:%d/%m/%Y} – "
                f"{session.ends_on:%d/%m/%Y})."
            }
        )


@transaction.atomic
def record_attendance(
    *,
    user,
    session: Session,
    staff: StaffMember,
    result: str,
    score: Decimal | None = None,
    attended_on: dt.date | None = None,
    note: str = "",
) -> Attendance:
    """Record (or correct) one person's result at a session. The session's organiser records
    it: `training.manage` on the course's unit, and the person must be in the user's scope."""
    require_on(user, MANAGE, session.course.unit)
    if not StaffMember.objects.restrict(user, VIEW).filter(pk=staff.pk).exists():
        raise Http404
    if result not in Result.values:
        raise ValidationError({"result": "Kết quả phải là Đạt, Không đạt hoặc Vắng."})
    if score is not None and not Decimal(0) <= Decimal(score) <= Decimal(10):
        raise ValidationError({"score": "Điểm phải từ 0 đến 10."})
    _check_attended_on(session, attended_on)
    row = Attendance.objects.filter(session=session, staff=staff).first()
    before = audit.snapshot(row) if row else None
    row = row or Attendance(session=session, staff=staff)
    row.result, row.score, row.attended_on, row.note = result, score, attended_on, note[:500]
    row.save()
    audit.record(
        row, ChangeAction.UPDATE if before else ChangeAction.CREATE, user=user, before=before
    )
    return row


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


def import_attendance(*, user, session: Session, data: bytes, filename: str = ".xlsx"):
    """Import a session's attendance list (XLSX, the training unit's own format; see
    `attendance`). Every row is checked first: the unit must be one the user may see, the
    person must be on that unit's roster (matched by name, diacritics and case ignored), once
    in the file, on a day within the session. Any error raises Problem(422) with `errors`
    [{row, field, message}] in Vietnamese and saves nothing; otherwise every row is saved in
    one transaction (a person already recorded for the session gets the new result)."""
    require_on(user, MANAGE, session.course.unit)
    parsed = sheet.read(data, filename=filename)
    errors = list(parsed.errors)
    units: dict[str, Unit | None] = {}
    visible = Unit.objects.restrict(user, VIEW)
    matched: list[tuple[sheet.Row, StaffMember]] = []
    seen: dict[int, int] = {}
    for row in parsed.rows:
        if row.unit_code not in units:
            units[row.unit_code] = visible.current().filter(code=row.unit_code).first()
        unit = units[row.unit_code]

        def err(column: str, message: str, number: int = row.number) -> None:
            errors.append(sheet.RowError(number, column, f"Dòng {number}: {message}"))

        if unit is None:
            err(
                "Mã đơn vị",
                f"không có đơn vị mã '{row.unit_code}' trong phạm vi của bạn; hãy "
                "kiểm tra mã đơn vị hành chính (mã mới từ 01/7/2025).",
            )
            continue
        people = list(StaffMember.objects.filter(unit=unit, name_folded=fold(row.full_name)))
        if not people:
            err(
                "Họ và tên",
                f"'{row.full_name}' chưa có trong danh sách cán bộ của {unit.name}; "
                "hãy thêm người này vào danh sách cán bộ trước rồi nhập lại.",
            )
            continue
        if len(people) > 1:
            err(
                "Họ và tên",
                f"{unit.name} có {len(people)} cán bộ tên '{row.full_name}'; hãy "
                "ghi kết quả của từng người trên trang lớp học.",
            )
            continue
        person = people[0]
        if person.pk in seen:
            err(
                "Họ và tên",
                f"'{row.full_name}' ({unit.name}) đã có ở dòng {seen[person.pk]}; "
                "mỗi người chỉ ghi một dòng.",
            )
            continue
        seen[person.pk] = row.number
        if row.attended_on and not session.starts_on <= row.attended_on <= session.ends_on:
            err(
                "Ngày dự",
                f"ngày {row.attended_on:%d/%m/%Y} nằm ngoài thời gian của lớp "
                f"({session.starts_on:%d/%m/%Y} – {session.ends_on:%d/%m/%Y}).",
            )
            continue
        matched.append((row, person))
    if errors:
        errors.sort(key=lambda e: e.row)
        raise Problem(
            422,
            f"Danh sách có {len(errors)} lỗi, chưa lưu kết quả nào. Hãy sửa các dòng được nêu "
            "rồi nhập lại cả tệp.",
            title="Danh sách học viên có lỗi",
            errors=[e.as_dict() for e in errors],
        )
    result = ImportResult()
    with transaction.atomic():
        for row, person in matched:
            existed = Attendance.objects.filter(session=session, staff=person).exists()
            record_attendance(
                user=user,
                session=session,
                staff=person,
                result=row.result,
                score=row.score,
                attended_on=row.attended_on,
                note=row.note,
            )
            if existed:
                result.updated += 1
            else:
                result.created += 1
    return result
