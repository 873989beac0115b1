"""Fixtures of the content tests: bulletins in a given state, written through the actions."""

from __future__ import annotations

import pytest

from grassroots.accounts.models import Role, RoleAssignment, User
from grassroots.content import actions
from grassroots.content.choices import Status
from grassroots.core.testing import unit


def root() -> User:
    user, created = User.objects.get_or_create(
        username="root-test", defaults={"is_superuser": True, "is_staff": True}
    )
    return user


def approver_on(code: str, username: str | None = None) -> User:
    """A user holding the built-in `approver` role on one unit."""
    username = username or f"approver-{code}"
    user, _ = User.objects.get_or_create(username=username)
    RoleAssignment.objects.get_or_create(
        user=user, role=Role.objects.get(slug="approver"), unit=unit(code)
    )
    return user


def make_bulletin(
    code: str,
    *,
    status: str = Status.DRAFT,
    title: str = "Thông báo lịch tiêm phòng",
    body: str = "<p>Tiêm phòng dại cho chó mèo.</p>",
    targets: list[str] | None = None,
    by: User | None = None,
    **data,
):
    """A bulletin owned by unit `code`, moved to `status` by a superuser."""
    actor = by or root()
    bulletin = actions.create(
        user=actor,
        unit=unit(code),
        data={"title": title, "body": body, "targets": targets, **data},
    )
    path = {
        Status.DRAFT: [],
        Status.SUBMITTED: [actions.submit],
        Status.APPROVED: [actions.submit, actions.approve],
        Status.PUBLISHED: [actions.submit, actions.approve, actions.publish],
    }[status]
    for step in path:
        bulletin = step(bulletin=bulletin, user=root())
    bulletin.refresh_from_db()
    return bulletin


@pytest.fixture
def bulletin_factory(demo):
    return make_bulletin
