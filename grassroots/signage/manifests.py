"""The signed board manifest: what a board shows for the next 48 hours, rendered for reading.

Text is sent as plain paragraphs (the player sets it with `textContent`, never as HTML); media
as board renditions (JPEG, H.264 MP4) with SHA-256. Dayparts travel as windows the board checks
by its own clock, so it keeps the right rotation while offline. The signed body is stored per
board and re-signed only when its content changes: the ETag stays stable between polls.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from grassroots.core import signing
from grassroots.units.models import Unit
from grassroots_protocol import messages as wire

from .models import Board, Layout, Playlist, PlaylistItem

LOOKAHEAD = timedelta(hours=48)
RESIGN_BEFORE = timedelta(hours=24)
HEARTBEAT_SECONDS = 60
TZ_OFFSET_MINUTES = 7 * 60  # Việt Nam, no daylight saving
MAX_ITEMS = 200
MAX_PARAGRAPHS = 60
# Characters a person reads from a few metres in about one second.
READ_CHARS_PER_SECOND = 12
MAX_AUTO_SECONDS = 120
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


@dataclass
class Built:
    payload: dict
    content_hash: str


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.get_fixed_timezone(TZ_OFFSET_MINUTES)).isoformat(
        timespec="seconds"
    )


def clean_text(value: str) -> str:
    """Plain text safe to sign and compare byte for byte in a browser (no control characters)."""
    return _CONTROL.sub("", value or "").strip()


def paragraphs(body: str) -> list[str]:
    """The body of an approved revision as plain paragraphs (markup dropped, entities decoded)."""
    from grassroots.content.actions import plain_text

    text = clean_text(plain_text(body or ""))
    return [p.strip() for p in text.split("\n") if p.strip()][:MAX_PARAGRAPHS]


def chain(unit: Unit) -> list[Unit]:
    """The unit and its ancestors, root first."""
    return list(unit.ancestors(include_self=True))


def _layout_for(board: Board) -> Layout | None:
    if board.layout_id:
        return board.layout
    ids = [u.pk for u in chain(board.device.unit)]
    return (
        Layout.objects.filter(unit_id__in=ids).order_by("-unit__depth", "pk").first()
        if ids
        else None
    )


def layout_payload(layout: Layout | None) -> dict:
    if layout is None:
        return {
            "kind": "split",
            "show_clock": True,
            "show_unit_name": True,
            "ticker": "",
            "text_scale": 100,
            "default_duration": 20,
        }
    return {
        "kind": layout.kind,
        "show_clock": layout.show_clock,
        "show_unit_name": layout.show_unit_name,
        "ticker": clean_text(layout.ticker_text),
        "text_scale": layout.text_scale,
        "default_duration": layout.default_duration,
    }


def _media(revision, device_id: int) -> list[dict]:
    """Board renditions of the revision's images and videos (audio is for loudspeakers)."""
    from grassroots.content.models import MediaAsset

    wanted = [m for m in revision.data.get("media") or [] if m.get("kind") in ("image", "video")]
    if not wanted:
        return []
    assets = {
        a.sha256: a for a in MediaAsset.objects.filter(sha256__in=[m["sha256"] for m in wanted])
    }
    out = []
    for ref in wanted:
        asset = assets.get(ref["sha256"])
        rendition = (asset.renditions or {}).get("board") if asset else None
        if not rendition or not rendition.get("sha256") or not rendition.get("path"):
            continue
        ext = rendition["path"].rsplit(".", 1)[-1].lower()
        if not re.fullmatch(r"[a-z0-9]{1,5}", ext):
            continue
        entry = {
            "kind": ref["kind"],
            "url": f"/api/v1/boards/{device_id}/media/{rendition['sha256']}.{ext}",
            "sha256": rendition["sha256"],
            "size": int(rendition.get("size") or 0),
            "mime": str(rendition.get("mime") or ""),
        }
        if ref["kind"] == "video":
            seconds = asset.duration_seconds or rendition.get("duration") or 0
            entry["seconds"] = int(math.ceil(float(seconds or 0)))
        out.append(entry)
    return out


def _duration(layout: dict, text: str, media: list[dict], override: int | None) -> int:
    if override:
        return int(override)
    videos = [m.get("seconds", 0) for m in media if m["kind"] == "video"]
    if videos and max(videos) > 0:
        return int(min(max(videos), 600))
    reading = math.ceil(len(text) / READ_CHARS_PER_SECOND)
    return int(max(layout["default_duration"], min(reading, MAX_AUTO_SECONDS)))


