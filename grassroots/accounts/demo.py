"""Hưng Yên demo data: units, the built-in roles and the demo users (idempotent)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from grassroots.units import seed
from grassroots.units.models import Unit

from .choices import DEFAULT_ROLE_PERMISSIONS, RoleSlug, role_label
from .models import Role, RoleAssignment, User

# Two communes for the two demo operators: Phố Hiến (phường) and Tân Hưng (xã).
DEMO_COMMUNES = ("11953", "11977")


def ensure_roles() -> dict[str, Role]:
    """Create the built-in roles once, named for this system's level (`role_label`); never
    overwrite permissions an admin edited, nor a name an admin chose: a name still the other
    level's built-in one (a central system started with the province's) is renamed."""
    from django.utils import translation

    roles = {}
    for slug, perms in DEFAULT_ROLE_PERMISSIONS.items():
        name = str(role_label(slug))
        role, _ = Role.objects.get_or_create(
            slug=slug, defaults={"name": name, "permissions": perms}
        )
        if role.name != name:
            builtin = set()
            for level in ("province", "central"):
                label = role_label(slug, level)
                with translation.override("vi"):
                    builtin.add(str(label))
                builtin.add(str(label))
            if role.name in builtin:
                role.name = name
                role.save(update_fields=["name"])
        roles[slug] = role
    return roles


def demo_users(province: Unit) -> list[tuple[str, str, str, Unit]]:
    communes = list(
        Unit.objects.filter(parent=province, code__in=DEMO_COMMUNES, valid_to__isnull=True)
    )
    if len(communes) < 2:
        communes = list(province.children.filter(valid_to__isnull=True).order_by("code")[:2])
    first, second = communes[0], communes[1]
    return [
        ("admin", "Quản trị tỉnh", RoleSlug.PROVINCE_ADMIN, province),
        ("editor", "Biên tập viên Sở VHTTDL", RoleSlug.EDITOR, province),
        ("approver", "Ban biên tập tỉnh", RoleSlug.APPROVER, province),
        ("viewer", "Người xem cấp tỉnh", RoleSlug.VIEWER, province),
        ("operator", f"Cán bộ đài {first.name}", RoleSlug.OPERATOR, first),
        ("operator2", f"Cán bộ đài {second.name}", RoleSlug.OPERATOR, second),
    ]


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role name at this level, unit name) of the demo accounts `load_demo` made,
    for the start banner:
    the province's, or in central mode (`GRASSROOTS_LEVEL=central`) the national system's."""
    if settings.GRASSROOTS.get("LEVEL") == "central":
        from grassroots.exchange.central import DEMO_USERS, ROOT_CODE

        root = Unit.objects.filter(code=ROOT_CODE, valid_to__isnull=True).first()
        return (
            [(name, str(role_label(role)), root.name) for name, _, role in DEMO_USERS]
            if root
            else []
        )
    province = Unit.objects.filter(
        code=settings.GRASSROOTS["PROVINCE_CODE"], valid_to__isnull=True
    ).first()
    if province is None:
        return []
    return [
        (name, str(role_label(role)), unit.name) for name, _, role, unit in demo_users(province)
    ]


@transaction.atomic
def load_demo(password: str | None = None) -> dict[str, int]:
    """Load units, roles and demo users; running it twice changes nothing."""
    if settings.GRASSROOTS.get("LEVEL") == "central":
        from grassroots.exchange.central import load_central_demo

        return load_central_demo(password)
    code = settings.GRASSROOTS["PROVINCE_CODE"]
    counts = seed.load(seed.seed_path(code))
    roles = ensure_roles()
    province = Unit.objects.get(code=code, valid_to__isnull=True)
    password = password or settings.GRASSROOTS["DEMO_PASSWORD"]
    made = 0
    for username, full_name, role, unit in demo_users(province):
        user, created = User.objects.get_or_create(
            username=username, defaults={"full_name": full_name}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            made += 1
        RoleAssignment.objects.get_or_create(user=user, role=roles[role], unit=unit)
        if username == "operator":
            # The province grants the emergency right to the first demo commune only.
            RoleAssignment.objects.get_or_create(
                user=user, role=roles[RoleSlug.EMERGENCY], unit=unit
            )
    counts["users"] = made
    return counts
