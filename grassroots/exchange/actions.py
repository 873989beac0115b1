"""Every mutation of the exchange: peers and their keys, bulletins sent down, statistics sent up.

Sending only writes outbox rows inside the transaction (outbound.emit); the worker talks to
the network.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import html
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import nh3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require, require_on
from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.core.text import clean_text
from grassroots.units.models import Unit

from . import federation, outbound
from .choices import DeliveryStatus, Kind
from .models import (
    BulletinFate,
    InboundMessage,
    OutboundMessage,
    Peer,
    PeerKey,
    PeerMonth,
    RefusedMessage,
    UnitMonth,
)

# `user=COMMAND_LINE`: the operator of this machine (`grassroots exchange …`), who holds every
# right; pages and the API always pass the request's user.
COMMAND_LINE = None


@dataclass(frozen=True)
class PeerKeyInput:
    """A peer's public key as given: base64 raw key, its `kid`, and the `source` when the whole
    JSON of `grassroots exchange key` was pasted (else "")."""

    public_key: str
    kid: str
    source: str = ""


EMPTY_KEY = (
    "Hãy dán khoá công khai của hệ thống đó (cả đoạn JSON mà lệnh `grassroots exchange key` "
    "in ra ở hệ thống đó, hoặc khoá base64 kèm mã khoá)."
)


def _public_key(value: str) -> tuple[str, str]:
    """(base64 raw key, kid) of an Ed25519 public key given in base64, or ValidationError."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({"public_key": EMPTY_KEY})
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValidationError(
            {"public_key": "Khoá công khai phải là khoá Ed25519 (32 byte) viết ở dạng base64."}
        )
    return base64.b64encode(raw).decode(), federation.key_id(raw)


def parse_key(public_key: str, kid: str = "") -> PeerKeyInput:
    """The key an administrator typed or pasted: the base64 public key with its `kid`, or the
    whole JSON `grassroots exchange key` prints (`{"source", "kid", "public_key"}`). The `kid`
    is required (in the JSON or beside the key) and must be the key's own (the first 16 hex
    digits of its SHA-256): a key mistyped or cut short is caught here. ValidationError on the
    field `public_key` or `kid`, in Vietnamese."""
    text = clean_text(public_key or "").strip()
    kid = clean_text(kid or "").strip().lower()
    source = ""
    if not text:
        raise ValidationError({"public_key": EMPTY_KEY})
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("public_key"), str):
            raise ValidationError(
                {"public_key": "Nội dung dán vào không phải JSON khoá liên thông: cần dạng "
                 '{"source": …, "kid": …, "public_key": …} như lệnh '
                 "`grassroots exchange key` in ra."}
            )  # fmt: skip
        given = str(data.get("kid") or "").strip().lower()
        if kid and given and kid != given:
            raise ValidationError(
                {"kid": f"Mã khoá đã nhập ({kid}) khác mã khoá trong JSON ({given})."}
            )
        kid = kid or given
        source = str(data.get("source") or "").strip()
        text = data["public_key"]
    key, actual = _public_key(text)
    if not kid:
        raise ValidationError(
            {"kid": "Hãy nhập mã khoá (kid, 16 ký tự) mà hệ thống bên kia in kèm khoá công khai."}
        )
    if kid != actual:
        raise ValidationError(
            {"kid": f"Mã khoá {kid} không khớp với khoá công khai đã nhập (khoá này có mã "
             f"{actual}): khoá hoặc mã khoá bị gõ sai, hãy dán lại cả hai từ hệ thống bên kia."}
        )  # fmt: skip
    return PeerKeyInput(public_key=key, kid=kid, source=source)


def _own_kids() -> set[str]:
    from . import keys

    kids = {keys.key_id()}
    staged = keys.next_key()
    if staged is not None:
        kids.add(keys.describe(staged)["kid"])
    return kids


