"""Live broadcast (phát trực tiếp): an officer's microphone on the loudspeakers of an area.

The path (docs/live.md):
  browser microphone ─(MediaRecorder webm/Opus slices, POST)→ web: appended to the session's
  source file under `$GRASSROOTS_HOME/live/` → live relay (`grassroots live`, live.relay):
  ffmpeg → Opus 24 kb/s Ogg → Icecast mount (random name) → devices (ffmpeg, their token in a
  header; Icecast asks `listener_allowed`).
When the mount is up, the relay calls `went_on_air`, which signs `live.start` to the unit topics
of the area (through the outbox). Stopping, losing the source for `LIVE_SOURCE_TIMEOUT` seconds
or reaching the time limit signs `live.stop`; devices go back to their schedule. Devices that come
back online during a session get `live.start` on their own topic (`catch_up`). The relay records
what it sends; the recording becomes an archived audio bulletin (`archive_recording`).

Thông tư 39 priorities: an `emergency` live session needs the emergency right, skips the usage
policy and ends any other live session over the same area; a `normal` or `priority` one needs
the scheduling right, respects the usage policy of every unit of the area and is refused while
another live session holds any of them, or while an emergency (alerts.Emergency) is on air over
any of them. An emergency live session starts anyway and leaves the running emergency alone.
"""

from __future__ import annotations

import datetime
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require
from grassroots.alerts.actions import _common_ancestor, devices_under
from grassroots.core import audit
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots.devices import protocol
from grassroots.units.models import Unit

from .models import LiveEndReason, LiveSession, LiveSource, LiveStatus

PRIORITIES = ("normal", "priority", "emergency")
MAX_MINUTES = 4 * 60
MAX_CHUNK = 256 * 1024  # one MediaRecorder slice of a quarter second is ~1 KB
LISTEN_TOKEN_SALT = "grassroots.live.listen"
LISTEN_TOKEN_SECONDS = 6 * 3600
# A slice arriving this soon after the speaker's own stop is the tail of the speech racing the
# stop request: answered 410 without a warning in the log (the relay has closed the recording).
STOP_GRACE_SECONDS = 5


class LateSlice(Problem):
    """A slice for a session the speaker stopped a moment ago (410, not logged as a warning)."""


def live_dir() -> Path:
    """Where the web process leaves the source audio and the relay reads it (same host)."""
    path = Path(settings.GRASSROOTS["HOME"]) / "live"
    path.mkdir(parents=True, exist_ok=True)
    return path


def source_path(session: LiveSession) -> Path:
    return live_dir() / f"{session.pk}.webm"


def recording_path(session: LiveSession) -> Path:
    return live_dir() / f"{session.pk}-recording.ogg"


def stream_url(session: LiveSession) -> str:
    """The address devices open (their token goes in a header, never in the address)."""
    return f"{settings.ICECAST_URL}{session.mount}"


def permission_for(priority: str) -> str:
    return "broadcast.emergency" if priority == "emergency" else "broadcast.schedule"


def _overlapping(units: list[Unit]):
    """Running sessions whose area overlaps these units (one contains the other)."""
    q = Q()
    for u in units:
        q |= Q(area__path__startswith=u.path)
        for ancestor in u.path.strip("/").split("/"):
            q |= Q(area__pk=int(ancestor))
    return LiveSession.objects.filter(
        q, status__in=[LiveStatus.WAITING, LiveStatus.ON_AIR]
    ).distinct()


def _emergency_on_air(units: list[Unit]):
    """An emergency (alerts.Emergency, e.g. from CAP) on air or being prepared over any of these
    units (one area contains the other), or None."""
    from grassroots.alerts.models import Emergency, EmergencyStatus

    q = Q()
    for u in units:
        q |= Q(area__path__startswith=u.path)
        for ancestor in u.path.strip("/").split("/"):
            q |= Q(area__pk=int(ancestor))
    ids = Emergency.objects.filter(
        q,
        status__in=[EmergencyStatus.ACTIVE, EmergencyStatus.PREPARING],
        expires_at__gt=timezone.now(),
    ).values_list("pk", flat=True)
    return Emergency.objects.filter(pk__in=ids).order_by("-pk").first()


TITLE_MAX = 200  # LiveSession.title


