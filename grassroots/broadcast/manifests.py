"""Signed look-ahead manifests: compile the dirty devices' future, store it, serve it as is.

A change (schedule, bulletin, policy, device) marks the affected devices dirty in its own
transaction; `compile_dirty` (worker, every few seconds) recompiles only those. A station's
timeline is computed once and shared by all its devices; a device whose items did not change
keeps its stored manifest and ETag, so devices do not download the same future twice.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from grassroots.core import signing
from grassroots_protocol import messages as wire

from . import engine
from .choices import ItemKind
from .models import Manifest, ScheduleItem, Station
from .specs import item_spec, playable_items, policies_for

HORIZON = timedelta(hours=72)
# Recompile once less than this much look-ahead is left (the contract promises at least 48 h).
MIN_LOOKAHEAD = timedelta(hours=48)
BATCH = 500


def _iso(moment: datetime) -> str:
    return moment.astimezone(engine.TZ).isoformat()


def _content(item: ScheduleItem) -> dict:
    if item.kind == ItemKind.RELAY:
        if item.relay_type == "fm":
            relay = {"type": "fm", "frequency": float(item.relay_frequency or 0)}
        else:
            relay = {"type": "stream", "url": item.relay_url}
        return {"kind": "relay", "source": "relay", "relay": relay}
    media = []
    for m in item.media:
        ref = {"url": m["url"], "sha256": m["sha256"], "size": int(m.get("size") or 0)}
        if m.get("duration"):
            ref["duration"] = float(m["duration"])
        media.append(ref)
    return {"kind": "media", "source": str(item.kind), "media": media}


def station_items(timeline: engine.Timeline, rows: dict[int, ScheduleItem]) -> list[dict]:
    """Manifest items of a station (volume filled per device), one per on-air segment."""
    out = []
    for seg in timeline.segments:
        item = rows[seg.item.id]
        out.append(
            {
                "id": seg.id,
                "item": item.pk,
                "title": item.title,
                "start": _iso(seg.start),
                "end": _iso(seg.end),
                "priority": str(item.priority),
                "rule": seg.rule,
                **_content(item),
                "volume": item.volume,
            }
        )
    return out


def _device_station_map(devices) -> dict[int, int | None]:
    """{device id: station id}, falling back to the station of the device's commune."""
    missing = [d for d in devices if d.station_id is None]
    by_unit: dict[int, int] = {}
    if missing:
        for s in Station.objects.filter(
            unit_id__in={int(i) for d in missing for i in d.unit.path.strip("/").split("/")}
        ).values("pk", "unit_id"):
            by_unit[s["unit_id"]] = s["pk"]
    out = {}
    for d in devices:
        sid = d.station_id
        if sid is None:
            for uid in reversed([int(i) for i in d.unit.path.strip("/").split("/")]):
                if uid in by_unit:
                    sid = by_unit[uid]
                    break
        out[d.pk] = sid
    return out


def payload_bytes(fields: dict, raw_items: bytes) -> bytes:
    """Canonical JSON of `fields` plus "items" (already canonical), without re-encoding items.

    Equal to `signing.canonical({**fields, "items": items})`; a test pins that.
    """
    parts = []
    for key in sorted([*fields, "items"]):
        value = raw_items if key == "items" else signing.canonical(fields[key])
        parts.append(signing.canonical(key) + b":" + value)
    return b"{" + b",".join(parts) + b"}"


