"""Who may see and handle a report."""

from __future__ import annotations

from django.http import Http404

from grassroots.accounts.models import RoleAssignment, User
from grassroots.accounts.policies import require

from .models import Report

VIEW = "feedback.view"
HANDLE = "feedback.handle"


def visible_report(user, pk: int, action: str = VIEW) -> Report:
    """The report if the user may `action` it; 403 without the permission, 404 outside scope."""
    require(user, action)
    report = (
        Report.objects.restrict(user, action)
        .select_related("category", "unit", "origin_unit", "assignee", "merged_into")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404
    return report


def check_handle(user, report: Report) -> None:
    """403 without feedback.handle anywhere, 404 when this report is outside scope."""
    require(user, HANDLE)
    if not Report.objects.restrict(user, HANDLE).filter(pk=report.pk).exists():
        raise Http404


def handlers_of(unit) -> list[User]:
    """Active users holding feedback.handle on this unit (directly or through an ancestor)."""
    ancestor_ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    rows = RoleAssignment.objects.filter(unit_id__in=ancestor_ids, user__is_active=True)
    users = {}
    for a in rows.select_related("user", "role"):
        if HANDLE in (a.role.permissions or []):
            users[a.user_id] = a.user
    return list(users.values())


CONFIGURE_DENIED = (
    "Chỉ cán bộ xử lý phản ánh cấp tỉnh mới được sửa lĩnh vực phản ánh và lịch ngày nghỉ lễ "
    "(hai thứ này áp dụng cho cả tỉnh)."
)


def may_configure(user) -> bool:
    """Whether the user may edit province-wide feedback settings (categories, holidays).

    They bind every commune (deadlines are counted from them), so the right is
    `feedback.handle` held on the province itself (a unit at depth 0), not on one commune.
    """
    from grassroots.accounts.scope import covers
    from grassroots.units.models import Unit

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return any(covers(user, HANDLE, u) for u in Unit.objects.current().filter(depth=0))


def require_configure(user) -> None:
    """403 (PermissionDenied, Vietnamese reason) unless `may_configure(user)`."""
    from django.core.exceptions import PermissionDenied

    if not may_configure(user):
        raise PermissionDenied(CONFIGURE_DENIED)