def check_title(title: str) -> str:
    """The session's title as entered (core.text.clean_text, then stripped): refused, never
    cut, when empty (spaces and invisible characters only) or longer than TITLE_MAX
    characters. Raises Problem 422 saying what to fix."""
    from grassroots.core.text import clean_text

    title = clean_text(title or "").strip()
    if not title:
        raise Problem(422, TITLE_EMPTY)
    if len(title) > TITLE_MAX:
        raise Problem(422, title_too_long(len(title)))
    return title


TITLE_EMPTY = "Cần nhập tiêu đề cho phiên phát trực tiếp (tiêu đề đang để trống)."


def title_too_long(length: int) -> str:
    return (
        f"Tiêu đề dài {length} ký tự, tối đa {TITLE_MAX} ký tự: hãy rút gọn tiêu đề "
        "(nội dung chi tiết nói trong phiên)."
    )


def emergency_notice(session: LiveSession) -> dict[str, Any] | None:
    """An emergency (alerts.Emergency) on air over part of a running session's area, as the
    speaker is told of it (LiveRead.emergency), or None.

    What happens (the agent's precedence, docs/live.md): a device plays a `play.now` before a
    live stream, so while the emergency message sounds the speaker's voice is not on those
    loudspeakers; when it has played (each repeat again) the device goes back to the live
    stream by itself, and the session stays open."""
    if not session.is_running:
        return None
    emergency = _emergency_on_air(list(session.area.all()))
    if emergency is None:
        return None
    where = ", ".join(sorted(emergency.area.values_list("name", flat=True)))
    until = timezone.localtime(emergency.expires_at).strftime("%H:%M")
    message = (
        f"Loa tại {where} đang phát khẩn cấp '{emergency.title}' — lời bạn nói lúc này không "
        "ra các loa đó. Phát xong bản tin khẩn cấp, loa tự quay lại phiên của bạn; phiên vẫn "
        "mở, không cần bắt đầu lại."
    )
    if emergency.repeat_every_minutes:
        message += (
            f" Bản tin khẩn cấp được nhắc lại mỗi {emergency.repeat_every_minutes} phút đến "
            f"{until}; mỗi lần nhắc lại, loa lại tạm ngừng phiên của bạn."
        )
    return {
        "id": emergency.pk,
        "title": emergency.title,
        "units": sorted(emergency.area.values_list("code", flat=True)),
        "expires_at": emergency.expires_at,
        "message": message,
    }


def _check_usage(units: list[Unit], start, end) -> None:
    """A non-emergency live session respects the usage policy of every unit of its area."""
    from grassroots.broadcast import engine
    from grassroots.broadcast.specs import policies_for

    policies = policies_for(units)
    for unit in units:
        violations = engine.check_policy(policies[unit.pk], [(start, end)], [])
        if violations:
            v = violations[0]
            raise Problem(
                422,
                f"{unit.name}: {v.message} Chỉ phiên khẩn cấp mới được phát ngoài quy định.",
                title="Vi phạm quy định sử dụng loa",
                rule=v.rule,
            )