def compile_devices(device_ids, *, now: datetime | None = None, force: bool = False) -> dict:
    """Recompile the manifests of these devices; returns counts (compiled, unchanged)."""
    from grassroots.devices.models import Device

    now = (now or timezone.now()).replace(microsecond=0)
    end = now + HORIZON
    devices = list(
        Device.objects.ip()
        .filter(pk__in=list(device_ids))
        .select_related("unit")
        .only("pk", "station_id", "volume", "unit__code", "unit__path")
        .order_by("pk")
    )
    dmap = _device_station_map(devices)
    station_ids = {s for s in dmap.values() if s}
    stations = {s.pk: s for s in Station.objects.filter(pk__in=station_ids).select_related("unit")}
    links = defaultdict(list)
    for sid, iid in playable_items(station_ids, now, end):
        links[sid].append(iid)
    rows = {
        i.pk: i for i in ScheduleItem.objects.filter(pk__in={i for v in links.values() for i in v})
    }
    specs = {pk: item_spec(i) for pk, i in rows.items()}
    policies = policies_for([s.unit for s in stations.values()])
    per_station: dict[int | None, list[dict]] = {None: []}
    for sid, station in stations.items():
        tl = engine.build([specs[i] for i in links[sid]], policies[station.unit_id], now, end)
        per_station[sid] = station_items(tl, rows)

    existing = {
        m["device_id"]: m
        for m in Manifest.objects.filter(device_id__in=[d.pk for d in devices]).values(
            "device_id", "items_hash", "etag", "valid_until"
        )
    }
    kid = signing.key_id()
    to_save: list[Manifest] = []
    touched: list[Device] = []
    unchanged = 0
    items_cache: dict[tuple[int | None, int], tuple[bytes, str]] = {}
    for d in devices:
        sid = dmap[d.pk]
        key = (sid, d.volume)
        if key not in items_cache:
            items = [
                {**it, "volume": it["volume"] if it["volume"] is not None else d.volume}
                for it in per_station.get(sid, [])
            ]
            # checked against the protocol once per (station, volume): what every device reads
            wire.parse_manifest_items(items)
            raw = signing.canonical(items)
            items_cache[key] = (raw, hashlib.sha256(raw).hexdigest())
        raw_items, digest = items_cache[key]
        digest = hashlib.sha256(f"{digest}:{sid}:{d.volume}".encode()).hexdigest()
        old = existing.get(d.pk)
        if (
            not force
            and old
            and old["items_hash"] == digest
            and old["valid_until"] - now >= MIN_LOOKAHEAD
        ):
            unchanged += 1
            continue
        fields = {
            "type": "manifest",
            "version": wire.PROTOCOL_VERSION,
            "device": str(d.pk),
            "station": sid,
            "unit": d.unit.code,
            "generated_at": _iso(now),
            "valid_until": _iso(end),
            "volume": d.volume,
        }
        wire.Manifest.model_validate({**fields, "items": []})
        body = payload_bytes(fields, raw_items)
        envelope = b"".join(
            (
                b'{"kid":"',
                kid.encode(),
                b'","payload":',
                body,
                b',"sig":"',
                signing.sign_bytes(body).encode(),
                b'"}',
            )
        )
        etag = hashlib.sha256(envelope).hexdigest()[:32]
        to_save.append(
            Manifest(
                device_id=d.pk,
                body=envelope.decode(),
                etag=etag,
                items_hash=digest,
                generated_at=now,
                valid_until=end,
            )
        )
        d.manifest_etag, d.compiled_at = etag, now
        touched.append(d)
    with transaction.atomic():
        for i in range(0, len(to_save), BATCH):
            Manifest.objects.bulk_create(
                to_save[i : i + BATCH],
                update_conflicts=True,
                unique_fields=["device"],
                update_fields=["body", "etag", "items_hash", "generated_at", "valid_until"],
            )
        # One UPDATE per batch copying the new ETag from the stored manifest: far cheaper than
        # bulk_update's CASE per row.
        etag = Subquery(Manifest.objects.filter(device=OuterRef("pk")).values("etag")[:1])
        for i in range(0, len(touched), BATCH):
            Device.objects.filter(pk__in=[d.pk for d in touched[i : i + BATCH]]).update(
                manifest_etag=etag, compiled_at=now
            )
        announce(touched, dmap, stations)
    return {"devices": len(devices), "compiled": len(to_save), "unchanged": unchanged}


def announce(devices, dmap: dict, stations: dict) -> int:
    """Tell devices their manifest changed: one signed `manifest.updated` per commune topic
    (listing the device ids and new ETags), through the outbox in the compile's transaction.
    Unit topics instead of per-device messages keep a full recompile to ~100 publishes."""
    try:
        from grassroots.devices import protocol
    except ImportError:  # no device channel installed: devices poll with ETag
        return 0
    by_unit: dict[str, dict[str, str]] = defaultdict(dict)
    for d in devices:
        station = stations.get(dmap.get(d.pk))
        code = station.unit.code if station else d.unit.code
        by_unit[code][str(d.pk)] = d.manifest_etag
    for code, etags in sorted(by_unit.items()):
        protocol.send_to_units(
            [code],
            protocol.CommandType.MANIFEST_UPDATED,
            {"etags": etags},
            ttl=MIN_LOOKAHEAD,
        )
    return len(by_unit)


def compile_dirty(*, now: datetime | None = None, limit: int = 10_000) -> dict:
    """Recompile every dirty device; the flag is cleared first so a change during the run wins."""
    from grassroots.devices.models import Device

    with transaction.atomic():
        ids = list(Device.objects.filter(manifest_dirty=True).values_list("pk", flat=True)[:limit])
        Device.objects.filter(pk__in=ids).update(manifest_dirty=False)
    if not ids:
        return {"devices": 0, "compiled": 0, "unchanged": 0}
    return compile_devices(ids, now=now)


def mark_expiring(*, now: datetime | None = None) -> int:
    """Devices whose stored look-ahead is about to drop under 48 h (or that have none)."""
    from grassroots.devices.models import Device

    now = now or timezone.now()
    stale = Manifest.objects.filter(valid_until__lt=now + MIN_LOOKAHEAD + timedelta(hours=1))
    qs = Device.objects.ip().filter(manifest_dirty=False)
    n = qs.filter(pk__in=stale.values("device_id")).update(manifest_dirty=True)
    n += qs.filter(manifest__isnull=True).update(manifest_dirty=True)
    return n


def manifest_for(device, *, now: datetime | None = None) -> Manifest:
    """The stored manifest, compiled on the spot if the device has none or it is stale."""
    now = now or timezone.now()
    m = Manifest.objects.filter(device=device).first()
    if m is None or device.manifest_dirty or m.valid_until - now < MIN_LOOKAHEAD:
        type(device).objects.filter(pk=device.pk).update(manifest_dirty=False)
        compile_devices([device.pk], now=now)
        m = Manifest.objects.get(device=device)
    return m


def parse(body: str) -> dict:
    return json.loads(body)
