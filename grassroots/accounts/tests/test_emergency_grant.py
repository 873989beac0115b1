"""The migration that takes the emergency right out of the operator role keeps it, as an explicit
grant, for the operators who had it; new operators get it only where the province grants it."""

import importlib

import pytest
from django.apps import apps

from grassroots.accounts.models import Role, RoleAssignment
from grassroots.accounts.scope import covers, forget
from grassroots.core.testing import COMMUNE_A, COMMUNE_B
from grassroots.core.testing import unit as get_unit

migration = importlib.import_module(
    "grassroots.accounts.migrations.0002_operator_emergency_by_grant"
)


@pytest.mark.django_db
def test_migration_turns_the_default_right_into_explicit_grants(users):
    operator = Role.objects.get(slug="operator")
    operator.permissions = [*operator.permissions, "broadcast.emergency"]
    operator.save()
    RoleAssignment.objects.filter(role__slug="emergency_operator").delete()
    migration.forwards(apps, None)
    operator.refresh_from_db()
    assert "broadcast.emergency" not in operator.permissions
    granted = set(
        RoleAssignment.objects.filter(role__slug="emergency_operator").values_list(
            "user__username", "unit__code"
        )
    )
    assert granted == {("operator", COMMUNE_A), ("operator2", COMMUNE_B)}
    migration.backwards(apps, None)
    assert "broadcast.emergency" in Role.objects.get(slug="operator").permissions


@pytest.mark.django_db
def test_a_grant_covers_only_its_commune(client, users):
    op2 = users["operator2"]
    assert not covers(op2, "broadcast.emergency", get_unit(COMMUNE_B))
    client.force_login(users["admin"])
    response = client.post(
        "/nguoi-dung/phan-quyen/",
        {"user_id": op2.pk, "role": "emergency_operator", "unit_code": COMMUNE_B},
        follow=True,
    )
    assert "Đã phân quyền." in response.content.decode()
    forget(op2)
    assert covers(op2, "broadcast.emergency", get_unit(COMMUNE_B))
    assert not covers(op2, "broadcast.emergency", get_unit(COMMUNE_A))
