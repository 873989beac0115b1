"""Business rules of e-boards: pairing, credentials, layouts and playlists, state, proofs.

Every mutation checks permission, writes, audits, and leaves MQTT work to the outbox.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError

from grassroots.accounts.policies import require, require_on
from grassroots.accounts.scope import covers
from grassroots.core import audit, broker
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots.core.text import clean_text
from grassroots.devices import protocol
from grassroots.devices.choices import DeviceKind, Technology
from grassroots.devices.models import Device
from grassroots.units.models import Unit
from grassroots_protocol import messages as wire

from .models import Board, DisplayProof, Layout, PairingCode, Playlist, PlaylistItem

MANAGE = "signage.manage"
VIEW = "signage.view"
# Short, unambiguous for a person reading a screen and typing (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
PAIRING_TTL = timedelta(minutes=15)
MAX_OPEN_CODES_PER_IP = 20
SCREENSHOT_MAX_BYTES = 3 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PROOFS = 500


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def display_code(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"


# --- pairing ---------------------------------------------------------------------------------


class TooManyCodes(Problem):
    """429: this address holds too many open codes; `retry_after` is when the first one expires."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            429,
            f"Quá nhiều mã ghép nối đang chờ từ địa chỉ này; hãy thử lại sau {minutes} phút.",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


def start_pairing(*, client_ip: str | None = None) -> tuple[PairingCode, str]:
    """A new board asks to be paired: a one-time code for the screen and a secret to claim it."""
    now = timezone.now()
    PairingCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    if client_ip:
        open_codes = PairingCode.objects.filter(
            client_ip=client_ip, expires_at__gt=now, claimed_at__isnull=True
        ).order_by("expires_at")
        if open_codes.count() >= MAX_OPEN_CODES_PER_IP:
            # A slot frees up when the oldest open code expires: say when, so boards wait.
            first = open_codes.values_list("expires_at", flat=True)[0]
            raise TooManyCodes(max(1, int((first - now).total_seconds()) + 1))
    secret = secrets.token_urlsafe(32)
    for _attempt in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not PairingCode.objects.filter(code=code).exists():
            break
    pairing = PairingCode.objects.create(
        code=code,
        secret_hash=hash_secret(secret),
        expires_at=now + PAIRING_TTL,
        client_ip=client_ip,
    )
    return pairing, secret


def _board_unit(user, unit_code: str) -> Unit:
    unit = Unit.objects.current().filter(code=unit_code).first()
    if unit is None or not covers(user, MANAGE, unit):
        raise Http404
    return unit


@transaction.atomic
def approve_pairing(
    *,
    user,
    code: str,
    device: Device | None = None,
    unit: Unit | None = None,
    name: str = "",
) -> Device:
    """An operator binds the code on a screen to a board of their unit (or a new board there)."""
    require(user, MANAGE)
    pairing = (
        PairingCode.objects.select_for_update()
        .filter(code=normalize_code(code), expires_at__gt=timezone.now(), claimed_at__isnull=True)
        .first()
    )
    if pairing is None or pairing.approved_at:
        raise ValidationError(
            {
                "code": "Mã ghép nối không đúng hoặc đã hết hạn. Hãy xem lại mã trên màn hình "
                "bảng tin (tải lại trang /board/ để lấy mã mới)."
            }
        )
    if device is None:
        if unit is None:
            raise ValidationError({"unit": "Hãy chọn đơn vị đặt bảng tin mới."})
        require_on(user, MANAGE, unit)
        name = (name or "").strip()[:200] or f"Bảng tin {unit.name}"
        device = Device.objects.create(
            kind=DeviceKind.BOARD,
            unit=unit,
            name=name,
            serial=f"BOARD-{uuid.uuid4().hex[:12].upper()}",
            technology=Technology.IP_4G,
        )
        audit.record(device, ChangeAction.CREATE, user=user, comment="Tạo khi ghép nối bảng tin")
    if device.kind != DeviceKind.BOARD:
        raise ValidationError({"device": "Thiết bị này không phải bảng tin điện tử."})
    if not Device.objects.restrict(user, MANAGE).filter(pk=device.pk).exists():
        raise Http404
    pairing.device = device
    pairing.approved_by = user
    pairing.approved_at = timezone.now()
    pairing.save(update_fields=["device", "approved_by", "approved_at"])
    board, _ = Board.objects.get_or_create(device=device)
    audit.record(board, ChangeAction.UPDATE, user=user, comment=f"Duyệt mã ghép nối {pairing.code}")
    return device