def _check_key(parsed: PeerKeyInput, *, code: str, peer: Peer | None = None) -> None:
    """Refuse our own key, a key pasted for another system, and a key another peer uses."""
    if parsed.kid in _own_kids():
        raise ValidationError(
            {"public_key": "Đây là khoá của chính hệ thống này, không phải của hệ thống bên kia: "
             "hãy lấy khoá do hệ thống bên kia in ra (`grassroots exchange key`)."}
        )  # fmt: skip
    if parsed.source and parsed.source != code:
        raise ValidationError(
            {"public_key": f"Khoá đã dán là của hệ thống '{parsed.source}', không phải "
             f"'{code}'."}
        )  # fmt: skip
    other = (
        PeerKey.objects.filter(
            kid=parsed.kid, revoked_at__isnull=True, peer__retired_at__isnull=True
        )
        .exclude(peer=peer)
        .select_related("peer")
        .first()
    )
    if other is not None:
        raise ValidationError(
            {"public_key": f"Khoá này đang là khoá của hệ thống '{other.peer.code}' "
             f"({other.peer.name}): mỗi hệ thống có khoá riêng."}
        )  # fmt: skip


def _url(value: str, *, peer: Peer | None = None) -> str:
    """A peer's address: http(s), and not the address of another peer in service."""
    url = clean_text(value or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(
            {"url": "Địa chỉ phải bắt đầu bằng https:// (hoặc http:// khi thử nghiệm), ví dụ "
             "https://thongtinnguon.hungyen.gov.vn."}
        )  # fmt: skip
    same = _same_address(url)
    for other in Peer.objects.filter(retired_at__isnull=True).exclude(pk=getattr(peer, "pk", None)):
        if _same_address(other.url) == same:
            raise ValidationError(
                {"url": f"Địa chỉ này đã khai báo cho hệ thống '{other.code}' ({other.name})."}
            )
    return url


def _same_address(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}{parts.path.rstrip('/')}"


def _kinds(values: list[str] | None, field: str) -> list[str]:
    values = list(dict.fromkeys(values or []))
    wrong = [v for v in values if v not in Kind.values]
    if wrong:
        raise ValidationError({field: f"Loại tin không hợp lệ: {', '.join(wrong)}."})
    return values


def _may_manage(user, unit: Unit | None = None) -> None:
    if user is COMMAND_LINE:
        return
    require(user, "exchange.manage")
    if unit is not None:
        require_on(user, "exchange.manage", unit)


# Which kinds go which way (docs/exchange.md, "Kinds"): a bulletin, its withdrawal and a
# citizen report go down from the centre to a province; statistics go up, and a report's
# status goes back up to the centre that sent the report.
DOWN = (Kind.BULLETIN, Kind.WITHDRAWAL, Kind.CITIZEN_REPORT)
UP = (Kind.STATISTICS, Kind.REPORT_STATUS)


def default_kinds() -> tuple[list[str], list[str]]:
    """(kinds_in, kinds_out) a new peer starts with, by this system's level: at the centre a
    peer is a province (it receives what goes down, sends what goes up); at a province the
    peer is the centre (the mirror). The form's ticks and the command's defaults."""
    from .keys import is_central

    down, up = [str(k) for k in DOWN], [str(k) for k in UP]
    return (up, down) if is_central() else (down, up)


@transaction.atomic
def add_peer(
    *,
    user,
    code: str,
    name: str,
    url: str,
    unit: Unit | None,
    public_key: str,
    kid: str = "",
    kinds_in: list[str] | None = None,
    kinds_out: list[str] | None = None,
    bulletins_need_approval: bool = True,
) -> Peer:
    """Declare another system, its first key and its administrative scope (a unit of ours).

    Every field is checked before anything is stored, and every error is reported at once
    (ValidationError by field: `code`, `name`, `url`, `unit`, `public_key`, `kid`): the key with
    its `kid` (`parse_key`), not our own key, not a key or an address another peer in service
    uses. A code of a peer that was retired declares it again (the same row: its messages,
    pull cursor and idempotency are kept; `peer.redeclared` is True). Console, API and
    `grassroots exchange add-peer` all come here."""
    _may_manage(user, unit)
    code = clean_text(code or "").strip()
    name = clean_text(name or "").strip()
    errors: dict[str, list[str]] = {}

    def check(fn):
        try:
            return fn()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
            return None

    existing = None
    if not code or not all(c.isalnum() or c in "_.:-" for c in code) or len(code) > 64:
        errors["code"] = ["Mã hệ thống chỉ gồm chữ, số và các dấu _ . : - (tối đa 64 ký tự)."]
    else:
        existing = Peer.objects.select_for_update().filter(code=code).first()
        if existing is not None and existing.retired_at is None:
            errors["code"] = [f"Đã có hệ thống mã '{code}' ({existing.name})."]
    if not name:
        errors["name"] = ["Hãy nhập tên hệ thống."]
    if unit is None:
        errors["unit"] = ["Hãy chọn phạm vi hành chính của hệ thống này."]
    clean_url = check(lambda: _url(url, peer=existing))
    parsed = check(lambda: parse_key(public_key, kid))
    if parsed is not None and code:
        check(lambda: _check_key(parsed, code=code, peer=existing))
    kinds_in = check(lambda: _kinds(kinds_in if kinds_in is not None else Kind.values, "kinds_in"))
    kinds_out = check(
        lambda: _kinds(kinds_out if kinds_out is not None else Kind.values, "kinds_out")
    )
    if errors:
        raise ValidationError(errors)
    fields = {
        "name": name[:200],
        "url": clean_url,
        "unit": unit,
        "kinds_in": kinds_in,
        "kinds_out": kinds_out,
        "bulletins_need_approval": bulletins_need_approval,
    }
    if existing is not None:  # retired: declared again
        before = audit.snapshot(existing)
        for field, value in fields.items():
            setattr(existing, field, value)
        existing.active = True
        existing.retired_at = None
        existing.last_error = ""
        existing.save()
        peer = existing
        comment = f"khai báo lại, khoá {parsed.kid}"
        audit.record(peer, ChangeAction.UPDATE, user=user, before=before, comment=comment)
        peer.redeclared = True
    else:
        peer = Peer.objects.create(code=code, **fields)
        audit.record(peer, ChangeAction.CREATE, user=user, comment=f"khoá {parsed.kid}")
        peer.redeclared = False
    PeerKey.objects.create(peer=peer, kid=parsed.kid, public_key=parsed.public_key)
    return peer


def _peer_for(user, peer: Peer) -> Peer:
    if user is COMMAND_LINE:
        return Peer.objects.select_for_update().get(pk=peer.pk)
    found = Peer.objects.restrict(user, "exchange.manage").select_for_update().filter(pk=peer.pk)
    peer = found.first()
    if peer is None:
        raise Http404
    return peer


def _in_service(peer: Peer) -> None:
    if peer.retired_at is not None:
        raise ValidationError(
            {"peer": f"Hệ thống '{peer.code}' đã ngừng hẳn: hãy khai báo lại hệ thống này (cùng "
             "mã) trước khi thêm khoá hay đổi cài đặt."}
        )  # fmt: skip


@transaction.atomic
def add_key(*, user, peer: Peer, public_key: str, kid: str = "") -> PeerKey:
    """Key rotation: the new key is trusted at once; the old one stays until revoked.

    A key revoked by mistake can be added again: a new row (the revoked one stays as history),
    audited as such. The key is checked as in `add_peer`. Returns the row with `outcome`:
    `added`, `reinstated` (was revoked) or `exists` (already in use: nothing changed)."""
    _may_manage(user)
    peer = _peer_for(user, peer)
    _in_service(peer)
    parsed = parse_key(public_key, kid)
    _check_key(parsed, code=peer.code, peer=peer)
    existing = peer.keys.filter(kid=parsed.kid).order_by("-added_at").first()
    if existing is not None and existing.revoked_at is None:
        existing.outcome = "exists"
        return existing
    row = PeerKey.objects.create(peer=peer, kid=parsed.kid, public_key=parsed.public_key)
    if existing is not None:
        when = timezone.localtime(existing.revoked_at).strftime("%d/%m/%Y %H:%M")
        comment = f"thêm lại khoá {parsed.kid} (đã thu hồi lúc {when})"
        row.outcome = "reinstated"
    else:
        comment = f"thêm khoá {parsed.kid}"
        row.outcome = "added"
    audit.record(peer, ChangeAction.UPDATE, user=user, comment=comment)
    return row


@transaction.atomic
def revoke_key(*, user, key: PeerKey) -> PeerKey:
    """From now on, messages signed with this key are refused (it can be added again)."""
    _may_manage(user)
    peer = _peer_for(user, key.peer)
    key = peer.keys.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(peer, ChangeAction.UPDATE, user=user, comment=f"thu hồi khoá {key.kid}")
    return key


@transaction.atomic
def set_peer(*, user, peer: Peer, data: dict[str, Any]) -> Peer:
    """Change a peer's name, address, kinds, approval setting or switch it off (a pause: see
    `retire_peer` to stop for good). ValidationError by field (`name`, `url`, `kinds_in`,
    `kinds_out`)."""
    _may_manage(user)
    peer = _peer_for(user, peer)
    _in_service(peer)
    before = audit.snapshot(peer)
    if "url" in data:
        peer.url = _url(str(data["url"]), peer=peer)
    for field in ("kinds_in", "kinds_out"):
        if field in data:
            setattr(peer, field, _kinds(data[field], field))
    for field in ("active", "pull", "bulletins_need_approval"):
        if field in data:
            setattr(peer, field, bool(data[field]))
    if "name" in data:
        name = clean_text(str(data["name"] or "")).strip()
        if not name:
            raise ValidationError({"name": ["Hãy nhập tên hệ thống."]})
        peer.name = name[:200]
    peer.save()
    audit.record(peer, ChangeAction.UPDATE, user=user, before=before)
    return peer


def has_history(peer: Peer) -> bool:
    """Whether anything was exchanged with the peer (then it is retired, never deleted)."""
    return any(
        related.objects.filter(peer=peer).exists()
        for related in (OutboundMessage, InboundMessage, RefusedMessage, UnitMonth, PeerMonth,
                        BulletinFate)
    )  # fmt: skip


@transaction.atomic
def retire_peer(*, user, peer: Peer) -> Peer:
    """Stop exchanging with a peer for good: off (nothing pushed, pulled or taken), every key
    revoked; every message exchanged stays, with its history. Its code can be declared again
    (`add_peer`), which brings this peer back with a new key."""
    _may_manage(user)
    peer = _peer_for(user, peer)
    if peer.retired_at is not None:
        return peer
    before = audit.snapshot(peer)
    now = timezone.now()
    kids = list(peer.keys.filter(revoked_at__isnull=True).values_list("kid", flat=True))
    peer.keys.filter(revoked_at__isnull=True).update(revoked_at=now)
    peer.active = False
    peer.retired_at = now
    peer.save(update_fields=["active", "retired_at", "updated_at"])
    comment = "ngừng hẳn" + (f"; thu hồi khoá {', '.join(kids)}" if kids else "")
    audit.record(peer, ChangeAction.UPDATE, user=user, before=before, comment=comment)
    return peer


@transaction.atomic
def delete_peer(*, user, peer: Peer) -> None:
    """Delete a peer declared by mistake: only while nothing was exchanged with it (else
    ValidationError: retire it, which keeps its messages)."""
    _may_manage(user)
    peer = _peer_for(user, peer)
    if has_history(peer):
        raise ValidationError(
            {"peer": f"Hệ thống '{peer.code}' đã có thông điệp gửi, nhận hoặc bị từ chối: không "
             "xoá để giữ lịch sử. Hãy dùng «Ngừng hẳn» (mã hệ thống vẫn khai báo lại được)."}
        )  # fmt: skip
    audit.record(peer, ChangeAction.DELETE, user=user, comment=f"xoá hệ thống {peer.code}")
    peer.delete()


# -- sending --------------------------------------------------------------------------------


def bulletin_message_id(bulletin) -> str:
    from . import keys

    return f"{keys.own_id()}:bulletin:{bulletin.pk}"


def bulletin_text(body: str) -> str:
    """A bulletin's body (the editor's sanitised text, `content.actions.sanitize`) as the
    protocol's `text`: plain text without markup or character entities, paragraphs separated
    by one blank line, line breaks within a paragraph kept (docs/exchange.md, `text`)."""
    from grassroots.content.actions import sanitize

    marked = re.sub(r"(?i)<\s*br\s*/?>", "\n", sanitize(body or ""))
    marked = re.sub(r"(?i)<\s*/\s*(p|li|h[2-4]|blockquote|ul|ol)\s*>", "\n\n", marked)
    text = html.unescape(nh3.clean(marked, tags=set()))
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def site_url_problem() -> str:
    """Why the media links of a bulletin sent from here would not reach the receiver: "" when
    `GRASSROOTS_SITE_URL` is a public address, "unset" when it is empty, "loopback" when it is
    localhost or a loopback IP (the links are built on it, `bulletin_body`; the receiver fetches
    each file and refuses the bulletin when it cannot, docs/exchange.md)."""
    import ipaddress

    from django.conf import settings

    site = settings.GRASSROOTS.get("SITE_URL", "").strip()
    host = (urlsplit(site).hostname or "") if site else ""
    if not host:
        return "unset"
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    try:
        return "loopback" if ipaddress.ip_address(host).is_loopback else ""
    except ValueError:
        return ""


def media_unreachable_text(problem: str) -> str:
    """The refusal of a bulletin with media while `site_url_problem()` is `problem`."""
    from django.conf import settings

    if problem == "loopback":
        site = settings.GRASSROOTS.get("SITE_URL", "").strip()[:100]
        where = f"đang là địa chỉ nội bộ ({site})"
    else:
        where = "chưa đặt"
    return (
        f"Bản tin này có tệp đính kèm nhưng địa chỉ công khai của hệ thống (GRASSROOTS_SITE_URL) "
        f"{where}: các tỉnh không tải được tệp và sẽ từ chối bản tin. Hãy đặt địa chỉ công khai "
        "(https://…) mà các tỉnh truy cập được, khởi động lại hệ thống rồi gửi xuống."
    )


def bulletin_body(bulletin, *, targets: list[str] | None = None) -> dict[str, Any]:
    """The protocol body of an approved bulletin (its approved revision's content)."""
    from django.conf import settings

    from grassroots.content.models import MediaAsset

    data = bulletin.approved_revision.data
    media = []
    for asset in MediaAsset.objects.for_revision(bulletin.approved_revision):
        if not asset.file or not asset.content_sha256 or asset.synthesized:
            continue
        base = settings.GRASSROOTS.get("SITE_URL", "").rstrip("/")
        media.append(
            {
                "url": f"{base}{settings.MEDIA_URL}{asset.file}",
                "sha256": asset.content_sha256,
                "size": asset.size or 1,
                "mime": asset.mime,
                "name": asset.original_name,
            }
        )
    return {
        "title": data["title"],
        "text": bulletin_text(data.get("body") or ""),
        "kind": data.get("kind") or "text",
        "priority": data.get("priority") or "normal",
        "category": data.get("category"),
        "source_name": data.get("source_name") or "",
        "targets": targets or [],
        "valid_from": data.get("go_live_at"),
        "valid_to": data.get("expire_at"),
        "media": media,
    }


@dataclass
class Sending:
    """What sending a bulletin down did, peer by peer: `queued` new messages (a peer that did
    not have it, or a newer version because its content changed), `requeued` a failed send of
    the same content put back in the queue, `unchanged` the newest message each of the other
    peers already has or is about to get with this very content (nothing sent again)."""

    queued: list[OutboundMessage] = dataclasses.field(default_factory=list)
    requeued: list[OutboundMessage] = dataclasses.field(default_factory=list)
    unchanged: list[OutboundMessage] = dataclasses.field(default_factory=list)

    @property
    def rows(self) -> list[OutboundMessage]:
        return [*self.queued, *self.requeued, *self.unchanged]


@transaction.atomic
def send_bulletin(*, user, bulletin, peers: list[Peer]) -> Sending:
    """Send an approved (or published) bulletin down to the chosen peers (central mode: the
    chosen provinces), idempotently per peer: a peer whose newest message of this bulletin
    carries the same content (the same `content_hash`) gets nothing new; a peer that never
    had it gets it, with the version the others have when the content is the same; when the
    content changed since (edited and approved again) it goes as a newer version. A failed
    send of the same content is put back in the queue. Raises Problem 409 when the bulletin
    is not approved, ValidationError when no chosen peer takes bulletins."""
    from grassroots.content.choices import Status
    from grassroots.core.errors import Problem

    require(user, "exchange.manage")
    require_on(user, "content.publish", bulletin.unit)
    if bulletin.status not in (Status.APPROVED, Status.PUBLISHED) or not (
        bulletin.approved_revision_id
    ):
        raise Problem(409, "Chỉ gửi xuống được bản tin đã duyệt hoặc đã xuất bản.")
    allowed = {p.pk for p in Peer.objects.restrict(user, "exchange.manage")}
    chosen = [p for p in peers if p.pk in allowed]
    if not chosen:
        raise ValidationError({"peers": "Hãy chọn ít nhất một hệ thống nhận."})
    chosen = [p for p in chosen if p.active and Kind.BULLETIN in (p.kinds_out or [])]
    if not chosen:
        raise ValidationError({"peers": "Các hệ thống đã chọn không nhận loại tin bản tin."})
    message_id = bulletin_message_id(bulletin)
    body = bulletin_body(bulletin)
    if body["media"] and (problem := site_url_problem()):
        raise ValidationError({"bulletin": media_unreachable_text(problem)})
    digest = federation.content_hash(body)
    sent = list(
        OutboundMessage.objects.select_for_update()
        .filter(message_id=message_id)
        .select_related("peer")
        .order_by("version", "id")
    )
    newest = {row.peer_id: row for row in sent}  # each peer's newest version
    withdrawn = dict(
        OutboundMessage.objects.filter(message_id=f"{message_id}:withdrawal")
        .values("peer_id")
        .annotate(last=Max("id"))
        .values_list("peer_id", "last")
    )
    result = Sending()
    fresh = []
    for peer in chosen:
        row = newest.get(peer.pk)
        if (
            row is None
            or row.status == DeliveryStatus.CANCELLED
            or row.content_hash != digest
            or withdrawn.get(peer.pk, 0) > row.pk  # withdrawn there since: sent again
        ):
            fresh.append(peer)
        elif row.status == DeliveryStatus.FAILED:
            row.status = DeliveryStatus.PENDING
            row.attempts = 0
            row.next_attempt_at = timezone.now()
            row.save(update_fields=["status", "attempts", "next_attempt_at"])
            result.requeued.append(row)
        else:
            result.unchanged.append(row)
    if fresh:
        last = sent[-1] if sent else None
        same = last is not None and last.content_hash == digest
        taken = {row.peer_id for row in sent if last is not None and row.version == last.version}
        version = last.version if same and not taken & {p.pk for p in fresh} else None
        result.queued = outbound.emit(
            peers=fresh,
            kind=Kind.BULLETIN,
            message_id=message_id,
            body=body,
            version=version,
            title=bulletin.title,
        )
    if result.queued or result.requeued:
        names = ", ".join(r.peer.name for r in [*result.queued, *result.requeued])
        audit.record(bulletin, ChangeAction.UPDATE, user=user, comment=f"Gửi xuống: {names}")
    return result


def _sends_of(ref: str) -> dict[int, list[OutboundMessage]]:
    """Every send of a bulletin message, per peer, oldest version first (locked)."""
    by_peer: dict[int, list[OutboundMessage]] = {}
    rows = OutboundMessage.objects.select_for_update().filter(message_id=ref).order_by("version")
    for row in rows:
        by_peer.setdefault(row.peer_id, []).append(row)
    return by_peer


def withdrawal_reach(bulletin) -> dict[str, list[str]]:
    """Who a withdrawal of this bulletin here would reach, as `bulletin_withdrawn` decides
    (read only, for the confirmation before it): {"holders": names of the peers that get a
    `withdrawal`, "cancelled": names of the peers whose send not delivered yet is cancelled},
    each sorted; both empty when the bulletin was never sent."""
    rows = (
        OutboundMessage.objects.filter(message_id=bulletin_message_id(bulletin))
        .select_related("peer")
        .order_by("version")
    )
    by_peer: dict[int, list[OutboundMessage]] = {}
    for row in rows:
        by_peer.setdefault(row.peer_id, []).append(row)
    holders, cancelled = [], []
    for sends in by_peer.values():
        if any(r.may_have_arrived for r in sends):
            holders.append(sends[0].peer.name)
        elif any(r.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED) for r in sends):
            cancelled.append(sends[0].peer.name)
    return {"holders": sorted(holders), "cancelled": sorted(cancelled)}


