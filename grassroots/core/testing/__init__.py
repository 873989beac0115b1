"""Shared test helpers: demo data, API calls with tokens, and the endpoint contract base class.

Every API endpoint gets its standard cases by subclassing `EndpointContract`: anonymous 401,
no permission 403, in scope 2xx, out of scope 404, and an audit row for writes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from grassroots.accounts.models import ApiToken, Role, RoleAssignment, User
from grassroots.core.models import ObjectChange
from grassroots.units.models import Unit

PROVINCE = "33"
COMMUNE_A = "11953"  # Phường Phố Hiến: the demo `operator`
COMMUNE_B = "11977"  # Xã Tân Hưng: the demo `operator2`


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code, valid_to__isnull=True)


def token_for(user: User) -> str:
    return ApiToken.objects.issue(user=user, name="test")[1]


def device_token(device, *, by: str = "admin") -> str:
    """Authorise and enrol a device as the agent does; returns its `gd_` bearer token."""
    from grassroots.devices import provisioning

    _cred, code = provisioning.authorise(user=User.objects.get(username=by), device=device)
    return provisioning.enrol(code=code)["token"]


def make_user(username: str, *, permissions: list[str], unit_code: str) -> User:
    """A user holding a one-off role with exactly these permissions on a unit."""
    user = User.objects.create_user(username=username, password="test-pass-123!")
    role = Role.objects.create(slug=f"r-{username}", name=username, permissions=permissions)
    RoleAssignment.objects.create(user=user, role=role, unit=unit(unit_code))
    return user


def call(client, method: str, url: str, *, user: User | None = None, body: Any = None, **extra):
    """Call the API as `user` (bearer token) or anonymously; JSON body if given."""
    headers = dict(extra)
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token_for(user)}"
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return client.generic(method.upper(), url, **kwargs, **headers)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.mark.django_db
class EndpointContract:
    """Subclass, set the class attributes and the two URL builders; five tests come for free.

    `actor` (a demo username) must hold `permission` on COMMUNE_A; `in_scope_url` names an object
    inside COMMUNE_A and `out_of_scope_url` one in COMMUNE_B.
    """

    method = "get"
    permission: str = ""
    actor = "operator"
    success = 200
    audited = False

    def in_scope_url(self) -> str:
        raise NotImplementedError

    def out_of_scope_url(self) -> str:
        raise NotImplementedError

    def body(self) -> Any:
        return None

    def out_of_scope_body(self) -> Any:
        return self.body()

    def _actor(self) -> User:
        return User.objects.get(username=self.actor)

    def test_anonymous_401(self, client, demo):
        assert_problem(call(client, self.method, self.in_scope_url(), body=self.body()), 401)

    def test_without_permission_403(self, client, demo):
        others = [p for p in ("units.view", "content.view") if p != self.permission]
        user = make_user("noperm", permissions=others[:1], unit_code=COMMUNE_A)
        url = self.in_scope_url()
        assert_problem(call(client, self.method, url, user=user, body=self.body()), 403)

    def test_in_scope_ok(self, client, demo):
        url = self.in_scope_url()
        before = ObjectChange.objects.count()
        response = call(client, self.method, url, user=self._actor(), body=self.body())
        assert response.status_code == self.success, response.content[:500]
        if self.audited:
            assert ObjectChange.objects.count() > before, "a write must leave an audit row"

    def test_out_of_scope_404(self, client, demo):
        url = self.out_of_scope_url()
        body = self.out_of_scope_body()
        assert_problem(call(client, self.method, url, user=self._actor(), body=body), 404)
