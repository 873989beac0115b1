"""HTTP authentication/authorisation hooks for an EMQX cluster (same rules as the Mosquitto ACL).

EMQX 5: configure an HTTP authenticator `POST {server}/api/v1/mqtt/auth` with body
`{"username": "${username}", "password": "${password}"}` and an HTTP authorizer
`POST {server}/api/v1/mqtt/acl` with `{"username": "${username}", "topic": "${topic}",
"action": "${action}"}`, both sending the header `X-Grassroots-Hook-Secret`. See docs/devices.md.
"""

from __future__ import annotations

import hmac
import os
from typing import Literal

from ninja import Router, Schema

from grassroots.core import broker
from grassroots.core.errors import Problem

router = Router(tags=["mqtt hooks"])
PREFIX = "/mqtt"


class AuthRequest(Schema):
    username: str
    password: str = ""


class AclRequest(Schema):
    username: str
    topic: str
    action: Literal["publish", "subscribe"]


class HookResult(Schema):
    result: Literal["allow", "deny"]
    is_superuser: bool = False


def _check_secret(request) -> None:
    secret = os.environ.get("GRASSROOTS_MQTT_HOOK_SECRET", "")
    given = request.headers.get("X-Grassroots-Hook-Secret", "")
    if not secret or not hmac.compare_digest(secret, given):
        raise Problem(403, "Thiếu hoặc sai khoá của hook MQTT (X-Grassroots-Hook-Secret).")


def _accounts() -> dict[str, broker.Account]:
    from django.conf import settings

    return {a.username: a for a in broker.collect_accounts(settings.GRASSROOTS["HOME"])}


@router.post("/auth", auth=None, response=HookResult, summary="EMQX: xác thực đăng nhập MQTT")
def mqtt_auth(request, data: AuthRequest):
    _check_secret(request)
    account = _accounts().get(data.username)
    ok = account is not None and broker.check_password(data.password, account.password_hash)
    # Never a superuser: EMQX would then skip the ACL hook, and the server's rights are rows of
    # the same rule table as everyone else's (core.mqtt_acl).
    return {"result": "allow" if ok else "deny", "is_superuser": False}


@router.post("/acl", auth=None, response=HookResult, summary="EMQX: quyền trên chủ đề MQTT")
def mqtt_acl(request, data: AclRequest):
    _check_secret(request)
    account = _accounts().get(data.username)
    if account is None:
        return {"result": "deny"}
    return {"result": "allow" if account.allows(data.action, data.topic) else "deny"}
