"""Every mutation of the exchange: peers and their keys, bulletins sent down, statistics sent up.

Sending only writes outbox rows inside the transaction (outbound.emit); the worker talks to
the network.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require, require_on
from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.units.models import Unit

from . import federation, outbound
from .choices import Kind
from .models import OutboundMessage, Peer, PeerKey


def _public_key(value: str) -> tuple[str, str]:
    """(base64 raw key, kid) of an Ed25519 public key given in base64, or ValidationError."""
    value = (value or "").strip()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValidationError(
            {"public_key": "Khoá công khai phải là khoá Ed25519 (32 byte) viết ở dạng base64."}
        )
    return base64.b64encode(raw).decode(), federation.key_id(raw)


def _kinds(values: list[str] | None, field: str) -> list[str]:
    values = list(dict.fromkeys(values or []))
    wrong = [v for v in values if v not in Kind.values]
    if wrong:
        raise ValidationError({field: f"Loại tin không hợp lệ: {', '.join(wrong)}."})
    return values


@transaction.atomic
def add_peer(
    *,
    user,
    code: str,
    name: str,
    url: str,
    unit: Unit,
    public_key: str,
    kinds_in: list[str] | None = None,
    kinds_out: list[str] | None = None,
    bulletins_need_approval: bool = True,
) -> Peer:
    """Declare another system, its first key and its administrative scope (a unit of ours)."""
    require(user, "exchange.manage")
    require_on(user, "exchange.manage", unit)
    code = (code or "").strip()
    errors = {}
    if not code or not all(c.isalnum() or c in "_.:-" for c in code) or len(code) > 64:
        errors["code"] = "Mã hệ thống chỉ gồm chữ, số và các dấu _ . : - (tối đa 64 ký tự)."
    elif Peer.objects.filter(code=code).exists():
        errors["code"] = f"Đã có hệ thống mã '{code}'."
    if not (name or "").strip():
        errors["name"] = "Hãy nhập tên hệ thống."
    if not (url or "").startswith(("https://", "http://")):
        errors["url"] = "Địa chỉ phải bắt đầu bằng https:// (hoặc http:// khi thử nghiệm)."
    if errors:
        raise ValidationError(errors)
    key, kid = _public_key(public_key)
    peer = Peer.objects.create(
        code=code,
        name=name.strip()[:200],
        url=url.strip(),
        unit=unit,
        kinds_in=_kinds(kinds_in if kinds_in is not None else Kind.values, "kinds_in"),
        kinds_out=_kinds(kinds_out if kinds_out is not None else Kind.values, "kinds_out"),
        bulletins_need_approval=bulletins_need_approval,
    )
    PeerKey.objects.create(peer=peer, kid=kid, public_key=key)
    audit.record(peer, ChangeAction.CREATE, user=user, comment=f"khoá {kid}")
    return peer


def _peer_for(user, peer: Peer) -> Peer:
    found = Peer.objects.restrict(user, "exchange.manage").select_for_update().filter(pk=peer.pk)
    peer = found.first()
    if peer is None:
        raise Http404
    return peer


@transaction.atomic
def add_key(*, user, peer: Peer, public_key: str) -> PeerKey:
    """Key rotation: the new key is trusted at once; the old one stays until revoked."""
    require(user, "exchange.manage")
    peer = _peer_for(user, peer)
    key, kid = _public_key(public_key)
    existing = peer.keys.filter(kid=kid).first()
    if existing is not None:
        if existing.revoked_at:
            raise ValidationError(
                {"public_key": "Khoá này đã bị thu hồi; không dùng lại khoá đã thu hồi."}
            )
        return existing
    row = PeerKey.objects.create(peer=peer, kid=kid, public_key=key)
    audit.record(peer, ChangeAction.UPDATE, user=user, comment=f"thêm khoá {kid}")
    return row


@transaction.atomic
def revoke_key(*, user, key: PeerKey) -> PeerKey:
    """From now on, messages signed with this key are refused."""
    require(user, "exchange.manage")
    peer = _peer_for(user, key.peer)
    key = peer.keys.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(peer, ChangeAction.UPDATE, user=user, comment=f"thu hồi khoá {key.kid}")
    return key


@transaction.atomic
def set_peer(*, user, peer: Peer, data: dict[str, Any]) -> Peer:
    """Change a peer's address, kinds, approval setting or switch it off."""
    require(user, "exchange.manage")
    peer = _peer_for(user, peer)
    before = audit.snapshot(peer)
    if "url" in data:
        if not str(data["url"]).startswith(("https://", "http://")):
            raise ValidationError({"url": "Địa chỉ phải bắt đầu bằng https://."})
        peer.url = data["url"]
    for field in ("kinds_in", "kinds_out"):
        if field in data:
            setattr(peer, field, _kinds(data[field], field))
    for field in ("active", "pull", "bulletins_need_approval"):
        if field in data:
            setattr(peer, field, bool(data[field]))
    if "name" in data and str(data["name"]).strip():
        peer.name = str(data["name"]).strip()[:200]
    peer.save()
    audit.record(peer, ChangeAction.UPDATE, user=user, before=before)
    return peer


# -- sending --------------------------------------------------------------------------------


def bulletin_message_id(bulletin) -> str:
    from . import keys

    return f"{keys.own_id()}:bulletin:{bulletin.pk}"


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
        "text": bulletin.body_text,
        "kind": data.get("kind") or "text",
        "priority": data.get("priority") or "normal",
        "category": data.get("category"),
        "source_name": data.get("source_name") or "",
        "targets": targets or [],
        "valid_from": data.get("go_live_at"),
        "valid_to": data.get("expire_at"),
        "media": media,
    }


@transaction.atomic
def send_bulletin(*, user, bulletin, peers: list[Peer]) -> list[OutboundMessage]:
    """Send an approved (or published) bulletin down to the chosen peers (central mode: the
    chosen provinces). A bulletin sent again after an edit goes as a newer version."""
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
    rows = outbound.emit(
        peers=chosen,
        kind=Kind.BULLETIN,
        message_id=bulletin_message_id(bulletin),
        body=bulletin_body(bulletin),
        title=bulletin.title,
    )
    if not rows:
        raise ValidationError({"peers": "Các hệ thống đã chọn không nhận loại tin bản tin."})
    audit.record(
        bulletin,
        ChangeAction.UPDATE,
        user=user,
        comment="Gửi xuống: " + ", ".join(r.peer.name for r in rows),
    )
    return rows


def bulletin_withdrawn(bulletin, reason: str = "") -> list[OutboundMessage]:
    """System action inside content's `withdraw`: a bulletin withdrawn here is withdrawn at
    every peer it was sent to (nothing when it was never sent)."""
    ref = bulletin_message_id(bulletin)
    peer_ids = set(OutboundMessage.objects.filter(message_id=ref).values_list("peer_id", flat=True))
    if not peer_ids:
        return []
    return outbound.emit(
        peers=list(Peer.objects.filter(pk__in=peer_ids)),
        kind=Kind.WITHDRAWAL,
        message_id=f"{ref}:withdrawal",
        body={"ref": ref, "reason": (reason or "")[:1000]},
        title=f"Thu hồi: {bulletin.title}",
    )
