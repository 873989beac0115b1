"""Helpers of the e-board tests: approved bulletins through the real workflow, paired boards."""

from __future__ import annotations

import json

from grassroots.accounts.models import User
from grassroots.content import actions as content
from grassroots.core.testing import unit
from grassroots.signage import actions


def user(name: str) -> User:
    return User.objects.get(username=name)


def approved_bulletin(unit_code: str, title: str, body: str = "", *, author="operator", **data):
    """A bulletin written in a unit, submitted and approved by the provincial approver."""
    bulletin = content.create(
        user=user(author), unit=unit(unit_code), data={"title": title, "body": body, **data}
    )
    content.submit(bulletin=bulletin, user=user(author))
    return content.approve(bulletin=bulletin, user=user("approver"))


def paired_board(unit_code: str, *, operator: str = "operator", name: str = "") -> dict:
    """Pair a new board in the unit through start → approve → claim; returns the credential."""
    pairing, secret = actions.start_pairing(client_ip="127.0.0.1")
    device = actions.approve_pairing(
        user=user(operator), code=pairing.code, unit=unit(unit_code), name=name
    )
    cred = actions.claim_pairing(code=pairing.code, secret=secret)
    assert cred["device"] == device.pk
    return cred


def board_get(client, cred: dict, path: str, **headers):
    return client.get(
        f"/api/v1/boards/{cred['device']}{path}",
        HTTP_AUTHORIZATION=f"Bearer {cred['token']}",
        **headers,
    )


def board_post(client, cred: dict, path: str, body, **extra):
    return client.post(
        f"/api/v1/boards/{cred['device']}{path}",
        data=json.dumps(body) if not isinstance(body, bytes) else body,
        content_type=extra.pop("content_type", "application/json"),
        HTTP_AUTHORIZATION=f"Bearer {cred['token']}",
        **extra,
    )


def manifest_payload(client, cred: dict) -> dict:
    response = board_get(client, cred, "/manifest")
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content)["payload"]
