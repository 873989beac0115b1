"""Live broadcast API: open a session, send the microphone's slices, stop; the Icecast hook."""

from __future__ import annotations

import base64
import hmac
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import field_validator

from grassroots.accounts.policies import require
from grassroots.core import icecast
from grassroots.core.errors import Problem, problem_response
from grassroots_protocol import messages as wire

from . import actions as live
from .models import LiveSession, LiveSource, LiveStatus, officer_label

router = Router(tags=["live"])
PREFIX = "/live"


NO_AREA = "Hãy chọn vùng phát (ít nhất một xã, phường)."


class LiveCreate(Schema):
    units: list[str] = Field(..., max_length=200)
    title: str = Field(..., description=f"1–{live.TITLE_MAX} characters once cleaned")
    priority: str = Field("normal", pattern="^(normal|priority|emergency)$")
    max_minutes: int = Field(30, ge=1, le=live.MAX_MINUTES)
    source: str = Field(
        "console",
        pattern="^(console|stream|fm)$",
        description="console: the microphone of this page; stream: relay `relay_source`; "
        "fm: each cluster's FM receiver on `frequency`",
    )
    relay_source: int | None = Field(None, description="a relay source id (GET /relay-sources)")
    frequency: float | None = Field(None, description="MHz, 64–108 (source fm)")

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        try:
            return live.check_title(value)
        except Problem as problem:
            raise ValueError(problem.detail) from None

    @field_validator("units")
    @classmethod
    def _some_area(cls, value: list[str]) -> list[str]:
        if not [c for c in value if c and c.strip()]:
            raise ValueError(NO_AREA)
        return value


class LiveEmergency(Schema):
    """An emergency (alerts.Emergency, console or CAP) on air over part of the session's area:
    its message sounds on those loudspeakers instead of the session (docs/live.md)."""

    id: int
    title: str
    units: list[str]
    expires_at: datetime
    message: str = Field(..., description="what the speaker is told, a Vietnamese sentence")


class LiveRead(Schema):
    id: int
    live_id: str
    title: str
    priority: str
    status: str
    status_label: str
    end_reason: str
    end_reason_label: str
    units: list[str]
    speaker: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    until: datetime
    expected_devices: int
    listen_url: str
    bulletin_id: int | None
    source: str
    source_label: str
    relay: str = Field("", description="the radio relayed, or the FM frequency")
    end_detail: str = Field(
        "",
        description="who ended it when that was not its speaker (an officer's stop, an "
        "emergency live session), a Vietnamese sentence",
    )
    stopped_by: str = Field("", description="the officer who stopped it: full name (unit)")
    emergency: LiveEmergency | None = Field(
        None, description="an emergency on air over the area while the session runs"
    )
    can_stop: bool = Field(False, description="whether this user may stop it")


def _read(request, s: LiveSession) -> dict:
    return {
        "id": s.pk,
        "live_id": s.live_id,
        "title": s.title,
        "priority": s.priority,
        "status": s.status,
        "status_label": s.status_text,
        "end_reason": s.end_reason,
        "end_reason_label": s.end_reason_text,
        "units": list(s.area.values_list("code", flat=True)),
        "speaker": (s.speaker.get_full_name() or s.speaker.username) if s.speaker else "",
        "created_at": s.created_at,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "until": s.until,
        "expected_devices": s.expected_devices,
        "listen_url": live.listen_url(request.user, s)
        if s.is_running and s.source != LiveSource.FM
        else "",
        "bulletin_id": s.bulletin_id,
        "source": s.source,
        "source_label": str(s.get_source_display()),
        "relay": relay_label(s),
        "end_detail": s.end_detail,
        "stopped_by": officer_label(s.stopped_by) if s.stopped_by_id else "",
        "emergency": live.emergency_notice(s),
        "can_stop": s.is_running and live.may_stop(request.user, s),
    }


def relay_label(s: LiveSession) -> str:
    """What is relayed, for a person: the radio's name, "FM 99.5 MHz", the station's cluster."""
    if s.source == LiveSource.FM:
        return f"FM {s.relay_frequency.normalize():f} MHz" if s.relay_frequency else "FM"
    if s.source == LiveSource.STREAM:
        return s.relay_source.name if s.relay_source else s.relay_url
    if s.source == LiveSource.DEVICE and s.source_device:
        return s.source_device.name
    return ""


@router.post("", response={201: LiveRead}, summary="Mở phiên phát trực tiếp")
def create(request, data: LiveCreate):
    s = live.start(
        user=request.user,
        unit_codes=data.units,
        title=data.title,
        priority=data.priority,
        max_minutes=data.max_minutes,
        source=data.source,
        relay_source=data.relay_source,
        frequency=data.frequency,
    )
    return Status(201, _read(request, s))


