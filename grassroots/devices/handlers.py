"""Gateway handlers: device `state` and `events` batches into the database, idempotently."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from grassroots.core.bulk import insert_rows, json_text
from grassroots.core.gateway import handles
from grassroots.core.text import clean_data
from grassroots_protocol import messages as wire

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
            clean = clean_data(data)
            # The raw bytes are stored as the JSON column unless cleaning changed the message.
            out.append((device_id, clean, raw if clean == data else json.dumps(clean).encode()))
    return out


class KnownDevices:
    """Which ids are registered devices. Ids found in the last `ttl` seconds are not looked up
    again (every batch asked for all of them); a device deleted meanwhile makes its batch fail
    on the foreign key, and the gateway then stores that batch message by message
    (core.gateway.store)."""

    ttl = 60.0

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.since = 0.0

    def forget(self) -> None:
        self.ids.clear()
        self.since = time.monotonic()

    def __call__(self, ids) -> set[int]:
        if time.monotonic() - self.since > self.ttl:
            self.forget()
        ids = set(ids)
        missing = ids - self.ids
        if missing:
            self.ids.update(Device.objects.filter(pk__in=missing).values_list("pk", flat=True))
        return ids & self.ids


_known = KnownDevices()


@handles("state")
def ingest_state(batch: list[tuple[str, bytes]]) -> None:
    """Retained state (the last will sets `online: false`): status row + online history.

    Each report is checked against the protocol (`grassroots_protocol.State`); one that does not
    follow it is logged with the field it got wrong and not stored.
    """
    latest: dict[int, tuple[wire.State, bytes, dict]] = {}
    for device_id, data, raw in _parse(batch):
        try:
            latest[device_id] = (wire.parse_state(data), raw, data)
        except wire.ProtocolError as exc:
            log.warning("device %s sent a state that breaks the protocol: %s", device_id, exc)
    known = _known(latest)
    now = timezone.now()
    with transaction.atomic():
        was_online = dict(
            DeviceStatus.objects.filter(device_id__in=known).values_list("device_id", "online")
        )
        rows, history = [], []
        for device_id in known:
            state, raw, data = latest[device_id]
            online = state.online
            if was_online.get(device_id) != online:
                history.append(DeviceConnectivity(device_id=device_id, online=online, at=now))
            rows.append((device_id, online, now, json_text(data, raw), now))
        # one INSERT ... ON CONFLICT DO UPDATE for the batch
        insert_rows(
            DeviceStatus,
            ["device", "online", "last_seen", "state", "updated_at"],
            rows,
            conflict=["device"],
            update=["online", "state", "last_seen", "updated_at"],
        )
        DeviceConnectivity.objects.bulk_create(history)
        back = [h.device_id for h in history if h.online]
        if back:
            from grassroots.alerts.actions import catch_up
            from grassroots.live import actions as live

            catch_up(back)
            live.catch_up(back)


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
    now = timezone.now()
    for device_id, data, raw in parsed:
        if device_id not in known:
            continue
        event_id = _event_id(data, raw, device_id)
        if event_id in seen_ids:
            continue
        seen_ids.add(event_id)
        try:
            event = wire.parse_event(data)
        except wire.ProtocolError as exc:
            # kept (nothing received is dropped) as a `protocol` fault naming the field
            log.warning("device %s sent an event that breaks the protocol: %s", device_id, exc)
            bad = {"type": "fault", "code": "protocol", "detail": str(exc), "message": data}
            rows.append((event_id, device_id, "fault", json_text(bad, None), now))
            continue
        rows.append((event_id, device_id, event.type, json_text(data, raw), now))
        by_type[event.type].append((device_id, event))
    with transaction.atomic():
        insert_rows(
            DeviceEvent,
            ["event_id", "device", "type", "payload", "received_at"],
            rows,
            conflict=["event_id"],
        )
        DeviceStatus.objects.filter(device_id__in={r[1] for r in rows}).update(last_seen=now)
        if by_type.get("ack"):
            from grassroots.alerts.actions import record_acks

            record_acks(by_type["ack"], at=now)
        if by_type.get("asrun"):
            _record_asrun(by_type["asrun"])


def _record_asrun(items: list[tuple[int, wire.AsRunEvent]]) -> None:
    from grassroots.broadcast import asrun

    devices = Device.objects.in_bulk({d for d, _ in items})
    asrun.record_many(
        [(devices[device_id], event.entries) for device_id, event in items if device_id in devices]
    )
