"""Sending: messages enter the exchange outbox with the change that caused them; the worker
pushes them with retries and exponential back-off; a peer that was away pulls what it missed.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from grassroots_protocol import format_time

from . import federation, keys
from .adapters import DeliveryError, adapter_for, send_each
from .choices import DeliveryStatus, Kind, Via
from .errors import TECHNICAL_CHARS, Advice, advice, host_of, receipt_error
from .models import OutboundMessage, Peer

log = logging.getLogger("grassroots.exchange")

FIRST_RETRY = 10  # seconds; doubled at each failure
LONGEST_RETRY = 3600
MAX_ATTEMPTS = 12  # then `failed`, shown in the console with a retry button (pull still works)
PUSH_BATCH = 500  # messages looked at per round of the periodic job (a few seconds of work)
BATCH_MESSAGES = 100  # messages per POST (protocol 1.1 batches)
BATCH_BYTES = 4 * 1024 * 1024  # and about this much JSON per POST (the inbox takes 10 MB)


def backoff(attempts: int) -> datetime.timedelta:
    """Wait before attempt `attempts + 1`: 10 s, 20 s, 40 s … at most one hour."""
    return datetime.timedelta(seconds=min(LONGEST_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1)))


def next_version(message_id: str) -> int:
    """The version after the last one sent for this message id (to any peer)."""
    last = OutboundMessage.objects.filter(message_id=message_id).aggregate(v=Max("version"))["v"]
    return (last or 0) + 1


def emit(
    *,
    peers: Iterable[Peer],
    kind: str,
    message_id: str,
    body: dict[str, Any],
    version: int | None = None,
    title: str = "",
) -> list[OutboundMessage]:
    """Sign the message for each peer that may receive this kind and put it in the outbox
    (inside the caller's transaction: it leaves only if the change commits). Pending older
    versions of the same message are superseded: only the newest is worth sending."""
    version = version or next_version(message_id)
    issued_at = format_time(timezone.now())
    rows = []
    for peer in peers:
        if not peer.active or kind not in (peer.kinds_out or []):
            continue
        envelope = federation.seal(
            key=keys.private_key(),
            source=keys.own_id(),
            destination=peer.code,
            message_id=message_id,
            version=version,
            kind=kind,
            body=body,
            issued_at=issued_at,
        )
        OutboundMessage.objects.filter(
            peer=peer,
            message_id=message_id,
            version__lt=version,
            status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED),
        ).update(status=DeliveryStatus.SUPERSEDED)
        rows.append(
            OutboundMessage(
                peer=peer,
                message_id=message_id,
                version=version,
                kind=kind,
                title=title[:300],
                envelope=json.dumps(envelope, ensure_ascii=False, separators=(",", ":")),
                next_attempt_at=timezone.now(),
            )
        )
    OutboundMessage.objects.bulk_create(rows, batch_size=500)
    return rows


def resign(envelope: dict[str, Any]) -> dict[str, Any]:
    """The same message (id, version, body, issued_at) signed with our current key: after our
    own key rotation, a message still in the outbox goes out with the new `kid`."""
    return federation.seal(
        key=keys.private_key(),
        source=envelope["source"],
        destination=envelope["destination"],
        message_id=envelope["id"],
        version=envelope["version"],
        kind=envelope["kind"],
        body=envelope["body"],
        issued_at=envelope["issued_at"],
    )


@transaction.atomic
def resign_undelivered() -> int:
    """Re-sign every message not delivered yet (pending or failed) whose `kid` is not our
    current key's; returns how many. Run when our own key is rotated
    (`grassroots exchange rotate-key --activate`)."""
    kid = keys.key_id()
    count = 0
    rows = OutboundMessage.objects.select_for_update().filter(
        status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    )
    for row in rows.iterator(chunk_size=500):
        envelope = json.loads(row.envelope)
        if envelope.get("kid") == kid:
            continue
        row.envelope = json.dumps(resign(envelope), ensure_ascii=False, separators=(",", ":"))
        row.save(update_fields=["envelope"])
        count += 1
    return count


def _batches(rows: list[OutboundMessage]) -> Iterator[list[OutboundMessage]]:
    """The rows in order, cut into batches of at most BATCH_MESSAGES messages and about
    BATCH_BYTES (a message larger than that goes alone)."""
    batch: list[OutboundMessage] = []
    size = 0
    for row in rows:
        length = len(row.envelope)
        if batch and (len(batch) >= BATCH_MESSAGES or size + length > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += length
    if batch:
        yield batch


def _failed(row: OutboundMessage, error: DeliveryError, *, now) -> None:
    """Record what the transport said (`errors`: the sentence, its kind, the peer's refusal
    reason and status, the technical detail) and when to try again."""
    attempts = row.attempts + 1
    # refused for good (an older version than the peer holds…), or tried too often: failed
    failed = error.permanent or attempts >= MAX_ATTEMPTS
    OutboundMessage.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING).update(
        attempts=attempts,
        last_error=error.detail[:500],
        error_kind=error.kind,
        error_reason=error.reason,
        error_status=error.status,
        error_detail=error.technical[:TECHNICAL_CHARS],
        status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
        next_attempt_at=None if failed else now + backoff(attempts),
    )


def _deliver(peer: Peer, rows: list[OutboundMessage], now: datetime.datetime) -> tuple[int, bool]:
    """Send these messages of one peer (one POST when the adapter takes batches) and record
    each one's fate: (how many were handed over, whether all were settled). Not settled when
    some could not be delivered *yet* (the peer waits for its back-off); a message the peer
    refused for good is `failed` and does not stop the others."""
    adapter = adapter_for(peer)
    envelopes = [json.loads(row.envelope) for row in rows]
    try:
        if hasattr(adapter, "send_batch"):
            receipts = adapter.send_batch(peer, envelopes)
        else:
            receipts = send_each(adapter, peer, envelopes)
    except DeliveryError as exc:
        for row in rows:
            _failed(row, exc, now=now)
        log.warning(
            "exchange push of %d messages to %s failed: %s (%s)",
            len(rows), peer.code, exc.detail, exc.technical,
        )  # fmt: skip
        return 0, False
    delivered = []
    waiting = False
    host = host_of(peer.url)
    for row, receipt in zip(rows, receipts, strict=True):
        if receipt["outcome"] in ("applied", "duplicate"):
            delivered.append(row.pk)
            continue
        error = receipt_error(receipt, host=host)
        waiting = waiting or not error.permanent
        _failed(row, error, now=now)
        log.warning("exchange push %s to %s: %s", row.message_id, peer.code, error.detail)
    # cancelled while the push was on its way (the bulletin was withdrawn here meanwhile): the
    # peer took it after all, so it is delivered and gets the withdrawal after it
    late = list(OutboundMessage.objects.filter(pk__in=delivered, status=DeliveryStatus.CANCELLED))
    handed = (
        OutboundMessage.objects.filter(pk__in=delivered)
        .exclude(status=DeliveryStatus.SUPERSEDED)
        .update(
            attempts=F("attempts") + 1,
            status=DeliveryStatus.DELIVERED,
            delivered_at=timezone.now(),
            delivered_via=Via.PUSH,
            last_error="",
            error_kind="",
            error_reason="",
            error_status=None,
            error_detail="",
            next_attempt_at=None,
        )
    )
    if late:
        from .actions import withdraw_after_late_delivery

        for row in late:
            withdraw_after_late_delivery(row)
    return handed, not waiting


def depends_on(row: OutboundMessage) -> set[str]:
    """The message ids that must reach the peer before this message: its own (an older
    version of it) and, for a withdrawal, the bulletin it withdraws (`ref`)."""
    ids = {row.message_id}
    if row.kind == Kind.WITHDRAWAL:
        ref = json.loads(row.envelope).get("body", {}).get("ref")
        if ref:
            ids.add(ref)
    return ids


def sendable(
    due: list[OutboundMessage], waiting: Iterable[tuple[int, int, str]]
) -> list[OutboundMessage]:
    """The due rows that may go now, in outbox order: a row waits while an earlier pending
    row of the same peer that is not going now (in back-off, or itself waiting) carries a
    message id it depends on (`depends_on`). `waiting`: (id, peer id, message id) of the
    peers' pending rows that are not due. Unrelated messages are not held up."""
    blocked: dict[int, set[str]] = {}
    events = sorted(
        [(pk, peer_id, message_id, None) for pk, peer_id, message_id in waiting]
        + [(row.pk, row.peer_id, row.message_id, row) for row in due],
        key=lambda e: e[0],
    )
    out = []
    for _pk, peer_id, message_id, row in events:
        held = blocked.setdefault(peer_id, set())
        if row is None or depends_on(row) & held:
            held.add(message_id)
        else:
            out.append(row)
    return out


def push_due(*, now: datetime.datetime | None = None, limit: int = PUSH_BATCH) -> int:
    """Push the messages whose time has come, in outbox order, per peer, in batches. Order
    per (peer, message id) holds across rounds: a message waits while an earlier one it
    depends on (`depends_on`) is still pending for that peer (`sendable`). A peer with a
    message that could not be delivered yet is not tried again in this round (its messages
    wait for their back-off). Returns how many were handed over (taken or found duplicate by
    the peer)."""
    now = now or timezone.now()
    due = list(
        OutboundMessage.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, peer__active=True
        )
        .select_related("peer")
        .order_by("id")[:limit]
    )
    if due:
        waiting = (
            OutboundMessage.objects.filter(
                status=DeliveryStatus.PENDING,
                peer_id__in={row.peer_id for row in due},
                pk__lt=due[-1].pk,
            )
            .exclude(next_attempt_at__lte=now)
            .values_list("pk", "peer_id", "message_id")
        )
        due = sendable(due, waiting)
    by_peer: dict[int, list[OutboundMessage]] = {}
    for row in due:
        by_peer.setdefault(row.peer_id, []).append(row)
    sent = 0
    for rows in by_peer.values():
        peer = rows[0].peer
        for batch in _batches(rows):
            handed, settled = _deliver(peer, batch, now)
            sent += handed
            if not settled:
                break
    return sent