def bulletin_withdrawn(bulletin, reason: str = "") -> list[OutboundMessage]:
    """System action inside content's `withdraw`: a bulletin withdrawn here is withdrawn at
    every peer that may hold it, and only there. Sends not delivered yet are cancelled (a
    withdrawn bulletin must not arrive after its withdrawal, nor be sent again by "Gửi lại");
    a peer that may have it (a version delivered, handed out in a pull, or a push whose
    outcome is unknown: `OutboundMessage.may_have_arrived`) gets a `withdrawal`. Returns the
    withdrawals queued (nothing when the bulletin was never sent)."""
    ref = bulletin_message_id(bulletin)
    holders = []
    for rows in _sends_of(ref).values():
        waiting = [r for r in rows if r.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)]
        if any(r.may_have_arrived for r in rows):
            holders.append(rows[0].peer_id)
        OutboundMessage.objects.filter(pk__in=[r.pk for r in waiting]).update(
            status=DeliveryStatus.CANCELLED, next_attempt_at=None
        )
    if not holders:
        return []
    return outbound.emit(
        peers=list(Peer.objects.filter(pk__in=holders)),
        kind=Kind.WITHDRAWAL,
        message_id=f"{ref}:withdrawal",
        body={"ref": ref, "reason": (reason or "")[:1000]},
        title=f"Thu hồi: {bulletin.title}",
    )