@transaction.atomic
def claim_pairing(*, code: str, secret: str) -> dict[str, Any] | None:
    """The board collects its credential once the code is approved (None while it waits).

    The token and the broker password are returned this once and stored only as hashes; an
    earlier credential of the same board stops working.
    """
    pairing = (
        PairingCode.objects.select_for_update(of=("self",))
        .select_related("device", "device__unit")
        .filter(code=normalize_code(code))
        .first()
    )
    if pairing is None or not secrets.compare_digest(pairing.secret_hash, hash_secret(secret)):
        raise Problem(404, "Không có yêu cầu ghép nối này; hãy tải lại trang để lấy mã mới.")
    if pairing.claimed_at:
        raise Problem(410, "Mã ghép nối đã được dùng; hãy tải lại trang để lấy mã mới.")
    if pairing.approved_at is None:
        if pairing.expires_at <= timezone.now():
            raise Problem(410, "Mã ghép nối đã hết hạn; hãy tải lại trang để lấy mã mới.")
        return None
    token = "gbt_" + secrets.token_urlsafe(32)
    mqtt_password = secrets.token_urlsafe(24)
    board = Board.objects.select_for_update().get(device=pairing.device)
    before = audit.snapshot(board)
    board.token_hash = hash_secret(token)
    board.mqtt_password_hash = broker.password_hash(mqtt_password)
    board.paired_at = timezone.now()
    board.paired_by = pairing.approved_by
    board.revoked_at = None
    board.manifest_body = ""
    board.save()
    pairing.claimed_at = timezone.now()
    pairing.save(update_fields=["claimed_at"])
    audit.record(board, ChangeAction.UPDATE, user=pairing.approved_by, before=before,
                 comment="Bảng tin nhận thông tin xác thực")  # fmt: skip
    transaction.on_commit(sync_broker)
    device = pairing.device
    return {
        "device": device.pk,
        "name": device.name,
        "unit": device.unit.code,
        "token": token,
        "mqtt": {
            "url": settings.MQTT_WS_URL,
            "username": board.mqtt_username,
            "password": mqtt_password,
        },
    }


@transaction.atomic
def revoke(*, user, board: Board) -> Board:
    """Cut a board off: its token and broker login stop working at once."""
    require(user, MANAGE)
    board = Board.objects.restrict(user, MANAGE).select_for_update().filter(pk=board.pk).first()
    if board is None:
        raise Http404
    before = audit.snapshot(board)
    board.token_hash = None
    board.mqtt_password_hash = ""
    board.revoked_at = timezone.now()
    board.save()
    audit.record(board, ChangeAction.UPDATE, user=user, before=before, comment="Thu hồi bảng tin")
    transaction.on_commit(sync_broker)
    return board


def sync_broker() -> None:
    """Rewrite the private broker's logins (a local file write and SIGHUP, no network)."""
    broker.sync()


def authenticate(token: str) -> Board | None:
    """The paired board holding this bearer token, if any."""
    if not token or not token.startswith("gbt_"):
        return None
    return (
        Board.objects.select_related("device", "device__unit")
        .filter(token_hash=hash_secret(token), revoked_at__isnull=True, device__enabled=True)
        .first()
    )


# --- push ------------------------------------------------------------------------------------