def advice_for(message: OutboundMessage) -> Advice:
    """What the console says under a failed message and whether it offers *Gửi lại*
    (`errors.advice`)."""
    return advice(
        status=message.status,
        kind=message.error_kind,
        reason=message.error_reason,
        http_status=message.error_status,
    )


def _locked(message: OutboundMessage, user) -> OutboundMessage:
    """The message under a row lock, if `user` manages the exchange of its peer (else 404)."""
    from django.http import Http404

    from grassroots.accounts.policies import require

    require(user, "exchange.manage")
    message = (
        OutboundMessage.objects.restrict(user, "exchange.manage")
        .select_for_update()
        .filter(pk=message.pk)
        .first()
    )
    if message is None:
        raise Http404
    return message


@transaction.atomic
def retry(*, message: OutboundMessage, user) -> OutboundMessage:
    """Send a failed message again now (console button); audited. Refused (409) when the
    peer refused it for a reason a retry of the same signed message cannot overcome
    (`errors.advice`): the console says what to do instead."""
    from grassroots.core import audit
    from grassroots.core.errors import Problem
    from grassroots.core.models import ChangeAction

    message = _locked(message, user)
    if message.status != DeliveryStatus.FAILED:
        raise Problem(409, "Chỉ gửi lại được thông điệp gửi lỗi.")
    if withdrawn_later(message):
        raise Problem(
            409,
            "Bản tin này đã được thu hồi ở hệ thống nhận sau lần gửi lỗi; gửi lại sẽ đưa bản "
            "tin đã thu hồi lên lại ở nơi nhận, nên không gửi lại.",
        )
    hint = advice_for(message)
    if not hint.retry:
        raise Problem(409, f"Gửi lại không giúp được. {hint.text}")
    before = audit.snapshot(message)
    message.status = DeliveryStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = timezone.now()
    fields = ["status", "attempts", "next_attempt_at"]
    envelope = json.loads(message.envelope)
    if envelope.get("kid") != keys.key_id():  # signed before our key was rotated
        message.envelope = json.dumps(resign(envelope), ensure_ascii=False, separators=(",", ":"))
        fields.append("envelope")
    message.save(update_fields=fields)
    audit.record(message, ChangeAction.UPDATE, user=user, before=before, comment="Gửi lại")
    return message


