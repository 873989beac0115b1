"""Receiving: check a message (peer, key, signature, hash, kind, scope, version), then take it
once. Push (`POST /api/v1/exchange/inbox`, one message or a batch) and pull both come through
`receive` (`receive_batch` for many: the same checks per message, with the lookups a batch
shares made once).

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


class Context:
    """What the messages of one batch share, looked up once: peers, their active keys, the
    units of their scope and the versions already taken. Only reads that every message
    would make alike are cached; the version is checked again under a row lock when taken."""

    def __init__(self) -> None:
        self._peers: dict[str, Peer | None] = {}
        self._keys: dict[int, dict[str, Any]] = {}
        self._scope: dict[int, dict[str, Unit]] = {}
        self.taken: dict[tuple[int, str], InboundMessage] | None = None

    @classmethod
    def preload(cls, messages: list[Any]) -> Context:
        ctx = cls()
        pairs = [
            (str(m.get("source", "")), str(m.get("id", "")))
            for m in messages
            if isinstance(m, dict)
        ]
        codes = {source for source, _id in pairs}
        for peer in Peer.objects.filter(code__in=codes, active=True).select_related("unit"):
            ctx._peers[peer.code] = peer
        ctx.taken = {}
        peer_ids = [p.pk for p in ctx._peers.values() if p is not None]
        if peer_ids:
            ids = {message_id for _source, message_id in pairs}
            for record in InboundMessage.objects.filter(peer_id__in=peer_ids, message_id__in=ids):
                ctx.taken[(record.peer_id, record.message_id)] = record
        return ctx

    def peer(self, code: str) -> Peer | None:
        if code not in self._peers:
            self._peers[code] = (
                Peer.objects.filter(code=code, active=True).select_related("unit").first()
            )
        return self._peers[code]

    def key(self, peer: Peer, kid: str):
        if peer.pk not in self._keys:
            self._keys[peer.pk] = {k.kid: k for k in peer.active_keys()}
        return self._keys[peer.pk].get(kid)

    def scope(self, peer: Peer) -> dict[str, Unit]:
        """The current units under the peer's scope, by code."""
        if peer.pk not in self._scope:
            self._scope[peer.pk] = {
                u.code: u for u in Unit.objects.current().filter(path__startswith=peer.unit.path)
            }
        return self._scope[peer.pk]


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


def authenticate(
    data: dict[str, Any], via: str, ctx: Context | None = None
) -> tuple[federation.Envelope, Peer]:
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
    ctx = ctx or Context()
    peer = ctx.peer(envelope.source)
    if peer is None:
        raise _refuse(
            403, Refusal.UNKNOWN_PEER,
            f"Hệ thống '{envelope.source}' chưa được khai báo (hoặc đã ngừng liên thông); "
            "quản trị viên cần thêm nó vào danh sách hệ thống liên thông.", data=data, via=via,
        )  # fmt: skip
    key = ctx.key(peer, envelope.kid)
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


def _in_scope(peer: Peer, codes: list[str], ctx: Context | None = None) -> list[Unit] | None:
    """The current units with these codes under the peer's scope; None if one is not."""
    codes = list(dict.fromkeys(codes))
    if ctx is not None:
        scope = ctx.scope(peer)
        found = [scope[c] for c in codes if c in scope]
    else:
        found = list(Unit.objects.current().filter(code__in=codes, path__startswith=peer.unit.path))
    return found if len(found) == len(codes) else None


def check_scope(peer: Peer, kind: str, body: Any, ctx: Context | None = None) -> str:
    """'' when the message concerns only units in the peer's scope, else why not."""
    if kind == Kind.BULLETIN:
        if body.targets and _in_scope(peer, body.targets, ctx) is None:
            outside = [c for c in body.targets if _in_scope(peer, [c], ctx) is None]
            return "Bản tin gửi tới đơn vị ngoài phạm vi của hệ thống gửi: " + ", ".join(
                outside[:10]
            )
    elif kind == Kind.STATISTICS:
        if _in_scope(peer, [body.province], ctx) is None:
            return f"Số liệu của tỉnh '{body.province}' nằm ngoài phạm vi của hệ thống gửi."
    elif kind == Kind.REPORT_STATUS:
        from .models import OutboundMessage

        sent = OutboundMessage.objects.filter(
            peer=peer, kind=Kind.CITIZEN_REPORT, message_id=body.ref
        ).exists()
        if not sent:
            return (
                f"Kết quả xử lý cho phản ánh '{body.ref}', phản ánh không được chuyển từ hệ "
                f"thống này tới '{peer.name}'."
            )
    elif kind == Kind.CITIZEN_REPORT and _in_scope(peer, [body.unit], ctx) is None:
        return (
            f"Phản ánh ở đơn vị '{body.unit}' nằm ngoài phạm vi của hệ thống gửi "
            f"({peer.unit.name}) hoặc không phải đơn vị hành chính hiện hành: hãy gửi cho "
            "tỉnh chịu trách nhiệm về đơn vị đó."
        )
    return ""


def fetch_media(peer: Peer, media: list[Any], data: dict, via: str) -> list[bytes]:
    """Every file of a bulletin or a citizen report, checked against its declared size and
    SHA-256, before anything is stored or scheduled."""
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
        name = getattr(item, "name", "") or item.url[:80]
        if digest != item.sha256 or len(content) != item.size:
            raise _refuse(
                422, Refusal.MEDIA,
                f"Tệp {name} không khớp mã băm SHA-256 hoặc kích thước đã khai: không "
                "dùng tệp này.", data=data, via=via, peer=peer,
            )  # fmt: skip
        out.append(content)
    return out


