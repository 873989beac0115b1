"""E-boards API: pairing, the signed board manifest, media, heartbeat, proofs, screenshots,
layouts, playlists and coverage."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status

from grassroots.accounts.policies import require
from grassroots.core import signing
from grassroots.core.errors import Problem, problem_response
from grassroots.units.models import Unit
from grassroots_protocol import format_time
from grassroots_protocol import messages as wire

from . import actions, manifests
from .auth import BOARD_AUTH, BOARD_OR_USER
from .coverage import coverage
from .models import Board, DisplayProof, Layout, Playlist
from .querysets import display_report, is_online
from .schemas import (
    BoardRead,
    BoardUpdate,
    LayoutIn,
    LayoutRead,
    PairIn,
    PairingClaimIn,
    PairingStart,
    PlaylistIn,
    PlaylistRead,
    ProofsAccepted,
)

PREFIX = "/"
router = Router(tags=["signage"])
SHA_EXT = re.compile(r"^([0-9a-f]{64})\.([a-z0-9]{1,5})$")


def board_read(board: Board) -> dict:
    d = board.device
    return {
        "device": d.pk,
        "name": d.name,
        "unit_code": d.unit.code,
        "unit_name": d.unit.name,
        "paired": board.is_paired,
        "online": is_online(board),
        "last_seen_at": board.last_seen_at,
        "current_item": board.current_item,
        "layout": board.layout_id,
        "screenshot_at": board.screenshot_at,
    }


def _own_board(request, device_id: int) -> Board:
    """The calling board itself; any other id is 404."""
    board = getattr(request, "board", None)
    if board is None or board.device_id != device_id:
        raise Http404
    return board


def _board_for(request, device_id: int, permission: str = actions.VIEW) -> Board:
    """The calling board, or a board the calling user may see."""
    if getattr(request, "board", None) is not None:
        return _own_board(request, device_id)
    require(request.user, permission)
    return get_object_or_404(
        Board.objects.restrict(request.user, permission).select_related("device", "device__unit"),
        pk=device_id,
    )


def _unit(user, code: str | None, permission: str = actions.MANAGE) -> Unit:
    if not code:
        raise Problem(422, "Hãy ghi mã đơn vị ('unit').")
    unit = Unit.objects.current().filter(code=code).first()
    if unit is None or not Unit.objects.restrict(user, permission).filter(pk=unit.pk).exists():
        raise Http404
    return unit


# --- pairing ---------------------------------------------------------------------------------


@router.post(
    "/boards/pairing", auth=None, response={201: PairingStart}, summary="Bảng tin xin mã ghép nối"
)
def pairing_start(request):
    try:
        pairing, secret = actions.start_pairing(client_ip=request.META.get("REMOTE_ADDR"))
    except actions.TooManyCodes as exc:
        response = problem_response(
            exc.status, exc.detail, request=request, retry_after=exc.retry_after
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    return Status(
        201,
        {
            "code": pairing.code,
            "display": actions.display_code(pairing.code),
            "secret": secret,
            "expires_at": format_time(pairing.expires_at),
            # The board judges the code by the server's clock, not its own (issue 12).
            "server_time": format_time(timezone.now()),
            "poll_seconds": 2,
        },
    )


@router.post(
    "/boards/pairing/claim",
    auth=None,
    response={200: dict, 202: dict},
    summary="Bảng tin nhận thông tin xác thực sau khi mã được duyệt",
)
def pairing_claim(request, data: PairingClaimIn):
    result = actions.claim_pairing(code=data.code, secret=data.secret)
    if result is None:
        return Status(
            202,
            {
                "status": "waiting",
                "detail": "Đang chờ cán bộ nhập mã trên hệ thống.",
                "server_time": format_time(timezone.now()),
            },
        )
    result["keys"] = signing.published_keys()
    result["server_time"] = format_time(timezone.now())
    return Status(200, result)


@router.post("/boards/pair", response={201: BoardRead}, summary="Ghép nối bảng tin bằng mã")
def pair(request, data: PairIn):
    from grassroots.devices.models import Device

    require(request.user, actions.MANAGE)
    device = None
    unit = None
    if data.device:
        device = get_object_or_404(
            Device.objects.restrict(request.user, actions.MANAGE), pk=data.device
        )
    else:
        unit = _unit(request.user, data.unit)
    device = actions.approve_pairing(
        user=request.user, code=data.code, device=device, unit=unit, name=data.name
    )
    return Status(201, board_read(Board.objects.select_related("device__unit").get(pk=device.pk)))


# --- what the board reads --------------------------------------------------------------------


@router.get(
    "/boards/{device_id}/manifest",
    auth=BOARD_OR_USER,
    response={200: dict, 304: None},
    summary="Lịch hiển thị đã ký của bảng tin (ETag/304)",
)
def manifest(request, device_id: int):
    board = _board_for(request, device_id)
    body, etag = manifests.manifest_for(board)
    quoted = f'"{etag}"'
    if quoted in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = quoted
    response["Cache-Control"] = "private, no-cache"
    return response


@router.get("/boards/{device_id}/config", auth=BOARD_AUTH, summary="Cấu hình kết nối của bảng tin")
def config(request, device_id: int):
    board = _own_board(request, device_id)
    unit = board.device.unit
    return {
        "device": board.device_id,
        "name": board.device.name,
        "unit": unit.code,
        "chain": [u.code for u in unit.ancestors(include_self=True)],
        "mqtt_url": settings.MQTT_WS_URL,
        "mqtt_username": board.mqtt_username,
        "keys": signing.published_keys(),
    }


@router.get("/boards/{device_id}/media/{name}", auth=BOARD_OR_USER, summary="Tệp của bảng tin")
def media(request, device_id: int, name: str):
    from grassroots.content.media.store import relative_path

    board = _board_for(request, device_id)
    match = SHA_EXT.match(name)
    if not match:
        raise Http404
    sha, ext = match.groups()
    body = board.manifest_body or manifests.manifest_for(board)[0]
    if sha not in manifests.media_shas(body):
        raise Http404
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative_path(sha, ext)).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"))
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- what the board reports ------------------------------------------------------------------


@router.post("/boards/{device_id}/state", auth=BOARD_AUTH, summary="Nhịp tim của bảng tin (HTTP)")
def state(request, device_id: int, data: wire.State):
    """The same state report as on MQTT (grassroots_protocol.State), for boards without push."""
    board = _own_board(request, device_id)
    actions.record_state(board=board, state=data.wire(), via="http")
    return {"ok": True}


@router.post(
    "/boards/{device_id}/proofs",
    auth=BOARD_AUTH,
    response=ProofsAccepted,
    summary="Bảng tin gửi nhật ký hiển thị",
)
def proofs(request, device_id: int, data: wire.DisplayProofUpload):
    """The body is the protocol's (grassroots_protocol.DisplayProofUpload); each entry is
    checked on its own (docs/protocol/display-proof.schema.json)."""
    board = _own_board(request, device_id)
    accepted, rejected = actions.record_proofs(board=board, entries=data.entries)
    return {"accepted": accepted, "rejected": rejected}


@router.post("/boards/{device_id}/screenshot", auth=BOARD_AUTH, summary="Bảng tin gửi ảnh màn hình")
def screenshot_upload(request, device_id: int):
    board = _own_board(request, device_id)
    actions.store_screenshot(board=board, data=request.body)
    return {"ok": True}


# --- console ---------------------------------------------------------------------------------


@router.get("/boards", response=list[BoardRead], summary="Bảng tin điện tử trong phạm vi")
def list_boards(request, unit: str | None = None):
    require(request.user, actions.VIEW)
    qs = Board.objects.restrict(request.user, actions.VIEW).select_related("device__unit")
    if unit:
        qs = qs.filter(device__unit__path__startswith=_unit(request.user, unit, actions.VIEW).path)
    return [board_read(b) for b in qs.order_by("device__unit__path", "device__name")[:2000]]


@router.patch("/boards/{device_id}", response=BoardRead, summary="Đặt bố cục của bảng tin")
def update_board(request, device_id: int, data: BoardUpdate):
    board = _board_for(request, device_id, actions.MANAGE)
    actions.configure_board(user=request.user, board=board, data=data.dict(exclude_unset=True))
    return board_read(Board.objects.select_related("device__unit").get(pk=device_id))


@router.post("/boards/{device_id}/revoke", response=BoardRead, summary="Thu hồi bảng tin")
def revoke(request, device_id: int):
    board = _board_for(request, device_id, actions.MANAGE)
    actions.revoke(user=request.user, board=board)
    return board_read(Board.objects.select_related("device__unit").get(pk=device_id))


@router.post(
    "/boards/{device_id}/screenshot-request",
    response={202: dict},
    summary="Yêu cầu bảng tin chụp màn hình",
)
def screenshot_request(request, device_id: int):
    board = _board_for(request, device_id, actions.MANAGE)
    return Status(202, {"request": actions.request_screenshot(user=request.user, board=board)})


@router.get("/boards/{device_id}/screenshot", summary="Ảnh màn hình mới nhất của bảng tin")
def screenshot(request, device_id: int):
    board = _board_for(request, device_id)
    if not board.screenshot:
        raise Problem(404, "Bảng tin chưa gửi ảnh màn hình nào; hãy bấm 'Chụp màn hình'.")
    path = Path(settings.MEDIA_ROOT) / board.screenshot
    if not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@router.get("/signage/coverage", summary="Độ phủ bảng tin điện tử theo đơn vị")
def coverage_view(request, unit: str | None = None):
    require(request.user, actions.VIEW)
    root = _unit(request.user, unit, actions.VIEW) if unit else None
    if root is None and not request.user.is_superuser:
        from grassroots.accounts.scope import scope_paths

        paths = scope_paths(request.user, actions.VIEW)
        root = Unit.objects.filter(path=min(paths, key=len)).first() if paths else None
    return coverage(root).as_dict()


@router.get("/signage/display-report", summary="Thống kê hiển thị (proof of display)")
def display_report_view(request, bulletin: int | None = None):
    require(request.user, actions.VIEW)
    qs = DisplayProof.objects.restrict(request.user, actions.VIEW)
    if bulletin:
        qs = qs.filter(bulletin_id=bulletin)
    return display_report(qs)


def layout_read(layout: Layout) -> dict:
    return {
        "id": layout.pk,
        "unit_code": layout.unit.code,
        "name": layout.name,
        "kind": layout.kind,
        "show_clock": layout.show_clock,
        "show_unit_name": layout.show_unit_name,
        "ticker_text": layout.ticker_text,
        "text_scale": layout.text_scale,
        "default_duration": layout.default_duration,
    }


@router.get("/signage/layouts", response=list[LayoutRead], summary="Bố cục bảng tin")
def list_layouts(request):
    require(request.user, actions.VIEW)
    qs = Layout.objects.restrict(request.user, actions.VIEW).select_related("unit")
    return [layout_read(x) for x in qs[:500]]


@router.post("/signage/layouts", response={201: LayoutRead}, summary="Tạo bố cục")
def create_layout(request, data: LayoutIn):
    require(request.user, actions.MANAGE)
    unit = _unit(request.user, data.unit)
    layout = actions.save_layout(user=request.user, unit=unit, data=data.dict(exclude_unset=True))
    return Status(201, layout_read(layout))


@router.put("/signage/layouts/{layout_id}", response=LayoutRead, summary="Sửa bố cục")
def update_layout(request, layout_id: int, data: LayoutIn):
    require(request.user, actions.MANAGE)
    layout = get_object_or_404(
        Layout.objects.restrict(request.user, actions.MANAGE).select_related("unit"), pk=layout_id
    )
    payload = data.dict(exclude_unset=True)
    payload.pop("unit", None)  # a layout stays with the unit that made it
    layout = actions.save_layout(user=request.user, unit=layout.unit, data=payload, layout=layout)
    return layout_read(layout)


@router.delete(
    "/signage/layouts/{layout_id}",
    response={204: None},
    summary="Xoá bố cục",
    description="Bố cục đang dùng (bảng tin đã chọn nó, hoặc lấy nó làm mặc định của đơn vị) "
    "chỉ xoá được với `detach=true`: các bảng tin đó về bố cục mặc định. Không có `detach`: "
    "409, `boards` liệt kê các bảng tin.",
)
def delete_layout(request, layout_id: int, detach: bool = False):
    require(request.user, actions.MANAGE)
    layout = get_object_or_404(
        Layout.objects.restrict(request.user, actions.MANAGE).select_related("unit"), pk=layout_id
    )
    try:
        actions.delete_layout(user=request.user, layout=layout, detach=detach)
    except actions.LayoutInUse as exc:
        raise Problem(
            409, " ".join(exc.messages), boards=[b.device_id for b in exc.boards]
        ) from None
    return Status(204, None)


def playlist_read(p: Playlist) -> dict:
    return {
        "id": p.pk,
        "unit_code": p.unit.code,
        "name": p.name,
        "active": p.active,
        "weekdays": p.weekdays,
        "start_time": p.start_time,
        "end_time": p.end_time,
        "valid_from": p.valid_from,
        "valid_until": p.valid_until,
        "order": p.order,
        "boards": list(p.boards.values_list("pk", flat=True)),
        "items": [
            {
                "bulletin": i.bulletin_id,
                "title": i.bulletin.title,
                "duration": i.duration,
                "allow_sound": i.allow_sound,
            }
            for i in p.items.select_related("bulletin")
        ],
    }


@router.get("/signage/playlists", response=list[PlaylistRead], summary="Danh sách hiển thị")
def list_playlists(request):
    require(request.user, actions.VIEW)
    qs = Playlist.objects.restrict(request.user, actions.VIEW).select_related("unit")
    return [playlist_read(p) for p in qs[:500]]


@router.post("/signage/playlists", response={201: PlaylistRead}, summary="Tạo danh sách hiển thị")
def create_playlist(request, data: PlaylistIn):
    require(request.user, actions.MANAGE)
    unit = _unit(request.user, data.unit)
    payload = data.dict(exclude_unset=True)
    if "items" in payload and payload["items"] is not None:
        payload["items"] = [i.dict() for i in data.items]
    with transaction.atomic():
        playlist = actions.save_playlist(user=request.user, unit=unit, data=payload)
    return Status(201, playlist_read(playlist))


@router.put(
    "/signage/playlists/{playlist_id}", response=PlaylistRead, summary="Sửa danh sách hiển thị"
)
def update_playlist(request, playlist_id: int, data: PlaylistIn):
    require(request.user, actions.MANAGE)
    playlist = get_object_or_404(
        Playlist.objects.restrict(request.user, actions.MANAGE), pk=playlist_id
    )
    payload = data.dict(exclude_unset=True)
    payload.pop("unit", None)
    if data.items is not None:
        payload["items"] = [i.dict() for i in data.items]
    playlist = actions.save_playlist(
        user=request.user, unit=playlist.unit, data=payload, playlist=playlist
    )
    return playlist_read(playlist)