def withdrawn_later(message: OutboundMessage) -> bool:
    """Whether a later withdrawal of this message was delivered to the same peer: sent now,
    the message would arrive after its withdrawal (and be on the air again there)."""
    later = OutboundMessage.objects.filter(
        peer_id=message.peer_id,
        kind=Kind.WITHDRAWAL,
        pk__gt=message.pk,
        status=DeliveryStatus.DELIVERED,
    ).only("pk", "kind", "message_id", "envelope")
    return any(message.message_id in depends_on(row) for row in later)


@transaction.atomic
def send_now(*, message: OutboundMessage, user) -> int:
    """A message waiting in back-off is made due now (console *Gửi ngay*), with every
    message of the same peer queued before it, so that order is kept (a withdrawal never
    overtakes its bulletin); the worker's next push round (every 5 s) sends them. Attempts
    are kept (the back-off goes on growing if the peer is still down). Audited. Returns how
    many messages were made due."""
    from grassroots.core import audit
    from grassroots.core.errors import Problem
    from grassroots.core.models import ChangeAction

    message = _locked(message, user)
    if message.status != DeliveryStatus.PENDING:
        raise Problem(409, "Chỉ gửi ngay được thông điệp đang chờ gửi.")
    now = timezone.now()
    before = audit.snapshot(message)
    made_due = OutboundMessage.objects.filter(
        peer_id=message.peer_id,
        status=DeliveryStatus.PENDING,
        pk__lte=message.pk,
        next_attempt_at__gt=now,
    ).update(next_attempt_at=now)
    message.next_attempt_at = now
    audit.record(message, ChangeAction.UPDATE, user=user, before=before, comment="Gửi ngay")
    return made_due


