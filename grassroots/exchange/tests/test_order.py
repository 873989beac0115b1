"""Push order across rounds: a message never overtakes an earlier pending one it depends on
(an older version of itself, the bulletin a withdrawal withdraws), over real HTTP.

The receiver is this very system behind the live server (`mirror`), reached through a real
HTTP relay that can refuse the next POSTs with a 503 (a receiver that fails the first
attempt) and records every message handed to it, in order.
"""

from __future__ import annotations

import datetime
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from grassroots.content.choices import Status
from grassroots.core.errors import Problem
from grassroots.exchange import outbound
from grassroots.exchange.choices import DeliveryStatus, Kind
from grassroots.exchange.models import InboundMessage, OutboundMessage, Peer

from .helpers import bulletin_body
from .test_delivery import mirror


class Relay:
    """A real HTTP receiver in front of the live server: answers 503 to the next `fail`
    POSTs, forwards the others; `posts` holds the (id, version) of each POST's messages."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.fail = 0
        self.posts: list[list[tuple[str, int]]] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                document = json.loads(data)
                if relay.fail:
                    relay.fail -= 1
                    self._answer(503, b'{"detail": "busy"}')
                    return
                messages = document.get("messages", [document])
                relay.posts.append([(m["id"], m["version"]) for m in messages])
                request = urllib.request.Request(
                    relay.target + self.path,
                    data=data,
                    method="POST",
                    headers={"Content-Type": "application/json"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        self._answer(response.status, response.read())
                except urllib.error.HTTPError as exc:
                    self._answer(exc.code, exc.read())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def relay(live_server):
    r = Relay(live_server.url)
    yield r
    r.close()


def bulletin(message_id: str, **over) -> list[OutboundMessage]:
    peers = list(Peer.objects.all())
    return outbound.emit(peers=peers, kind=Kind.BULLETIN, message_id=message_id,
                         body=bulletin_body(**over), title=over.get("title", ""))  # fmt: skip


def withdrawal(ref: str) -> list[OutboundMessage]:
    return outbound.emit(
        peers=list(Peer.objects.all()),
        kind=Kind.WITHDRAWAL,
        message_id=f"{ref}:withdrawal",
        body={"ref": ref, "reason": "Hết hiệu lực"},
    )


def status(row: OutboundMessage) -> tuple[str, int]:
    row.refresh_from_db()
    return row.status, row.attempts


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_waits_for_its_bulletin_in_back_off(relay, demo):
    mirror(relay.url)
    relay.fail = 1
    [b] = bulletin("o-1", title="Bão số 3")
    assert outbound.push_due() == 0  # the receiver failed the first attempt
    assert status(b) == (DeliveryStatus.PENDING, 1)

    # the withdrawal and an unrelated bulletin are due now, the bulletin only in 10 s
    [w] = withdrawal("o-1")
    [other] = bulletin("o-2", title="Lịch tiêm chủng")
    assert outbound.push_due() == 1
    assert relay.posts == [[("o-2", 1)]]  # the unrelated one is not held up
    assert status(w) == (DeliveryStatus.PENDING, 0)  # waits, and it was no attempt
    assert status(other)[0] == DeliveryStatus.DELIVERED
    assert not InboundMessage.objects.filter(message_id="o-1:withdrawal").exists()
    assert outbound.push_due() == 0  # still waiting, round after round

    # the bulletin's back-off is over: the bulletin, then its withdrawal
    later = timezone.now() + datetime.timedelta(seconds=11)
    assert outbound.push_due(now=later) == 2
    assert relay.posts[-1] == [("o-1", 1), ("o-1:withdrawal", 1)]
    taken = InboundMessage.objects.get(message_id="o-1")
    assert taken.bulletin.status == Status.WITHDRAWN
    assert status(w)[0] == DeliveryStatus.DELIVERED


@pytest.mark.django_db(transaction=True)
def test_a_newer_version_replaces_one_in_back_off_and_a_failed_post_keeps_order(relay, demo):
    mirror(relay.url)
    relay.fail = 1
    [v1] = bulletin("o-3", title="Cũ")
    assert outbound.push_due() == 0
    [v2] = bulletin("o-3", title="Mới")
    assert status(v1)[0] == DeliveryStatus.SUPERSEDED  # v1 is never sent after v2
    assert outbound.push_due() == 1
    assert relay.posts == [[("o-3", 2)]]
    assert InboundMessage.objects.get(message_id="o-3").bulletin.title == "Mới"

    # a POST that fails as a whole: the bulletin has tried twice (next in 20 s), its
    # withdrawal once (next in 10 s); when the withdrawal is due first, it still waits
    [b] = bulletin("o-4", title="Hai lần")
    relay.fail = 1
    assert outbound.push_due() == 0
    [w] = withdrawal("o-4")
    relay.fail = 1
    assert outbound.push_due(now=timezone.now() + datetime.timedelta(seconds=11)) == 0
    assert status(b) == (DeliveryStatus.PENDING, 2) and status(w) == (DeliveryStatus.PENDING, 1)
    # now the withdrawal is due (10 s after) and the bulletin not (20 s after)
    w.refresh_from_db()
    b.refresh_from_db()
    assert w.next_attempt_at < b.next_attempt_at
    assert outbound.push_due(now=w.next_attempt_at) == 0
    assert relay.posts == [[("o-3", 2)]]
    assert outbound.push_due(now=timezone.now() + datetime.timedelta(seconds=60)) == 2
    assert relay.posts[-1] == [("o-4", 1), ("o-4:withdrawal", 1)]
    assert InboundMessage.objects.get(message_id="o-4").bulletin.status == Status.WITHDRAWN


@pytest.mark.django_db(transaction=True)
def test_a_failed_bulletin_is_not_sent_again_after_its_withdrawal(relay, demo, users):
    mirror(relay.url)
    [b] = bulletin("o-5", title="Lỗi")
    OutboundMessage.objects.filter(pk=b.pk).update(status=DeliveryStatus.FAILED, attempts=12)
    [w] = withdrawal("o-5")
    assert outbound.push_due() == 1  # a failed bulletin holds nothing up
    assert status(w)[0] == DeliveryStatus.DELIVERED
    with pytest.raises(Problem) as refused:
        outbound.retry(message=b, user=users["admin"])
    assert refused.value.status == 409 and "thu hồi" in refused.value.detail
    assert status(b)[0] == DeliveryStatus.FAILED


def test_sendable_keeps_order_per_peer_and_message():
    """The selection alone: what waits for what (rows need not be saved)."""

    def row(pk, peer, message_id, kind=Kind.BULLETIN, ref=""):
        envelope = json.dumps({"body": {"ref": ref}} if ref else {"body": {}})
        return OutboundMessage(pk=pk, peer_id=peer, message_id=message_id, kind=kind,
                               envelope=envelope)  # fmt: skip

    due = [
        row(2, 1, "a:withdrawal", Kind.WITHDRAWAL, ref="a"),  # its bulletin (1) waits
        row(3, 1, "b"),
        row(4, 2, "a:withdrawal", Kind.WITHDRAWAL, ref="a"),  # another peer: a was sent
        row(6, 1, "a:withdrawal", Kind.WITHDRAWAL, ref="a"),  # behind the waiting row 2
        row(7, 1, "c:withdrawal", Kind.WITHDRAWAL, ref="c"),  # c waits only after it
    ]
    waiting = [(1, 1, "a"), (8, 1, "c")]
    assert [r.pk for r in outbound.sendable(due, waiting)] == [3, 4, 7]