def boards_under(unit_paths: list[str]):
    """Paired boards in these subtrees."""
    from django.db.models import Q

    q = Q()
    for path in unit_paths:
        q |= Q(device__unit__path__startswith=path)
    return Board.objects.filter(q, token_hash__isnull=False, revoked_at__isnull=True)


def notify_units(units: list[Unit], *, reason: str = "") -> int:
    """Tell the boards under these units that their manifest changed (one signed command).

    Called inside the changing transaction: the command commits with the change (outbox).
    """
    units = [u for u in units if u is not None]
    if not units or not boards_under([u.path for u in units]).exists():
        return 0
    codes = sorted({u.code for u in units})
    protocol.send_to_units(codes, protocol.CommandType.MANIFEST_UPDATED, {"reason": reason[:100]})
    return len(codes)


def notify_board(board: Board, *, reason: str = "") -> None:
    if board.is_paired:
        protocol.send_to_device(
            board.device_id, protocol.CommandType.MANIFEST_UPDATED, {"reason": reason[:100]}
        )


# --- layouts and playlists -------------------------------------------------------------------


def _scoped_unit(user, unit: Unit) -> None:
    require(user, MANAGE)
    if not covers(user, MANAGE, unit):
        raise Http404


LAYOUT_FIELDS = (
    "name", "kind", "show_clock", "show_unit_name", "ticker_text", "text_scale", "default_duration",
)  # fmt: skip
PLAYLIST_FIELDS = (
    "name", "active", "weekdays", "start_time", "end_time", "valid_from", "valid_until", "order",
)  # fmt: skip


def _clean(obj, exclude=()) -> None:
    obj.full_clean(exclude=list(exclude))


@transaction.atomic
def save_layout(*, user, unit: Unit, data: dict, layout: Layout | None = None) -> Layout:
    """Create or change a layout of a unit; its boards are told to refresh."""
    _scoped_unit(user, unit if layout is None else layout.unit)
    before = audit.snapshot(layout) if layout else None
    layout = layout or Layout(unit=unit)
    for key in LAYOUT_FIELDS:
        if key in data and data[key] is not None:
            value = data[key]
            setattr(layout, key, clean_text(value).strip() if isinstance(value, str) else value)
    _clean(layout)
    layout.save()
    audit.record(layout, ChangeAction.UPDATE if before else ChangeAction.CREATE, user=user,
                 before=before)  # fmt: skip
    notify_units([layout.unit], reason="layout")
    return layout


def boards_using(layout: Layout) -> list[Board]:
    """The boards this layout arranges, each with `.chosen`: True when it was chosen on the
    board, False when the board has none and takes it as its unit's default (the layout of the
    nearest unit up its chain, lowest id first: `manifests._layout_for`). Ordered by name."""
    boards = list(
        Board.objects.filter(device__unit__path__startswith=layout.unit.path)
        .filter(Q(layout=layout) | Q(layout__isnull=True))
        .select_related("device", "device__unit")
        .order_by("device__name")
    )
    if not boards:
        return []
    unit_ids = {int(p) for b in boards for p in b.device.unit.path.strip("/").split("/") if p}
    default_of: dict[int, int] = {}
    for unit_id, pk in (
        Layout.objects.filter(unit_id__in=unit_ids).order_by("-pk").values_list("unit_id", "pk")
    ):
        default_of[unit_id] = pk  # the lowest id wins (rows come highest first)
    out = []
    for board in boards:
        if board.layout_id == layout.pk:
            board.chosen = True
        else:
            chain_ids = [int(p) for p in board.device.unit.path.strip("/").split("/") if p]
            nearest = next((default_of[u] for u in reversed(chain_ids) if u in default_of), None)
            if nearest != layout.pk:
                continue
            board.chosen = False
        out.append(board)
    return out


