"""Bulletins sent down arrive as the officer expects: sending again is a no-op for a province
that has the content, a changed bulletin reaches the province's approver without going off
air, the text is plain text both ways, and withdrawals go only where the bulletin may be."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from grassroots.content import actions as content
from grassroots.content.actions import plain_text
from grassroots.content.choices import Source, Status
from grassroots.content.models import Bulletin, BulletinShare
from grassroots.content.tests.conftest import make_bulletin, root
from grassroots.core.testing import COMMUNE_A
from grassroots.exchange import actions, federation, outbound
from grassroots.exchange.choices import DeliveryStatus, Kind
from grassroots.exchange.models import InboundMessage, OutboundMessage

from .helpers import Remote, bulletin_body

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/exchange/inbox"


def post(client, envelope):
    return client.post(
        INBOX, data=json.dumps(envelope, ensure_ascii=False), content_type="application/json"
    )


def _reapprove(bulletin, **data):
    """The central editor edits an approved bulletin and it is approved again."""
    bulletin = content.update(bulletin=bulletin, user=root(), data=data)
    bulletin = content.submit(bulletin=bulletin, user=root())
    return content.approve(bulletin=bulletin, user=root())


def _bodies(peer) -> list[tuple[int, str]]:
    rows = OutboundMessage.objects.filter(peer=peer, kind=Kind.BULLETIN).order_by("id")
    return [(r.version, json.loads(r.envelope)["body"]["title"]) for r in rows]


# -- sending down -------------------------------------------------------------------------------


def test_sending_an_unchanged_bulletin_again_sends_nothing_new(client, users, central_mode):
    a = Remote(code="province-a").declare(kinds_out=[Kind.BULLETIN], name="Tỉnh A")
    b = Remote(code="province-b").declare(kinds_out=[Kind.BULLETIN], name="Tỉnh B")
    bulletin = make_bulletin("33", status="approved", title="Lịch tiêm chủng")
    client.force_login(users["admin"])
    url = reverse("exchange-national")
    client.post(url, {"bulletin": bulletin.pk, "peers": [a.pk]})
    assert _bodies(a) == [(1, "Lịch tiêm chủng")]
    OutboundMessage.objects.filter(peer=a).update(status=DeliveryStatus.DELIVERED)

    # again, with a new province: the first has it already, the second gets the same version
    r = client.post(url, {"bulletin": bulletin.pk, "peers": [a.pk, b.pk]}, follow=True)
    page = r.content.decode()
    assert "Tỉnh A: đã gửi trước đó, nội dung không đổi" in page
    assert "hàng đợi gửi tới 1 hệ thống: Tỉnh B" in page
    assert _bodies(a) == [(1, "Lịch tiêm chủng")]
    assert _bodies(b) == [(1, "Lịch tiêm chủng")]
    assert OutboundMessage.objects.get(peer=a).status == DeliveryStatus.DELIVERED

    # the API says the same, peer by peer
    r = client.post(
        f"/api/v1/exchange/bulletins/{bulletin.pk}/send",
        data=json.dumps({"peers": ["province-a", "province-b"]}),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert {(x["peer"], x["version"], x["sent"]) for x in r.json()} == {
        ("province-a", 1, False),
        ("province-b", 1, False),
    }
    assert OutboundMessage.objects.filter(kind=Kind.BULLETIN).count() == 2

    # edited at the centre and approved again: the new content goes as version 2
    bulletin = _reapprove(bulletin, title="Lịch tiêm chủng (sửa ngày)")
    sending = actions.send_bulletin(user=users["admin"], bulletin=bulletin, peers=[a])
    assert [r.version for r in sending.queued] == [2] and not sending.unchanged
    assert _bodies(a) == [(1, "Lịch tiêm chủng"), (2, "Lịch tiêm chủng (sửa ngày)")]

    # a send that failed is put back in the queue rather than sent as a newer version
    OutboundMessage.objects.filter(peer=a, version=2).update(
        status=DeliveryStatus.FAILED, attempts=12, last_error="HTTP 503: bảo trì"
    )
    sending = actions.send_bulletin(user=users["admin"], bulletin=bulletin, peers=[a])
    assert [(r.version, r.status) for r in sending.requeued] == [(2, DeliveryStatus.PENDING)]
    assert OutboundMessage.objects.filter(peer=a, kind=Kind.BULLETIN).count() == 2


def test_text_goes_as_plain_text_and_lands_as_the_editor_stores_it(client, demo):
    """The real sender's body through the real receiver: no tags in the province's bulletin,
    markup in the centre's text never becomes markup at the province."""
    from grassroots.exchange.handlers import editor_body

    bulletin = make_bulletin(
        "33",
        status="approved",
        body="<p>Giá 5 &lt; 7 &amp; rẻ</p><p>Dòng một<br>dòng hai</p><script>x()</script>",
    )
    body = actions.bulletin_body(bulletin)
    assert body["text"] == "Giá 5 < 7 & rẻ\n\nDòng một\ndòng hai"
    federation.BulletinBody.model_validate(body)  # the protocol's own parser takes it

    central = Remote()
    central.declare()
    body["text"] += "\n\n<b>đậm</b> <script>alert(1)</script>"
    assert post(client, central.seal("bulletin", body, message_id="t")).status_code == 202
    received = Bulletin.objects.get(source=Source.NATIONAL)
    assert received.body == editor_body(body["text"])
    assert "<" not in received.body and "<p>" not in received.body
    assert plain_text(received.body) == (
        "Giá 5 < 7 & rẻ\nDòng một\ndòng hai\n<b>đậm</b> <script>alert(1)</script>"
    )
    # the province's editor stores the same text typed by an officer the same way
    typed = content.create(user=root(), unit=received.unit, data={"title": "x", "body": "A\n\nB"})
    assert typed.body == editor_body("A\n\nB") == "A\n\nB"
    # the editor shows the characters, and saving what it shows stores the same body
    from grassroots.content.views import editable_body

    shown = editable_body(received.body)
    assert shown == body["text"]
    plain = editor_body("Giá 5 < 7 & rẻ")
    assert editable_body(plain) == "Giá 5 < 7 & rẻ"
    assert editor_body(editable_body(plain)) == plain


