"""Statistics received before titles were named for people ("33 2026-11") get the title the
handler now gives: "Hưng Yên, tháng 11/2026"."""

import re

from django.db import migrations

OLD = re.compile(r"^(\S+) (\d{4})-(\d{2})$")
PREFIXES = ("Tỉnh ", "Thành phố ")


def rename(apps, schema_editor):
    InboundMessage = apps.get_model("exchange", "InboundMessage")
    Unit = apps.get_model("units", "Unit")
    names: dict[str, str] = {}
    for row in InboundMessage.objects.filter(kind="statistics").only("title"):
        match = OLD.match(row.title)
        if not match:
            continue
        code, year, month = match.groups()
        if code not in names:
            unit = Unit.objects.filter(code=code, valid_to__isnull=True).first()
            name = unit.name if unit else code
            for prefix in PREFIXES:
                if name.startswith(prefix) and len(name) > len(prefix):
                    name = name.removeprefix(prefix)
                    break
            names[code] = name
        row.title = f"{names[code]}, tháng {month}/{year}"
        row.save(update_fields=["title"])


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0004_outbound_error_detail"),
        ("units", "0001_initial"),
    ]

    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