class LayoutInUse(ValidationError):
    """The layout arranges some boards; deleting it needs `detach=True`. `.boards` lists them."""

    def __init__(self, layout: Layout, boards: list[Board]):
        names = ", ".join(
            f"{b.device.name} ({b.device.unit.name}"
            + ("" if getattr(b, "chosen", True) else ", dùng làm mặc định của đơn vị")
            + ")"
            for b in boards[:10]
        )
        more = f" và {len(boards) - 10} bảng tin khác" if len(boards) > 10 else ""
        super().__init__(
            {
                "layout": f"Bố cục '{layout.name}' đang dùng cho {len(boards)} bảng tin: "
                f"{names}{more}. Hãy xác nhận để các bảng tin này về bố cục mặc định, "
                "hoặc chọn bố cục khác cho chúng trước."
            }
        )
        self.boards = boards


@transaction.atomic
def delete_layout(*, user, layout: Layout, detach: bool = False) -> list[Board]:
    """Delete a layout. One in use (`boards_using`) is never deleted silently: without
    `detach` it raises LayoutInUse naming the boards; with it, boards that chose it go back to
    their unit's default (an audit row each), and every board under the unit is told to
    refresh. Returns the boards it arranged. 403 without signage.manage, 404 outside scope."""
    _scoped_unit(user, layout.unit)
    boards = boards_using(layout)
    if boards and not detach:
        raise LayoutInUse(layout, boards)
    for board in boards:
        if not board.chosen:
            continue
        before = audit.snapshot(board)
        board.layout = None
        board.save(update_fields=["layout"])
        audit.record(board, ChangeAction.UPDATE, user=user, before=before,
                     comment=f"bố cục '{layout.name}' bị xoá: về bố cục mặc định")  # fmt: skip
    audit.record(layout, ChangeAction.DELETE, user=user, before=audit.snapshot(layout))
    unit = layout.unit
    layout.delete()
    notify_units([unit], reason="layout")  # through the outbox: sent only if this commits
    return boards


def _check_weekdays(days) -> list[int]:
    try:
        out = sorted({int(d) for d in days or []})
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            {"weekdays": "Ngày trong tuần là số 0 (thứ Hai) … 6 (Chủ nhật)."}
        ) from exc
    if any(d < 0 or d > 6 for d in out):
        raise ValidationError({"weekdays": "Ngày trong tuần là số 0 (thứ Hai) … 6 (Chủ nhật)."})
    return out


def _bulletin_for(user, unit: Unit, bulletin_id: int):
    """A bulletin the unit may show: approved or published, owned in its chain or shared to it."""
    from grassroots.content.choices import Status
    from grassroots.content.models import Bulletin

    from .manifests import for_units

    chain_ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    bulletin = (
        Bulletin.objects.visible_to(user).filter(for_units(chain_ids), pk=bulletin_id).first()
    )
    if bulletin is None:
        raise ValidationError(
            {
                "items": f"Không tìm thấy bản tin số {bulletin_id} trong các bản tin mà "
                f"{unit.name} được hiện (của đơn vị, cấp trên, hoặc được chia sẻ xuống)."
            }
        )
    if bulletin.status not in (Status.APPROVED, Status.PUBLISHED) or not (
        bulletin.approved_revision_id
    ):
        raise ValidationError(
            {
                "items": f"Bản tin '{bulletin.title}' chưa được duyệt; "
                "chỉ hiện được bản tin đã duyệt."
            }
        )
    return bulletin


