"""Listen-in (nghe đang phát, plan V.6): what a station's cluster airs now, for the console.

An officer (of the device's unit or any level above it, right `devices.view`) asks what a device
is playing; the answer comes from the device's last state report (`grassroots_protocol.Playing`:
item id, kind, origin, since) and what the platform sent it:

- `live`: a live session (an officer's microphone, a relay started live, a station's own
  microphone) → the session's Icecast mount with a listen ticket (live.actions.listen_url);
- `file`: a scheduled media item (the device's stored manifest) or an emergency's `play.now`
  (the Emergency with that command id) → the file the device plays and the offset into it,
  `offset_seconds` = now − since, walked across the item's files (and repeats); the file's URL
  is the content-addressed `/media/assets/...` an officer who sees the device may fetch
  (core.media_views), with HTTP Range so the browser starts at the offset;
- `stream`: a scheduled relay of a radio stream → the stream's own address (a configured
  RelaySource);
- `fm`, `idle`, `offline`, `unknown`: nothing to play, with `message` saying why (Vietnamese).

Times are the server's (devices run on the server's clock, agent ServerClock). The answer is a
dict of `ListenRead` (devices.fleet_api).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require
from grassroots_protocol import messages as wire

from .models import Device

PERMISSION = "devices.view"
# How long a file of unknown duration lasts when walking an item's files (Opus speech, 32 kb/s:
# the agent's own estimate, backends.NULL_BYTES_PER_SECOND).
BYTES_PER_SECOND = 4000


def _answer(device: Device, state: str, message: str = "", **fields: Any) -> dict[str, Any]:
    return {
        "device": device.pk,
        "device_name": device.name,
        "state": state,
        "message": message,
        "title": fields.pop("title", "") or "",
        "priority": fields.pop("priority", None),
        "since": fields.pop("since", None),
        "url": fields.pop("url", ""),
        "offset_seconds": fields.pop("offset_seconds", None),
        "at": timezone.now(),
        **fields,
    }


def _position(media: list[dict], elapsed: float, repeat: int = 1) -> tuple[dict, float] | None:
    """The file of `media` (played in turn, `repeat` times) sounding `elapsed` seconds after
    the start, and the offset into it (seconds); None when the whole item has played."""
    durations = []
    for ref in media:
        d = ref.get("duration")
        if not isinstance(d, int | float) or d <= 0:
            d = (ref.get("size") or 0) / BYTES_PER_SECOND
        durations.append(float(d))
    total = sum(durations)
    if total <= 0 or elapsed < 0:
        return (media[0], 0.0) if media else None
    if elapsed >= total * repeat:
        return None
    left = elapsed % total
    for ref, d in zip(media, durations, strict=True):
        if left < d:
            return ref, left
        left -= d
    return None


def _manifest_item(device: Device, item_id: str) -> dict | None:
    from grassroots.broadcast.models import Manifest

    stored = Manifest.objects.filter(device=device).first()
    if stored is None:
        return None
    try:
        items = json.loads(stored.body)["payload"]["items"]
    except (ValueError, KeyError, TypeError):
        return None
    return next((i for i in items if i.get("id") == item_id), None)


def now_playing(user, device_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """What device `device_id` airs now, as something the console can play (see the module).

    Raises Http404 for a device outside the user's units, PermissionDenied without the right.
    """
    require(user, PERMISSION)
    device = (
        Device.objects.restrict(user, PERMISSION)
        .select_related("status", "unit")
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        raise Http404
    now = now or timezone.now()
    status = getattr(device, "status", None)
    if status is None or not status.online:
        return _answer(device, "offline", "Thiết bị đang mất kết nối: không nghe được lúc này.")
    raw = (status.state or {}).get("playing")
    if not raw:
        return _answer(device, "idle", "Thiết bị đang không phát gì.")
    try:
        playing = wire.Playing.model_validate(raw)
    except ValueError:
        return _answer(device, "unknown", "Thiết bị báo trạng thái phát không đọc được.")
    since = playing.since
    elapsed = (now - since).total_seconds() if since else 0.0
    common = {"title": playing.title or "", "priority": playing.priority, "since": since}
    if playing.origin == "live":
        return _live(user, device, playing.item_id, common)
    if playing.origin == "priority":
        return _emergency(device, playing.item_id, elapsed, common)
    item = _manifest_item(device, playing.item_id)
    if item is None:
        return _answer(
            device,
            "unknown",
            "Không tìm thấy mục đang phát trong lịch phát hiện hành của thiết bị.",
            **common,
        )
    common["title"] = common["title"] or item.get("title", "")
    common["priority"] = common["priority"] or item.get("priority")
    relay = item.get("relay") or {}
    if item.get("kind") == "relay" and relay.get("type") == "fm":
        return _answer(
            device,
            "fm",
            f"Cụm loa đang tiếp sóng FM {relay.get('frequency')} MHz từ máy thu tại chỗ; "
            "không nghe được qua mạng.",
            **common,
        )
    if item.get("kind") == "relay":
        return _answer(device, "stream", url=relay.get("url", ""), **common)
    found = _position(item.get("media") or [], elapsed)
    if found is None:
        return _answer(device, "idle", "Mục lịch này vừa phát xong.", **common)
    ref, offset = found
    return _answer(device, "file", url=ref["url"], offset_seconds=round(offset, 2), **common)


def _live(user, device: Device, live_id: str, common: dict) -> dict[str, Any]:
    from grassroots.live import actions as live
    from grassroots.live.models import LiveSession, LiveStatus

    pk = live_id.removeprefix("live-")
    session = (
        LiveSession.objects.filter(pk=int(pk), status=LiveStatus.ON_AIR).first()
        if pk.isdigit()
        else None
    )
    if session is None:
        return _answer(
            device, "unknown", "Phiên phát trực tiếp trên thiết bị này đã kết thúc.", **common
        )
    common["title"] = session.title
    common["priority"] = session.priority
    if session.source == "fm":
        return _answer(
            device,
            "fm",
            f"Cụm loa đang tiếp sóng FM {session.relay_frequency} MHz từ máy thu tại chỗ; "
            "không nghe được qua mạng.",
            **common,
        )
    return _answer(device, "live", url=live.listen_url(user, session, device=device), **common)


def _emergency(device: Device, job_id: str, elapsed: float, common: dict) -> dict[str, Any]:
    from grassroots.alerts.models import Emergency

    emergency = Emergency.objects.filter(command_id=job_id).first()
    if emergency is None or not emergency.media:
        return _answer(device, "unknown", "Không tìm thấy tệp của lệnh phát ngay này.", **common)
    common["title"] = common["title"] or emergency.title
    found = _position(list(emergency.media), elapsed, repeat=max(1, emergency.repeat or 1))
    if found is None:
        return _answer(device, "idle", "Tin khẩn cấp vừa phát xong.", **common)
    ref, offset = found
    return _answer(device, "file", url=ref["url"], offset_seconds=round(offset, 2), **common)