# -- receiving a newer version ------------------------------------------------------------------


@pytest.fixture
def central(demo):
    remote = Remote()
    remote.declare()
    return remote


def _published(client, central, users) -> Bulletin:
    """A bulletin from the centre, approved and published at the province (shared down)."""
    body = bulletin_body(targets=[COMMUNE_A])
    r = post(client, central.seal("bulletin", body, message_id="c:bulletin:1"))
    assert r.status_code == 202, r.content
    bulletin = Bulletin.objects.get(source=Source.NATIONAL)
    bulletin = content.approve(bulletin=bulletin, user=users["approver"])
    bulletin = content.publish(bulletin=bulletin, user=users["approver"])
    assert BulletinShare.objects.filter(bulletin=bulletin, withdrawn_at=None).count() == 1
    return bulletin


def test_a_newer_version_of_a_published_bulletin_waits_for_the_approver(client, central, users):
    bulletin = _published(client, central, users)
    aired = bulletin.approved_revision_id
    revisions = bulletin.revisions.count()

    # the same content again as a newer version (an older centre did that): nothing changes
    same = central.seal(
        "bulletin", bulletin_body(targets=[COMMUNE_A]), message_id="c:bulletin:1", version=2
    )
    assert post(client, same).status_code == 202
    bulletin.refresh_from_db()
    assert bulletin.status == Status.PUBLISHED and bulletin.revisions.count() == revisions
    assert "không đổi" in InboundMessage.objects.get(message_id="c:bulletin:1").note

    # changed content: what is on air stays, the change waits for the approver
    changed = bulletin_body(
        targets=[COMMUNE_A], title="Bão số 3: cập nhật", text="Bà con sơ tán trước 17 giờ."
    )
    msg = central.seal("bulletin", changed, message_id="c:bulletin:1", version=3)
    assert post(client, msg).status_code == 202
    bulletin.refresh_from_db()
    assert bulletin.status == Status.PUBLISHED and bulletin.approved_revision_id == aired
    assert bulletin.title == "Phòng chống bão số 3"
    share = BulletinShare.objects.get(bulletin=bulletin)
    assert share.withdrawn_at is None and share.revision_id == aired
    record = InboundMessage.objects.get(message_id="c:bulletin:1")
    assert record.pending_version == 3

    # the approver sees it in the queue, on the bulletin, and the change itself
    client.force_login(users["approver"])
    queue = client.get(reverse("bulletin-queue")).content.decode()
    assert "Bản tin đang phát được trung ương sửa" in queue
    editor = client.get(reverse("bulletin-edit", args=[bulletin.pk])).content.decode()
    assert 'id="central-update"' in editor and "phiên bản 3" in editor
    page = client.get(reverse("exchange-bulletin-update", args=[bulletin.pk])).content.decode()
    assert 'data-change="title"' in page and "Bão số 3: cập nhật" in page
    assert sorted((m, t) for m, t in _diff_lines(page) if m) == [
        ("+", "Bà con sơ tán trước 17 giờ."),
        ("−", "Bà con chủ động gia cố nhà cửa."),
        ("−", "Không ra khơi."),
    ]

    # the approver's home counts it as waiting for them, linking to the decision
    from grassroots.core import workqueue

    card = workqueue.for_user(users["approver"], keys={"approvals"})["approvals"]
    assert card.count == 1
    [item] = card.items
    assert item["url"] == reverse("exchange-bulletin-update", args=[bulletin.pk])
    assert item["note"] == "Bản sửa của trung ương"
    home = client.get("/").content.decode()
    assert re.search(r'data-work="approvals".*?work-count">1<', home, re.S)
    operator_card = workqueue.for_user(users["operator"], keys={"approvals"})
    assert "approvals" not in operator_card or operator_card["approvals"].count == 0

    # an operator may not take it
    client.force_login(users["operator"])
    r = client.post(reverse("exchange-bulletin-update", args=[bulletin.pk]), {"action": "accept"})
    assert r.status_code in (403, 404)

    client.force_login(users["approver"])
    r = client.post(
        reverse("exchange-bulletin-update", args=[bulletin.pk]), {"action": "accept"}, follow=True
    )
    assert "Đã duyệt bản sửa của trung ương" in r.content.decode()
    bulletin.refresh_from_db()
    share.refresh_from_db()
    assert bulletin.status == Status.PUBLISHED and bulletin.title == "Bão số 3: cập nhật"
    assert bulletin.approved_revision_id != aired and bulletin.approved_revision.signature
    assert share.revision_id == bulletin.approved_revision_id and share.withdrawn_at is None
    assert InboundMessage.objects.get(message_id="c:bulletin:1").pending_version is None

    # yet another version, kept aside: on air unchanged, the choice recorded
    later = central.seal(
        "bulletin", bulletin_body(title="Bản sai"), message_id="c:bulletin:1", version=4
    )
    assert post(client, later).status_code == 202
    r = client.post(
        reverse("exchange-bulletin-update", args=[bulletin.pk]),
        {"action": "keep", "comment": "Tỉnh giữ giờ sơ tán riêng"},
    )
    assert r.status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.title == "Bão số 3: cập nhật" and bulletin.status == Status.PUBLISHED
    record = InboundMessage.objects.get(message_id="c:bulletin:1")
    assert record.pending_version is None and "giữ bản đang phát" in record.note


