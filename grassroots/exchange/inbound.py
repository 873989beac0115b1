"""Receiving: check a message (peer, key, signature, hash, kind, scope, version), then take it
once. Push (`POST /api/v1/exchange/inbox`) and pull both come through `receive`.

Every refusal is logged (`RefusedMessage`, and the log) and raised as `Refused` with a
Vietnamese reason; the API answers it as a 4xx problem+json.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from grassroots.core.text import clean_data
from grassroots.units.models import Unit

from . import federation, keys
from .choices import Kind, Refusal
from .models import InboundMessage, Peer, RefusedMessage

log = logging.getLogger("grassroots.exchange")

MAX_MEDIA_BYTES = 200 * 1024 * 1024


class Refused(Exception):
    """An inbound message not taken. `temporary` when it may be taken later (its media could
    not be fetched): the sender retries, a puller keeps its cursor."""

    def __init__(self, status: int, reason: str, detail: str, *, temporary: bool = False):
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.temporary = temporary


@dataclass
class Outcome:
    outcome: str  # "applied" | "duplicate"
    record: InboundMessage


def _refuse(
    status: int,
    reason: str,
    detail: str,
    *,
    data: dict[str, Any],
    via: str,
    peer: Peer | None = None,
    temporary: bool = False,
) -> Refused:
    version = data.get("version")
    RefusedMessage.objects.create(
        peer=peer,
        source=str(data.get("source", ""))[:64],
        message_id=str(data.get("id", ""))[:64],
        version=version if isinstance(version, int) and abs(version) < 2**62 else None,
        kind=str(data.get("kind", ""))[:20],
        reason=reason,
        detail=detail[:500],
        via=via,
    )
    log.warning(
        "exchange refused %s %s from %s: %s (%s)",
        data.get("kind"),
        data.get("id"),
        data.get("source"),
        reason,
        detail,
    )
    return Refused(status, reason, detail, temporary=temporary)


def authenticate(data: dict[str, Any], via: str) -> tuple[federation.Envelope, Peer]:
    """The envelope and its peer, or Refused: shape, destination, peer, key, signature, hash."""
    try:
        envelope = federation.parse_envelope(data)
    except federation.FederationError as exc:
        raise _refuse(
            422, Refusal.MALFORMED, f"Thông điệp sai cấu trúc ở trường '{exc.field}': "
            f"{exc.detail}.", data=data if isinstance(data, dict) else {}, via=via,
        ) from None  # fmt: skip
    if envelope.destination != keys.own_id():
        raise _refuse(
            422, Refusal.WRONG_DESTINATION,
            f"Thông điệp gửi cho '{envelope.destination}', không phải hệ thống này "
            f"('{keys.own_id()}').", data=data, via=via,
        )  # fmt: skip
    peer = Peer.objects.filter(code=envelope.source, active=True).select_related("unit").first()
    if peer is None:
        raise _refuse(
            403, Refusal.UNKNOWN_PEER,
            f"Hệ thống '{envelope.source}' chưa được khai báo (hoặc đã ngừng liên thông); "
            "quản trị viên cần thêm nó vào danh sách hệ thống liên thông.", data=data, via=via,
        )  # fmt: skip
    key = peer.active_keys().filter(kid=envelope.kid).first()
    if key is None:
        raise _refuse(
            403, Refusal.UNKNOWN_KEY,
            f"Khoá ký '{envelope.kid}' không phải khoá đang dùng của '{peer.name}' "
            "(chưa khai báo hoặc đã thu hồi).", data=data, via=via, peer=peer,
        )  # fmt: skip
    if not federation.signature_valid(data, key.public_key):
        raise _refuse(
            403, Refusal.BAD_SIGNATURE,
            "Chữ ký không khớp với nội dung: thông điệp đã bị sửa trên đường truyền hoặc ký "
            "sai khoá.", data=data, via=via, peer=peer,
        )  # fmt: skip
    if federation.content_hash(data["body"]) != envelope.content_hash:
        raise _refuse(
            422, Refusal.BAD_HASH, "Mã băm nội dung (content_hash) không khớp với nội dung.",
            data=data, via=via, peer=peer,
        )  # fmt: skip
    if envelope.kind not in (peer.kinds_in or []):
        raise _refuse(
            403, Refusal.KIND_NOT_ALLOWED,
            f"'{peer.name}' không được phép gửi loại tin '{Kind(envelope.kind).label}'.",
            data=data, via=via, peer=peer,
        )  # fmt: skip
    return envelope, peer


def _in_scope(peer: Peer, codes: list[str]) -> list[Unit] | None:
    """The current units with these codes under the peer's scope; None if one is not."""
    codes = list(dict.fromkeys(codes))
    found = list(Unit.objects.current().filter(code__in=codes, path__startswith=peer.unit.path))
    return found if len(found) == len(codes) else None


