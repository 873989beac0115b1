"""Roles created before the yearly report existed get its permissions as new databases do
(accounts.choices.DEFAULT_ROLE_PERMISSIONS): `kpi.report` for the commune operators and the
province administrators, `kpi.review` for the province administrators."""

from django.db import migrations

REPORT, REVIEW = "kpi.report", "kpi.review"


def forwards(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.all():
        perms = list(role.permissions or [])
        add = []
        if role.slug in ("operator", "province_admin") and REPORT not in perms:
            add.append(REPORT)
        if role.slug == "province_admin" and REVIEW not in perms:
            add.append(REVIEW)
        if add:
            role.permissions = perms + add
            role.save(update_fields=["permissions"])


def backwards(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.all():
        perms = [p for p in role.permissions or [] if p not in (REPORT, REVIEW)]
        if perms != role.permissions:
            role.permissions = perms
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("kpi", "0003_yearly_report"), ("accounts", "0002_operator_emergency_by_grant")]

    operations = [migrations.RunPython(forwards, backwards)]