@transaction.atomic
def withdraw_after_late_delivery(row: OutboundMessage) -> list[OutboundMessage]:
    """A send cancelled by a withdrawal that the peer took after all (the push was on its way):
    it is delivered, and the peer gets the withdrawal (the same reason as the others got)."""
    ref = row.message_id
    withdrawals = OutboundMessage.objects.filter(message_id=f"{ref}:withdrawal")
    if withdrawals.filter(peer_id=row.peer_id, id__gt=row.pk).exists():
        return []
    earlier = withdrawals.order_by("-id").first()
    reason = json.loads(earlier.envelope)["body"].get("reason", "") if earlier else ""
    return outbound.emit(
        peers=[row.peer],
        kind=Kind.WITHDRAWAL,
        message_id=f"{ref}:withdrawal",
        body={"ref": ref, "reason": reason},
        title=f"Thu hồi: {row.title}",
    )


# -- a received bulletin changed at its source --------------------------------------------------


def pending_update(bulletin) -> InboundMessage | None:
    """The newer version of a received bulletin that waits for the province's approver (the
    bulletin is approved or published here and stays on air meanwhile), or None."""
    return (
        InboundMessage.objects.filter(bulletin=bulletin, pending_version__isnull=False)
        .select_related("peer")
        .first()
    )


