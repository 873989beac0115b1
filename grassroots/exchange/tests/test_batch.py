"""Batches (protocol 1.1): many signed messages in one POST, each checked and answered on its
own; the outbox sends batches and falls back to one message per POST for a 1.0 peer."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from grassroots.content.models import Bulletin, BulletinRevision, Transition
from grassroots.core.testing import COMMUNE_A, COMMUNE_B
from grassroots.exchange import federation, outbound
from grassroots.exchange.choices import DeliveryStatus, Kind, Refusal, Via
from grassroots.exchange.models import InboundMessage, OutboundMessage, RefusedMessage

from .helpers import Remote, bulletin_body
from .test_delivery import mirror

INBOX = "/api/v1/exchange/inbox"


def post_batch(client, messages, protocol=federation.BATCH_PROTOCOL):
    document = {"protocol": protocol, "messages": messages}
    return client.post(
        INBOX, data=json.dumps(document, ensure_ascii=False), content_type="application/json"
    )


def tampered(envelope: dict) -> dict:
    """The body changed on the way, its hash recomputed: only the signature gives it away."""
    bad = copy.deepcopy(envelope)
    bad["body"]["title"] = "Tin giả: sơ tán ngay"
    bad["content_hash"] = federation.content_hash(bad["body"])
    return bad


def state() -> tuple[int, ...]:
    return (
        Bulletin.objects.count(),
        BulletinRevision.objects.count(),
        Transition.objects.count(),
        InboundMessage.objects.count(),
    )


@pytest.fixture
def central(demo):
    remote = Remote()
    remote.declare()
    return remote


@pytest.mark.django_db
def test_a_tampered_message_is_refused_and_the_others_taken(client, central):
    messages = [
        central.seal("bulletin", bulletin_body(title=f"Tin {n}", targets=[COMMUNE_A]),
                     message_id=f"b-{n}")
        for n in range(4)
    ]  # fmt: skip
    messages[2] = tampered(messages[2])
    r = post_batch(client, messages)
    assert r.status_code == 200, r.content
    answer = federation.BatchReceipt.model_validate(r.json())
    assert [x.outcome for x in answer.receipts] == ["applied", "applied", "refused", "applied"]
    assert [x.index for x in answer.receipts] == [0, 1, 2, 3]
    bad = answer.receipts[2]
    assert (bad.status, bad.reason, bad.id, bad.version) == (403, Refusal.BAD_SIGNATURE, "b-2", 1)
    assert "Chữ ký không khớp" in bad.detail
    logged = RefusedMessage.objects.get()
    assert (logged.reason, logged.message_id, logged.via) == (Refusal.BAD_SIGNATURE, "b-2", "push")
    titles = set(Bulletin.objects.values_list("title", flat=True))
    assert titles == {"Tin 0", "Tin 1", "Tin 3"}
    assert not InboundMessage.objects.filter(message_id="b-2").exists()

    # the batch replayed (a retried push): every message a duplicate or refused again, and
    # nothing changes; the genuine message, sent alone, is then taken
    before = state()
    answer = federation.BatchReceipt.model_validate(post_batch(client, messages).json())
    assert [x.outcome for x in answer.receipts] == ["duplicate", "duplicate", "refused",
                                                    "duplicate"]  # fmt: skip
    assert [x.status for x in answer.receipts] == [200, 200, 403, 200]
    assert state() == before
    genuine = central.seal(
        "bulletin", bulletin_body(title="Tin 2", targets=[COMMUNE_A]), message_id="b-2"
    )
    answer = federation.BatchReceipt.model_validate(post_batch(client, [genuine]).json())
    assert answer.receipts[0].outcome == "applied"
    assert Bulletin.objects.filter(title="Tin 2").exists()


@pytest.mark.django_db
def test_versions_order_and_malformed_messages_within_a_batch(client, central):
    v1 = central.seal("bulletin", bulletin_body(title="Bản 1"), message_id="b", version=1)
    v2 = central.seal("bulletin", bulletin_body(title="Bản 2"), message_id="b", version=2)
    unknown = Remote(code="province-99")
    r = post_batch(
        client,
        [
            v1,
            v2,
            v1,
            "not an object",
            {"source": "central"},
            unknown.seal("bulletin", {"title": "x"}),
        ],
    )
    answer = federation.BatchReceipt.model_validate(r.json())
    got = [(x.outcome, x.status, x.reason) for x in answer.receipts]
    assert got == [
        ("applied", 202, ""),
        ("applied", 202, ""),  # a newer version in the same batch replaces the older one
        ("refused", 409, Refusal.OLD_VERSION),
        ("refused", 422, Refusal.MALFORMED),
        ("refused", 422, Refusal.MALFORMED),
        ("refused", 403, Refusal.UNKNOWN_PEER),
    ]
    assert Bulletin.objects.get().title == "Bản 2"
    assert InboundMessage.objects.get(message_id="b").version == 2

    # a batch that is not one is refused as a whole, in Vietnamese, naming what is wrong
    r = post_batch(client, [v1] * (federation.MAX_BATCH + 1))
    assert r.status_code == 422 and "tối đa 500" in r.json()["detail"]
    assert r.json()["reason"] == Refusal.MALFORMED
    r = post_batch(client, [], protocol="grassroots-federation/1.1")
    assert r.status_code == 422 and "messages" in r.json()["detail"]
    r = post_batch(client, [v1], protocol="grassroots-federation/9")
    assert r.status_code == 422 and "protocol" in r.json()["detail"]


@pytest.mark.django_db
def test_after_a_message_that_cannot_be_taken_yet_the_rest_wait(client, central):
    gone = {"url": "http://127.0.0.1:9/khong-co.mp3", "sha256": "a" * 64, "size": 10}
    first = central.seal("bulletin", bulletin_body(title="Đầu"), message_id="b-0")
    waits = central.seal("bulletin", bulletin_body(kind="audio", media=[gone]), message_id="b-1")
    withdrawal = central.seal("withdrawal", {"ref": "b-1", "reason": "hết hiệu lực"},
                              message_id="w-1")  # fmt: skip
    answer = federation.BatchReceipt.model_validate(
        post_batch(client, [first, waits, withdrawal]).json()
    )
    got = [(x.outcome, x.status, x.reason) for x in answer.receipts]
    assert got == [
        ("applied", 202, ""),
        ("refused", 503, Refusal.MEDIA),
        ("deferred", 503, "deferred"),  # a withdrawal never overtakes its bulletin
    ]
    assert not InboundMessage.objects.filter(message_id="w-1").exists()


@pytest.mark.django_db(transaction=True)
def test_outbox_pushes_batches_and_falls_back_for_a_1_0_peer(live_server, demo, monkeypatch):
    peer = mirror(live_server.url)
    posts: list[int] = []
    from grassroots.exchange import adapters

    real_post = adapters.FederationAdapter._post

    def counting(self, peer, document):
        posts.append(len(document.get("messages", [document])))
        return real_post(self, peer, document)

    monkeypatch.setattr(adapters.FederationAdapter, "_post", counting)
    for n in range(outbound.BATCH_MESSAGES + 5):
        outbound.emit(
            peers=[peer], kind=Kind.BULLETIN, message_id=f"p-{n}",
            body=bulletin_body(title=f"P{n}", targets=[COMMUNE_B]),
        )  # fmt: skip
    # one message the receiver refuses for good (its key is unknown there): it alone fails
    row = OutboundMessage.objects.get(message_id="p-3")
    envelope = json.loads(row.envelope)
    envelope["kid"] = "0" * 16
    OutboundMessage.objects.filter(pk=row.pk).update(envelope=json.dumps(envelope))

    assert outbound.push_due() == outbound.BATCH_MESSAGES + 4
    assert posts == [outbound.BATCH_MESSAGES, 5]
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and "từ chối thông điệp" in row.last_error
    assert (row.error_reason, row.error_status) == ("unknown_key", 403)
    assert OutboundMessage.objects.filter(status=DeliveryStatus.DELIVERED, delivered_via=Via.PUSH
                                          ).count() == outbound.BATCH_MESSAGES + 4  # fmt: skip
    assert Bulletin.objects.filter(title__startswith="P").count() == outbound.BATCH_MESSAGES + 4

    # a receiver of protocol 1.0 does not know batches: it reads one as a malformed envelope
    # (422), and the sender then sends each message alone
    monkeypatch.setattr(federation, "is_batch", lambda data: False)
    posts.clear()
    for n in range(3):
        outbound.emit(peers=[peer], kind=Kind.BULLETIN, message_id=f"r-{n}",
                      body=bulletin_body(title=f"R{n}"))  # fmt: skip
    assert outbound.push_due() == 3
    assert posts == [3, 1, 1, 1]
    assert Bulletin.objects.filter(title__startswith="R").count() == 3
    # the peer declared as 1.0 is never sent a batch
    peer.adapter = "federation-1.0"
    peer.save()
    posts.clear()
    for n in range(2):
        outbound.emit(peers=[peer], kind=Kind.BULLETIN, message_id=f"s-{n}",
                      body=bulletin_body(title=f"S{n}"))  # fmt: skip
    assert outbound.push_due() == 2 and posts == [1, 1]


def test_key_answer_names_the_versions(client, db):
    answer = client.get("/api/v1/exchange/key").json()
    assert answer["protocol"] == "grassroots-federation/1"
    assert answer["versions"] == ["1.0", "1.1"] and answer["batch_max"] == federation.MAX_BATCH
    assert base64.b64decode(answer["public_key"])
