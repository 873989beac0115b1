"""The exchange endpoints other systems call: the inbox (push), the messages after a cursor
(pull) and this system's exchange key. Authenticated by Ed25519 signatures, not by users."""

from __future__ import annotations

import base64
import datetime
import json

from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.responses import Status

from grassroots.core.errors import Problem
from grassroots_protocol.messages import parse_time

from . import federation, keys, outbound
from .choices import Refusal, Via
from .inbound import Refused, receive, receive_batch
from .models import BulletinFate, OutboundMessage, Peer, RefusedMessage

router = Router(tags=["exchange"])
PREFIX = "/exchange"
CLOCK_SKEW = datetime.timedelta(minutes=5)


class ExchangeKeyRead(Schema):
    source: str
    kid: str
    alg: str
    public_key: str
    protocol: str
    versions: list[str]
    batch_max: int
    level: str


class ExchangePageQuery(Schema):
    after: int = 0
    limit: int = 500


@router.get("/key", auth=None, response=ExchangeKeyRead, summary="Khoá liên thông của hệ thống này")
def exchange_key(request):
    """What a peer's administrator registers for this system (exchanged out of band)."""
    return {
        "source": keys.own_id(),
        "kid": keys.key_id(),
        "alg": "Ed25519",
        "public_key": keys.public_key_b64(),
        "protocol": federation.PROTOCOL_NAME,
        "versions": list(federation.VERSIONS),
        "batch_max": federation.MAX_BATCH,
        "level": keys.level(),
    }


@router.post(
    "/inbox",
    auth=None,
    response={200: dict, 202: dict},
    summary="Nhận thông điệp liên thông đã ký (một thông điệp, hoặc một lô từ phiên bản 1.1)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def inbox(request):
    """One envelope: 202 when the message was taken, 200 when this version was taken before; a
    refusal is a 4xx problem+json in Vietnamese (and logged). A batch (`federation.Batch`,
    protocol 1.1): 200 with a `federation.BatchReceipt`, one receipt per message; only a batch
    that is not one (its shape, more than `MAX_BATCH` messages) is refused as a whole (422).
    The body is read as it was signed."""
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "Nội dung không phải JSON hợp lệ.") from None
    if not isinstance(data, dict):
        raise Problem(422, "Thông điệp phải là một đối tượng JSON.")
    if federation.is_batch(data):
        try:
            batch = federation.parse_batch(data)
        except federation.FederationError as exc:
            raise Problem(
                422,
                f"Lô thông điệp sai cấu trúc ở trường '{exc.field}': {exc.detail} (tối đa "
                f"{federation.MAX_BATCH} thông điệp một lô).",
                title="Lô thông điệp bị từ chối",
                reason=Refusal.MALFORMED,
            ) from None
        receipts = receive_batch(batch.messages, via=Via.PUSH)
        return Status(200, {"protocol": federation.BATCH_PROTOCOL, "receipts": receipts})
    try:
        outcome = receive(data, via=Via.PUSH)
    except Refused as exc:
        raise Problem(
            exc.status, exc.detail, title="Thông điệp bị từ chối", reason=exc.reason
        ) from None
    receipt = {"outcome": outcome.outcome, "id": outcome.record.message_id,
               "version": outcome.record.version}  # fmt: skip
    return Status(202 if outcome.outcome == "applied" else 200, receipt)