def _diff_lines(page: str) -> list[tuple[str, str]]:
    """The text diff's rows as (marker, text): marker "+", "−" or "" (unchanged, blank)."""
    import html as htmllib
    import re

    block = re.search(
        r'<div class="border rounded p-2 text-break diff-text">(.*?)</div></div>', page, re.S
    )
    assert block, page
    rows = re.findall(
        r'<span class="diff-mark[^"]*" aria-hidden="true">(.*?)</span>.*?'
        r'<span class="flex-grow-1"[^>]*>(.*?)</span></div>',
        block.group(1) + "</div>",
        re.S,
    )
    return [(mark, htmllib.unescape(text)) for mark, text in rows]


def test_central_edit_diff_keeps_paragraphs_in_the_page_font(client, central, users):
    """The text diff is in the page's own font (a monospace one lacks stacked Vietnamese
    tone marks), wraps as written, marks each changed line with +/−, and keeps the blank
    lines between paragraphs."""
    bulletin = _published(client, central, users)
    text = "Đề nghị y tế xã chuẩn bị.\n\nKhông ra khơi.\n\nTrạm y tế xã trực 24/24."
    changed = bulletin_body(targets=[COMMUNE_A], text=text)
    assert (
        post(
            client, central.seal("bulletin", changed, message_id="c:bulletin:1", version=2)
        ).status_code
        == 202
    )
    client.force_login(users["approver"])
    page = client.get(reverse("exchange-bulletin-update", args=[bulletin.pk])).content.decode()
    assert "font-monospace" not in page
    assert _diff_lines(page) == [
        ("−", "Bà con chủ động gia cố nhà cửa."),
        ("+", "Đề nghị y tế xã chuẩn bị."),
        ("", ""),
        ("", "Không ra khơi."),
        ("", ""),
        ("+", "Trạm y tế xã trực 24/24."),
    ]