@transaction.atomic
def start(
    *,
    user,
    unit_codes: list[str],
    title: str,
    priority: str = "normal",
    max_minutes: int = 30,
    source: str = LiveSource.CONSOLE,
    relay_source: int | None = None,
    frequency: float | None = None,
) -> LiveSession:
    """Open a live session over an area of the user's scope.

    `source` (alerts.models.LiveSource): `console` (the officer's microphone; on air when its
    sound reaches Icecast), `stream` (relay the RelaySource `relay_source`, which must be listed
    for every unit of the area or one of their ancestors; on air when the relay has it on the
    mount) or `fm` (each cluster tunes its own FM receiver to `frequency` MHz, 64–108; on air at
    once). Same rights, Thông tư 39 priorities and usage policy for all. Raises Problem (422 bad
    input, 404 out of scope, 409 clash, 503 no Icecast) and PermissionDenied."""
    if source not in (LiveSource.CONSOLE, LiveSource.STREAM, LiveSource.FM):
        raise Problem(422, "Nguồn phát phải là: micro, tiếp sóng đài hoặc tiếp sóng FM.")
    if priority not in PRIORITIES:
        raise Problem(422, "Mức ưu tiên phải là: thông thường, ưu tiên hoặc khẩn cấp.")
    permission = permission_for(priority)
    require(user, permission)
    codes = sorted({c.strip() for c in unit_codes if c and c.strip()})
    if not codes:
        raise Problem(422, "Hãy chọn vùng phát (ít nhất một xã, phường).")
    units = list(
        Unit.objects.restrict(user, permission).filter(code__in=codes, valid_to__isnull=True)
    )
    if len(units) != len(codes):
        raise Problem(404, "Có đơn vị không tồn tại hoặc nằm ngoài phạm vi phát của bạn.")
    relay = _relay_of(source, units, relay_source, frequency)
    if not settings.ICECAST_URL and source != LiveSource.FM:
        raise Problem(
            503,
            "Máy chủ phát trực tiếp (Icecast) chưa được cấu hình: hãy báo quản trị hệ thống.",
        )
    if not (1 <= max_minutes <= MAX_MINUTES):
        raise Problem(422, f"Thời lượng tối đa phải từ 1 đến {MAX_MINUTES} phút.")
    title = check_title(title)
    now = timezone.now()
    until = now + datetime.timedelta(minutes=max_minutes)
    # (PostgreSQL refuses FOR UPDATE with DISTINCT: find the ids, then lock those rows)
    ids = list(_overlapping(units).values_list("pk", flat=True))
    busy = list(LiveSession.objects.filter(pk__in=ids).select_for_update().order_by("pk"))
    preempted: list[LiveSession] = []
    if priority == "emergency":
        preempted = [b for b in busy if b.priority != "emergency"]
        busy = [b for b in busy if b.priority == "emergency"]
    else:
        emergency = _emergency_on_air(units)
        if emergency is not None:
            where = ", ".join(sorted(emergency.area.values_list("name", flat=True)))
            raise Problem(
                409,
                f"Đang phát khẩn cấp '{emergency.title}' tại {where}; "
                "chỉ phiên khẩn cấp mới được phát lúc này.",
                title="Đang phát khẩn cấp",
            )
        _check_usage(units, now, until)
    if busy:
        if busy[0].speaker_id == user.pk:
            raise Problem(
                409,
                f"Phiên '{busy[0].title}' của chính bạn vẫn đang mở trên cùng địa bàn. "
                "Hãy bấm “Kết thúc phiên” ở phiên đó rồi bắt đầu lại.",
                title="Phiên của bạn vẫn đang mở",
            )
        raise Problem(
            409,
            f"Đang có phiên phát trực tiếp '{busy[0].title}' trên cùng địa bàn. "
            "Hãy chờ phiên đó kết thúc (chỉ phiên khẩn cấp được chen ngang).",
        )
    session = LiveSession.objects.create(
        unit=_common_ancestor(units),
        title=title,
        priority=priority,
        speaker=user,
        mount=f"/live/{secrets.token_urlsafe(18)}.ogg",
        until=until,
        source=source,
        **relay,
    )
    session.area.set(units)
    session.expected_devices = devices_under(units).count()
    session.save(update_fields=["expected_devices"])
    audit.record(session, ChangeAction.CREATE, user=user, comment=f"{priority} {source}")
    for other in preempted:  # the emergency takes their area over; each is told by which one
        end(other, LiveEndReason.PREEMPTED, user=user, by=session)
    if source == LiveSource.FM:
        went_on_air(session.pk)  # nothing to wait for: each cluster tunes its own receiver
        session.refresh_from_db()
    return session


