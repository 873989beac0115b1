"""The content side of the air: files of approved revisions, and commune inboxes → proposals.

Bulletins shared down by an upper level land in each commune's inbox (content app); here each
becomes a `Proposal` the commune places (priority: must air) or declines (normal).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from grassroots.core import audit
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction

from . import engine
from .choices import ItemKind, Priority, ProposalStatus
from .models import Proposal, ScheduleItem
from .specs import item_spec


def revision_media(revision) -> list[dict[str, Any]]:
    """The files of an approved bulletin revision, as manifest entries (url, sha256, size)."""
    from django.conf import settings

    bulletin = revision.bulletin
    if bulletin.approved_revision_id != revision.pk:
        raise Problem(
            422,
            f"Phiên bản {revision.number} của bản tin '{bulletin.title}' chưa được duyệt "
            "(hoặc đã có phiên bản duyệt mới hơn). Hãy chọn phiên bản đã duyệt.",
        )
    out = []
    from grassroots.content.models import MediaAsset

    # Only the approved revision's files (its uploads and its own TTS voice), never an older one.
    for asset in MediaAsset.objects.for_revision(revision):
        if asset.kind and asset.kind != "audio":
            continue
        rendition = _best_rendition(asset.renditions or {})
        sha = rendition.get("sha256") or asset.content_sha256
        path = rendition.get("path") or asset.file
        if not sha or not path:
            continue
        duration = rendition.get("duration_seconds") or asset.duration_seconds or 0
        out.append(
            {
                "url": rendition.get("url") or f"{settings.MEDIA_URL}{path}",
                "sha256": sha,
                "size": int(rendition.get("size") or asset.size or 0),
                "duration": float(duration),
            }
        )
    if not out:
        raise Problem(
            422,
            f"Bản tin '{bulletin.title}' chưa có tệp âm thanh sẵn sàng để phát. Hãy tải lên "
            "hoặc tạo bản đọc (TTS) rồi xếp lịch lại.",
        )
    return out


def _best_rendition(renditions: dict) -> dict:
    """The loudspeaker rendition (content app: "broadcast", Opus); else any audio one."""
    if not isinstance(renditions, dict):
        return {}
    for key in ("broadcast", "opus", "audio"):
        value = renditions.get(key)
        if isinstance(value, dict):
            return value
    for value in renditions.values():
        if isinstance(value, dict) and str(value.get("mime", "")).startswith("audio/"):
            return value
    return {}


DEFAULT_BULLETIN_SECONDS = 300


def media_duration(media: list[dict], default: int = DEFAULT_BULLETIN_SECONDS) -> int:
    total = sum(float(m.get("duration") or 0) for m in media)
    return max(1, round(total)) if total else default


def proposals_from_shares(*, bulletin_id: int | None = None, now: datetime | None = None) -> int:
    """Turn bulletins shared down into communes' inboxes into proposals the communes place.

    Idempotent (one proposal per share). Priority shares are must-air; normal ones optional.
    Emergency bulletins go out through the emergency flow (play.now), not through proposals.
    Withdrawn shares close their pending proposals.
    """
    from django.apps import apps

    from .actions import ensure_station, is_commune_level

    share_model = apps.get_model("content", "BulletinShare")
    now = now or timezone.now()
    shares = share_model.objects.exclude(bulletin__priority=Priority.EMERGENCY)
    if bulletin_id is not None:
        shares = shares.filter(bulletin_id=bulletin_id)
    withdrawn = shares.filter(withdrawn_at__isnull=False).values("pk")
    Proposal.objects.filter(share_id__in=withdrawn, status=ProposalStatus.PENDING).update(
        status=ProposalStatus.DECLINED, note="Cấp trên đã thu hồi bản tin"
    )
    # A share re-published with a new revision gets a new proposal; the old one stays history.
    proposed = Proposal.objects.filter(
        share_id=OuterRef("pk"), item__revision_id=OuterRef("revision_id")
    )
    live = shares.filter(withdrawn_at__isnull=True, bulletin__status="published").exclude(
        Exists(proposed)
    )
    made = 0
    sources: dict[int, ScheduleItem] = {}
    for share in live.select_related("bulletin", "revision", "unit").order_by("pk"):
        if not is_commune_level(share.unit):
            continue
        with transaction.atomic():
            source = sources.get(share.revision_id) or _source_for(share, now)
            sources[share.revision_id] = source
            station = ensure_station(share.unit)
            _p, created = Proposal.objects.get_or_create(
                item=source,
                station=station,
                defaults={"must_air": share.must_air, "share_id": share.pk},
            )
            made += created
            if created and share.must_air and station.auto_boards:
                board_must_air(share)
    return made


AUTO_PLAYLIST = "Bản tin bắt buộc phát của cấp trên"


def board_must_air(share) -> bool:
    """Put a shared must-air bulletin on its commune's e-boards (the commune chose this in its
    station settings): appended to the unit's own automatic playlist; system action, audited."""
    from grassroots.signage.actions import notify_units
    from grassroots.signage.models import Playlist, PlaylistItem

    playlist = Playlist.objects.filter(unit=share.unit, name=AUTO_PLAYLIST).first()
    if playlist is None:
        playlist = Playlist.objects.create(unit=share.unit, name=AUTO_PLAYLIST)
        audit.record(playlist, ChangeAction.CREATE, comment="tạo tự động: bản tin bắt buộc phát")
    if playlist.items.filter(bulletin_id=share.bulletin_id).exists():
        return False
    before = audit.snapshot(playlist)
    position = playlist.items.count()
    PlaylistItem.objects.create(playlist=playlist, bulletin_id=share.bulletin_id, position=position)
    playlist.save(update_fields=["updated_at"])
    audit.record(
        playlist,
        ChangeAction.UPDATE,
        before=before,
        comment=f"tự đưa bản tin chia sẻ {share.bulletin_id} lên bảng tin",
    )
    notify_units([share.unit], reason="playlist")
    return True


def _source_for(share, now: datetime) -> ScheduleItem:
    """The upper level's item standing for one shared revision (found or made once)."""
    bulletin = share.bulletin
    found = ScheduleItem.objects.filter(
        revision_id=share.revision_id, source__isnull=True, unit_id=bulletin.unit_id
    ).first()
    if found:
        return found
    try:
        media = revision_media(share.revision)
    except Problem:
        media = []  # audio not ready yet: taken when the commune places it
    start = max(bulletin.go_live_at or now, now)
    start = (start + timedelta(minutes=5)).replace(second=0, microsecond=0)
    item = ScheduleItem(
        unit_id=bulletin.unit_id,
        title=bulletin.title[:300],
        priority=bulletin.priority,
        kind=ItemKind.BULLETIN,
        revision_id=share.revision_id,
        media=media,
        starts_at=start,
        duration_seconds=media_duration(media),
    )
    item.last_end = engine.last_end(item_spec(item))
    item.save()
    audit.record(item, ChangeAction.CREATE, comment=f"từ bản tin chia sẻ {bulletin.pk}")
    return item