def _check_update(user, bulletin):
    """The approver who may take the update: content.approve on the bulletin and the last step
    of its approval chain (the step that pins and signs a revision)."""
    from django.core.exceptions import PermissionDenied

    from grassroots.content import actions as content
    from grassroots.content.choices import Status
    from grassroots.core.errors import Problem

    content._check(user, "content.approve", bulletin)
    bulletin = content._lock(bulletin)
    _index, steps = content.current_step(bulletin)
    if not content.can_take_step(user, bulletin, steps[-1]):
        raise PermissionDenied(
            f"Bản sửa của trung ương cần người duyệt bước cuối ({steps[-1].label}) duyệt."
        )
    record = (
        InboundMessage.objects.select_for_update()
        .filter(bulletin=bulletin, pending_version__isnull=False)
        .select_related("peer")
        .first()
    )
    if record is None:
        raise Problem(409, "Không có bản sửa nào của trung ương đang chờ duyệt cho bản tin này.")
    if bulletin.status not in (Status.APPROVED, Status.PUBLISHED):
        raise Problem(409, "Bản tin không còn ở trạng thái đã duyệt hoặc đã xuất bản.")
    return bulletin, record


@transaction.atomic
def accept_update(*, user, bulletin, comment: str = ""):
    """The province's approver takes the centre's newer version of a bulletin approved or
    published here: its content replaces the bulletin's, signed as the new approved revision
    and, when published, re-shared to the communes (their inbox shows the new revision); no
    moment off air. Needs content.approve and the chain's last step (PermissionDenied), an
    update waiting (Problem 409)."""
    from . import handlers

    bulletin, record = _check_update(user, bulletin)
    body = federation.BulletinBody.model_validate(record.pending_body)
    version = record.pending_version
    handlers.take_content(bulletin, record.peer, body, list(record.pending_files or []))
    note = f"Duyệt bản sửa của trung ương (phiên bản {version})." + (
        f" {comment.strip()}" if (comment or "").strip() else ""
    )
    handlers._publish(bulletin, note, user=user)
    record.applied_hash = record.content_hash
    record.pending_version = None
    record.pending_body = None
    record.pending_files = []
    record.pending_at = None
    record.note = f"Phiên bản {version}: tỉnh đã duyệt bản sửa."
    record.save()
    return bulletin


@transaction.atomic
def keep_current(*, user, bulletin, comment: str = ""):
    """The province's approver keeps what is on air and sets the centre's newer version aside
    (recorded with the reason; the next version from the centre is looked at again)."""
    from . import handlers

    bulletin, record = _check_update(user, bulletin)
    version = record.pending_version
    handlers._drop_pending(record)
    reason = (comment or "").strip()
    record.note = f"Phiên bản {version}: tỉnh giữ bản đang phát. {reason}"[:500]
    record.save()
    audit.record(
        bulletin, ChangeAction.UPDATE, user=user,
        comment=f"Giữ bản đang phát, không nhận phiên bản {version} của trung ương. {reason}",
    )  # fmt: skip
    return bulletin
