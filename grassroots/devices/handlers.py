"""Gateway handlers: device `state` and `events` batches into the database, idempotently."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from grassroots.core.gateway import handles

from .models import Device
from .models_fleet import DeviceConnectivity, DeviceEvent, DeviceStatus
from .protocol import device_id_from_topic

log = logging.getLogger("grassroots.devices")


def _parse(batch: list[tuple[str, bytes]]) -> list[tuple[int, dict, bytes]]:
    out = []
    for topic, raw in batch:
        dev = device_id_from_topic(topic)
        try:
            data = json.loads(raw) if raw else {}
            device_id = int(dev or "")
        except (ValueError, TypeError):
            log.warning("dropped unreadable message on %s", topic)
            continue
        if isinstance(data, dict):
            out.append((device_id, data, raw))
    return out


def _known(ids) -> set[int]:
    return set(Device.objects.filter(pk__in=set(ids)).values_list("pk", flat=True))


@handles("state")
def ingest_state(batch: list[tuple[str, bytes]]) -> None:
    """Retained state (the last will sets `online: false`): status row + online history."""
    latest: dict[int, dict] = {}
    for device_id, data, _ in _parse(batch):
        latest[device_id] = data
    known = _known(latest)
    now = timezone.now()
    with transaction.atomic():
        was_online = dict(
            DeviceStatus.objects.filter(device_id__in=known).values_list("device_id", "online")
        )
        rows, history = [], []
        for device_id in known:
            data = latest[device_id]
            online = bool(data.get("online", True))
            if was_online.get(device_id) != online:
                history.append(DeviceConnectivity(device_id=device_id, online=online, at=now))
            rows.append(
                DeviceStatus(
                    device_id=device_id, online=online, last_seen=now, state=data, updated_at=now
                )
            )
        # one INSERT ... ON CONFLICT DO UPDATE for the batch (bulk_update writes a CASE per row)
        DeviceStatus.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["device"],
            update_fields=["online", "state", "last_seen", "updated_at"],
            batch_size=500,
        )
        DeviceConnectivity.objects.bulk_create(history)
        back = [h.device_id for h in history if h.online]
        if back:
            from grassroots.broadcast.emergency import catch_up

            catch_up(back)


def _event_id(data: dict, raw: bytes, device_id: int) -> str:
    given = str(data.get("id") or data.get("event_id") or "")
    if given and len(given) <= 64:
        return given
    return hashlib.sha256(f"{device_id}:".encode() + raw).hexdigest()[:64]


@handles("events")
def ingest_events(batch: list[tuple[str, bytes]]) -> None:
    """Acks, as-run entries, faults and telemetry; a repeated event is stored once."""
    parsed = _parse(batch)
    known = _known(d for d, _, _ in parsed)
    rows, by_type = [], defaultdict(list)
    seen_ids: set[str] = set()
    for device_id, data, raw in parsed:
        if device_id not in known:
            continue
        event_id = _event_id(data, raw, device_id)
        if event_id in seen_ids:
            continue
        seen_ids.add(event_id)
        kind = str(data.get("type", "unknown"))[:30]
        rows.append(DeviceEvent(event_id=event_id, device_id=device_id, type=kind, payload=data))
        by_type[kind].append((device_id, data))
    now = timezone.now()
    with transaction.atomic():
        DeviceEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        DeviceStatus.objects.filter(device_id__in={r.device_id for r in rows}).update(last_seen=now)
        if by_type.get("ack"):
            from grassroots.broadcast.emergency import record_acks

            record_acks(by_type["ack"], at=now)
        if by_type.get("asrun"):
            _record_asrun(by_type["asrun"])


def _record_asrun(items: list[tuple[int, dict]]) -> None:
    from grassroots.broadcast import asrun

    devices = Device.objects.in_bulk({d for d, _ in items})
    asrun.record_many(
        [
            (devices[device_id], data["entries"])
            for device_id, data in items
            if device_id in devices and isinstance(data.get("entries"), list)
        ]
    )