def _relay_of(source: str, units: list[Unit], relay_source: int | None, frequency) -> dict:
    """The relay fields of a new session (checked like a scheduled relay, broadcast.actions)."""
    from decimal import Decimal, InvalidOperation

    from grassroots.broadcast.actions import relay_sources_for

    if source == LiveSource.FM:
        try:
            freq = Decimal(str(frequency)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            freq = None
        if freq is None or not (Decimal("64") <= freq <= Decimal("108")):
            raise Problem(422, "Tiếp sóng FM cần tần số từ 64 đến 108 MHz (ví dụ 99.5).")
        return {"relay_frequency": freq}
    if source == LiveSource.STREAM:
        if relay_source is None:
            raise Problem(422, "Hãy chọn đài cần tiếp sóng trong danh sách nguồn tiếp sóng.")
        for unit in units:
            found = relay_sources_for(unit).filter(pk=relay_source).first()
            if found is None:
                raise Problem(
                    422,
                    f"Nguồn tiếp sóng này không có trong danh sách được phép của {unit.name}. "
                    "Hãy chọn một nguồn trong danh sách (Phát thanh → Nguồn tiếp sóng) hoặc đề "
                    "nghị quản trị tỉnh bổ sung.",
                )
        return {"relay_source": found, "relay_url": found.url}
    return {}


def running_for(user, session_id: int, *, lock: bool = False) -> LiveSession:
    """A session of the user's scope (404 otherwise)."""
    qs = LiveSession.objects.restrict(user, "broadcast.view")
    if lock:
        qs = qs.select_for_update()
    session = qs.filter(pk=session_id).first()
    if session is None:
        raise Http404
    return session


def add_source(*, user, session_id: int, offset: int, data: bytes) -> int:
    """Append one slice of the speaker's recording (webm/Opus) at byte `offset`; returns the
    source's length. A slice sent again (a retry) is accepted once; a gap is refused (409)."""
    session = running_for(user, session_id)
    if session.speaker_id != user.pk or session.source != LiveSource.CONSOLE:
        raise Problem(403, "Chỉ người mở phiên mới được gửi âm thanh vào phiên này.")
    return _append(session, offset, data)


def _append(session: LiveSession, offset: int, data: bytes) -> int:
    if not session.is_running:
        if (
            session.end_reason == LiveEndReason.STOPPED
            and session.ended_at is not None
            and timezone.now() - session.ended_at <= datetime.timedelta(seconds=STOP_GRACE_SECONDS)
        ):
            raise LateSlice(410, "Phiên phát trực tiếp vừa kết thúc; đoạn âm thanh này đến muộn.")
        raise Problem(409, "Phiên phát trực tiếp đã kết thúc; hãy mở phiên mới.")
    if len(data) > MAX_CHUNK:
        raise Problem(413, "Đoạn âm thanh quá lớn; trình duyệt gửi từng đoạn ngắn.")
    path = source_path(session)
    size = path.stat().st_size if path.exists() else 0
    if offset + len(data) <= size:
        return size  # a retry of a slice already kept
    if offset != size:
        raise Problem(
            409, f"Mất một đoạn âm thanh (máy chủ có {size} byte, trình duyệt gửi từ {offset})."
        )
    with path.open("ab") as fh:
        fh.write(data)
    return size + len(data)


# --- a station controller's own microphone ---------------------------------------------------


@transaction.atomic
def start_from_device(
    device, *, title: str, priority: str = "priority", max_minutes: int = 30
) -> LiveSession:
    """A station controller shares its microphone with the other clusters of its unit: a live
    session of source `device` over the device's unit (grassroots_protocol.DeviceLiveRequest).

    The device plays its microphone itself; it sends the sound like the console does
    (`add_device_source`) and the relay puts it on Icecast; `live.start` goes to the unit's
    devices (the source device ignores its own session). `normal` and `priority` only: an
    emergency needs an officer's right. The usage policy and the clash rules are those of any
    live session. Raises Problem (409 clash or emergency on air, 422 policy, 503 no Icecast)."""
    if priority not in ("normal", "priority"):
        raise Problem(
            403, "Phát khẩn cấp cần quyền của cán bộ: hãy phát từ bảng điều khiển (Phát trực tiếp)."
        )
    if not settings.ICECAST_URL:
        raise Problem(
            503,
            "Máy chủ phát trực tiếp (Icecast) chưa được cấu hình: hãy báo quản trị hệ thống.",
        )
    units = [device.unit]
    now = timezone.now()
    until = now + datetime.timedelta(minutes=max_minutes)
    ids = list(_overlapping(units).values_list("pk", flat=True))
    busy = list(LiveSession.objects.filter(pk__in=ids).select_for_update().order_by("pk"))
    emergency = _emergency_on_air(units)
    if emergency is not None:
        raise Problem(409, f"Đang phát khẩn cấp '{emergency.title}'; chưa phát micro được.")
    if busy:
        raise Problem(409, f"Đang có phiên phát trực tiếp '{busy[0].title}' trên cùng địa bàn.")
    _check_usage(units, now, until)
    session = LiveSession.objects.create(
        unit=device.unit,
        title=(title or "").strip()[:200] or f"Micro tại {device.name}",
        priority=priority,
        speaker=None,
        mount=f"/live/{secrets.token_urlsafe(18)}.ogg",
        until=until,
        source=LiveSource.DEVICE,
        source_device=device,
    )
    session.area.set(units)
    session.expected_devices = devices_under(units).exclude(pk=device.pk).count()
    session.save(update_fields=["expected_devices"])
    audit.record(session, ChangeAction.CREATE, user=None, comment=f"{priority} device {device.pk}")
    return session


def _device_session(device, session_id: int, *, lock: bool = False) -> LiveSession:
    qs = LiveSession.objects.filter(pk=session_id, source_device=device)
    session = (qs.select_for_update() if lock else qs).first()
    if session is None:
        raise Http404
    return session


def add_device_source(device, session_id: int, *, offset: int, data: bytes) -> int:
    """Append the device's microphone bytes (Ogg/Opus or WebM) at `offset`, as `add_source`."""
    session = _device_session(device, session_id)
    if len(data) > MAX_CHUNK:
        raise Problem(413, "Đoạn âm thanh quá lớn; hãy gửi từng đoạn ngắn.")
    return _append(session, offset, data)


@transaction.atomic
def stop_from_device(device, session_id: int) -> LiveSession:
    """The station's operator ended the microphone: `live.stop` to the unit."""
    session = _device_session(device, session_id, lock=True)
    if not session.is_running:
        raise Problem(409, "Phiên phát trực tiếp này đã kết thúc.")
    return end(session, LiveEndReason.STOPPED)


def _live_body(session: LiveSession) -> dict[str, Any]:
    """The body of `live.start` (grassroots_protocol.LiveStart): the session's mount, opened
    with the device's token, or for an FM relay the frequency each cluster tunes to."""
    body: dict[str, Any] = {
        "live_id": session.live_id,
        "priority": session.priority,
        "until": session.until.isoformat(),
    }
    if session.source == LiveSource.FM:
        body["relay"] = {"type": "fm", "frequency": float(session.relay_frequency or 0)}
    else:
        body["url"] = stream_url(session)
        body["auth"] = "device"
    return body


def _ttl(session: LiveSession) -> datetime.timedelta:
    return max(session.until - timezone.now(), datetime.timedelta(seconds=30))


@transaction.atomic
def went_on_air(session_id: int) -> LiveSession | None:
    """The relay has the mount up: sign `live.start` to every unit topic of the area."""
    session = LiveSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.status != LiveStatus.WAITING:
        return session
    codes = list(session.area.values_list("code", flat=True))
    envelope, _ = protocol.send_to_units(
        codes, protocol.CommandType.LIVE_START, _live_body(session), ttl=_ttl(session)
    )
    session.command_id = envelope["payload"]["id"]
    session.status = LiveStatus.ON_AIR
    session.started_at = timezone.now()
    session.save(update_fields=["command_id", "status", "started_at", "updated_at"])
    audit.record(session, ChangeAction.UPDATE, user=None, comment="on air")
    return session


def end(
    session: LiveSession, reason: str, *, user=None, by: LiveSession | None = None
) -> LiveSession:
    """End a session (inside the caller's transaction): `live.stop` to its area if it was on air.
    `user` is the officer who ended it (kept as `stopped_by` for `stopped`), `by` the emergency
    live session that took its area over (`preempted`)."""
    if not session.is_running:
        return session
    before = audit.snapshot(session)
    if session.status == LiveStatus.ON_AIR:
        codes = list(session.area.values_list("code", flat=True))
        protocol.send_to_units(codes, protocol.CommandType.LIVE_STOP, {"live_id": session.live_id})
    forget_allowed(session.mount)
    session.status = LiveStatus.ENDED
    session.end_reason = reason
    session.ended_at = timezone.now()
    session.stopped_by = user if reason == LiveEndReason.STOPPED else None
    session.preempted_by = by
    session.save(
        update_fields=[
            "status",
            "end_reason",
            "ended_at",
            "stopped_by",
            "preempted_by",
            "updated_at",
        ]
    )
    audit.record(session, ChangeAction.UPDATE, user=user, before=before, comment=str(reason))
    return session


def may_stop(user, session: LiveSession) -> bool:
    """The speaker, or an officer holding the session's right (`permission_for` its priority)
    over the session's unit, may stop it."""
    if session.speaker_id is not None and session.speaker_id == user.pk:
        return True
    return (
        LiveSession.objects.restrict(user, permission_for(session.priority))
        .filter(pk=session.pk)
        .exists()
    )


@transaction.atomic
def stop(*, user, session_id: int) -> LiveSession:
    """The speaker, or an officer with the session's right over its area, ends it."""
    session = running_for(user, session_id, lock=True)
    if not may_stop(user, session):
        raise Problem(
            403,
            "Bạn không có quyền dừng phiên khẩn cấp này: chỉ cán bộ được phát khẩn cấp trên "
            "vùng phát của phiên mới dừng được."
            if session.priority == "emergency"
            else "Bạn không có quyền dừng phiên này: chỉ người phát hoặc cán bộ được lập lịch "
            "phát thanh trên toàn vùng phát của phiên mới dừng được.",
            title="Không dừng được phiên",
        )
    if not session.is_running:
        raise Problem(409, "Phiên phát trực tiếp này đã kết thúc.")
    return end(session, LiveEndReason.STOPPED, user=user)


@transaction.atomic
def end_by_relay(session_id: int, reason: str) -> LiveSession | None:
    """The relay ends a session: its source fell silent, or it reached its time limit."""
    session = LiveSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        return None
    return end(session, reason)


def catch_up(device_ids) -> int:
    """Devices back online get every live session on air over their area, on their own topic.
    Called by the gateway inside its transaction; returns the commands queued."""
    device_ids = set(device_ids)
    if not device_ids:
        return 0
    sent = 0
    for session in LiveSession.objects.filter(status=LiveStatus.ON_AIR):
        due = devices_under(list(session.area.all())).filter(pk__in=device_ids)
        if session.source_device_id:
            due = due.exclude(pk=session.source_device_id)  # it plays its own microphone
        for device_id in due.values_list("pk", flat=True):
            protocol.send_to_device(
                device_id,
                protocol.CommandType.LIVE_START,
                _live_body(session),
                ttl=_ttl(session),
                command_id=session.command_id or None,
            )
            sent += 1
    return sent


# --- listeners (Icecast url authentication) ---------------------------------------------------


def listen_token(user, session: LiveSession, device=None) -> str:
    """A signed, expiring ticket that lets this officer's browser open the session's mount.

    With `device` (listen-in from a device's page, devices.listen) the ticket holds while the
    officer still sees that device and the device is in the session's area, so an officer of a
    commune hears a province-wide session on their own cluster without seeing the session."""
    data = [user.pk, session.pk] + ([device.pk] if device is not None else [])
    return signing.dumps(data, salt=LISTEN_TOKEN_SALT, compress=True)


def listen_url(user, session: LiveSession, device=None) -> str:
    return f"{stream_url(session)}?listen={listen_token(user, session, device)}"


# Icecast 2.4 asks about listeners one at a time (one authentication thread; past 100 waiting it
# turns listeners away), so a whole area joining at once waits on this hook, request after
# request. Each process keeps, per running mount, the token hashes of the devices of its area
# for ALLOWED_TTL seconds: a device of the area is let in without a database query. A token not
# in the set is checked against the database (a device enrolled a moment ago), so the cache only
# ever lets in a device that was allowed less than ALLOWED_TTL seconds ago (a revoked token, a
# session that just ended: its mount is gone with its source anyway).
ALLOWED_TTL = 10.0
_clock = time.monotonic
_allowed: dict[str, tuple[float, frozenset[str]]] = {}
_allowed_lock = threading.Lock()


def _device_hashes(session: LiveSession) -> frozenset[str]:
    from grassroots.devices.models import DeviceCredential

    return frozenset(
        DeviceCredential.objects.filter(
            device__in=devices_under(list(session.area.all())),
            revoked_at__isnull=True,
            enrolled_at__isnull=False,
        )
        .exclude(token_hash="")
        .values_list("token_hash", flat=True)
    )


def _cached_device_hashes(mount: str) -> frozenset[str] | None:
    """The token hashes allowed on this running mount (cached), or None if it is not running."""
    now = _clock()
    with _allowed_lock:
        hit = _allowed.get(mount)
    if hit is not None and hit[0] > now:
        return hit[1]
    session = (
        LiveSession.objects.filter(mount=mount, status__in=[LiveStatus.WAITING, LiveStatus.ON_AIR])
        .only("pk")
        .first()
    )
    with _allowed_lock:  # one thread makes the set; the others asking meanwhile take it
        for key in [k for k, (expires, _) in _allowed.items() if expires <= now]:
            del _allowed[key]
        if session is None:
            _allowed.pop(mount, None)
            return None
        hit = _allowed.get(mount)
        if hit is not None:
            return hit[1]
        hashes = _device_hashes(session)
        _allowed[mount] = (now + ALLOWED_TTL, hashes)
    return hashes


def forget_allowed(mount: str | None = None) -> None:
    """Drop this process's cached allow-sets (one mount's, or all)."""
    with _allowed_lock:
        if mount is None:
            _allowed.clear()
        else:
            _allowed.pop(mount, None)


def listener_allowed(*, mount: str, device_token: str = "", listen: str = "") -> bool:
    """Icecast asks whether a listener may open `mount`: a device of the session's area (by its
    token), or an officer holding a listen ticket for this session who still sees it."""
    path, _, query = mount.partition("?")
    if device_token:
        from grassroots.devices.provisioning import _hash, authenticate_token

        allowed = _cached_device_hashes(path)
        if allowed is None:
            return False
        if _hash(device_token) in allowed:
            return True
        device = authenticate_token(device_token)
        if device is None:
            return False
        session = (
            LiveSession.objects.filter(
                mount=path, status__in=[LiveStatus.WAITING, LiveStatus.ON_AIR]
            )
            .only("pk")
            .first()
        )
        if session is None:
            return False
        ok = devices_under(list(session.area.all())).filter(pk=device.pk).exists()
        if ok:
            forget_allowed(path)  # enrolled since the set was made: make it again next time
        return ok
    session = (
        LiveSession.objects.filter(mount=path, status__in=[LiveStatus.WAITING, LiveStatus.ON_AIR])
        .only("pk", "unit_id")
        .first()
    )
    if session is None:
        return False
    if not listen and query:
        from urllib.parse import parse_qs

        listen = (parse_qs(query).get("listen") or [""])[0]
    if not listen:
        return False
    try:
        user_id, session_id, *device_id = signing.loads(
            listen, salt=LISTEN_TOKEN_SALT, max_age=LISTEN_TOKEN_SECONDS
        )
    except (signing.BadSignature, ValueError, TypeError):
        return False
    if session_id != session.pk:
        return False
    from grassroots.accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if not user:
        return False
    if device_id:
        from grassroots.devices.models import Device

        seen = Device.objects.restrict(user, "devices.view").filter(pk=device_id[0])
        area = devices_under(list(session.area.all())).filter(pk=device_id[0])
        return seen.exists() and area.exists()
    return LiveSession.objects.restrict(user, "broadcast.view").filter(pk=session.pk).exists()


# --- the recording ----------------------------------------------------------------------------


@transaction.atomic
def archive_recording(session_id: int, path: Path) -> Any:
    """The recording of a session becomes an archived audio bulletin of the session's unit (its
    audio processed by the worker like any upload), for rebroadcast and inspection."""
    from grassroots.content.choices import BulletinKind, Status
    from grassroots.content.models import Bulletin, MediaAsset
    from grassroots.content.tasks import process_media

    session = LiveSession.objects.select_for_update().get(pk=session_id)
    if session.bulletin_id or not path.exists() or path.stat().st_size == 0:
        return session.bulletin
    incoming = Path(settings.MEDIA_ROOT) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    relative = f"incoming/live-{session.pk}-{secrets.token_hex(8)}.ogg"
    path.replace(Path(settings.MEDIA_ROOT) / relative)
    local = timezone.localtime(session.started_at or session.created_at)
    bulletin = Bulletin.objects.create(
        unit=session.unit,
        title=f"Phát trực tiếp: {session.title} ({local:%d/%m/%Y %H:%M})"[:300],
        kind=BulletinKind.AUDIO,
        priority=session.priority,
        status=Status.ARCHIVED,
        created_by=session.speaker,
    )
    bulletin.targets.set(session.area.all())
    asset = MediaAsset.objects.create(
        unit=session.unit,
        bulletin=bulletin,
        declared_kind=BulletinKind.AUDIO,
        original_name=f"live-{session.pk}.ogg",
        upload_path=relative,
        size=(Path(settings.MEDIA_ROOT) / relative).stat().st_size,
        created_by=session.speaker,
    )
    audit.record(
        bulletin, ChangeAction.CREATE, user=None, comment=f"recording of {session.live_id}"
    )
    session.bulletin = bulletin
    session.save(update_fields=["bulletin", "updated_at"])
    transaction.on_commit(lambda: process_media.enqueue(asset.pk))
    return bulletin
