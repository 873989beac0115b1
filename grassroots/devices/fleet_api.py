"""Fleet API: provisioning (authorise, enrol, revoke), live status and remote commands."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db.models import Count, Max, Q
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem, problem_response
from grassroots.units.text import fold
from grassroots_protocol import messages as wire

from . import faults as faults_text
from . import protocol, provisioning, remote
from .models import Device
from .models_fleet import DeviceEvent

router = Router(tags=["devices"])
PREFIX = "/devices"


class EnrolRequest(Schema):
    code: str = Field(..., min_length=4, max_length=20)


class EnrolResponse(Schema):
    device_id: int
    kind: str
    units: list[str]
    mqtt_url: str
    mqtt_ws_url: str
    mqtt_username: str
    mqtt_password: str
    token: str
    server_url: str
    trusted_keys: dict[str, str]


class AuthoriseResponse(Schema):
    device_id: int
    enrolment_code: str
    expires_at: datetime


class CommandRequest(Schema):
    type: Literal["stop", "volume.set", "power.set", "resync"]
    volume: int | None = Field(None, ge=0, le=100)
    power: Literal["on", "off"] | None = None


class CommandSent(Schema):
    id: str
    seq: int
    type: str
    topic: str


class FleetRow(Schema):
    id: int
    name: str
    kind: str
    unit_code: str
    unit_name: str
    enabled: bool
    enrolled: bool
    online: bool
    last_seen: datetime | None
    playing: str | None
    playing_since: datetime | None = None
    playing_priority: str | None = None
    volume: int | None
    latitude: float | None
    longitude: float | None
    faults: int = Field(description="faults not yet marked cleared")
    faults_total: int = 0
    last_fault: str | None = None
    last_fault_at: datetime | None = None
    clock_offset_s: float | None = None
    clock_note: str | None = None


class FleetFilter(Schema):
    unit: str | None = None
    kind: str | None = None
    online: bool | None = None
    limit: int = 1000


@router.post(
    "/enrol",
    auth=None,
    response=EnrolResponse,
    summary="Thiết bị đổi mã đăng ký lấy thông tin xác thực",
)
def enrol(request, data: EnrolRequest):
    """Wrong codes are limited per address (sliding window): codes are short enough to guess."""
    from grassroots.feedback import ratelimit

    ip = request.META.get("REMOTE_ADDR", "") or ""
    if ratelimit.blocked("enrol_miss", ip):
        return _too_many_enrolments(request)
    try:
        return provisioning.enrol(code=data.code, server_url=request.build_absolute_uri("/")[:-1])
    except Problem as exc:
        if exc.status == 404:
            ratelimit.hit("enrol_miss", ip)
        raise


def _too_many_enrolments(request):
    response = problem_response(
        429,
        "Đã nhập sai mã đăng ký thiết bị quá nhiều lần từ địa chỉ này. Hãy đợi một giờ, kiểm "
        "tra lại mã (hoặc xin quản trị viên cấp mã mới) rồi thử lại.",
        request=request,
    )
    response["Retry-After"] = "3600"
    return response


@router.post("/{device_id}/authorise", response=AuthoriseResponse, summary="Cấp phép thiết bị")
def authorise(request, device_id: int):
    require(request.user, "devices.manage")
    device = provisioning.device_in_scope(request.user, device_id, "devices.manage")
    cred, code = provisioning.authorise(user=request.user, device=device)
    return {"device_id": device.pk, "enrolment_code": code, "expires_at": cred.enrolment_expires_at}


@router.post("/{device_id}/revoke", response={204: None}, summary="Thu hồi quyền của thiết bị")
def revoke(request, device_id: int):
    require(request.user, "devices.manage")
    device = provisioning.device_in_scope(request.user, device_id, "devices.manage")
    provisioning.revoke(user=request.user, device=device)
    return Status(204, None)


@router.post("/{device_id}/commands", response=CommandSent, summary="Gửi lệnh tới thiết bị")
def send_command(request, device_id: int, data: CommandRequest):
    payload = remote.send_command(
        user=request.user,
        device_id=device_id,
        command_type=data.type,
        volume=data.volume,
        power=data.power,
    )
    topic = protocol.device_cmd_topic(device_id)
    return {"id": payload["id"], "seq": payload["seq"], "type": payload["type"], "topic": topic}


class ListenRead(Schema):
    """What a device airs now, as the console plays it (devices.listen)."""

    device: int
    device_name: str
    state: Literal["live", "file", "stream", "fm", "idle", "offline", "unknown"]
    message: str = Field("", description="why there is nothing to play (Vietnamese)")
    title: str = ""
    priority: str | None = None
    since: datetime | None = None
    url: str = Field("", description="what the browser opens (live: with a listen ticket)")
    offset_seconds: float | None = Field(
        None, description="file: seconds into `url` the device is at, as of `at`"
    )
    at: datetime


@router.get(
    "/{device_id}/listen",
    response=ListenRead,
    summary="Nghe đang phát: thiết bị đang phát gì và địa chỉ để nghe từ đúng vị trí",
)
def listen_in(request, device_id: int):
    from . import listen

    return listen.now_playing(request.user, device_id)


def fleet_rows(user, filters: FleetFilter) -> list[dict]:
    require(user, "devices.view")
    qs = Device.objects.restrict(user, "devices.view").select_related(
        "unit", "status", "credential"
    )
    if filters.unit:
        qs = qs.filter(unit__path__startswith=unit_path(user, filters.unit))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.online is not None:
        qs = (
            qs.filter(status__online=filters.online)
            if filters.online
            else qs.exclude(status__online=True)
        )
    # by commune, then device name, as a person reads a list (diacritics folded: "Đ" after "D")
    qs = qs.order_by("unit__name_folded", "unit__code", "name", "pk")
    devices = list(qs[: max(1, min(filters.limit, 10_000))])
    devices.sort(key=lambda d: (d.unit.name_folded, d.unit.code, fold(d.name), d.name, d.pk))
    counts = (
        DeviceEvent.objects.filter(device__in=devices, type="fault")
        .values("device_id")
        .annotate(n=Count("id"), open=Count("id", filter=Q(cleared_at__isnull=True)))
    )
    totals = {c["device_id"]: c["n"] for c in counts}
    faults = {c["device_id"]: c["open"] for c in counts}
    last_faults = _last_faults([d.pk for d in devices if faults.get(d.pk)])
    rows = []
    live_titles = _live_titles(devices)
    for d in devices:
        status = getattr(d, "status", None)
        state = (status.state if status else None) or {}
        cred = getattr(d, "credential", None)
        playing = _playing(state)
        if playing["playing"] in live_titles:  # an agent knows a live session by its live_id
            playing["playing"] = live_titles[playing["playing"]]
        clock = state.get("clock") if isinstance(state.get("clock"), dict) else {}
        fault = last_faults.get(d.pk)
        rows.append(
            {
                "id": d.pk,
                "name": d.name,
                "kind": d.kind,
                "unit_code": d.unit.code,
                "unit_name": d.unit.name,
                "enabled": d.enabled,
                "enrolled": bool(cred and cred.active),
                "online": bool(status and status.online),
                "last_seen": status.last_seen if status else None,
                **playing,
                "volume": state.get("volume", d.volume),
                "latitude": d.latitude if d.latitude is not None else d.unit.latitude,
                "longitude": d.longitude if d.longitude is not None else d.unit.longitude,
                "faults": faults.get(d.pk, 0),
                "faults_total": totals.get(d.pk, 0),
                "last_fault": faults_text.label(fault[0]) if fault else None,
                "last_fault_at": fault[1] if fault else None,
                "clock_offset_s": clock.get("offset_s"),
                "clock_note": clock_note(clock.get("offset_s")),
            }
        )
    return rows


PRIORITY_LABELS = {
    "normal": _("Thông thường"),
    "priority": _("Ưu tiên"),
    "emergency": _("Khẩn cấp"),
}


def _live_titles(devices) -> dict[str, str]:
    """{"live-<id>": title} of the live sessions the devices report playing (one query): the
    agent's state names a live session by its `live_id` only."""
    from grassroots.live.models import LiveSession

    ids = set()
    for d in devices:
        status = getattr(d, "status", None)
        playing = ((status.state if status else None) or {}).get("playing")
        if not isinstance(playing, dict) or playing.get("title"):
            continue
        item = playing.get("item_id")
        if isinstance(item, str) and item.startswith("live-") and item[5:].isdigit():
            ids.add(int(item[5:]))
    if not ids:
        return {}
    return {f"live-{pk}": title for pk, title in LiveSession.objects.filter(
        pk__in=ids).values_list("pk", "title")}  # fmt: skip