@transaction.atomic
def save_playlist(*, user, unit: Unit, data: dict, playlist: Playlist | None = None) -> Playlist:
    """Create or change a playlist: fields, targeted boards and items (bulletin, duration)."""
    _scoped_unit(user, unit if playlist is None else playlist.unit)
    before = audit.snapshot(playlist) if playlist else None
    playlist = playlist or Playlist(unit=unit)
    for key in PLAYLIST_FIELDS:
        if key in data and data[key] is not None:
            setattr(playlist, key, data[key])
    playlist.weekdays = _check_weekdays(playlist.weekdays)
    if playlist.valid_from and playlist.valid_until and playlist.valid_until <= playlist.valid_from:
        raise ValidationError({"valid_until": "Thời điểm kết thúc phải sau thời điểm bắt đầu."})
    _clean(playlist, exclude=["weekdays"])
    playlist.save()
    if data.get("boards") is not None:
        boards = list(
            Device.objects.restrict(user, MANAGE).filter(
                pk__in=data["boards"],
                kind=DeviceKind.BOARD,
                unit__path__startswith=playlist.unit.path,
            )
        )
        if len(boards) != len(set(data["boards"])):
            raise ValidationError({"boards": "Có bảng tin không thuộc đơn vị của danh sách này."})
        playlist.boards.set(boards)
    if data.get("items") is not None:
        playlist.items.all().delete()
        for position, raw in enumerate(data["items"]):
            bulletin = _bulletin_for(user, playlist.unit, int(raw["bulletin"]))
            item = PlaylistItem(
                playlist=playlist,
                bulletin=bulletin,
                position=position,
                duration=raw.get("duration") or None,
                allow_sound=bool(raw.get("allow_sound")),
            )
            _clean(item, exclude=["playlist", "bulletin"])
            item.save()
    audit.record(playlist, ChangeAction.UPDATE if before else ChangeAction.CREATE, user=user,
                 before=before)  # fmt: skip
    if not Playlist.objects.restrict(user, MANAGE).filter(pk=playlist.pk).exists():
        raise Http404
    notify_units([playlist.unit], reason="playlist")
    return playlist


@transaction.atomic
def configure_board(*, user, board: Board, data: dict) -> Board:
    """Choose a board's layout and whether it shows its unit's bulletins by itself."""
    require(user, MANAGE)
    if not Board.objects.restrict(user, MANAGE).filter(pk=board.pk).exists():
        raise Http404
    before = audit.snapshot(board)
    if "layout" in data:
        layout = None
        if data["layout"]:
            layout = Layout.objects.restrict(user, VIEW).filter(pk=data["layout"]).first()
            unit_ids = [u.pk for u in board.device.unit.ancestors(include_self=True)]
            if layout is None or layout.unit_id not in unit_ids:
                raise ValidationError({"layout": "Bố cục không dùng được cho bảng tin này."})
        board.layout = layout
    if "auto_unit_bulletins" in data:
        board.auto_unit_bulletins = bool(data["auto_unit_bulletins"])
    board.save()
    audit.record(board, ChangeAction.UPDATE, user=user, before=before)
    notify_board(board, reason="config")
    return board


# --- state, proofs, screenshots --------------------------------------------------------------


def record_state(*, board: Board, state: dict, via: str = "http") -> Board:
    """A heartbeat: online, what is on screen now (MQTT retained state or the HTTP fallback)."""
    status = str(state.get("status") or "online")[:20]
    if state.get("online") is False:  # the last will, in the devices app's form too
        status = "offline"
    current = state.get("current") or {}
    title = current.get("title") if isinstance(current, dict) else ""
    emergency = state.get("emergency")
    shown = f"KHẨN CẤP: {emergency.get('title', '')}" if isinstance(emergency, dict) else title
    keep = {
        k: state.get(k)
        for k in (
            "status",
            "current",
            "emergency",
            "manifest_etag",
            "items",
            "version",
            "verify",
            "clock",
        )
        if k in state
    }
    if "clock" in keep:
        # how far the board's clock is off (protocol ClockInfo); anything else is not kept
        try:
            keep["clock"] = wire.ClockInfo.model_validate(keep["clock"]).wire()
        except PydanticValidationError:
            del keep["clock"]
    keep["via"] = via
    Board.objects.filter(pk=board.pk).update(
        last_seen_at=timezone.now(),
        reported_online=status != "offline",
        state=keep,
        current_item=str(shown or "")[:300],
    )
    return board


