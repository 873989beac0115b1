"""Commune operators no longer hold the emergency right by default: the province grants it per
commune with the `emergency_operator` role. Operators who had it keep it through that role on
the units where they were operators, so nobody loses the right silently by this migration."""

from django.db import migrations

EMERGENCY = "broadcast.emergency"


def forwards(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    grant, _ = Role.objects.get_or_create(
        slug="emergency_operator",
        defaults={
            "name": "Được phát khẩn cấp (tỉnh cấp)",
            "permissions": ["broadcast.view", EMERGENCY],
        },
    )
    operator = Role.objects.filter(slug="operator").first()
    if operator is None or EMERGENCY not in (operator.permissions or []):
        return
    for a in RoleAssignment.objects.filter(role=operator):
        RoleAssignment.objects.get_or_create(user_id=a.user_id, role=grant, unit_id=a.unit_id)
    operator.permissions = [p for p in operator.permissions if p != EMERGENCY]
    operator.save(update_fields=["permissions"])


def backwards(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    operator = Role.objects.filter(slug="operator").first()
    if operator is not None and EMERGENCY not in operator.permissions:
        operator.permissions = [*operator.permissions, EMERGENCY]
        operator.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