def _authenticated_peer(request) -> Peer:
    """The peer that signed this GET (headers X-Exchange-Source/-Date/-Kid/-Signature)."""
    source = request.headers.get("X-Exchange-Source", "")
    date = request.headers.get("X-Exchange-Date", "")
    kid = request.headers.get("X-Exchange-Kid", "")
    signature = request.headers.get("X-Exchange-Signature", "")

    def refuse(reason: str, detail: str, peer: Peer | None = None) -> Problem:
        RefusedMessage.objects.create(
            peer=peer, source=source[:64], reason=reason, detail=detail[:500], via=Via.PULL
        )
        return Problem(403, detail, title="Yêu cầu bị từ chối", reason=reason)

    peer = Peer.objects.filter(code=source, active=True).first()
    if peer is None:
        raise refuse(Refusal.UNKNOWN_PEER, f"Hệ thống '{source[:64]}' chưa được khai báo.")
    key = peer.active_keys().filter(kid=kid).first()
    if key is None:
        raise refuse(Refusal.UNKNOWN_KEY, "Khoá ký không hợp lệ hoặc đã thu hồi.", peer)
    try:
        moment = parse_time(date)
    except ValueError:
        raise refuse(Refusal.MALFORMED, "Thiếu hoặc sai X-Exchange-Date.", peer) from None
    if abs(timezone.now() - moment) > CLOCK_SKEW:
        raise refuse(
            Refusal.BAD_SIGNATURE,
            "Yêu cầu đã quá hạn (đồng hồ hai hệ thống lệch quá 5 phút?).",
            peer,
        )
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = federation.request_signature_text("GET", request.get_full_path(), date, source)
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key)).verify(
            base64.b64decode(signature), text
        )
    except (InvalidSignature, ValueError):
        raise refuse(Refusal.BAD_SIGNATURE, "Chữ ký của yêu cầu không hợp lệ.", peer) from None
    return peer


@router.get("/messages", auth=None, response=dict, summary="Các thông điệp sau con trỏ (kéo)")
def messages(request, params: Query[ExchangePageQuery]):
    """The signed messages for the calling peer after `after`, oldest first, at most `limit`
    (1–1000); `next` is the cursor to ask with next time, `more` whether to ask at once."""
    peer = _authenticated_peer(request)
    if params.after < 0 or not (1 <= params.limit <= 1000):
        raise Problem(422, "Tham số không hợp lệ: after ≥ 0, limit từ 1 đến 1000.")
    return outbound.page_for(peer, after=params.after, limit=params.limit).model_dump()


# -- officers (console users, Bearer tokens) ----------------------------------------------------


class ExchangeSendBody(Schema):
    peers: list[str]


class ExchangeOutboundRead(Schema):
    id: int
    peer: str
    message_id: str
    version: int
    kind: str
    title: str
    status: str
    attempts: int
    last_error: str
    error_kind: str
    error_reason: str
    error_status: int | None
    error_detail: str
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None
    delivered_via: str


def _outbound(row) -> dict:
    return {
        "id": row.pk,
        "peer": row.peer.code,
        "message_id": row.message_id,
        "version": row.version,
        "kind": row.kind,
        "title": row.title,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "error_kind": row.error_kind,
        "error_reason": row.error_reason,
        "error_status": row.error_status,
        "error_detail": row.error_detail,
        "created_at": row.created_at,
        "delivered_at": row.delivered_at,
        "delivered_via": row.delivered_via,
    }


@router.post(
    "/bulletins/{bulletin_id}/send",
    response={201: list[ExchangeOutboundRead]},
    summary="Gửi bản tin đã duyệt xuống các hệ thống đã chọn",
)
def send_bulletin(request, bulletin_id: int, data: ExchangeSendBody):
    """Central mode: send down to the chosen provinces (peer codes). Queued in the outbox; the
    worker delivers it."""
    from django.shortcuts import get_object_or_404

    from grassroots.accounts.policies import require
    from grassroots.content.models import Bulletin

    from . import actions

    require(request.user, "exchange.manage")
    bulletin = get_object_or_404(
        Bulletin.objects.restrict(request.user, "content.view"), pk=bulletin_id
    )
    peers = list(Peer.objects.filter(code__in=data.peers))
    rows = actions.send_bulletin(user=request.user, bulletin=bulletin, peers=peers)
    return Status(201, [_outbound(r) for r in rows])


class ExchangeOutboxQuery(Schema):
    status: str = ""
    limit: int = 100


@router.get("/outbox", response=list[ExchangeOutboundRead], summary="Thông điệp gửi đi")
def outbox(request, params: Query[ExchangeOutboxQuery]):
    from grassroots.accounts.policies import require

    require(request.user, "exchange.view")
    qs = OutboundMessage.objects.restrict(request.user, "exchange.view").select_related("peer")
    if params.status:
        qs = qs.filter(status=params.status)
    return [_outbound(r) for r in qs.order_by("-id")[: max(1, min(params.limit, 1000))]]


def _outbox_row(request, message_id: int) -> OutboundMessage:
    from django.shortcuts import get_object_or_404

    from grassroots.accounts.policies import require

    require(request.user, "exchange.manage")
    return get_object_or_404(
        OutboundMessage.objects.restrict(request.user, "exchange.view"), pk=message_id
    )


