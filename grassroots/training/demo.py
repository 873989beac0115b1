"""A small, plausible set of Hưng Yên training records for the demo (idempotent)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from grassroots.units.models import Unit

from .choices import Position, Result
from .models import Attendance, Course, Session, StaffMember

COURSE = "Bồi dưỡng nghiệp vụ thông tin cơ sở năm 2026"
STAFF = [
    # (unit code, full name, position, job title, start date)
    (
        "33",
        "Đỗ Quang Huy",
        Position.PROVINCIAL,
        "Chuyên viên phòng Thông tin cơ sở, Sở VHTTDL",
        dt.date(2020, 5, 4),
    ),
    (
        "11953",
        "Nguyễn Thị Thu Hà",
        Position.CULTURE_OFFICER,
        "Công chức văn hóa - xã hội",
        dt.date(2021, 8, 1),
    ),
    (
        "11953",
        "Trần Văn Hùng",
        Position.STATION_STAFF,
        "Cán bộ đài truyền thanh phường",
        dt.date(2019, 3, 15),
    ),
    (
        "11977",
        "Lê Thị Minh Phương",
        Position.CULTURE_OFFICER,
        "Công chức văn hóa - xã hội",
        dt.date(2025, 7, 1),
    ),
    (
        "11977",
        "Phạm Văn Đức",
        Position.STATION_STAFF,
        "Cán bộ đài truyền thanh xã",
        dt.date(2026, 6, 1),
    ),
]
RESULTS = {
    "Nguyễn Thị Thu Hà": (Result.PASSED, "8.5"),
    "Trần Văn Hùng": (Result.PASSED, "7"),
    "Lê Thị Minh Phương": (Result.ABSENT, None),
}


def load() -> dict[str, int]:
    """Staff of the province and the two demo communes, two courses, one session with results."""
    if Course.objects.filter(title=COURSE).exists():
        return {"training": 0}
    units = {u.code: u for u in Unit.objects.current().filter(code__in={s[0] for s in STAFF})}
    people = {}
    for code, name, position, title, start in STAFF:
        if code in units:
            people[name] = StaffMember.objects.create(
                unit=units[code],
                full_name=name,
                position=position,
                job_title=title,
                requires_training=True,
                start_date=start,
            )
    province = units.get("33")
    if province is None:
        return {"training": len(people)}
    course = Course.objects.create(
        unit=province,
        title=COURSE,
        topics=["editing", "news_writing", "digital_skills"],
        description="Biên tập, viết tin bài cho đài truyền thanh và bảng tin điện tử; "
        "sử dụng hệ thống thông tin nguồn.",
    )
    Course.objects.create(
        unit=province,
        title="Vận hành đài truyền thanh ứng dụng CNTT-VT và an toàn thông tin",
        topics=["equipment", "security"],
    )
    session = Session.objects.create(
        course=course,
        starts_on=dt.date(2026, 9, 15),
        ends_on=dt.date(2026, 9, 16),
        place="Hội trường Sở Văn hóa, Thể thao và Du lịch tỉnh Hưng Yên",
        trainer="Giảng viên Cục Thông tin cơ sở và Thông tin đối ngoại",
        hours=Decimal(16),
    )
    for name, (result, score) in RESULTS.items():
        if name in people:
            Attendance.objects.create(
                session=session,
                staff=people[name],
                result=result,
                score=Decimal(score) if score else None,
            )
    return {"training": len(people)}