def _check_report(peer: Peer, body: Any, files: list[bytes], data: dict, via: str) -> list:
    """Before anything is stored: a commune of ours is responsible for the report, and its
    photos are photos (re-encoded like the phone form's). Refused, in Vietnamese, if not."""
    from django.core.exceptions import ValidationError

    from . import reports

    try:
        reports.responsible_unit(peer, body)
    except reports.Unroutable as exc:
        raise _refuse(422, Refusal.UNROUTABLE, str(exc), data=data, via=via, peer=peer) from None
    try:
        return reports.photos_of(body.media, files)
    except ValidationError as exc:
        raise _refuse(
            422, Refusal.MEDIA, " ".join(exc.messages), data=data, via=via, peer=peer
        ) from None


def receive(data: dict[str, Any], *, via: str, ctx: Context | None = None) -> Outcome:
    """Take one message once: `duplicate` when this version was taken before, `applied` when it
    is new or newer; Refused otherwise (logged). `ctx`: lookups shared by a batch."""
    envelope, peer = authenticate(data, via, ctx)
    # checked as signed, then taken clean (NFC, no control characters) like any other input
    envelope.body = clean_data(envelope.body)
    try:
        body = federation.parse_body(envelope)
    except federation.FederationError as exc:
        raise _refuse(
            422, Refusal.MALFORMED, f"Nội dung sai cấu trúc ở trường '{exc.field}': {exc.detail}.",
            data=data, via=via, peer=peer,
        ) from None  # fmt: skip
    why = check_scope(peer, envelope.kind, body, ctx)
    if why:
        raise _refuse(403, Refusal.OUT_OF_SCOPE, why, data=data, via=via, peer=peer)
    seen = _seen(peer, envelope, data, via, ctx)
    if seen is not None:
        return Outcome("duplicate", seen)
    files: list[Any] = []
    if envelope.kind in (Kind.BULLETIN, Kind.CITIZEN_REPORT) and body.media:
        files = fetch_media(peer, body.media, data, via)
    if envelope.kind == Kind.CITIZEN_REPORT:
        files = _check_report(peer, body, files, data, via)
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
    if ctx is not None and ctx.taken is not None:
        ctx.taken[(peer.pk, record.message_id)] = record
    return Outcome("applied", record)


def receive_batch(messages: list[Any], *, via: str) -> list[dict[str, Any]]:
    """Take the messages of a batch in order, each checked and answered on its own (one bad
    message does not refuse the others; each one taken is committed on its own). After a
    message that cannot be taken *yet* (its media could not be fetched, an unexpected error)
    the rest are `deferred`, not looked at: they are sent again, in order, so that a later
    message (a withdrawal) never overtakes an earlier one. Returns one receipt per message,
    the shape of `federation.BatchItemReceipt`."""
    ctx = Context.preload(messages)
    receipts: list[dict[str, Any]] = []
    stopped_at: int | None = None
    for index, data in enumerate(messages):
        ident = _ident(data)
        if stopped_at is not None:
            receipts.append(
                {"index": index, **ident, "outcome": "deferred", "status": 503,
                 "reason": "deferred",
                 "detail": f"Chưa xét: thông điệp thứ {stopped_at + 1} của lô phải được nhận "
                 "trước; hãy gửi lại sau."}
            )  # fmt: skip
            continue
        try:
            if not isinstance(data, dict):
                raise _refuse(
                    422, Refusal.MALFORMED, "Thông điệp phải là một đối tượng JSON.",
                    data={}, via=via,
                )  # fmt: skip
            outcome = receive(data, via=via, ctx=ctx)
        except Refused as exc:
            receipts.append(
                {"index": index, **ident, "outcome": "refused", "status": exc.status,
                 "reason": exc.reason, "detail": exc.detail}
            )  # fmt: skip
            if exc.temporary:
                stopped_at = index
        except Exception:  # a fault of ours: nothing of this message was kept; sent again
            log.exception("exchange: message %s of a batch failed", ident.get("id"))
            receipts.append(
                {"index": index, **ident, "outcome": "refused", "status": 500,
                 "reason": "error", "detail": "Lỗi của hệ thống nhận; hãy gửi lại sau."}
            )  # fmt: skip
            stopped_at = index
        else:
            receipts.append(
                {"index": index, "id": outcome.record.message_id,
                 "version": outcome.record.version, "outcome": outcome.outcome,
                 "status": 202 if outcome.outcome == "applied" else 200,
                 "reason": "", "detail": ""}
            )  # fmt: skip
    return receipts


def _ident(data: Any) -> dict[str, Any]:
    """The message's id and version as far as they can be read (for its receipt)."""
    if not isinstance(data, dict):
        return {"id": "", "version": None}
    version = data.get("version")
    return {
        "id": str(data.get("id", ""))[:64],
        "version": version if isinstance(version, int) and abs(version) < 2**53 else None,
    }


def _title(kind: str, body: Any) -> str:
    if kind == Kind.STATISTICS:
        return f"{body.province} {body.month}"
    if kind == Kind.WITHDRAWAL:
        return f"→ {body.ref}"
    return ""


def _seen(
    peer: Peer,
    envelope: federation.Envelope,
    data: dict,
    via: str,
    ctx: Context | None = None,
) -> InboundMessage | None:
    """The record when this exact version was taken before; Refused for an older version or
    the same version with other content; None when the message is new or newer."""
    if ctx is not None and ctx.taken is not None:
        record = ctx.taken.get((peer.pk, envelope.id))
    else:
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