def test_a_newer_version_of_a_bulletin_waiting_replaces_it(client, central, users):
    body = bulletin_body()
    assert post(client, central.seal("bulletin", body, message_id="w")).status_code == 202
    newer = central.seal("bulletin", bulletin_body(title="Mới"), message_id="w", version=2)
    assert post(client, newer).status_code == 202
    bulletin = Bulletin.objects.get(source=Source.NATIONAL)
    assert bulletin.status == Status.SUBMITTED and bulletin.title == "Mới"
    assert bulletin.approval_step == 0
    assert InboundMessage.objects.get(message_id="w").pending_version is None


def test_trusted_centre_updates_what_is_on_air_at_once(client, central, users):
    peer = InboundMessage.peer.field.related_model.objects.get(code="central")
    peer.bulletins_need_approval = False
    peer.save()
    body = bulletin_body(targets=[COMMUNE_A])
    assert post(client, central.seal("bulletin", body, message_id="x")).status_code == 202
    bulletin = Bulletin.objects.get(source=Source.NATIONAL)
    first = bulletin.approved_revision_id
    newer = central.seal(
        "bulletin", bulletin_body(targets=[COMMUNE_A], title="Mới"), message_id="x", version=2
    )
    assert post(client, newer).status_code == 202
    bulletin.refresh_from_db()
    share = BulletinShare.objects.get(bulletin=bulletin)
    assert bulletin.status == Status.PUBLISHED and bulletin.title == "Mới"
    assert share.revision_id == bulletin.approved_revision_id != first
    assert not bulletin.transitions.filter(to_status=Status.DRAFT).exists()


# -- withdrawals --------------------------------------------------------------------------------