def _playing(state: dict) -> dict:
    """What a device plays, for a person: a title (or the item id), since when, and the Thông
    tư 39 priority, from the state report (grassroots_protocol.Playing; boards: `current`)."""
    playing = state.get("playing") or state.get("current")
    if not isinstance(playing, dict):
        return {"playing": None, "playing_since": None, "playing_priority": None}
    title = playing.get("title") or playing.get("item_id") or playing.get("id")
    since = playing.get("since")
    try:
        since = wire.parse_time(since) if since else None
    except ValueError:
        since = None
    priority = playing.get("priority")
    return {
        "playing": str(title) if title is not None else None,
        "playing_since": since,
        "playing_priority": str(PRIORITY_LABELS.get(priority, "")) or None,
    }


def clock_note(offset_s) -> str | None:
    """ "Đồng hồ chậm 3 giờ 5 phút" when a device's clock is off by more than a minute (offset
    is server − device, as the device reports it), else None."""
    if not isinstance(offset_s, int | float) or abs(offset_s) <= 60:
        return None
    minutes = round(abs(offset_s) / 60)
    hours, minutes = divmod(minutes, 60)
    amount = (f"{hours} giờ " if hours else "") + f"{minutes} phút"
    if offset_s > 0:
        return str(_("Đồng hồ thiết bị chậm %(amount)s") % {"amount": amount})
    return str(_("Đồng hồ thiết bị nhanh %(amount)s") % {"amount": amount})


def _last_faults(device_ids: list[int]) -> dict[int, tuple[str, datetime]]:
    """{device: (code, received at)} of each device's latest open fault (two queries)."""
    if not device_ids:
        return {}
    latest = (
        DeviceEvent.objects.filter(device_id__in=device_ids, type="fault", cleared_at__isnull=True)
        .values("device_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    out = {}
    for device_id, payload, at in DeviceEvent.objects.filter(pk__in=list(latest)).values_list(
        "device_id", "payload", "received_at"
    ):
        code = payload.get("code") if isinstance(payload, dict) else None
        out[device_id] = (str(code or "unknown"), at)
    return out


def unit_path(user, code: str) -> str:
    """The path of the unit `code` if it is in the user's devices.view scope (404 otherwise)."""
    from grassroots.units.api import get_unit

    return get_unit(user, code, action="devices.view").path


@router.get("/fleet/status", response=list[FleetRow], summary="Trạng thái các thiết bị")
def fleet(request, filters: Query[FleetFilter]):
    return fleet_rows(request.user, filters)
