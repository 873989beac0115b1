"""Central mode (`GRASSROOTS_LEVEL=central`): the same software as the national system.

Its units are the country (one root) and the provinces under it, taken from the same
administrative dataset as a province's seed; its demo users hold their roles on the root.
Provinces become exchange peers when their keys are registered (`grassroots exchange add-peer`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from grassroots.units import seed
from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

ROOT_CODE = "VN"


def provinces() -> list[dict]:
    """The provinces in force (after the 2025 reform): code, name, position."""
    return seed._rows(
        "SELECT DISTINCT provinceCode AS code, province AS name, provinceLat AS lat, "
        "provinceLon AS lon FROM admin_units ORDER BY provinceCode"
    )


@transaction.atomic
def load_units() -> dict[str, int]:
    root, made = Unit.objects.get_or_create(
        code=ROOT_CODE,
        valid_to=None,
        defaults={"name": "Cả nước", "kind": UnitKind.NATION, "source": seed.PACKAGE},
    )
    created = int(made)
    for row in provinces():
        kind = UnitKind.CITY if str(row["name"]).startswith("Thành phố") else UnitKind.PROVINCE
        _unit, made = Unit.objects.get_or_create(
            code=row["code"],
            valid_to=None,
            defaults={
                "name": row["name"],
                "kind": kind,
                "parent": root,
                "latitude": row["lat"],
                "longitude": row["lon"],
                "valid_from": seed._date(seed.REFORM_DATE),
                "source": seed.PACKAGE,
            },
        )
        created += int(made)
    return {"units": created}


DEMO_USERS = (
    ("admin", "Quản trị hệ thống trung ương", "province_admin"),
    ("editor", "Biên tập viên trung ương", "editor"),
    ("approver", "Ban biên tập trung ương", "approver"),
    ("viewer", "Người xem trung ương", "viewer"),
)


@transaction.atomic
def load_central_demo(password: str | None = None) -> dict[str, int]:
    """Units (country, provinces), roles and demo users of the central system; idempotent."""
    from grassroots.accounts.demo import ensure_roles
    from grassroots.accounts.models import RoleAssignment, User

    counts = load_units()
    roles = ensure_roles()
    root = Unit.objects.get(code=ROOT_CODE, valid_to__isnull=True)
    password = password or settings.GRASSROOTS["DEMO_PASSWORD"]
    made = 0
    for username, full_name, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"full_name": full_name}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            made += 1
        RoleAssignment.objects.get_or_create(user=user, role=roles[role], unit=root)
    counts["users"] = made
    return counts
