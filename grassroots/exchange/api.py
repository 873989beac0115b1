"""The exchange endpoints other systems call: the inbox (push), the messages after a cursor
(pull) and this system's exchange key. Authenticated by Ed25519 signatures, not by users."""

from __future__ import annotations

import base64
import datetime
import json

from django.utils import timezone
from ninja import Field, Query, Router, Schema
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


class ExchangeNextKeyRead(Schema):
    kid: str
    public_key: str


class ExchangeKeyRead(Schema):
    source: str
    kid: str
    alg: str
    public_key: str
    protocol: str
    versions: list[str]
    batch_max: int
    level: str
    next: ExchangeNextKeyRead | None = None


class ExchangePageQuery(Schema):
    after: int = 0
    limit: int = 500


@router.get("/key", auth=None, response=ExchangeKeyRead, summary="Khoá liên thông của hệ thống này")
def exchange_key(request):
    """What a peer's administrator registers for this system (exchanged out of band). During
    a rotation of our key (`grassroots exchange rotate-key`), `next` is the key we will sign
    with once it is activated: add it beside the current one."""
    staged = keys.next_key()
    described = keys.describe(staged) if staged is not None else None
    return {
        "source": keys.own_id(),
        "kid": keys.key_id(),
        "alg": "Ed25519",
        "public_key": keys.public_key_b64(),
        "protocol": federation.PROTOCOL_NAME,
        "versions": list(federation.VERSIONS),
        "batch_max": federation.MAX_BATCH,
        "level": keys.level(),
        "next": {"kid": described["kid"], "public_key": described["public_key"]}
        if described
        else None,
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
    sent: bool | None = Field(
        None,
        description="(sending a bulletin down) true: queued now; false: this peer already "
        "has this very content (the same version is shown), nothing sent again",
    )


def _outbound(row, *, sent: bool | None = None) -> dict:
    return {
        "sent": sent,
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
    sending = actions.send_bulletin(user=request.user, bulletin=bulletin, peers=peers)
    return Status(
        201,
        [_outbound(r, sent=True) for r in [*sending.queued, *sending.requeued]]
        + [_outbound(r, sent=False) for r in sending.unchanged],
    )


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
    name: str  # the province: the peer's scope unit
    peer_name: str  # the system that reports for it
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
    withdrawn_at: datetime.datetime | None = None
    withdrawal_status: str = ""


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


# -- peers and their keys (officers) -------------------------------------------------------------
# The same checks as the console page: both call exchange.actions (add_peer, add_key,
# revoke_key, set_peer, retire_peer, delete_peer).


class PeerKeyRead(Schema):
    id: int
    kid: str
    public_key: str
    added_at: datetime.datetime
    revoked_at: datetime.datetime | None


class PeerRead(Schema):
    code: str
    name: str
    url: str
    unit_code: str
    kinds_in: list[str]
    kinds_out: list[str]
    bulletins_need_approval: bool
    pull: bool
    active: bool
    retired_at: datetime.datetime | None
    last_pull_at: datetime.datetime | None
    last_error: str
    keys: list[PeerKeyRead]


class PeerCreate(Schema):
    code: str
    name: str
    url: str
    unit_code: str
    public_key: str
    kid: str = ""
    kinds_in: list[str] | None = None
    kinds_out: list[str] | None = None
    bulletins_need_approval: bool = True


class PeerChange(Schema):
    name: str | None = None
    url: str | None = None
    kinds_in: list[str] | None = None
    kinds_out: list[str] | None = None
    bulletins_need_approval: bool | None = None
    pull: bool | None = None
    active: bool | None = None


class PeerKeyCreate(Schema):
    public_key: str
    kid: str = ""


class RefusedRead(Schema):
    id: int
    at: datetime.datetime
    peer: str | None
    source: str
    message_id: str
    version: int | None
    kind: str
    reason: str
    detail: str
    via: str


def _peer_read(peer: Peer) -> dict:
    return {
        "code": peer.code,
        "name": peer.name,
        "url": peer.url,
        "unit_code": peer.unit.code,
        "kinds_in": peer.kinds_in,
        "kinds_out": peer.kinds_out,
        "bulletins_need_approval": peer.bulletins_need_approval,
        "pull": peer.pull,
        "active": peer.active,
        "retired_at": peer.retired_at,
        "last_pull_at": peer.last_pull_at,
        "last_error": peer.last_error,
        "keys": [
            {"id": k.pk, "kid": k.kid, "public_key": k.public_key, "added_at": k.added_at,
             "revoked_at": k.revoked_at}
            for k in peer.keys.all()
        ],
    }  # fmt: skip


def _peer(request, code: str, action: str = "exchange.manage") -> Peer:
    from django.shortcuts import get_object_or_404

    from grassroots.accounts.policies import require

    require(request.user, action)
    return get_object_or_404(
        Peer.objects.restrict(request.user, action).select_related("unit"), code=code
    )


@router.get("/peers", response=list[PeerRead], summary="Các hệ thống liên thông và khoá")
def list_peers(request):
    """The peers the user may see (retired ones too, with `retired_at`), each with its keys."""
    from grassroots.accounts.policies import require

    require(request.user, "exchange.view")
    qs = (
        Peer.objects.restrict(request.user, "exchange.view")
        .select_related("unit")
        .prefetch_related("keys")
    )
    return [_peer_read(p) for p in qs]


@router.post(
    "/peers", response={201: PeerRead}, summary="Khai báo (hoặc khai báo lại) một hệ thống"
)
def create_peer(request, data: PeerCreate):
    """Declare a peer with its first key (`public_key` base64 with `kid`, or the whole JSON
    `grassroots exchange key` prints in `public_key`). 422 naming the field for a bad key, a
    `kid` that is not the key's, our own key, a key or address another peer uses, a code in
    use. The code of a retired peer declares it again (its history kept)."""
    from grassroots.units.models import Unit

    from . import actions

    unit = Unit.objects.current().filter(code=data.unit_code).first()
    if unit is None:
        raise Problem(422, f"Không có đơn vị mã '{data.unit_code}'.")
    peer = actions.add_peer(
        user=request.user,
        code=data.code,
        name=data.name,
        url=data.url,
        unit=unit,
        public_key=data.public_key,
        kid=data.kid,
        kinds_in=data.kinds_in,
        kinds_out=data.kinds_out,
        bulletins_need_approval=data.bulletins_need_approval,
    )
    return Status(201, _peer_read(peer))


@router.patch("/peers/{peer}", response=PeerRead, summary="Đổi cài đặt của một hệ thống")
def change_peer(request, peer: str, data: PeerChange):
    from . import actions

    row = actions.set_peer(
        user=request.user, peer=_peer(request, peer), data=data.model_dump(exclude_none=True)
    )
    return _peer_read(row)


@router.post(
    "/peers/{peer}/keys",
    response={200: PeerKeyRead, 201: PeerKeyRead},
    summary="Thêm khoá (xoay khoá, hoặc thêm lại khoá đã thu hồi nhầm)",
)
def add_peer_key(request, peer: str, data: PeerKeyCreate):
    """201 when a key was added (or a revoked one added again: a new row), 200 when the key
    is already in use (nothing changed)."""
    from . import actions

    row = actions.add_key(
        user=request.user, peer=_peer(request, peer), public_key=data.public_key, kid=data.kid
    )
    body = {"id": row.pk, "kid": row.kid, "public_key": row.public_key,
            "added_at": row.added_at, "revoked_at": row.revoked_at}  # fmt: skip
    return Status(200 if row.outcome == "exists" else 201, body)


@router.post("/peers/{peer}/keys/{key_id}/revoke", response=PeerKeyRead, summary="Thu hồi một khoá")
def revoke_peer_key(request, peer: str, key_id: int):
    """From now on messages signed with the key are refused (it can be added again)."""
    from django.shortcuts import get_object_or_404

    from . import actions

    row = _peer(request, peer)
    key = actions.revoke_key(user=request.user, key=get_object_or_404(row.keys, pk=key_id))
    return {"id": key.pk, "kid": key.kid, "public_key": key.public_key,
            "added_at": key.added_at, "revoked_at": key.revoked_at}  # fmt: skip


@router.post("/peers/{peer}/retire", response=PeerRead, summary="Ngừng hẳn liên thông")
def retire_peer(request, peer: str):
    """Off for good, every key revoked, its messages kept; the code can be declared again."""
    from . import actions

    return _peer_read(actions.retire_peer(user=request.user, peer=_peer(request, peer)))


@router.delete("/peers/{peer}", response={204: None}, summary="Xoá hệ thống khai báo nhầm")
def delete_peer(request, peer: str):
    """Only while nothing was exchanged with it (else 422: retire it)."""
    from . import actions

    actions.delete_peer(user=request.user, peer=_peer(request, peer))
    return Status(204, None)


@router.get("/refused", response=list[RefusedRead], summary="Thông điệp bị từ chối")
def refused(request, limit: int = 100):
    """The refusals the user may see (`RefusedMessage.objects.restrict`), newest first."""
    from grassroots.accounts.policies import require

    require(request.user, "exchange.view")
    qs = RefusedMessage.objects.restrict(request.user).select_related("peer")
    return [
        {"id": r.pk, "at": r.at, "peer": r.peer.code if r.peer else None, "source": r.source,
         "message_id": r.message_id, "version": r.version, "kind": r.kind, "reason": r.reason,
         "detail": r.detail, "via": r.via}
        for r in qs[: max(1, min(limit, 1000))]
    ]  # fmt: skip
