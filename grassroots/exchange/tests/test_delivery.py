"""Push through the outbox over real HTTP, back-off and failure, retry, and pull with a cursor.

The live server plays the peer; the peer is this very system (its own key, its own id), so a
message pushed lands in its own inbox and is checked exactly as another system's would be.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from grassroots.content.models import Bulletin
from grassroots.exchange import keys, outbound
from grassroots.exchange.choices import DeliveryStatus, Kind, Via
from grassroots.exchange.models import InboundMessage, OutboundMessage, Peer, PeerKey
from grassroots.units.models import Unit

from .helpers import bulletin_body


def mirror(url: str) -> Peer:
    """This system declared as its own peer at `url`."""
    peer = Peer.objects.create(
        code=keys.own_id(),
        name="Chính hệ thống này",
        url=url,
        unit=Unit.objects.current().get(code="33"),
    )
    PeerKey.objects.create(peer=peer, kid=keys.key_id(), public_key=keys.public_key_b64())
    return peer


@pytest.mark.django_db(transaction=True)
def test_push_pull_backoff_and_retry(live_server, demo, users):
    peer = mirror(live_server.url)
    rows = outbound.emit(
        peers=[peer], kind=Kind.BULLETIN, message_id="p-1", body=bulletin_body(), title="t"
    )
    assert outbound.push_due() == 1
    row = OutboundMessage.objects.get(pk=rows[0].pk)
    assert row.status == DeliveryStatus.DELIVERED and row.delivered_via == Via.PUSH
    assert InboundMessage.objects.get(message_id="p-1").via == Via.PUSH

    # a newer version supersedes a pending older one: only the newest goes out
    outbound.emit(peers=[peer], kind=Kind.BULLETIN, message_id="p-2", body=bulletin_body())
    outbound.emit(
        peers=[peer], kind=Kind.BULLETIN, message_id="p-2", body=bulletin_body(title="Mới")
    )
    assert list(
        OutboundMessage.objects.filter(message_id="p-2").values_list("version", "status")
    ) == [(1, DeliveryStatus.SUPERSEDED), (2, DeliveryStatus.PENDING)]

    # the peer is down: the push fails, waits 10 s, then 20 s … and after MAX_ATTEMPTS fails
    Peer.objects.filter(pk=peer.pk).update(url="http://127.0.0.1:9")
    assert outbound.push_due() == 0
    row = OutboundMessage.objects.get(message_id="p-2", version=2)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and row.last_error
    wait = row.next_attempt_at - timezone.now()
    assert datetime.timedelta(seconds=5) < wait <= datetime.timedelta(seconds=10)
    assert outbound.push_due() == 0 and OutboundMessage.objects.get(pk=row.pk).attempts == 1
    later = timezone.now() + datetime.timedelta(seconds=11)
    outbound.push_due(now=later)
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at - later > datetime.timedelta(seconds=15)
    OutboundMessage.objects.filter(pk=row.pk).update(attempts=outbound.MAX_ATTEMPTS - 1)
    outbound.push_due(now=timezone.now() + datetime.timedelta(hours=2))
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and "không kết nối được" in row.last_error

    # the console's retry puts it back; with the peer up again it goes
    Peer.objects.filter(pk=peer.pk).update(url=live_server.url)
    outbound.retry(message=row, user=users["admin"])
    assert outbound.push_due() == 1
    assert Bulletin.objects.get(title="Mới")

    # pull: everything after the cursor, page by page, idempotent (all were pushed already)
    for n in range(5):
        outbound.emit(
            peers=[peer], kind=Kind.BULLETIN, message_id=f"q-{n}", body=bulletin_body(title=f"Q{n}")
        )
    peer.refresh_from_db()
    counts = outbound.pull(peer, limit=2)
    assert counts["applied"] == 5 and counts["duplicate"] == 2 and counts["refused"] == 0
    peer.refresh_from_db()
    assert peer.pull_cursor == OutboundMessage.objects.latest("id").pk
    assert outbound.pull(peer) == {"applied": 0, "duplicate": 0, "refused": 0}
    # the pull after the last message acknowledged them all: nothing is left to push
    assert not OutboundMessage.objects.filter(status=DeliveryStatus.PENDING).exists()
    assert Bulletin.objects.filter(title__startswith="Q").count() == 5


@pytest.mark.django_db
def test_pull_needs_a_signed_request(demo, client):
    mirror("https://self.invalid")
    r = client.get("/api/v1/exchange/messages?after=0")
    assert r.status_code == 403 and r.json()["reason"] == "unknown_peer"
    r = client.get(
        "/api/v1/exchange/messages?after=0",
        headers={
            "X-Exchange-Source": keys.own_id(),
            "X-Exchange-Kid": keys.key_id(),
            "X-Exchange-Date": "2026-11-29T00:00:00Z",
            "X-Exchange-Signature": keys.sign_request(
                "GET", "/api/v1/exchange/messages?after=1", "2026-11-29T00:00:00Z"
            ),
        },
    )
    assert r.status_code == 403 and r.json()["reason"] in ("bad_signature",)
    key = client.get("/api/v1/exchange/key").json()
    assert key["kid"] == keys.key_id() and key["source"] == keys.own_id()
