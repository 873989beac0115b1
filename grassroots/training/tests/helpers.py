"""Hand-made training records and attendance workbooks for the tests."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from grassroots.core.testing import unit
from grassroots.training.choices import Position
from grassroots.training.models import Course, Session, StaffMember


def staff(
    code: str,
    name: str,
    *,
    position=Position.STATION_STAFF,
    requires=True,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> StaffMember:
    return StaffMember.objects.create(
        unit=unit(code),
        full_name=name,
        position=position,
        requires_training=requires,
        start_date=start,
        end_date=end,
    )


def session(
    code: str = "33",
    *,
    starts=dt.date(2026, 3, 5),
    ends=dt.date(2026, 3, 6),
    title="Nghiệp vụ biên tập tin bài",
) -> Session:
    course = Course.objects.create(unit=unit(code), title=title, topics=["editing"])
    return Session.objects.create(
        course=course,
        starts_on=starts,
        ends_on=ends,
        place="Hội trường Sở VHTTDL",
        trainer="ThS. Nguyễn Văn Bình",
        hours=Decimal("16"),
    )


def workbook(
    rows: list[list],
    *,
    merge: list[str] = (),
    title: str | None = "DANH SÁCH HỌC VIÊN",
    headers: list[str] | None = None,
) -> bytes:
    """An attendance list as training units keep it: a title over the header, Vietnamese
    headers, one row per trainee; `merge` are ranges such as "B3:B4" (one commune's rows)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    if title:
        ws.append([title])
        ws.merge_cells("A1:H1")
    ws.append(
        headers
        or ["STT", "Mã đơn vị", "Họ và tên", "Chức danh", "Ngày dự", "Kết quả", "Điểm", "Ký tên"]
    )
    for r in rows:
        ws.append(r)
    for rng in merge:
        ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