def check_scope(peer: Peer, kind: str, body: Any) -> str:
    """'' when the message concerns only units in the peer's scope, else why not."""
    if kind == Kind.BULLETIN:
        if body.targets and _in_scope(peer, body.targets) is None:
            return "Bản tin gửi tới đơn vị ngoài phạm vi của hệ thống gửi: " + ", ".join(
                body.targets[:10]
            )
    elif kind == Kind.STATISTICS:
        if _in_scope(peer, [body.province]) is None:
            return f"Số liệu của tỉnh '{body.province}' nằm ngoài phạm vi của hệ thống gửi."
    elif kind == Kind.CITIZEN_REPORT and _in_scope(peer, [body.unit]) is None:
        return f"Phản ánh ở đơn vị '{body.unit}' nằm ngoài phạm vi của hệ thống gửi."
    return ""


def fetch_media(peer: Peer, media: list[federation.Media], data: dict, via: str) -> list[bytes]:
    """Every file of a bulletin, checked against its declared size and SHA-256, before anything
    is stored or scheduled."""
    from .adapters import DeliveryError, adapter_for

    adapter = adapter_for(peer)
    out = []
    for item in media:
        try:
            content = adapter.fetch_media(peer, item.url, min(item.size, MAX_MEDIA_BYTES))
        except DeliveryError as exc:
            raise _refuse(
                503, Refusal.MEDIA, f"Chưa tải được tệp đính kèm: {exc.detail}. Sẽ thử lại sau.",
                data=data, via=via, peer=peer, temporary=not exc.permanent,
            ) from None  # fmt: skip
        digest = hashlib.sha256(content).hexdigest()
        if digest != item.sha256 or len(content) != item.size:
            raise _refuse(
                422, Refusal.MEDIA,
                f"Tệp {item.name or item.url[:80]} không khớp mã băm SHA-256 hoặc kích thước đã "
                "khai: không dùng tệp này.", data=data, via=via, peer=peer,
            )  # fmt: skip
        out.append(content)
    return out


def receive(data: dict[str, Any], *, via: str) -> Outcome:
    """Take one message once: `duplicate` when this version was taken before, `applied` when it
    is new or newer; Refused otherwise (logged)."""
    envelope, peer = authenticate(data, via)
    # checked as signed, then taken clean (NFC, no control characters) like any other input
    envelope.body = clean_data(envelope.body)
    try:
        body = federation.parse_body(envelope)
    except federation.FederationError as exc:
        raise _refuse(
            422, Refusal.MALFORMED, f"Nội dung sai cấu trúc ở trường '{exc.field}': {exc.detail}.",
            data=data, via=via, peer=peer,
        ) from None  # fmt: skip
    why = check_scope(peer, envelope.kind, body)
    if why:
        raise _refuse(403, Refusal.OUT_OF_SCOPE, why, data=data, via=via, peer=peer)
    seen = _seen(peer, envelope, data, via)
    if seen is not None:
        return Outcome("duplicate", seen)
    files: list[bytes] = []
    if envelope.kind == Kind.BULLETIN and body.media:
        files = fetch_media(peer, body.media, data, via)
    from . import handlers

    with transaction.atomic():
        record = (
            InboundMessage.objects.select_for_update()
            .filter(peer=peer, message_id=envelope.id)
            .first()
        )
        if record is not None:  # taken meanwhile by a concurrent delivery: check again
            if record.version >= envelope.version:
                seen = _seen(peer, envelope, data, via)
                if seen is not None:
                    return Outcome("duplicate", seen)
        else:
            record = InboundMessage(peer=peer, message_id=envelope.id)
        record.version = envelope.version
        record.kind = envelope.kind
        record.content_hash = envelope.content_hash
        record.via = via
        record.title = getattr(body, "title", "")[:300] or _title(envelope.kind, body)
        handlers.apply(peer=peer, envelope=envelope, body=body, record=record, files=files)
        record.save()
    return Outcome("applied", record)


def _title(kind: str, body: Any) -> str:
    if kind == Kind.STATISTICS:
        return f"{body.province} {body.month}"
    if kind == Kind.WITHDRAWAL:
        return f"→ {body.ref}"
    return ""


def _seen(peer: Peer, envelope: federation.Envelope, data: dict, via: str) -> InboundMessage | None:
    """The record when this exact version was taken before; Refused for an older version or
    the same version with other content; None when the message is new or newer."""
    record = InboundMessage.objects.filter(peer=peer, message_id=envelope.id).first()
    if record is None or envelope.version > record.version:
        return None
    if envelope.version < record.version:
        raise _refuse(
            409, Refusal.OLD_VERSION,
            f"Đã nhận phiên bản {record.version} của thông điệp '{envelope.id}'; phiên bản "
            f"{envelope.version} cũ hơn nên bị bỏ qua.", data=data, via=via, peer=peer,
        )  # fmt: skip
    if record.content_hash != envelope.content_hash:
        raise _refuse(
            409, Refusal.CONFLICT,
            f"Phiên bản {envelope.version} của '{envelope.id}' đã nhận với nội dung khác; "
            "nội dung mới phải mang số phiên bản mới.", data=data, via=via, peer=peer,
        )  # fmt: skip
    return record
