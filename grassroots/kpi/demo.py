"""Demo reporting agencies of Hưng Yên for the yearly report (idempotent)."""

from __future__ import annotations

from grassroots.units.models import Unit

from .models import ReportingBody

# Sở VHTTDL receives the reports and compiles the province's (grassroots information moved to
# it in 2025); the others report on their part of the plan (section V).
AGENCIES = (
    ("Sở Văn hóa, Thể thao và Du lịch", True),
    ("Sở Tài chính", False),
    ("Sở Nội vụ", False),
    ("Sở Khoa học và Công nghệ", False),
)


def load() -> dict[str, int]:
    province = Unit.objects.filter(code="33", valid_to__isnull=True).first()
    if province is None:
        return {"reporting_bodies": 0}
    made = 0
    for name, compiles in AGENCIES:
        _body, created = ReportingBody.objects.get_or_create(
            unit=province, name=name, defaults={"compiles": compiles}
        )
        made += created
    return {"reporting_bodies": made}
