"""As-run (proof of play): devices report what they played; reports per bulletin and item."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from grassroots.core.bulk import insert_rows
from grassroots_protocol import messages as wire

from .choices import AsRunStatus
from .models import AsRunEntry, ScheduleItem, Station

ITEM_ID = re.compile(r"^s(\d+)-")
MAX_ENTRIES = 1000

# Sent inside the transaction that stored new entries (not repeats), with
# `entries=[(unit id, item id or None, started_at)]`: the KPI rollups re-open those days.
recorded = Signal()


@dataclass
class Rejected:
    id: str
    message: str


def record(*, device, entries: list) -> tuple[list[str], list[Rejected]]:
    """Store a device's journal entries; an id already stored for this device is accepted again.

    The permission check is the caller's (device credentials, or a user token in scope).
    """
    return record_many([(device, entries)])[device.pk]


def _entry(device, raw) -> AsRunEntry | Rejected:
    """One journal entry checked against the protocol (`grassroots_protocol.AsRunEntry`) and
    turned into a row, or the reason it is refused (naming the field, in Vietnamese)."""
    if isinstance(raw, wire.AsRunEntry):
        entry = raw
    else:
        try:
            entry = wire.parse_asrun_entry(raw if isinstance(raw, dict) else {})
        except wire.ProtocolError as exc:
            entry_id = str(raw.get("id")) if isinstance(raw, dict) else ""
            return Rejected(
                entry_id, f"Mục nhật ký sai định dạng ở trường '{exc.field}': {exc.detail}"
            )
    return AsRunEntry(
        id=uuid.UUID(entry.id),
        device=device,
        station_id=device.station_id,
        manifest_item=entry.item[:100],
        kind=entry.kind,
        scheduled_start=entry.scheduled_start,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        status=entry.status,
        cut_by=(entry.cut_by or "")[:100],
        reason=(entry.reason or "")[:200],
    )


def _item_pk(ref: str) -> int | None:
    match = ITEM_ID.match(ref)
    if match:
        return int(match.group(1))
    return int(ref) if ref.isdigit() else None


def record_many(batches) -> dict[int, tuple[list[str], list[Rejected]]]:
    """`record` for many devices at once (the gateway's batches): a fixed number of queries.

    `batches` is a list of (device, entries); the answer maps each device's pk to its
    (accepted ids, rejected entries).
    """
    out: dict[int, tuple[list[str], list[Rejected]]] = {}
    rows: list[AsRunEntry] = []
    for device, entries in batches:
        accepted, rejected = out.setdefault(device.pk, ([], []))
        for raw in entries[:MAX_ENTRIES]:
            checked = _entry(device, raw)
            if isinstance(checked, Rejected):
                rejected.append(checked)
            else:
                rows.append(checked)
    item_pks = {r.manifest_item: _item_pk(r.manifest_item) for r in rows}
    known = set(
        ScheduleItem.objects.filter(pk__in={pk for pk in item_pks.values() if pk}).values_list(
            "pk", flat=True
        )
    )
    for row in rows:
        pk = item_pks.get(row.manifest_item)
        row.item_id = pk if pk in known else None
    # an id already stored for another device is refused; for the same device it is a repeat
    owner = dict(
        AsRunEntry.objects.filter(pk__in=[r.id for r in rows]).values_list("pk", "device_id")
    )
    fresh: dict[uuid.UUID, AsRunEntry] = {}
    for r in rows:
        accepted, rejected = out[r.device_id]
        if owner.get(r.id, r.device_id) != r.device_id or (
            r.id in fresh and fresh[r.id].device_id != r.device_id
        ):
            rejected.append(Rejected(str(r.id), "Mã nhật ký này đã thuộc thiết bị khác."))
            continue
        fresh.setdefault(r.id, r)
        accepted.append(str(r.id))
    now = timezone.now()
    new = [r for r in fresh.values() if r.id not in owner]
    units = {device.pk: device.unit_id for device, _entries in batches}
    with transaction.atomic():
        insert_rows(
            AsRunEntry,
            ASRUN_COLUMNS,
            [
                (
                    r.id,
                    r.device_id,
                    r.station_id,
                    r.item_id,
                    r.manifest_item,
                    r.kind,
                    r.scheduled_start,
                    r.started_at,
                    r.ended_at,
                    r.status,
                    r.cut_by,
                    r.reason,
                    now,
                )
                for r in new
            ],
        )
        if new:
            recorded.send(
                sender=AsRunEntry,
                entries=[(units[r.device_id], r.item_id, r.started_at) for r in new],
            )
    return out


ASRUN_COLUMNS = [
    "id",
    "device",
    "station",
    "item",
    "manifest_item",
    "kind",
    "scheduled_start",
    "started_at",
    "ended_at",
    "status",
    "cut_by",
    "reason",
    "received_at",
]


# How long after a segment ends its as-run entry may still be on its way (agents send an entry
# when it closes, and upload what they hold when they come back online).
LATE_GRACE = timedelta(minutes=2)
AIRED = (AsRunStatus.PLAYED, AsRunStatus.CUT)


@dataclass
class DeviceResult:
    """What one device did with one segment: `aired`, `failed` (with a reason), `missed` (the
    segment is over and nothing came back), `pending` (not over yet)."""

    device_id: int
    name: str
    state: str
    started_at: datetime | None = None
    lateness: float | None = None
    reason: str = ""

    @property
    def label(self) -> str:
        from grassroots.devices import faults

        if self.state == "aired":
            return str(_("đã phát"))
        if self.state == "failed":
            return str(_("lỗi: %(why)s") % {"why": faults.label(self.reason) or self.reason})
        if self.state == "missed":
            return str(_("chưa phát"))
        return ""


def station_devices(station):
    """The loudspeaker clusters that play a station: attached to it, or under its commune with
    no station of their own (as the manifest compiler falls back)."""
    from grassroots.devices.models import Device

    return Device.objects.ip().filter(
        Q(station=station) | Q(station__isnull=True, unit__path__startswith=station.unit.path)
    )


def segment_results(station, segments, *, now: datetime | None = None) -> dict[str, list]:
    """{segment id: [DeviceResult per device]} for a station's timeline segments: the as-run
    loop closed in one query (an entry's `manifest_item` is the segment's id)."""
    now = now or timezone.now()
    devices = list(station_devices(station).order_by("name").values_list("pk", "name"))
    ids = [seg.id for seg in segments]
    best: dict[tuple[str, int], AsRunEntry] = {}
    rank = {AsRunStatus.PLAYED: 3, AsRunStatus.CUT: 2, AsRunStatus.FAILED: 1}
    for e in AsRunEntry.objects.filter(
        device_id__in=[pk for pk, _name in devices], manifest_item__in=ids
    ).only("manifest_item", "device_id", "status", "started_at", "scheduled_start", "reason"):
        key = (e.manifest_item, e.device_id)
        if key not in best or rank.get(e.status, 0) > rank.get(best[key].status, 0):
            best[key] = e
    out: dict[str, list] = {}
    for seg in segments:
        rows = []
        for device_id, name in devices:
            e = best.get((seg.id, device_id))
            if e is not None and e.status in AIRED:
                late = (e.started_at - (e.scheduled_start or seg.start)).total_seconds()
                rows.append(DeviceResult(device_id, name, "aired", e.started_at, late))
            elif e is not None:
                rows.append(DeviceResult(device_id, name, "failed", e.started_at, reason=e.reason))
            elif seg.end + LATE_GRACE < now:
                rows.append(DeviceResult(device_id, name, "missed"))
            else:
                rows.append(DeviceResult(device_id, name, "pending"))
        out[seg.id] = rows
    return out


def report(entries, *, items=None) -> list[dict]:
    """Per commune: when it aired (first, last), how many plays and how many clusters."""
    qs = entries.filter(status__in=[AsRunStatus.PLAYED, AsRunStatus.CUT])
    if items is not None:
        qs = qs.filter(item__in=items)
    rows = (
        qs.values("station_id", "station__unit__code", "station__unit__name")
        .annotate(
            first=Min("started_at"),
            last=Max("started_at"),
            plays=Count("id"),
            clusters=Count("device", distinct=True),
        )
        .order_by("station__unit__name")
    )
    return [
        {
            "station": r["station_id"],
            "unit_code": r["station__unit__code"],
            "unit_name": r["station__unit__name"],
            "first_aired": r["first"],
            "last_aired": r["last"],
            "plays": r["plays"],
            "clusters": r["clusters"],
        }
        for r in rows
    ]


def airplay(entries, items, *, now: datetime | None = None) -> list[dict]:
    """Per commune whose station carries these items: `aired` (with first/last time, plays,
    clusters), `failed` (every entry failed: the last reason in Vietnamese), `missed` (an
    occurrence is over and nothing came back) or `scheduled` (nothing due yet)."""
    from grassroots.devices import faults

    now = now or timezone.now()
    aired = {r["station"]: r for r in report(entries, items=items)}
    failures: dict[int, str] = {}
    for station_id, reason in (
        entries.filter(item__in=items, status=AsRunStatus.FAILED)
        .order_by("started_at")
        .values_list("station_id", "reason")
    ):
        failures[station_id] = reason
    due = {
        sid
        for sid, start in items.values_list("stations", "starts_at")
        if sid and start + LATE_GRACE < now
    }
    stations = (
        Station.objects.filter(items__in=items)
        .distinct()
        .select_related("unit")
        .order_by("unit__name")
    )
    rows = []
    for st in stations:
        if st.pk in aired:
            rows.append({**aired[st.pk], "state": "aired", "label": str(_("đã phát"))})
            continue
        row = {
            "station": st.pk,
            "unit_code": st.unit.code,
            "unit_name": st.unit.name,
            "first_aired": None,
            "last_aired": None,
            "plays": 0,
            "clusters": 0,
        }
        if st.pk in failures:
            why = faults.label(failures[st.pk]) or failures[st.pk]
            row |= {"state": "failed", "label": str(_("lỗi: %(why)s") % {"why": why})}
        elif st.pk in due:
            row |= {"state": "missed", "label": str(_("chưa phát"))}
        else:
            row |= {"state": "scheduled", "label": str(_("đã xếp lịch, chưa đến giờ"))}
        rows.append(row)
    # communes that aired it without the item being on their station's list (e.g. moved)
    listed = {r["station"] for r in rows}
    rows += [
        {**r, "state": "aired", "label": str(_("đã phát"))}
        for sid, r in aired.items()
        if sid not in listed
    ]
    return rows


def items_of_bulletin(bulletin_id: int):
    """Schedule items airing any revision of a bulletin (directly or in a playlist)."""
    from django.apps import apps

    revision = apps.get_model("content", "BulletinRevision")
    revs = list(revision.objects.filter(bulletin_id=bulletin_id).values_list("pk", flat=True))
    direct = ScheduleItem.objects.filter(revision_id__in=revs)
    in_playlist = [
        pk
        for pk, playlist in ScheduleItem.objects.exclude(playlist=[]).values_list("pk", "playlist")
        if set(playlist or []) & set(revs)
    ]
    return ScheduleItem.objects.filter(pk__in=[*direct.values_list("pk", flat=True), *in_playlist])
