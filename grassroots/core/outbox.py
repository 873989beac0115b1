"""Enqueue MQTT messages inside the caller's transaction (the transactional outbox)."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from .models import OutboxMessage


def enqueue(topic: str, payload: Any, *, qos: int = 1, retain: bool = False) -> OutboxMessage:
    """Store a message for the gateway; it is published only if the transaction commits."""
    if not isinstance(payload, str | bytes):
        payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if isinstance(payload, bytes):
        payload = payload.decode()
    return OutboxMessage.objects.create(topic=topic, payload=payload, qos=qos, retain=retain)


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
    return len(rows)
