"""The device protocol (architecture.md, "Device protocol"): topics and signed command envelopes.

Every command is `{"payload": {...}, "sig", "kid"}`; the payload carries `type`, `target`,
`seq` (monotonic per signing key), `issued_at`, `not_before`, `expires_at` and the command's own
fields. Commands leave through the transactional outbox, so they commit with the change that
caused them and are published by the gateway at least once.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db import models
from django.utils import timezone

from grassroots.core import outbox, signing
from grassroots.core.models import OutboxMessage, Sequence
from grassroots_protocol import messages as wire
from grassroots_protocol.topics import (  # noqa: F401 (the topics are part of this module's API)
    ROOT,
    device_cmd_topic,
    device_id_from_topic,
    events_topic,
    state_topic,
    unit_cmd_topic,
)


class CommandType(models.TextChoices):
    MANIFEST_UPDATED = "manifest.updated"
    PLAY_NOW = "play.now"
    LIVE_START = "live.start"
    LIVE_STOP = "live.stop"
    STOP = "stop"
    VOLUME_SET = "volume.set"
    POWER_SET = "power.set"
    RESYNC = "resync"
    CONFIG_UPDATED = "config.updated"
    ASRUN_ACK = "asrun.ack"
    SCREENSHOT = "screenshot"


def _iso(moment: datetime.datetime) -> str:
    return wire.format_time(moment.replace(microsecond=(moment.microsecond // 1000) * 1000))


def build(
    command_type: str,
    target: dict[str, Any],
    body: dict[str, Any] | None = None,
    *,
    ttl: datetime.timedelta = datetime.timedelta(minutes=10),
    not_before: datetime.datetime | None = None,
    seq: int | None = None,
    command_id: str | None = None,
) -> dict[str, Any]:
    """A signed command envelope; `target` is {"device": id} or {"units": [codes]}.

    The payload is checked against the protocol before it is signed: a command the devices could
    not read raises `grassroots_protocol.ProtocolError` here, in the server, not on the device.
    """
    now = timezone.now()
    start = not_before or now
    payload = {
        **(body or {}),
        "id": command_id or uuid.uuid4().hex,
        "type": str(command_type),
        "target": target,
        "seq": seq if seq is not None else Sequence.next(f"cmd-seq:{signing.key_id()}"),
        "issued_at": _iso(now),
        "not_before": _iso(start),
        "expires_at": _iso(start + ttl),
    }
    wire.parse_command(payload)
    return signing.sign(payload)


def send_to_device(
    device_id: int, command_type: str, body: dict | None = None, **kwargs
) -> tuple[dict, OutboxMessage]:
    """Sign a command for one device and put it in the outbox (inside the caller's transaction)."""
    envelope = build(command_type, {"device": str(device_id)}, body, **kwargs)
    return envelope, outbox.enqueue(device_cmd_topic(device_id), envelope, qos=1)


def send_to_units(
    unit_codes: list[str], command_type: str, body: dict | None = None, **kwargs
) -> tuple[dict, list[OutboxMessage]]:
    """One signed command published once per unit topic (every device under them receives it)."""
    codes = sorted(set(unit_codes))
    envelope = build(command_type, {"units": codes}, body, **kwargs)
    return envelope, [outbox.enqueue(unit_cmd_topic(c), envelope, qos=1) for c in codes]
