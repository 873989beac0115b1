"""Sending: messages enter the exchange outbox with the change that caused them; the worker
pushes them with retries and exponential back-off; a peer that was away pulls what it missed.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from grassroots_protocol import format_time

from . import federation, keys
from .adapters import DeliveryError, adapter_for
from .choices import DeliveryStatus, Via
from .models import OutboundMessage, Peer

log = logging.getLogger("grassroots.exchange")

FIRST_RETRY = 10  # seconds; doubled at each failure
LONGEST_RETRY = 3600
MAX_ATTEMPTS = 12  # then `failed`, shown in the console with a retry button (pull still works)
PUSH_BATCH = 200


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


def _deliver(row: OutboundMessage, now: datetime.datetime) -> bool:
    try:
        adapter_for(row.peer).send(row.peer, json.loads(row.envelope))
    except DeliveryError as exc:
        attempts = row.attempts + 1
        # a refusal for an older version than the peer holds, or the same twice: done
        failed = exc.permanent or attempts >= MAX_ATTEMPTS
        OutboundMessage.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING).update(
            attempts=attempts,
            last_error=exc.detail[:500],
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
            next_attempt_at=None if failed else now + backoff(attempts),
        )
        log.warning("exchange push %s to %s failed: %s", row.message_id, row.peer.code, exc)
        return False
    OutboundMessage.objects.filter(pk=row.pk).exclude(status=DeliveryStatus.SUPERSEDED).update(
        attempts=row.attempts + 1,
        status=DeliveryStatus.DELIVERED,
        delivered_at=timezone.now(),
        delivered_via=Via.PUSH,
        last_error="",
        next_attempt_at=None,
    )
    return True


def push_due(*, now: datetime.datetime | None = None, limit: int = PUSH_BATCH) -> int:
    """Push the messages whose time has come, in outbox order, per peer. A peer that fails
    is not tried again in this round (its messages wait for their back-off)."""
    now = now or timezone.now()
    due = (
        OutboundMessage.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, peer__active=True
        )
        .select_related("peer")
        .order_by("id")[:limit]
    )
    sent = 0
    down: set[int] = set()
    for row in due:
        if row.peer_id in down:
            continue
        if _deliver(row, now):
            sent += 1
        else:
            down.add(row.peer_id)
    return sent


@transaction.atomic
def retry(*, message: OutboundMessage, user) -> OutboundMessage:
    """Send a failed message again now (console button); audited."""
    from grassroots.accounts.policies import require
    from grassroots.core import audit
    from grassroots.core.errors import Problem
    from grassroots.core.models import ChangeAction

    require(user, "exchange.manage")
    message = (
        OutboundMessage.objects.restrict(user, "exchange.manage")
        .select_for_update()
        .filter(pk=message.pk)
        .first()
    )
    if message is None:
        from django.http import Http404

        raise Http404
    if message.status != DeliveryStatus.FAILED:
        raise Problem(409, "Chỉ gửi lại được thông điệp gửi lỗi.")
    before = audit.snapshot(message)
    message.status = DeliveryStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit.record(message, ChangeAction.UPDATE, user=user, before=before, comment="Gửi lại")
    return message


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
        .exclude(status=DeliveryStatus.SUPERSEDED)
        .order_by("id")
        .values_list("id", "envelope")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return federation.MessagePage(
        messages=[json.loads(envelope) for _pk, envelope in rows],
        next=rows[-1][0] if rows else after,
        more=more,
    )


def pull(peer: Peer, *, limit: int = 500, max_pages: int = 1000) -> dict[str, int]:
    """Fetch and take what the peer holds for us after our cursor, page by page. The cursor
    moves only past messages taken or refused for good; a message that cannot be taken yet
    (its media cannot be fetched) stops the round and is asked for again next time."""
    from .inbound import Refused, receive

    adapter = adapter_for(peer)
    counts = {"applied": 0, "duplicate": 0, "refused": 0}
    for _page in range(max_pages):
        try:
            page = adapter.fetch(peer, peer.pull_cursor, limit)
        except DeliveryError as exc:
            Peer.objects.filter(pk=peer.pk).update(last_error=exc.detail[:500])
            raise
        stop = False
        for envelope in page.messages:
            try:
                outcome = receive(envelope, via=Via.PULL)
            except Refused as exc:
                if exc.temporary:
                    stop = True
                    break
                counts["refused"] += 1
            else:
                counts[outcome.outcome] += 1
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