def test_withdrawal_only_where_the_bulletin_may_be_and_pending_sends_cancelled(demo, users):
    names = ("delivered", "pending", "refused", "pulled", "unknown")
    peers = {
        n: Remote(code=f"province-{n}").declare(kinds_out=[Kind.BULLETIN, Kind.WITHDRAWAL])
        for n in names
    }
    bulletin = make_bulletin("33", status="published", title="Tin sẽ thu hồi")
    actions.send_bulletin(user=users["admin"], bulletin=bulletin, peers=list(peers.values()))
    rows = {r.peer.code.removeprefix("province-"): r for r in OutboundMessage.objects.all()}
    OutboundMessage.objects.filter(pk=rows["delivered"].pk).update(status=DeliveryStatus.DELIVERED)
    OutboundMessage.objects.filter(pk=rows["refused"].pk).update(
        status=DeliveryStatus.FAILED, attempts=1, last_error="HTTP 422: sai cấu trúc"
    )
    OutboundMessage.objects.filter(pk=rows["unknown"].pk).update(
        attempts=2, last_error="không kết nối được: timed out"
    )
    page = outbound.page_for(peers["pulled"], after=0, limit=10)  # handed out, not acknowledged
    assert len(page.messages) == 1

    content.withdraw(bulletin=bulletin, user=root(), comment="Sai số liệu")
    withdrawn = {
        r.peer.code.removeprefix("province-")
        for r in OutboundMessage.objects.filter(kind=Kind.WITHDRAWAL)
    }
    assert withdrawn == {"delivered", "pulled", "unknown"}
    status = {
        r.peer.code.removeprefix("province-"): r.status
        for r in OutboundMessage.objects.filter(kind=Kind.BULLETIN)
    }
    assert status == {
        "delivered": DeliveryStatus.DELIVERED,
        "pending": DeliveryStatus.CANCELLED,
        "refused": DeliveryStatus.CANCELLED,
        "pulled": DeliveryStatus.CANCELLED,
        "unknown": DeliveryStatus.CANCELLED,
    }
    # nothing of a cancelled send goes out any more: not pushed, not pulled, not retried
    assert outbound.page_for(peers["pending"], after=0, limit=10).messages == []
    from grassroots.core.errors import Problem

    with pytest.raises(Problem):
        outbound.retry(message=rows["refused"], user=users["admin"])


class TakesEverything:
    """The other system's side of the adapter boundary: takes every message it is sent."""

    sent: list[dict] = []

    def send_batch(self, peer, envelopes):
        TakesEverything.sent.extend(envelopes)
        return [
            {"index": i, "id": e["id"], "version": e["version"], "outcome": "applied",
             "status": 202, "reason": "", "detail": ""}
            for i, e in enumerate(envelopes)
        ]  # fmt: skip


def test_a_send_cancelled_while_on_its_way_gets_its_withdrawal(demo, users, monkeypatch):
    peer = Remote(code="province-late").declare(
        kinds_out=[Kind.BULLETIN, Kind.WITHDRAWAL],
        adapter=f"{__name__}.TakesEverything",
    )
    bulletin = make_bulletin("33", status="published", title="Tin gửi muộn")
    [row] = actions.send_bulletin(user=users["admin"], bulletin=bulletin, peers=[peer]).queued
    from django.utils import timezone

    # the push is on its way when the bulletin is withdrawn (the row was read as pending)
    real = OutboundMessage.objects.get(pk=row.pk)
    content.withdraw(bulletin=bulletin, user=root(), comment="Nhầm")
    assert OutboundMessage.objects.get(pk=row.pk).status == DeliveryStatus.CANCELLED
    assert not OutboundMessage.objects.filter(kind=Kind.WITHDRAWAL).exists()
    outbound._deliver(peer, [real], timezone.now())
    assert OutboundMessage.objects.get(pk=row.pk).status == DeliveryStatus.DELIVERED
    withdrawal = OutboundMessage.objects.get(kind=Kind.WITHDRAWAL, peer=peer)
    assert json.loads(withdrawal.envelope)["body"]["ref"] == row.message_id


def test_sent_again_after_a_withdrawal_goes_as_a_newer_version(demo, users):
    peer = Remote(code="province-again").declare(kinds_out=[Kind.BULLETIN, Kind.WITHDRAWAL])
    bulletin = make_bulletin("33", status="published", title="Tin gửi lại")
    actions.send_bulletin(user=users["admin"], bulletin=bulletin, peers=[peer])
    OutboundMessage.objects.update(status=DeliveryStatus.DELIVERED)
    bulletin = content.withdraw(bulletin=bulletin, user=root(), comment="Tạm dừng")
    bulletin = content.submit(bulletin=bulletin, user=root())
    bulletin = content.approve(bulletin=bulletin, user=root())
    sending = actions.send_bulletin(user=users["admin"], bulletin=bulletin, peers=[peer])
    assert [r.version for r in sending.queued] == [2] and not sending.unchanged