def record_proofs(*, board: Board, entries: list[dict]) -> tuple[list[str], list[dict]]:
    """Store proof-of-display entries; an id already stored for this board is accepted again."""
    from grassroots.content.models import BulletinRevision

    accepted: list[str] = []
    rejected: list[dict] = []
    rows: list[DisplayProof] = []
    for raw in entries[:MAX_PROOFS]:
        try:
            proof = wire.parse_display_proof(raw)
        except wire.ProtocolError as exc:
            rid = str(raw.get("id")) if isinstance(raw, dict) else ""
            message = f"Mục nhật ký hiển thị sai ở trường '{exc.field}': {exc.detail}"
            rejected.append({"id": rid, "message": message})
            continue
        rows.append(
            DisplayProof(
                id=uuid.UUID(proof.id),
                device_id=board.device_id,
                unit_id=board.device.unit_id,
                item=proof.item,
                kind=proof.kind,
                started_at=proof.started_at,
                ended_at=proof.ended_at,
                seconds=int(min((proof.ended_at - proof.started_at).total_seconds(), 86400)),
                bulletin_id=proof.bulletin,
                revision_id=proof.revision_id,
            )
        )
    # Only references to revisions that exist (and belong to the stated bulletin) are kept.
    pairs = set(
        BulletinRevision.objects.filter(
            pk__in={r.revision_id for r in rows if r.revision_id}
        ).values_list("pk", "bulletin_id")
    )
    revs = dict(pairs)
    for row in rows:
        if row.revision_id and revs.get(row.revision_id) != row.bulletin_id:
            row.revision_id = None
        if row.bulletin_id and not row.revision_id:
            row.bulletin_id = None if row.bulletin_id not in revs.values() else row.bulletin_id
    others = set(
        DisplayProof.objects.filter(pk__in=[r.id for r in rows])
        .exclude(device_id=board.device_id)
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        DisplayProof.objects.bulk_create([r for r in rows if r.id not in others],
                                         ignore_conflicts=True)  # fmt: skip
    for row in rows:
        if row.id in others:
            rejected.append({"id": str(row.id), "message": "Mã này đã thuộc bảng tin khác."})
        else:
            accepted.append(str(row.id))
    return accepted, rejected


@transaction.atomic
def request_screenshot(*, user, board: Board) -> str:
    """Ask a board for a picture of its screen now (a signed command to that board).

    A command sent to a device is a write: it needs the right to manage boards, not to view them.
    """
    require(user, MANAGE)
    if not Board.objects.restrict(user, MANAGE).filter(pk=board.pk).exists():
        raise Http404
    if not board.is_paired:
        raise Problem(409, "Bảng tin chưa ghép nối nên chưa chụp được màn hình.")
    request_id = uuid.uuid4().hex
    protocol.send_to_device(board.device_id, "screenshot", {"request": request_id})
    Board.objects.filter(pk=board.pk).update(screenshot_requested_at=timezone.now())
    audit.record(board, ChangeAction.UPDATE, user=user, comment="Yêu cầu chụp màn hình")
    return request_id


def store_screenshot(*, board: Board, data: bytes) -> str:
    """Keep the latest screen picture of a board (PNG, checked with Pillow)."""
    import io

    from PIL import Image

    if len(data) > SCREENSHOT_MAX_BYTES:
        raise Problem(413, "Ảnh chụp màn hình lớn hơn 3 MB.")
    if not data.startswith(PNG_MAGIC):
        raise Problem(415, "Ảnh chụp màn hình phải là tệp PNG.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            if img.width * img.height > 4096 * 4096:
                raise ValueError("too large")
    except Exception as exc:  # noqa: BLE001 - any unreadable upload gets the same answer
        raise Problem(422, "Ảnh chụp màn hình không đọc được.") from exc
    relative = f"signage/screenshots/{board.device_id}.png"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    Board.objects.filter(pk=board.pk).update(screenshot=relative, screenshot_at=timezone.now())
    return relative
