"""Who may publish and subscribe to what on the broker: ONE rule table for every broker.

The Mosquitto password/ACL files the platform writes (`core.broker.write_auth`) and the EMQX HTTP
hooks (`devices.hooks`) both come from `RULES`, so the two brokers cannot drift apart.

Client kinds: `server` (the gateway and the platform's own tools), `device` (a loudspeaker
controller, login `dev-<id>`), `board` (an e-board over WebSockets, login `board-<device id>`).
A client without a known login (anonymous) may do nothing.

Shared subscriptions: Mosquitto's `acl_file` checks a message against the reader's ACL only when
it delivers it, never at SUBSCRIBE. A device that joins the gateway's `$share/<group>/...` group
takes its turn in the round robin and the ACL then drops the message: the gateway never gets it.
So the gateway's group name is not a public constant but derived from the server's own broker
password (`share_group`): a device cannot name it, and any `$share/...` group it makes up gets
its own copy, which its ACL drops. EMQX asks the hook at SUBSCRIBE and is refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

ROOT = "grassroots/v1"
SERVER, DEVICE, BOARD, ANONYMOUS = "server", "device", "board", "anonymous"
Action = Literal["publish", "subscribe"]


@dataclass(frozen=True)
class Rule:
    """`kind` may `action` on the topic filter `pattern` (`{id}`, `{unit}`, `{group}` filled in)."""

    kind: str
    action: Action
    pattern: str


RULES: tuple[Rule, ...] = (
    # The server publishes commands and reads every report; `#` does not reach `$SYS/...` or
    # `$share/...` (MQTT: a leading wildcard never matches a `$` topic), so those are named.
    Rule(SERVER, "publish", "#"),
    Rule(SERVER, "subscribe", "#"),
    Rule(SERVER, "subscribe", "$SYS/#"),
    Rule(SERVER, "subscribe", "$share/{group}/#"),
    # A device reads its own and its units' (own unit and each ancestor) command topics and
    # writes only its own state and events.
    Rule(DEVICE, "subscribe", ROOT + "/dev/{id}/cmd"),
    Rule(DEVICE, "subscribe", ROOT + "/unit/{unit}/cmd"),
    Rule(DEVICE, "publish", ROOT + "/dev/{id}/state"),
    Rule(DEVICE, "publish", ROOT + "/dev/{id}/events"),
    # An e-board is a device of kind `board` with the same rights on its device id's topics.
    Rule(BOARD, "subscribe", ROOT + "/dev/{id}/cmd"),
    Rule(BOARD, "subscribe", ROOT + "/unit/{unit}/cmd"),
    Rule(BOARD, "publish", ROOT + "/dev/{id}/state"),
    Rule(BOARD, "publish", ROOT + "/dev/{id}/events"),
)


def share_group(server_password: str | None) -> str:
    """The gateway's shared-subscription group: unguessable without the server's password.

    Every gateway instance logs in with the same server password, so they all land in one group.
    A broker without logins (a developer's anonymous Mosquitto) gets the plain name.
    """
    if not server_password:
        return "grassroots"
    digest = hmac.new(server_password.encode(), b"grassroots-share-group", hashlib.sha256)
    return "grassroots-" + digest.hexdigest()[:20]


def filters(
    kind: str,
    action: Action,
    *,
    device_id: int | str | None = None,
    units: list[str] | tuple[str, ...] = (),
    group: str = "",
) -> list[str]:
    """The concrete topic filters `RULES` give one client for one action."""
    out: list[str] = []
    for rule in RULES:
        if rule.kind != kind or rule.action != action:
            continue
        if "{group}" in rule.pattern and not group:
            continue
        if "{unit}" in rule.pattern:
            out += [rule.pattern.format(id=device_id, unit=u, group=group) for u in units]
        else:
            out.append(rule.pattern.format(id=device_id, group=group))
    return out


def _is_valid_filter(topic: str) -> bool:
    if not topic or "\x00" in topic:
        return False
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def covers(allowed: str, requested: str) -> bool:
    """Whether every topic the filter `requested` can match is matched by `allowed`.

    For a plain topic (a publish) this is ordinary MQTT matching; for a subscription it keeps a
    client from widening its rights with `+` or `#`.
    """
    if not (_is_valid_filter(allowed) and _is_valid_filter(requested)):
        return False
    want, have = requested.split("/"), allowed.split("/")
    # MQTT 4.7.2: a filter starting with a wildcard does not match topics starting with `$`.
    if want[0].startswith("$") and have[0] in ("+", "#"):
        return False
    for i, level in enumerate(have):
        if level == "#":
            return True
        if i >= len(want):
            return False
        if want[i] == "#":
            return False
        if level == "+":
            continue
        if want[i] != level:
            return False
    return len(want) == len(have)


def allows(read: list[str], write: list[str], action: str, topic: str) -> bool:
    """The decision for one client (its `read`/`write` filters from `filters`)."""
    if action == "publish":
        if not _is_valid_filter(topic) or "+" in topic or "#" in topic:
            return False
        if topic.startswith("$"):  # $SYS and $share are not publishable topics
            return False
        return any(covers(f, topic) for f in write)
    if action == "subscribe":
        return any(covers(f, topic) for f in read)
    return False