# -- pull ---------------------------------------------------------------------------------------


def page_for(peer: Peer, *, after: int, limit: int) -> federation.MessagePage:
    """What a pulling peer gets: its messages after the cursor, oldest first. Pulling after N
    acknowledges every message up to N (the puller took them), so they stop being pushed."""
    OutboundMessage.objects.filter(
        peer=peer, pk__lte=after, status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    ).update(
        status=DeliveryStatus.DELIVERED,
        delivered_at=timezone.now(),
        delivered_via=Via.PULL,
        next_attempt_at=None,
    )
    rows = list(
        OutboundMessage.objects.filter(peer=peer, pk__gt=after)
        .exclude(status__in=(DeliveryStatus.SUPERSEDED, DeliveryStatus.CANCELLED))
        .order_by("id")
        .values_list("id", "envelope")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if rows:  # handed out: the peer may take them before it acknowledges (its next pull)
        OutboundMessage.objects.filter(
            peer=peer, pk__gt=after, pk__lte=rows[-1][0], served_at__isnull=True
        ).update(served_at=timezone.now())
    return federation.MessagePage(
        messages=[json.loads(envelope) for _pk, envelope in rows],
        next=rows[-1][0] if rows else after,
        more=more,
    )


def pull(peer: Peer, *, limit: int = 500, max_pages: int = 1000) -> dict[str, int]:
    """Fetch and take what the peer holds for us after our cursor, page by page. The cursor
    moves only past messages taken or refused for good; a message that cannot be taken yet
    (its media cannot be fetched) stops the round and is asked for again next time."""
    from .inbound import receive_batch

    adapter = adapter_for(peer)
    counts = {"applied": 0, "duplicate": 0, "refused": 0}
    for _page in range(max_pages):
        try:
            page = adapter.fetch(peer, peer.pull_cursor, limit)
        except DeliveryError as exc:
            Peer.objects.filter(pk=peer.pk).update(last_error=exc.detail[:500])
            raise
        stop = False
        for receipt in receive_batch(page.messages, via=Via.PULL) if page.messages else ():
            if receipt["outcome"] in ("applied", "duplicate"):
                counts[receipt["outcome"]] += 1
            elif receipt["outcome"] == "refused" and 400 <= receipt["status"] < 500:
                counts["refused"] += 1
            else:  # to be taken later (its media, a fault of ours): keep the cursor
                stop = True
        # a page is taken whole or its cursor kept (taking it again is idempotent)
        if not stop:
            peer.pull_cursor = page.next
        peer.last_pull_at = timezone.now()
        peer.last_error = ""
        Peer.objects.filter(pk=peer.pk).update(
            pull_cursor=peer.pull_cursor, last_pull_at=peer.last_pull_at, last_error=""
        )
        if stop or not page.more:
            break
    return counts
