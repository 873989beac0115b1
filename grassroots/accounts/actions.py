"""Mutations of accounts: each checks permission, writes, and records an audit row."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.units.models import PATH_SEP, Unit

from .choices import PERMISSIONS
from .models import ApiToken, Role, RoleAssignment, User
from .policies import require
from .scope import forget


def users_in_scope(actor):
    """Users the actor may manage: those holding a role somewhere inside the actor's scope."""
    if actor.is_superuser:
        return User.objects.all()
    units = Unit.objects.restrict(actor, "accounts.manage")
    return User.objects.filter(assignments__unit__in=units).distinct()


def _unit_for(actor, code: str) -> Unit:
    unit = Unit.objects.restrict(actor, "accounts.manage").current().filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


@transaction.atomic
def create_user(
    *,
    actor,
    username: str,
    password: str,
    full_name: str = "",
    email: str = "",
    role: str | None = None,
    unit_code: str | None = None,
) -> User:
    """Create a user, optionally with a first role on a unit in the actor's scope."""
    require(actor, "accounts.manage")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"Tên đăng nhập '{username}' đã có người dùng."})
    user = User(username=username, full_name=full_name, email=email)
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(user, ChangeAction.CREATE, user=actor)
    if role and unit_code:
        assign_role(actor=actor, user=user, role=role, unit_code=unit_code)
    return user


@transaction.atomic
def assign_role(*, actor, user: User, role: str, unit_code: str) -> RoleAssignment:
    """Grant `role` on the unit `unit_code` (which must lie in the actor's scope)."""
    require(actor, "accounts.manage")
    unit = _unit_for(actor, unit_code)
    role_obj = Role.objects.filter(slug=role).first()
    if role_obj is None:
        raise ValidationError({"role": f"Vai trò '{role}' không tồn tại."})
    # Only someone who already administers the unit's parent may hand out admin rights there.
    if (
        role_obj.slug == "province_admin"
        and not actor.is_superuser
        and (
            unit.depth > 0
            and unit.parent_id
            and not Unit.objects.restrict(actor, "accounts.manage")
            .filter(pk=unit.parent_id)
            .exists()
        )
    ):
        raise ValidationError({"role": "Bạn không thể cấp quyền quản trị ở đơn vị này."})
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role_obj, unit=unit)
    if created:
        audit.record(assignment, ChangeAction.CREATE, user=actor)
    forget(user)
    return assignment


@transaction.atomic
def remove_assignment(*, actor, assignment_id: int) -> None:
    require(actor, "accounts.manage")
    assignment = (
        RoleAssignment.objects.restrict(actor, "accounts.manage").filter(pk=assignment_id).first()
    )
    if assignment is None:
        raise Http404
    _keep_an_administrator(unit=assignment.unit, without_assignment=assignment)
    before = audit.snapshot(assignment)
    audit.record(assignment, ChangeAction.DELETE, user=actor, before=before)
    assignment.delete()
    forget(assignment.user)


MANAGE = "accounts.manage"


def _administrators(unit: Unit) -> list[RoleAssignment]:
    """Assignments that let an active person manage accounts on `unit` (there or above).

    Filtered in Python: SQLite has no JSON `contains`, and a unit has only a few ancestors.
    """
    above = [int(p) for p in unit.path.strip(PATH_SEP).split(PATH_SEP) if p]
    rows = (
        RoleAssignment.objects.filter(unit_id__in=above, user__is_active=True)
        .select_related("role")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    return [a for a in rows if MANAGE in (a.role.permissions or [])]


def _keep_an_administrator(*, unit: Unit, without_assignment=None, without_user=None) -> None:
    """Refuse a change that would leave a unit that has an administrator with none at all.

    Checked inside the transaction, with the remaining admin rows locked, so two admins who
    remove each other at the same moment cannot both succeed.
    """
    admins = _administrators(unit)
    if without_assignment is not None:
        if MANAGE not in (without_assignment.role.permissions or []):
            return
        rest = [a for a in admins if a.pk != without_assignment.pk]
    else:
        if not any(a.user_id == without_user.pk for a in admins):
            return
        rest = [a for a in admins if a.user_id != without_user.pk]
    if not rest:
        raise ValidationError(
            {
                "assignment": f"Không thể bỏ quyền quản trị cuối cùng của {unit.name}: sau đó "
                "không còn ai quản trị được đơn vị này. Hãy cấp quyền quản trị cho người khác "
                "trước."
            }
        )


@transaction.atomic
def set_active(*, actor, user: User, active: bool) -> User:
    require(actor, "accounts.manage")
    if not users_in_scope(actor).filter(pk=user.pk).exists():
        raise Http404
    if not active:
        for a in user.assignments.select_related("unit", "role"):
            if MANAGE in (a.role.permissions or []):
                _keep_an_administrator(unit=a.unit, without_user=user)
    before = audit.snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(user, ChangeAction.UPDATE, user=actor, before=before)
    return user


@transaction.atomic
def set_role_permissions(*, actor, role: Role, permissions: list[str]) -> Role:
    """Edit a role's permission set (superusers and province admins at the root only)."""
    require(actor, "accounts.manage")
    if (
        not actor.is_superuser
        and not Unit.objects.restrict(actor, "accounts.manage").filter(depth=0).exists()
    ):
        raise ValidationError("Chỉ quản trị cấp tỉnh mới sửa được vai trò.")
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        raise ValidationError({"permissions": f"Quyền không tồn tại: {', '.join(unknown)}"})
    before = audit.snapshot(role)
    role.permissions = sorted(set(permissions))
    role.save(update_fields=["permissions", "updated_at"])
    audit.record(role, ChangeAction.UPDATE, user=actor, before=before)
    return role


@transaction.atomic
def issue_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Issue an API token to its owner; the raw value is returned once."""
    token, raw = ApiToken.objects.issue(user=user, name=name)
    audit.record(token, ChangeAction.CREATE, user=user)
    return token, raw


@transaction.atomic
def revoke_token(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (someone else's answers 404)."""
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404
    if token.revoked_at is None:
        before = audit.snapshot(token)
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(token, ChangeAction.UPDATE, user=user, before=before)
    return token
