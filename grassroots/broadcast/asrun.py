"""As-run (proof of play): devices report what they played; reports per bulletin and item."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from grassroots.core.bulk import insert_rows
from grassroots_protocol import messages as wire

from .choices import AsRunStatus
from .models import AsRunEntry, ScheduleItem

ITEM_ID = re.compile(r"^s(\d+)-")
MAX_ENTRIES = 1000


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
                for r in fresh.values()
                if r.id not in owner
            ],
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
