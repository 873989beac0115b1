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
from .inbound import Refused, receive
from .models import Peer, RefusedMessage

router = Router(tags=["exchange"])
PREFIX = "/exchange"
CLOCK_SKEW = datetime.timedelta(minutes=5)


class KeyRead(Schema):
    source: str
    kid: str
    alg: str
    public_key: str
    protocol: str
    level: str


class PageQuery(Schema):
    after: int = 0
    limit: int = 500


@router.get("/key", auth=None, response=KeyRead, summary="Khoá liên thông của hệ thống này")
def exchange_key(request):
    """What a peer's administrator registers for this system (exchanged out of band)."""
    return {
        "source": keys.own_id(),
        "kid": keys.key_id(),
        "alg": "Ed25519",
        "public_key": keys.public_key_b64(),
        "protocol": federation.PROTOCOL_NAME,
        "level": keys.level(),
    }


@router.post(
    "/inbox",
    auth=None,
    response={200: dict, 202: dict},
    summary="Nhận một thông điệp liên thông đã ký",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def inbox(request):
    """202 when the message was taken, 200 when this version was taken before; a refusal is
    a 4xx problem+json in Vietnamese (and logged). The body is read as it was signed."""
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "Nội dung không phải JSON hợp lệ.") from None
    if not isinstance(data, dict):
        raise Problem(422, "Thông điệp phải là một đối tượng JSON.")
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
def messages(request, params: Query[PageQuery]):
    """The signed messages for the calling peer after `after`, oldest first, at most `limit`
    (1–1000); `next` is the cursor to ask with next time, `more` whether to ask at once."""
    peer = _authenticated_peer(request)
    if params.after < 0 or not (1 <= params.limit <= 1000):
        raise Problem(422, "Tham số không hợp lệ: after ≥ 0, limit từ 1 đến 1000.")
    return outbound.page_for(peer, after=params.after, limit=params.limit).model_dump()
