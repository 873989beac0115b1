"""Seed the provincial plan's targets (section I.2); administrators edit them afterwards."""

from django.db import migrations

# Copied, not imported: a migration must not change when the code's table changes later.
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


def seed(apps, schema_editor):
    Target = apps.get_model("kpi", "Target")
    for indicator, year, comparison, value, source in TARGETS:
        Target.objects.get_or_create(
            indicator=indicator,
            year=year,
            defaults={"comparison": comparison, "value": value, "source": source},
        )


class Migration(migrations.Migration):
    dependencies = [("kpi", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
