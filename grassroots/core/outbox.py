"""Enqueue MQTT messages inside the caller's transaction (the transactional outbox).

After the commit, a one-byte datagram on a Unix socket in GRASSROOTS_HOME (`wake_path()`) tells
a gateway on the same host to publish now instead of at its next poll. The datagram is only a
hint: a gateway elsewhere, or one that is restarting, still finds the rows by polling.
"""

from __future__ import annotations

import contextlib
import json
import socket
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from .models import OutboxMessage


def enqueue(topic: str, payload: Any, *, qos: int = 1, retain: bool = False) -> OutboxMessage:
    """Store a message for the gateway; it is published only if the transaction commits."""
    if not isinstance(payload, str | bytes):
        payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if isinstance(payload, bytes):
        payload = payload.decode()
    row = OutboxMessage.objects.create(topic=topic, payload=payload, qos=qos, retain=retain)
    _nudge_after_commit()
    return row


def enqueue_many(messages: list[tuple[str, Any]], *, qos: int = 1) -> int:
    rows = [
        OutboxMessage(
            topic=topic,
            payload=p
            if isinstance(p, str)
            else json.dumps(p, ensure_ascii=False, separators=(",", ":")),
            qos=qos,
        )
        for topic, p in messages
    ]
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(rows, batch_size=500)
        _nudge_after_commit()
    return len(rows)


def wake_path() -> Path:
    """The gateway's wake-up socket (a Unix datagram socket the gateway binds)."""
    return Path(settings.GRASSROOTS["HOME"]) / "run" / "gateway.wake"


_sender: socket.socket | None = None


def _nudge_after_commit() -> None:
    """One nudge per transaction, however many rows it enqueues (a re-send writes one per
    device). A callback of a savepoint that rolls back is dropped with it, so a later enqueue
    in the outer transaction registers its own."""
    pending = transaction.get_connection().run_on_commit
    if not any(entry[1] is nudge_gateway for entry in pending):
        transaction.on_commit(nudge_gateway)


def nudge_gateway() -> None:
    """Best effort, never blocks or raises: no gateway listening costs nothing."""
    global _sender
    with contextlib.suppress(OSError):
        if _sender is None:
            _sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            _sender.setblocking(False)
        _sender.sendto(b"!", str(wake_path()))