@router.post(
    "/outbox/{message_id}/retry",
    response=ExchangeOutboundRead,
    summary="Gửi lại một thông điệp gửi lỗi (409 khi gửi lại không giúp được, kèm việc cần làm)",
)
def outbox_retry(request, message_id: int):
    row = outbound.retry(message=_outbox_row(request, message_id), user=request.user)
    return _outbound(OutboundMessage.objects.select_related("peer").get(pk=row.pk))


@router.post(
    "/outbox/{message_id}/send-now",
    response=ExchangeOutboundRead,
    summary="Gửi ngay một thông điệp đang chờ lần gửi lại (cùng các thông điệp trước nó)",
)
def outbox_send_now(request, message_id: int):
    row = _outbox_row(request, message_id)
    outbound.send_now(message=row, user=request.user)
    return _outbound(OutboundMessage.objects.select_related("peer").get(pk=row.pk))


class ExchangeFateRead(Schema):
    peer: str
    message_id: str
    received: bool
    approved: bool
    communes: int
    placed: int
    aired_communes: int
    plays: int


@router.get(
    "/fates", response=list[ExchangeFateRead], summary="Bản tin đã gửi: đã nhận, đã duyệt, đã phát"
)
def fates(request, message_id: str = ""):
    """From the peers' statistics: what became of each bulletin sent down."""
    from grassroots.accounts.policies import require

    require(request.user, "exchange.view")
    qs = BulletinFate.objects.restrict(request.user, "exchange.view").select_related("peer")
    if message_id:
        qs = qs.filter(message_id=message_id)
    return [
        {
            "peer": f.peer.code,
            "message_id": f.message_id,
            "received": f.received,
            "approved": f.approved,
            "communes": f.communes,
            "placed": f.placed,
            "aired_communes": f.aired_communes,
            "plays": f.plays,
        }
        for f in qs.order_by("peer__code", "message_id")[:1000]
    ]


class ExchangeNationalQuery(Schema):
    month: str = ""


@router.get("/national", response=dict, summary="Số liệu toàn quốc theo tháng (chế độ trung ương)")
def national_figures(request, params: Query[ExchangeNationalQuery]):
    """Per province (peer) and for the country: communes reporting, plays, feedback handled,
    devices and availability, from the provinces' statistics of that month."""
    from grassroots.accounts.policies import require

    from .querysets import national

    require(request.user, "exchange.view")
    return national(request.user, _month(params.month))


class ExchangeReceiverRead(Schema):
    peer: str
    name: str
    state: str
    state_label: str
    status: str
    via: str
    delivered_at: datetime.datetime | None
    error: str
    error_detail: str
    advice: str
    retry: bool
    version: int
    received: bool
    approved: bool
    communes: int
    placed: int
    aired_communes: int
    plays: int
    reported_at: datetime.datetime | None


class ExchangeSentRead(Schema):
    message_id: str
    bulletin_id: int
    title: str
    sent_at: datetime.datetime
    counts: dict[str, int]
    receivers: list[ExchangeReceiverRead]


@router.get(
    "/bulletins/{bulletin_id}/receivers",
    response=ExchangeSentRead,
    summary="Bản tin đã gửi xuống: từng tỉnh đã nhận, đã xếp lịch, đã phát",
)
def sent_bulletin(request, bulletin_id: int):
    """Central mode: one bulletin sent down, receiver by receiver (`querysets.sent_bulletins`):
    the delivery from our outbox and what the receiver's statistics say. 404 when it was not
    sent to any receiver the user may see."""
    from django.http import Http404

    from grassroots.accounts.policies import require

    from .querysets import sent_bulletins

    require(request.user, "exchange.view")
    rows = sent_bulletins(request.user, bulletin_id=bulletin_id)
    if not rows:
        raise Http404
    return rows[0]


def _month(value: str) -> datetime.date:
    if not value:
        return timezone.localdate().replace(day=1)
    try:
        year, month = (int(x) for x in value.split("-"))
        return datetime.date(year, month, 1)
    except ValueError:
        raise Problem(422, "Tháng phải viết dạng YYYY-MM, ví dụ 2026-11.") from None