@router.get("", response=list[LiveRead], summary="Các phiên phát trực tiếp")
def list_(request, running: bool = False):
    require(request.user, "broadcast.view")
    qs = LiveSession.objects.restrict(request.user, "broadcast.view").select_related("speaker")
    if running:
        qs = qs.filter(status__in=[LiveStatus.WAITING, LiveStatus.ON_AIR])
    return [_read(request, s) for s in qs[:50]]


class SourceAccepted(Schema):
    received: int


# (before /{session_id}, which would take "device" for an id)
# --- a station controller's own microphone (device token) ---------------------------------


def _device_auth():
    from grassroots.devices.auth import DeviceTokenAuth

    return [DeviceTokenAuth()]


@router.post(
    "/device",
    response={201: wire.DeviceLiveAnswer},
    auth=_device_auth(),
    summary="Cụm loa chia sẻ micro tại đài cho các cụm loa khác của đơn vị (token thiết bị)",
)
def device_start(request, data: wire.DeviceLiveRequest):
    """grassroots_protocol.DeviceLiveRequest → DeviceLiveAnswer (docs/protocol/)."""
    device = request.device
    s = live.start_from_device(
        device, title=data.title, priority=data.priority, max_minutes=data.max_minutes
    )
    return Status(
        201,
        {
            "session": s.pk,
            "live_id": s.live_id,
            "source_url": f"/api/v1/live/device/{s.pk}/source",
            "stop_url": f"/api/v1/live/device/{s.pk}/stop",
            "until": s.until,
            "expected_devices": s.expected_devices,
        },
    )


@router.post(
    "/device/{session_id}/source",
    response=SourceAccepted,
    auth=_device_auth(),
    summary="Cụm loa gửi một đoạn âm thanh micro (Ogg/Opus, thân yêu cầu là dữ liệu nhị phân)",
)
def device_source(request, session_id: int, offset: int = 0):
    if offset < 0:
        raise Problem(422, "Vị trí đoạn âm thanh (offset) không được âm.")
    try:
        size = live.add_device_source(request.device, session_id, offset=offset, data=request.body)
    except live.LateSlice as late:
        response = problem_response(late.status, late.detail, request=request)
        response._has_been_logged = True
        return response
    return {"received": size}


@router.post(
    "/device/{session_id}/stop",
    response={204: None},
    auth=_device_auth(),
    summary="Cụm loa kết thúc phiên micro tại đài",
)
def device_stop(request, session_id: int):
    live.stop_from_device(request.device, session_id)
    return Status(204, None)


@router.get("/{session_id}", response=LiveRead, summary="Tình trạng phiên phát trực tiếp")
def detail(request, session_id: int):
    require(request.user, "broadcast.view")
    return _read(request, live.running_for(request.user, session_id))


@router.post(
    "/{session_id}/source",
    response=SourceAccepted,
    summary="Gửi một đoạn âm thanh micro (webm/Opus, thân yêu cầu là dữ liệu nhị phân)",
)
def source(request, session_id: int, offset: int = 0):
    require(request.user, "broadcast.view")
    if offset < 0:
        raise Problem(422, "Vị trí đoạn âm thanh (offset) không được âm.")
    try:
        size = live.add_source(
            user=request.user, session_id=session_id, offset=offset, data=request.body
        )
    except live.LateSlice as late:
        response = problem_response(late.status, late.detail, request=request)
        response._has_been_logged = True  # the tail racing the speaker's stop: no warning
        return response
    return {"received": size}


@router.post("/{session_id}/stop", response=LiveRead, summary="Kết thúc phiên phát trực tiếp")
def stop(request, session_id: int):
    return _read(request, live.stop(user=request.user, session_id=session_id))


def _hook_password() -> str:
    import os

    return os.environ.get("ICECAST_HOOK_PASSWORD") or icecast.hook_password(
        Path(settings.GRASSROOTS["HOME"])
    )


@router.post(
    "/icecast/listener",
    auth=None,
    include_in_schema=False,
    summary="Icecast: có cho người nghe này mở luồng không (url auth, listener_add)",
)
def icecast_listener(request):
    """Icecast's `listener_add`: `icecast-auth-user: 1` lets the listener in, anything else not."""
    given = request.headers.get("Authorization", "")
    expected = "Basic " + base64.b64encode(
        f"{icecast.HOOK_USER}:{_hook_password()}".encode()
    ).decode("ascii")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Problem(403, "Sai khoá của Icecast.")
    form = request.POST
    allowed = form.get("action") == "listener_add" and live.listener_allowed(
        mount=form.get("mount", ""),
        device_token=form.get(f"header.{icecast.TOKEN_HEADER.lower()}", ""),
    )
    response = HttpResponse(status=200)
    if allowed:
        response["icecast-auth-user"] = "1"
    else:
        response["icecast-auth-message"] = "not allowed"
    return response
