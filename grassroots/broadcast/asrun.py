"""As-run (proof of play): devices report what they played; reports per bulletin and item."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Max, Min

from .choices import AsRunStatus
from .models import AsRunEntry, ScheduleItem

ITEM_ID = re.compile(r"^s(\d+)-")
MAX_ENTRIES = 1000


@dataclass
class Rejected:
    id: str
    message: str


def _parse_time(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def record(*, device, entries: list[dict]) -> tuple[list[str], list[Rejected]]:
    """Store a device's journal entries; an id already stored for this device is accepted again.

    The permission check is the caller's (device credentials, or a user token in scope).
    """
    accepted: list[str] = []
    rejected: list[Rejected] = []
    rows: list[AsRunEntry] = []
    item_pks: dict[str, int] = {}
    for raw in entries[:MAX_ENTRIES]:
        try:
            entry_id = uuid.UUID(str(raw.get("id")))
        except ValueError:
            rejected.append(Rejected(str(raw.get("id")), "'id' phải là UUID."))
            continue
        try:
            started = _parse_time(raw.get("started_at"))
            ended = _parse_time(raw.get("ended_at"))
        except ValueError:
            rejected.append(Rejected(str(entry_id), "Thời gian phải theo ISO 8601 có múi giờ."))
            continue
        if started is None or started.tzinfo is None or (ended and ended.tzinfo is None):
            rejected.append(Rejected(str(entry_id), "Cần 'started_at' ISO 8601 có múi giờ."))
            continue
        if ended and ended < started:
            rejected.append(Rejected(str(entry_id), "'ended_at' trước 'started_at'."))
            continue
        status = raw.get("status")
        if status not in AsRunStatus.values:
            rejected.append(Rejected(str(entry_id), "'status' phải là played, cut hoặc failed."))
            continue
        ref = str(raw.get("item") or "")[:100]
        match = ITEM_ID.match(ref)
        if match:
            item_pks[ref] = int(match.group(1))
        elif ref.isdigit():
            item_pks[ref] = int(ref)
        rows.append(
            AsRunEntry(
                id=entry_id,
                device=device,
                station_id=device.station_id,
                manifest_item=ref,
                started_at=started,
                ended_at=ended,
                status=status,
                cut_by=str(raw.get("cut_by") or "")[:100],
            )
        )
    known = set(
        ScheduleItem.objects.filter(pk__in=set(item_pks.values())).values_list("pk", flat=True)
    )
    for row in rows:
        pk = item_pks.get(row.manifest_item)
        row.item_id = pk if pk in known else None
    ids = [r.id for r in rows]
    others = set(
        AsRunEntry.objects.filter(pk__in=ids).exclude(device=device).values_list("pk", flat=True)
    )
    with transaction.atomic():
        AsRunEntry.objects.bulk_create(
            [r for r in rows if r.id not in others], ignore_conflicts=True
        )
    for r in rows:
        if r.id in others:
            rejected.append(Rejected(str(r.id), "Mã nhật ký này đã thuộc thiết bị khác."))
        else:
            accepted.append(str(r.id))
    return accepted, rejected


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
