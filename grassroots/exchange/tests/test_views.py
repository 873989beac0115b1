"""Console pages: peers and keys (add, rotate, revoke), the outbox with failed messages and retry,
and statistics built from the kpi app and read by the protocol's own parser."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grassroots.core.models import ObjectChange
from grassroots.exchange import federation, outbound, stats
from grassroots.exchange.choices import DeliveryStatus, Kind
from grassroots.exchange.models import OutboundMessage, Peer

from .helpers import Remote, bulletin_body, public_b64

pytestmark = pytest.mark.django_db


def test_peers_page_add_rotate_revoke(client, users):
    client.force_login(users["admin"])
    page = client.get(reverse("exchange-peers"))
    assert page.status_code == 200 and b"own-key" in page.content
    remote = Remote()
    r = client.post(
        reverse("exchange-peers"),
        {
            "step": "peer",
            "code": "central",
            "name": "Trung ương <b>",
            "url": "https://central.example",
            "unit": "33",
            "public_key": public_b64(remote.key),
            "kinds_in": ["bulletin", "withdrawal"],
            "kinds_out": ["statistics"],
            "approval": "on",
        },
        follow=True,
    )
    assert "Đã thêm hệ thống liên thông" in r.content.decode()
    assert "Trung ương &lt;b&gt;" in r.content.decode()  # escaped
    peer = Peer.objects.get(code="central")
    assert peer.kinds_in == ["bulletin", "withdrawal"] and peer.bulletins_need_approval
    # a wrong key is refused in Vietnamese, nothing stored
    r = client.post(
        reverse("exchange-peers"),
        {"step": "key", "peer": peer.pk, "public_key": "không phải khoá"},
        follow=True,
    )
    assert "khoá Ed25519 (32 byte)" in r.content.decode() and peer.keys.count() == 1
    # rotation: a second key, then the first revoked
    new = Remote()
    client.post(
        reverse("exchange-peers"),
        {"step": "key", "peer": peer.pk, "public_key": public_b64(new.key)},
    )
    old = peer.keys.order_by("added_at").first()
    client.post(reverse("exchange-peers"), {"step": "revoke", "key": old.pk})
    assert list(peer.active_keys().values_list("kid", flat=True)) == [
        federation.key_id(__import__("base64").b64decode(public_b64(new.key)))
    ]
    assert ObjectChange.objects.filter(comment__startswith="thu hồi khoá").exists()
    # settings: publish bulletins received at once, receive withdrawals too
    r = client.post(
        reverse("exchange-peers"),
        {"step": "settings", "peer": peer.pk, "url": "https://central2.example", "active": "on",
         "kinds_in": ["bulletin"], "kinds_out": ["statistics"]},
        follow=True,
    )  # fmt: skip
    assert "Đã lưu cài đặt" in r.content.decode()
    peer.refresh_from_db()
    assert peer.url == "https://central2.example" and not peer.bulletins_need_approval
    assert peer.kinds_in == ["bulletin"] and peer.active and not peer.pull
    r = client.post(
        reverse("exchange-peers"),
        {"step": "settings", "peer": peer.pk, "url": "ftp://x", "kinds_in": ["bulletin"]},
        follow=True,
    )
    assert "https://" in r.content.decode() and Peer.objects.get(pk=peer.pk).active


def test_viewer_sees_but_cannot_change(client, users):
    Remote().declare()
    client.force_login(users["viewer"])
    page = client.get(reverse("exchange-peers")).content.decode()
    assert "central" in page and 'name="step"' not in page
    r = client.post(reverse("exchange-peers"), {"step": "peer", "code": "x"})
    assert r.status_code == 403 and Peer.objects.count() == 1
    client.force_login(users["operator"])  # a commune: the peer's scope is the province
    assert "central" not in client.get(reverse("exchange-peers")).content.decode()


def test_failed_message_shown_with_error_and_retried(client, users):
    peer = Remote().declare(kinds_out=[Kind.BULLETIN])
    [row] = outbound.emit(
        peers=[peer], kind=Kind.BULLETIN, message_id="m", body=bulletin_body(), title="Tin A"
    )
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.FAILED, attempts=12, last_error="HTTP 503: bảo trì"
    )
    client.force_login(users["admin"])
    page = client.get(reverse("exchange-messages") + "?status=failed").content.decode()
    assert "Tin A" in page and "HTTP 503: bảo trì" in page and "Gửi lại" in page
    r = client.post(reverse("exchange-retry", args=[row.pk]), follow=True)
    assert "hàng đợi gửi lại" in r.content.decode()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    # a viewer has no retry
    client.force_login(users["viewer"])
    assert client.post(reverse("exchange-retry", args=[row.pk])).status_code == 302
    assert "Gửi lại" not in client.get(reverse("exchange-messages")).content.decode()


def test_statistics_from_kpi_parse_as_the_protocol(users):
    remote = Remote()
    peer = remote.declare(kinds_out=[Kind.STATISTICS])
    body = stats.body_for(peer, "2026-11")
    parsed = federation.StatisticsBody.model_validate(body)
    assert parsed.province == "33" and len(parsed.units) > 50
    first = parsed.units[0]
    assert "essential_reach" in first.indicators and "plays" in first.counters
    assert stats.send(month="2026-11") == 1
    row = OutboundMessage.objects.get(kind=Kind.STATISTICS)
    assert row.message_id == "province-33:statistics:2026-11" and row.version == 1
    assert stats.send(month="2026-11") == 1
    assert OutboundMessage.objects.get(kind=Kind.STATISTICS, status="pending").version == 2


def test_send_down_withdraw_and_national_figures(client, users):
    import json

    from grassroots.content import actions as content
    from grassroots.content.tests.conftest import make_bulletin, root

    peer = Remote(code="province-x").declare(kinds_out=[Kind.BULLETIN, Kind.WITHDRAWAL])
    bulletin = make_bulletin("33", status="published", title="Tin gửi xuống")
    client.force_login(users["admin"])
    page = client.get(reverse("exchange-national")).content.decode()
    assert "Tin gửi xuống" in page and "send-form" in page
    r = client.post(
        reverse("exchange-national"), {"bulletin": bulletin.pk, "peers": [peer.pk]}, follow=True
    )
    assert "hàng đợi gửi tới 1 hệ thống" in r.content.decode()
    sent = OutboundMessage.objects.get(kind=Kind.BULLETIN)
    body = json.loads(sent.envelope)["body"]
    assert body["title"] == "Tin gửi xuống" and sent.message_id.endswith(f":{bulletin.pk}")
    # withdrawn here: withdrawn at every system it was sent to
    content.withdraw(bulletin=bulletin, user=root(), comment="Sai số liệu")
    withdrawal = OutboundMessage.objects.get(kind=Kind.WITHDRAWAL)
    assert json.loads(withdrawal.envelope)["body"] == {
        "ref": sent.message_id,
        "reason": "Sai số liệu",
    }

    # statistics received from a province add up to national figures
    province = Remote(code="province-33")
    province.declare(unit_code="33", kinds_in=[Kind.STATISTICS])
    stats_body = {
        "province": "33", "month": "2026-11", "feedback_received": 9, "feedback_handled": 7,
        "units": [
            {"unit": "a", "counters": {"plays": 10, "device_expected_s": 100,
                                       "device_online_s": 90}},
            {"unit": "b", "counters": {"plays": 5, "device_expected_s": 100,
                                       "device_online_s": 70}},
        ],
    }  # fmt: skip
    envelope = province.seal(Kind.STATISTICS, stats_body, message_id="s")
    r = client.post(
        "/api/v1/exchange/inbox", data=json.dumps(envelope), content_type="application/json"
    )
    assert r.status_code == 202, r.content
    figures = client.get("/api/v1/exchange/national?month=2026-11").json()
    [row] = figures["provinces"]
    assert (row["communes"], row["plays"], row["availability"]) == (2, 15, 80.0)
    assert figures["country"]["feedback_handled"] == 7
    page = client.get(reverse("exchange-national") + "?thang=2026-11").content.decode()
    assert "Cả nước" in page
    assert client.get("/api/v1/exchange/national?month=11-2026").status_code == 422
