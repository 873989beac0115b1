"""The provincial plan's targets (section I.2), as data: what migration 0002 seeded, for a
database whose table was emptied (tests that flush, a reset back office)."""

from __future__ import annotations

PLAN = "Kế hoạch thông tin cơ sở tỉnh Hưng Yên, mục I.2"
TARGETS = (
    ("essential_reach", 2025, "gte", 100.0, f"{PLAN}.a, gạch đầu dòng 1"),
    ("feedback_handled", 2025, "gte", 100.0, f"{PLAN}.a, gạch đầu dòng 1"),
    ("staff_trained", 2025, "gte", 100.0, f"{PLAN}.a, gạch đầu dòng 3"),
    ("radio_ip", 2025, "gte", 100.0, f"{PLAN}.a, gạch đầu dòng 4"),
    ("eboard_wards", 2025, "gte", 100.0, f"{PLAN}.a, gạch đầu dòng 4"),
    ("eboard_communes", 2025, "gt", 70.0, f"{PLAN}.a, gạch đầu dòng 4"),
    ("eboard_communes", 2030, "gte", 100.0, f"{PLAN}.b, gạch đầu dòng 1"),
)


def ensure_targets() -> int:
    """Add the plan's targets that are missing (never overwrites an edited one)."""
    from .models import Target

    made = 0
    for indicator, year, comparison, value, source in TARGETS:
        _t, created = Target.objects.get_or_create(
            indicator=indicator,
            year=year,
            defaults={"comparison": comparison, "value": value, "source": source},
        )
        made += created
    return made
