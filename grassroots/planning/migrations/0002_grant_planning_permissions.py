"""Roles created before the planning app existed get its permissions as new databases do
(accounts.choices.DEFAULT_ROLE_PERMISSIONS): `planning.view` where a role sees the KPIs (every
built-in reading role), `planning.manage` for the province administrators."""

from django.db import migrations

VIEW, MANAGE = "planning.view", "planning.manage"


def forwards(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.all():
        perms = list(role.permissions or [])
        add = []
        if "kpi.view" in perms and VIEW not in perms:
            add.append(VIEW)
        if role.slug == "province_admin" and MANAGE not in perms:
            add.append(MANAGE)
        if add:
            role.permissions = perms + add
            role.save(update_fields=["permissions"])


def backwards(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.all():
        perms = [p for p in role.permissions or [] if p not in (VIEW, MANAGE)]
        if perms != role.permissions:
            role.permissions = perms
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("planning", "0001_initial"), ("accounts", "0002_operator_emergency_by_grant")]

    operations = [migrations.RunPython(forwards, backwards)]