def _window(playlist: Playlist | None) -> dict:
    if playlist is None:
        return {"weekdays": list(range(7)), "start": None, "end": None, "from": None, "until": None}
    return {
        "weekdays": sorted({int(d) for d in (playlist.weekdays or []) if 0 <= int(d) <= 6}),
        "start": playlist.start_time.strftime("%H:%M") if playlist.start_time else None,
        "end": playlist.end_time.strftime("%H:%M") if playlist.end_time else None,
        "from": _iso(playlist.valid_from),
        "until": _iso(playlist.valid_until),
    }


def render_item(
    *,
    item_id: str,
    bulletin,
    revision,
    device_id: int,
    layout: dict,
    must_show: bool = False,
    playlist: Playlist | None = None,
    duration: int | None = None,
    sound: bool = False,
) -> dict:
    """One bulletin revision rendered for the board (plain text, media, timing)."""
    data = revision.data or {}
    title = clean_text(data.get("title") or bulletin.title)[:300]
    paras = paragraphs(data.get("body") or "")
    media = _media(revision, device_id)
    text = " ".join([title, *paras])
    return {
        "id": item_id,
        "bulletin": bulletin.pk,
        "revision": revision.number,
        "revision_id": revision.pk,
        "content_sha256": revision.content_hash,
        "title": title,
        "paragraphs": paras,
        "priority": str(data.get("priority") or bulletin.priority),
        "must_show": must_show,
        "source": clean_text(bulletin.source_name or bulletin.unit.name)[:200],
        "media": media,
        "duration": _duration(layout, text, media, duration),
        "sound": bool(sound),
        "go_live_at": _iso(bulletin.go_live_at),
        "expire_at": _iso(bulletin.expire_at),
        "window": _window(playlist),
    }


def preview_item(bulletin, layout: dict) -> dict:
    """The bulletin's current text as a board item, for the editor's preview (no media, no
    window: it shows now)."""
    title = clean_text(bulletin.title)[:300]
    paras = paragraphs(bulletin.body or "")
    return {
        "id": f"preview-{bulletin.pk}",
        "bulletin": bulletin.pk,
        "title": title,
        "paragraphs": paras,
        "priority": str(bulletin.priority),
        "must_show": False,
        "source": clean_text(bulletin.source_name or bulletin.unit.name)[:200],
        "media": [],
        "duration": _duration(layout, " ".join([title, *paras]), [], None),
        "window": _window(None),
    }


def _showable(qs, now: datetime):
    from grassroots.content.choices import Status

    return qs.filter(
        status__in=[Status.APPROVED, Status.PUBLISHED],
        approved_revision__isnull=False,
    ).filter(
        Q(expire_at__isnull=True) | Q(expire_at__gt=now),
        Q(go_live_at__isnull=True) | Q(go_live_at__lt=now + LOOKAHEAD),
    )


def for_units(unit_ids: list[int]) -> Q:
    """Bulletins a unit may show: owned by it or an ancestor, or shared down to one of them.

    A playlist can never put another commune's bulletin on this unit's boards.
    """
    from grassroots.content.models import BulletinShare

    shared = BulletinShare.objects.active().filter(unit_id__in=unit_ids).values("bulletin_id")
    return Q(unit_id__in=unit_ids) | Q(pk__in=shared)


def items_for(board: Board, *, now: datetime | None = None) -> tuple[list[dict], dict]:
    """Every item this board may show in the look-ahead, must-show first; and its layout."""
    from grassroots.content.models import Bulletin, BulletinShare

    now = now or timezone.now()
    device = board.device
    units = chain(device.unit)
    unit_ids = [u.pk for u in units]
    layout = layout_payload(_layout_for(board))
    items: list[dict] = []
    seen: set[str] = set()

    def add(item: dict) -> None:
        if item["id"] not in seen and len(items) < MAX_ITEMS:
            seen.add(item["id"])
            items.append(item)

    # 1. Provincial must-show items: priority and emergency bulletins shared down to this unit.
    shares = (
        BulletinShare.objects.active()
        .filter(unit_id__in=unit_ids, must_air=True)
        .select_related("bulletin", "bulletin__unit", "revision")
        .order_by("-shared_at")
    )
    showable = set(
        _showable(Bulletin.objects.filter(pk__in=[s.bulletin_id for s in shares]), now).values_list(
            "pk", flat=True
        )
    )
    for share in shares:
        if share.bulletin_id in showable:
            add(
                render_item(
                    item_id=f"m{share.bulletin_id}-r{share.revision.number}",
                    bulletin=share.bulletin,
                    revision=share.revision,
                    device_id=device.pk,
                    layout=layout,
                    must_show=True,
                )
            )
    # 2. Playlists of this unit and its ancestors that target every board there, or this one.
    playlists = (
        Playlist.objects.filter(unit_id__in=unit_ids, active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lt=now + LOOKAHEAD))
        .filter(Q(boards__isnull=True) | Q(boards=device))
        .distinct()
        .order_by("order", "pk")
    )
    rows = (
        PlaylistItem.objects.filter(playlist__in=list(playlists))
        .select_related("playlist", "bulletin", "bulletin__unit", "bulletin__approved_revision")
        .order_by("playlist__order", "playlist_id", "position", "pk")
    )
    ok = set(
        _showable(Bulletin.objects.filter(pk__in=[r.bulletin_id for r in rows]), now)
        .filter(for_units(unit_ids))
        .values_list("pk", flat=True)
    )
    for row in rows:
        if row.bulletin_id not in ok:
            continue
        revision = row.bulletin.approved_revision
        add(
            render_item(
                item_id=f"p{row.playlist_id}-b{row.bulletin_id}-r{revision.number}",
                bulletin=row.bulletin,
                revision=revision,
                device_id=device.pk,
                layout=layout,
                playlist=row.playlist,
                duration=row.duration,
                sound=row.allow_sound,
            )
        )
    # 3. The board's own unit's approved bulletins, newest first (unless switched off).
    if board.auto_unit_bulletins:
        own = (
            _showable(Bulletin.objects.filter(unit=device.unit), now)
            .select_related("unit", "approved_revision")
            .order_by("-updated_at", "-pk")[:50]
        )
        for bulletin in own:
            revision = bulletin.approved_revision
            add(
                render_item(
                    item_id=f"u-b{bulletin.pk}-r{revision.number}",
                    bulletin=bulletin,
                    revision=revision,
                    device_id=device.pk,
                    layout=layout,
                )
            )
    return items, layout


def build(board: Board, *, now: datetime | None = None) -> Built:
    """The manifest payload of a board (unsigned) and the hash of everything but the clock."""
    now = (now or timezone.now()).replace(microsecond=0)
    items, layout = items_for(board, now=now)
    device = board.device
    units = chain(device.unit)
    payload = {
        "type": "board.manifest",
        "version": wire.PROTOCOL_VERSION,
        "device": str(device.pk),
        "unit": {
            "code": device.unit.code,
            "name": clean_text(device.unit.name),
            "chain": [u.code for u in units],
        },
        "layout": layout,
        "heartbeat_seconds": HEARTBEAT_SECONDS,
        "tz_offset_minutes": TZ_OFFSET_MINUTES,
        "items": items,
    }
    digest = hashlib.sha256(signing.canonical(payload)).hexdigest()
    payload["generated_at"] = _iso(now)
    payload["valid_until"] = _iso(now + LOOKAHEAD)
    wire.parse_board_manifest(payload)  # what the board reads, checked before it is signed
    return Built(payload, digest)


def envelope_bytes(payload: dict) -> bytes:
    """`{"kid","payload","sig"}` with the payload in its canonical (signed) form, verbatim."""
    body = signing.canonical(payload)
    return (
        b'{"kid":"'
        + signing.key_id().encode()
        + b'","payload":'
        + body
        + b',"sig":"'
        + signing.sign_bytes(body).encode()
        + b'"}'
    )


def manifest_for(board: Board, *, now: datetime | None = None) -> tuple[str, str]:
    """The board's signed manifest body and ETag; re-signed only when the content changed."""
    now = now or timezone.now()
    built = build(board, now=now)
    fresh = (
        board.manifest_body
        and board.manifest_hash == built.content_hash
        and board.manifest_valid_until
        and board.manifest_valid_until - now > RESIGN_BEFORE
    )
    if fresh:
        return board.manifest_body, board.manifest_etag
    body = envelope_bytes(built.payload)
    etag = hashlib.sha256(body).hexdigest()[:32]
    Board.objects.filter(pk=board.pk).update(
        manifest_body=body.decode(),
        manifest_etag=etag,
        manifest_hash=built.content_hash,
        manifest_valid_until=now + LOOKAHEAD,
    )
    board.manifest_body, board.manifest_etag = body.decode(), etag
    board.manifest_hash, board.manifest_valid_until = built.content_hash, now + LOOKAHEAD
    return board.manifest_body, etag


def media_shas(body: str) -> set[str]:
    """The SHA-256 of every file a stored manifest lists (what the board may download)."""
    if not body:
        return set()
    payload = json.loads(body)["payload"]
    return {m["sha256"] for item in payload.get("items", []) for m in item.get("media", [])}
