"""Console pages: peers and keys (add, rotate, revoke), the outbox with failed messages and retry,
and statistics built from the kpi app and read by the protocol's own parser."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from grassroots.core.models import ObjectChange
from grassroots.exchange import federation, outbound, stats
from grassroots.exchange.choices import DeliveryStatus, Kind
from grassroots.exchange.models import OutboundMessage, Peer
from grassroots.kpi.indicators import BY_ID
from grassroots.units.models import Unit

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
            "kid": remote.kid(),
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
        {"step": "key", "peer": peer.pk, "public_key": public_b64(new.key), "kid": new.kid()},
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


def test_refusals_are_shown_within_the_users_scope(client, users):
    """An exchange manager of one commune sees neither another peer's refusals nor those of
    unknown senders; the province's manager sees both."""
    from grassroots.core.testing import COMMUNE_A, make_user
    from grassroots.exchange.choices import Refusal, Via
    from grassroots.exchange.models import RefusedMessage

    peer = Remote().declare()
    RefusedMessage.objects.create(peer=peer, source="central", reason=Refusal.BAD_SIGNATURE,
                                  detail="Chữ ký của trung ương sai", via=Via.PUSH)  # fmt: skip
    RefusedMessage.objects.create(source="la-mat", reason=Refusal.UNKNOWN_PEER,
                                  detail="Hệ thống lạ gửi tới", via=Via.PUSH)  # fmt: skip
    commune = make_user("lienthong-xa", permissions=["exchange.view", "exchange.manage"],
                        unit_code=COMMUNE_A)  # fmt: skip
    client.force_login(commune)
    page = client.get(reverse("exchange-peers")).content.decode()
    assert "Chữ ký của trung ương sai" not in page and "Hệ thống lạ gửi tới" not in page
    client.force_login(users["admin"])
    page = client.get(reverse("exchange-peers")).content.decode()
    assert "Chữ ký của trung ương sai" in page and "Hệ thống lạ gửi tới" in page


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
    assert all(u.kind in ("xa", "phuong", "thi_tran", "dac_khu") for u in parsed.units[:104])
    assert parsed.emergencies is not None and parsed.emergencies.expected >= 0
    assert stats.send(month="2026-11") == 1
    row = OutboundMessage.objects.get(kind=Kind.STATISTICS)
    assert row.message_id == "province-33:statistics:2026-11" and row.version == 1
    assert stats.send(month="2026-11") == 1
    assert OutboundMessage.objects.get(kind=Kind.STATISTICS, status="pending").version == 2


def test_send_down_withdraw_and_national_figures(client, users, central_mode):
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
    # withdrawn here: withdrawn at every system that got it
    OutboundMessage.objects.filter(pk=sent.pk).update(status=DeliveryStatus.DELIVERED)
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
    from grassroots.exchange.models import InboundMessage

    assert InboundMessage.objects.get(kind=Kind.STATISTICS).title == "Hưng Yên, tháng 11/2026"
    page = client.get(reverse("exchange-messages")).content.decode()
    assert "Hưng Yên, tháng 11/2026" in page and "33 2026-11" not in page
    figures = client.get("/api/v1/exchange/national?month=2026-11").json()
    [row] = figures["provinces"]
    assert (row["communes"], row["plays"], row["availability"]) == (2, 15, 80.0)
    assert figures["country"]["feedback_handled"] == 7
    page = client.get(reverse("exchange-national") + "?thang=2026-11").content.decode()
    assert "Cả nước" in page
    assert client.get("/api/v1/exchange/national?month=11-2026").status_code == 422


def _send_down(client, admin, peers, title="Tin gửi xuống các tỉnh"):
    from grassroots.content.tests.conftest import make_bulletin

    bulletin = make_bulletin("33", status="published", title=title)
    client.force_login(admin)
    r = client.post(
        reverse("exchange-national"),
        {"bulletin": bulletin.pk, "peers": [p.pk for p in peers]},
        follow=True,
    )
    assert r.status_code == 200
    return bulletin


def test_sent_bulletin_province_by_province(client, users, central_mode):
    """Each province's row goes from 'sent' to 'aired' as its statistics come in; a failed
    delivery shows its error; a user outside the peers' scope sees nothing."""
    import json

    hy, other = Remote(code="province-33"), Remote(code="province-x")
    hy_peer = hy.declare(kinds_in=[Kind.STATISTICS], kinds_out=[Kind.BULLETIN], name="Hưng Yên")
    other_peer = other.declare(kinds_out=[Kind.BULLETIN], name="Tỉnh <b>khác</b>")
    bulletin = _send_down(client, users["admin"], [hy_peer, other_peer])
    message_id = OutboundMessage.objects.filter(kind=Kind.BULLETIN).first().message_id
    OutboundMessage.objects.filter(peer=other_peer).update(
        status=DeliveryStatus.FAILED, last_error="HTTP 503: bảo trì"
    )
    url = reverse("exchange-sent-bulletin", args=[bulletin.pk])
    page = client.get(url).content.decode()
    assert 'data-peer="province-33" data-state="pending"' in page
    assert 'data-peer="province-x" data-state="failed"' in page and "HTTP 503: bảo trì" in page
    assert "Tỉnh &lt;b&gt;khác&lt;/b&gt;" in page  # escaped

    OutboundMessage.objects.filter(peer=hy_peer).update(status=DeliveryStatus.DELIVERED)
    assert 'data-peer="province-33" data-state="delivered"' in client.get(url).content.decode()

    def statistics(version: int, **fate):
        body = {"province": "33", "month": "2026-11", "units": [],
                "aired": [{"ref": message_id, **fate}]}  # fmt: skip
        envelope = hy.seal(Kind.STATISTICS, body, message_id="s", version=version)
        r = client.post(
            "/api/v1/exchange/inbox", data=json.dumps(envelope), content_type="application/json"
        )
        assert r.status_code == 202, r.content

    statistics(1, approved=True, communes=104)
    assert 'data-peer="province-33" data-state="approved"' in client.get(url).content.decode()
    statistics(2, approved=True, communes=104, placed=3)
    assert 'data-peer="province-33" data-state="placed"' in client.get(url).content.decode()
    statistics(3, approved=True, communes=104, placed=3, aired_communes=2, plays=5)
    page = client.get(url).content.decode()
    assert 'data-peer="province-33" data-state="aired"' in page
    assert "Gửi tới 2 tỉnh: 1 đã nhận, 1 đã xếp lịch phát, 1 đã phát." in page
    national = client.get(reverse("exchange-national")).content.decode()
    assert f'data-message="{message_id}"' in national and 'data-count="aired">1<' in national
    api = client.get(f"/api/v1/exchange/bulletins/{bulletin.pk}/receivers").json()
    assert api["message_id"] == message_id and api["counts"] == {
        "sent": 2, "received": 1, "placed": 1, "aired": 1, "withdrawn": 0,
    }  # fmt: skip
    by_peer = {r["peer"]: r for r in api["receivers"]}
    assert by_peer["province-33"]["state"] == "aired" and by_peer["province-33"]["plays"] == 5
    # a row is the province (the peer's scope unit), with the system that reports for it
    hy_row = by_peer["province-33"]
    assert hy_row["name"] == Unit.objects.current().get(code="33").name != hy_row["peer_name"]
    assert by_peer["province-x"]["state"] == "failed" and by_peer["province-x"]["error"]

    # a commune operator sees neither the peers nor their bulletins
    client.force_login(users["operator"])
    assert client.get(url).status_code == 404
    receivers = f"/api/v1/exchange/bulletins/{bulletin.pk}/receivers"
    assert client.get(receivers).status_code == 404
    assert message_id not in client.get(reverse("exchange-national")).content.decode()
    client.force_login(users["admin"])
    assert (
        client.get(reverse("exchange-sent-bulletin", args=[bulletin.pk + 999])).status_code == 404
    )


def test_sent_bulletin_withdrawn_shows_withdrawn_and_approved(client, users, central_mode):
    """After the centre withdraws a bulletin a province approved and shared to its communes,
    the per-bulletin page and the national list say "Đã thu hồi" (with when), and the province
    counts as having approved it even when its statistics (sent after the withdrawal by an
    older version) say not approved but communes received it."""
    import json

    from grassroots.content import actions as content
    from grassroots.content.tests.conftest import root

    hy = Remote(code="province-33")
    hy_peer = hy.declare(
        kinds_in=[Kind.STATISTICS], kinds_out=[Kind.BULLETIN, Kind.WITHDRAWAL], name="Hưng Yên"
    )
    bulletin = _send_down(client, users["admin"], [hy_peer], title="Tin sẽ thu hồi")
    sent = OutboundMessage.objects.get(kind=Kind.BULLETIN)
    OutboundMessage.objects.filter(pk=sent.pk).update(status=DeliveryStatus.DELIVERED)
    body = {"province": "33", "month": "2026-11", "units": [],
            "aired": [{"ref": sent.message_id, "approved": False, "communes": 104}]}  # fmt: skip
    r = client.post(
        "/api/v1/exchange/inbox",
        data=json.dumps(hy.seal(Kind.STATISTICS, body, message_id="s")),
        content_type="application/json",
    )
    assert r.status_code == 202, r.content
    url = reverse("exchange-sent-bulletin", args=[bulletin.pk])
    page = client.get(url).content.decode()
    assert 'data-peer="province-33" data-state="approved"' in page
    assert '<td data-label="Đã duyệt">✓</td>' in page

    content.withdraw(bulletin=bulletin, user=root(), comment="Sai số liệu")
    withdrawal = OutboundMessage.objects.get(kind=Kind.WITHDRAWAL)
    page = client.get(url).content.decode()
    assert 'data-peer="province-33" data-state="withdrawn"' in page
    assert "Đã thu hồi" in page and "Đã nhận</span>" not in page
    at = timezone.localtime(withdrawal.created_at).strftime("%d/%m/%Y %H:%M")
    assert f"lúc {at}" in page and "lệnh thu hồi chưa gửi tới" in page
    assert '<td data-label="Đã duyệt">✓</td>' in page
    OutboundMessage.objects.filter(pk=withdrawal.pk).update(status=DeliveryStatus.DELIVERED)
    assert "lệnh thu hồi chưa gửi tới" not in client.get(url).content.decode()
    national = client.get(reverse("exchange-national")).content.decode()
    assert 'data-withdrawn="1"' in national
    api = client.get(f"/api/v1/exchange/bulletins/{bulletin.pk}/receivers").json()
    [row] = api["receivers"]
    assert row["state"] == "withdrawn" and row["withdrawn_at"] and row["approved"]
    assert api["counts"]["withdrawn"] == 1


def test_withdraw_of_a_bulletin_sent_down_asks_first(client, users, central_mode):
    """ "Thu hồi" of a bulletin sent to provinces asks before it runs, saying how many
    provinces get a withdrawal (and whose send still waiting is cancelled); a bulletin sent
    nowhere is withdrawn without the question."""
    from grassroots.content.tests.conftest import make_bulletin

    got = Remote(code="province-a").declare(kinds_out=[Kind.BULLETIN], name="Tỉnh A")
    waiting = Remote(code="province-b").declare(kinds_out=[Kind.BULLETIN], name="Tỉnh <B>")
    bulletin = _send_down(client, users["admin"], [got, waiting], title="Tin sẽ thu hồi")
    OutboundMessage.objects.filter(peer=got).update(status=DeliveryStatus.DELIVERED)
    page = client.get(reverse("bulletin-edit", args=[bulletin.pk])).content.decode()
    button = re.search(r'<button[^>]*id="do-withdraw"[^>]*>', page)
    assert button, page
    assert (
        'data-confirm="Thu hồi bản tin này? 1 tỉnh đã nhận sẽ nhận lệnh thu hồi: Tỉnh A. '
        'Huỷ gửi tới 1 tỉnh chưa nhận: Tỉnh &lt;B&gt;."'
    ) in button.group(0)

    never_sent = make_bulletin("33", status="published", title="Tin chưa gửi")
    page = client.get(reverse("bulletin-edit", args=[never_sent.pk])).content.decode()
    button = re.search(r'<button[^>]*id="do-withdraw"[^>]*>', page)
    assert button and "data-confirm" not in button.group(0)


def test_peer_name_is_changed_in_settings(client, users):
    """A peer saved under the wrong name is renamed in "Cài đặt"; an empty name is refused
    beside the field, with the settings kept open and nothing changed."""
    peer = Remote(code="province-x").declare(kinds_out=[Kind.BULLETIN], name="Tên nhầm")
    client.force_login(users["admin"])
    page = client.get(reverse("exchange-peers")).content.decode()
    assert f'id="name-{peer.pk}"' in page and 'value="Tên nhầm"' in page
    settings = {"step": "settings", "peer": peer.pk, "url": peer.url, "kinds_out": ["bulletin"],
                "active": "on"}  # fmt: skip
    r = client.post(reverse("exchange-peers"), {**settings, "name": "  Hệ thống tỉnh X\x07 "})
    assert r.status_code == 302
    peer.refresh_from_db()
    assert peer.name == "Hệ thống tỉnh X" and peer.kinds_out == ["bulletin"] and peer.active
    r = client.post(reverse("exchange-peers"), {**settings, "name": " "})
    page = r.content.decode()
    assert r.status_code == 200 and "Hãy nhập tên hệ thống." in page
    field = re.search(
        rf'<input id="name-{peer.pk}"[^>]*>(<div class="invalid-feedback">[^<]*)', page
    )
    assert field and "is-invalid" in field.group(0) and "Hãy nhập tên hệ thống." in field.group(1)
    assert re.search(r"<details class=\"mb-1\" open><summary[^>]*>Cài đặt", page)
    peer.refresh_from_db()
    assert peer.name == "Hệ thống tỉnh X"


def test_national_indicators_use_the_kpi_definitions(client, users, central_mode):
    """A province's and the country's indicators are the kpi app's formulas over the summed
    counters of the communes (not an average of the communes' percentages)."""
    import json

    senders = (("33", "province-33", "Hưng Yên", [(9, 10), (1, 10)]),
               ("11977", "province-y", "Tỉnh Y", [(10, 10)]))  # fmt: skip
    for code, remote_code, name, communes in senders:
        remote = Remote(code=remote_code)
        remote.declare(unit_code=code, kinds_in=[Kind.STATISTICS], name=name)
        units = [
            {"unit": f"{code}-{n}", "counters": {"essential_aired": a, "essential_due": d,
                                                 "plays_scheduled": 4, "plays_on_time": 3}}
            for n, (a, d) in enumerate(communes)
        ]  # fmt: skip
        body = {"province": code, "month": "2026-11", "units": units}
        envelope = remote.seal(Kind.STATISTICS, body, message_id="s")
        r = client.post(
            "/api/v1/exchange/inbox", data=json.dumps(envelope), content_type="application/json"
        )
        assert r.status_code == 202, r.content
    client.force_login(users["admin"])
    figures = client.get("/api/v1/exchange/national?month=2026-11").json()
    by_name = {r["peer_name"]: r for r in figures["provinces"]}
    # a row is the province (the peer's scope unit), not the system that reported it
    assert by_name["Tỉnh Y"]["name"] == Unit.objects.current().get(code="11977").name
    # (9 + 1) / (10 + 10), a ratio of sums …
    assert by_name["Hưng Yên"]["indicators"]["essential_reach"] == 50.0
    assert by_name["Tỉnh Y"]["indicators"]["essential_reach"] == 100.0
    # … and so is the country: 20 / 30, not the mean of the provinces' 50 % and 100 %
    assert figures["country"]["indicators"]["essential_reach"] == 66.7
    assert figures["country"]["indicators"]["on_time_play"] == 75.0  # 9 of 12 on time
    assert figures["country"]["communes"] == 3
    assert figures["country"]["indicators"]["staff_trained"] is None  # no staff on record
    page = client.get(reverse("exchange-national") + "?thang=2026-11").content.decode()
    assert 'data-indicator="essential_reach"' in page
    assert "66,7" in page or "66.7" in page


def test_statistics_carry_the_provinces_own_facts(client, users):
    """A bulletin the province publishes is counted at the province, in no commune's row: the
    statistics add a row for the province's own facts, and the centre sums it into the
    province's figures without counting it as a commune."""
    import json

    from django.utils import timezone

    from grassroots.content.tests.conftest import make_bulletin

    peer = Remote().declare(kinds_out=[Kind.STATISTICS])
    make_bulletin("33", status="published", title="Tin của tỉnh")
    month = timezone.localdate().strftime("%Y-%m")
    assert stats.send(month=month) == 1  # brings the kpi rollups up to date first
    envelope = json.loads(OutboundMessage.objects.get(peer=peer, kind=Kind.STATISTICS).envelope)
    body = federation.StatisticsBody.model_validate(envelope["body"])
    [own] = [u for u in body.units if u.unit == "33"]
    assert own.counters["bulletins_provincial"] == 1 and own.indicators == {}
    communes = [u for u in body.units if u.unit != "33"]
    assert len(communes) == 104 and not any(u.counters["bulletins_provincial"] for u in communes)

    # the same body, received at a centre: one more bulletin, not one more commune
    centre_side = Remote(code="province-33")
    centre_side.declare(unit_code="33", kinds_in=[Kind.STATISTICS], name="Hưng Yên")
    sealed = centre_side.seal(Kind.STATISTICS, envelope["body"], message_id="s")
    r = client.post(
        "/api/v1/exchange/inbox", data=json.dumps(sealed), content_type="application/json"
    )
    assert r.status_code == 202, r.content
    client.force_login(users["admin"])
    figures = client.get(f"/api/v1/exchange/national?month={month}").json()
    [hy] = figures["provinces"]
    assert hy["communes"] == 104 and hy["indicators"]["bulletins"] == 1
    # the per-commune indicators of a province at the centre are the province's own numbers
    from grassroots.kpi.querysets import totals
    from grassroots.units.models import Unit

    start, end = stats.month_bounds(month)
    own = totals(Unit.objects.current().get(code="33"), start, end)
    for name in ("eboard_wards", "eboard_communes", "staff_trained", "emergency_delivered"):
        assert hy["indicators"][name] == BY_ID[name].value(own), name
    assert (hy["bases"]["eboard_wards"]["of"], hy["bases"]["eboard_communes"]["of"]) == (
        own.wards,
        own.communes,
    )
    assert own.wards and own.communes and own.wards + own.communes == 104


def test_national_per_commune_indicators_are_ratios_of_sums(client, users, central_mode):
    """E-boards (wards, communes), staff trained and emergencies at the centre, from two
    provinces' statistics: each a ratio of the sums over communes and provinces (and the
    emergency delay a mean over every emergency), where a mean of the provinces' ratios would
    give another number; with their bases, in the API and on the page."""
    import json

    def unit(code, kind, boards, staff=None, **extra):
        row = {"unit": code, "kind": kind, "counters": {"boards_working": boards}, **extra}
        if staff:
            row["staff"] = {"trained": staff[0], "required": staff[1]}
        return row

    senders = (
        ("33", "province-33", "Hưng Yên", [
            unit("33-1", "phuong", 1, (1, 1)),
            unit("33-2", "phuong", 0, (0, 1)),
            unit("33-3", "xa", 2, (9, 10)),
            unit("33", "", 0, (0, 3)),  # the province's own staff: no commune, no e-board
        ], {"expected": 100, "delivered": 90, "t95_s": [60, 120]}),
        ("11977", "province-y", "Tỉnh Y", [
            unit("y-1", "xa", 0, (1, 2)),
            unit("y-2", "xa", 0),
            unit("y-3", "dac_khu", 1),
            # a sender whose rows carry no kind yet: the commune's own e-board indicator tells
            {"unit": "y-4", "counters": {}, "indicators": {"eboard_communes": 0.0,
                                                         "eboard_wards": None}},
        ], {"expected": 10, "delivered": 10, "t95_s": [30]}),
    )  # fmt: skip
    for code, remote_code, name, units, emergencies in senders:
        remote = Remote(code=remote_code)
        remote.declare(unit_code=code, kinds_in=[Kind.STATISTICS], name=name)
        body = {"province": code, "month": "2026-11", "units": units, "emergencies": emergencies}
        envelope = remote.seal(Kind.STATISTICS, body, message_id="s")
        r = client.post(
            "/api/v1/exchange/inbox", data=json.dumps(envelope), content_type="application/json"
        )
        assert r.status_code == 202, r.content
    client.force_login(users["admin"])
    figures = client.get("/api/v1/exchange/national?month=2026-11").json()
    hy, y = (
        next(r for r in figures["provinces"] if r["peer_name"] == n) for n in ("Hưng Yên", "Tỉnh Y")
    )
    country = figures["country"]
    got = {
        key: (hy["indicators"][key], y["indicators"][key], country["indicators"][key])
        for key in ("eboard_wards", "eboard_communes", "staff_trained", "emergency_delivered",
                    "emergency_t95")
    }  # fmt: skip
    assert got == {
        "eboard_wards": (50.0, None, 50.0),  # Tỉnh Y has no ward
        "eboard_communes": (100.0, 25.0, 40.0),  # 2 of 5 communes; the mean would be 62.5
        "staff_trained": (66.7, 50.0, 64.7),  # 11 of 17 (province staff too); mean: 58.3
        "emergency_delivered": (90.0, 100.0, 90.9),  # 100 of 110 devices; mean: 95
        "emergency_t95": (90.0, 30.0, 70.0),  # over the 3 emergencies; mean of means: 60
    }
    assert country["bases"] == {
        "eboard_wards": {"count": 1, "of": 2},
        "eboard_communes": {"count": 2, "of": 5},
        "staff_trained": {"count": 11, "of": 17},
        "emergency_delivered": {"count": 100, "of": 110},
        "emergency_t95": {"count": 3, "of": None},
    }
    assert hy["communes"] == 3 and y["communes"] == 4
    page = client.get(reverse("exchange-national") + "?thang=2026-11").content.decode()
    page = re.sub(r"<span[^>]*>|</span>", "", page)
    row = re.search(r'data-indicator="eboard_communes">(.*?)</tr>', page, re.S).group(1)
    assert "2/5 xã, đặc khu" in row and ("40,0" in row or "40.0" in row or ">40<" in row)
    row = re.search(r'data-indicator="staff_trained">(.*?)</tr>', page, re.S).group(1)
    assert "11/17 cán bộ" in row and "10/15 cán bộ" in row and "1/2 cán bộ" in row


def _failed(peer, message_id: str, **error):
    [row] = outbound.emit(peers=[peer], kind=Kind.BULLETIN, message_id=message_id,
                          body=bulletin_body(), title=f"Tin {message_id}")  # fmt: skip
    OutboundMessage.objects.filter(pk=row.pk).update(status=DeliveryStatus.FAILED, **error)
    return row


def test_retry_is_not_offered_where_it_cannot_help(client, users):
    """A refusal a retry of the same message can never overcome says why and what to do, with
    no Gửi lại (and the server refuses one); a refusal the peer can fix says what to fix and
    keeps the button; a peer that was down keeps it plainly."""
    peer = Remote().declare(kinds_out=[Kind.BULLETIN])
    old = _failed(peer, "old", last_error="central.invalid từ chối thông điệp", attempts=1,
                  error_kind="refused", error_reason="old_version", error_status=409)  # fmt: skip
    key = _failed(peer, "key", last_error="central.invalid từ chối thông điệp", attempts=1,
                  error_kind="refused", error_reason="unknown_key", error_status=403)  # fmt: skip
    down = _failed(peer, "down", last_error="không kết nối được tới central.invalid",
                   attempts=12, error_kind="connect")  # fmt: skip
    client.force_login(users["admin"])
    page = client.get(reverse("exchange-messages") + "?status=failed").content.decode()
    assert page.count('data-action="retry"') == 2
    assert f'action="{reverse("exchange-retry", args=[old.pk])}"' not in page
    assert "phiên bản mới hơn của thông điệp này: không cần gửi lại" in page
    assert "gửi khoá của hệ thống này" in page
    for row in (key, down):
        assert f'action="{reverse("exchange-retry", args=[row.pk])}"' in page
    r = client.post(reverse("exchange-retry", args=[old.pk]), {"status": "failed"}, follow=True)
    assert "Gửi lại không giúp được" in r.content.decode()
    assert OutboundMessage.objects.get(pk=old.pk).status == DeliveryStatus.FAILED
    r = client.post(f"/api/v1/exchange/outbox/{old.pk}/retry")
    assert r.status_code == 409 and "không cần gửi lại" in r.json()["detail"]
    r = client.post(reverse("exchange-retry", args=[key.pk]), follow=True)
    assert OutboundMessage.objects.get(pk=key.pk).status == DeliveryStatus.PENDING


def test_send_now_a_message_waiting_in_back_off(client, users):
    """Gửi ngay makes the message due with those of its peer queued before it (order kept),
    not another peer's; audited; a viewer cannot; a message not waiting cannot."""
    import datetime

    from django.utils import timezone

    from grassroots.core.models import ObjectChange

    peer = Remote().declare(kinds_out=[Kind.BULLETIN])
    other = Remote(code="province-y").declare(unit_code="11977", kinds_out=[Kind.BULLETIN])
    rows = [
        outbound.emit(peers=[p], kind=Kind.BULLETIN, message_id=m, body=bulletin_body(), title=m)[
            0
        ]  # fmt: skip
        for p, m in ((peer, "first"), (other, "other"), (peer, "second"), (peer, "third"))
    ]
    later = timezone.now() + datetime.timedelta(minutes=30)
    OutboundMessage.objects.update(attempts=5, next_attempt_at=later,
                                   last_error="không kết nối được tới central.invalid")  # fmt: skip
    client.force_login(users["viewer"])
    assert 'data-action="send-now"' not in client.get(reverse("exchange-messages")).content.decode()
    client.post(reverse("exchange-send-now", args=[rows[2].pk]))
    assert not OutboundMessage.objects.filter(next_attempt_at__lt=later).exists()

    client.force_login(users["admin"])
    page = client.get(reverse("exchange-messages")).content.decode()
    assert page.count('data-action="send-now"') == 4
    r = client.post(reverse("exchange-send-now", args=[rows[2].pk]), follow=True)
    assert "Sẽ gửi trong vài giây (2 thông điệp" in r.content.decode()
    due = set(
        OutboundMessage.objects.filter(next_attempt_at__lte=timezone.now()).values_list(
            "message_id", flat=True
        )
    )
    assert due == {"first", "second"}
    assert OutboundMessage.objects.get(pk=rows[2].pk).attempts == 5
    assert ObjectChange.objects.filter(comment="Gửi ngay").count() == 1
    page = client.get(reverse("exchange-messages") + "?status=pending").content.decode()
    assert page.count('data-action="send-now"') == 2  # "other" and "third" still wait
    # the API does the same; a delivered message is not "waiting"
    r = client.post(f"/api/v1/exchange/outbox/{rows[3].pk}/send-now")
    assert r.status_code == 200 and r.json()["message_id"] == "third"
    OutboundMessage.objects.filter(pk=rows[1].pk).update(status=DeliveryStatus.DELIVERED)
    r = client.post(f"/api/v1/exchange/outbox/{rows[1].pk}/send-now")
    assert r.status_code == 409
    # a commune's operator does not see the province's peers' messages
    client.force_login(users["operator"])
    assert client.post(f"/api/v1/exchange/outbox/{rows[3].pk}/send-now").status_code in (403, 404)


def test_national_pages_only_in_central_mode(client, users, settings):
    """A province's menu has no 'Gửi xuống, số liệu toàn quốc'; the page says why and goes
    to the province's messages; in central mode it is there."""
    client.force_login(users["admin"])
    home = client.get(reverse("exchange-messages")).content.decode()
    assert "Gửi xuống, số liệu toàn quốc" not in home
    r = client.get(reverse("exchange-national"), follow=True)
    assert r.redirect_chain[-1][0] == reverse("exchange-messages")
    assert "chỉ có ở hệ thống trung ương" in r.content.decode()
    assert client.get(reverse("exchange-sent-bulletin", args=[1])).status_code == 302
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central"}
    page = client.get(reverse("exchange-national"))
    assert page.status_code == 200
    menu = client.get(reverse("exchange-messages")).content.decode()
    assert "Gửi xuống, số liệu toàn quốc" in menu


@pytest.mark.parametrize(
    ("site", "warned"),
    [("", "Địa chỉ công khai của hệ thống (GRASSROOTS_SITE_URL) chưa đặt"),
     ("http://127.0.0.1:8000", "địa chỉ nội bộ"),
     ("http://localhost", "địa chỉ nội bộ"), ("https://ttcs.example.gov.vn", None)],
)  # fmt: skip
def test_central_admin_is_warned_about_the_site_url(client, users, settings, site, warned):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central", "SITE_URL": site}
    client.force_login(users["admin"])
    assert "site-url-warning" not in client.get(reverse("exchange-national")).content.decode()
    Remote(code="province-33").declare(kinds_out=[Kind.BULLETIN])  # a peer is declared
    for name in ("exchange-national", "exchange-messages"):
        page = client.get(reverse(name)).content.decode()
        if warned:
            assert "site-url-warning" in page and warned in page
        else:
            assert "site-url-warning" not in page
    client.force_login(users["viewer"])  # it is the administrator's to fix
    assert "site-url-warning" not in client.get(reverse("exchange-national")).content.decode()
    # a province is not warned: it sends no media down
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "province"}
    client.force_login(users["admin"])
    assert "site-url-warning" not in client.get(reverse("exchange-messages")).content.decode()


def test_send_down_says_what_to_choose_and_keeps_what_was_chosen(client, users, central_mode):
    """'Gửi xuống' with no bulletin and/or no province says, beside each field, what to
    choose; the page comes back with what was chosen, and nothing is queued."""
    from grassroots.content.tests.conftest import make_bulletin

    peer = Remote(code="province-x").declare(kinds_out=[Kind.BULLETIN], name="Hệ thống tỉnh X")
    other = Remote(code="province-z").declare(kinds_out=[Kind.BULLETIN], name="Hệ thống tỉnh Z")
    bulletin = make_bulletin("33", status="published", title="Tin chờ gửi xuống")
    client.force_login(users["admin"])
    url = reverse("exchange-national")

    def form(r) -> str:
        assert r.status_code == 200  # the page again, not a redirect that forgets
        page = r.content.decode()
        return page[page.index('id="send-form"') : page.index("</form>", page.index("send-form"))]

    both = form(client.post(url, {}))
    assert "Hãy chọn bản tin đã duyệt cần gửi xuống." in both
    assert "Hãy đánh dấu ít nhất một tỉnh nhận bản tin." in both
    assert 'id="send-bulletin-error"' in both and 'id="send-peers-error"' in both
    no_peer = form(client.post(url, {"bulletin": bulletin.pk}))
    assert "Hãy đánh dấu ít nhất một tỉnh" in no_peer and "Hãy chọn bản tin" not in no_peer
    assert re.search(rf'<option value="{bulletin.pk}" selected>Tin chờ gửi xuống', no_peer)
    no_bulletin = form(client.post(url, {"peers": [other.pk], "bulletin": "abc"}))
    assert "Hãy chọn bản tin đã duyệt" in no_bulletin and "Hãy đánh dấu" not in no_bulletin
    assert re.search(rf'value="{other.pk}" id="to-{other.pk}" checked', no_bulletin)
    assert not re.search(rf'value="{peer.pk}" id="to-{peer.pk}" checked', no_bulletin)
    assert not OutboundMessage.objects.exists()
    # chosen both: queued, and the page is fresh again
    r = client.post(url, {"bulletin": bulletin.pk, "peers": [peer.pk]}, follow=True)
    assert "hàng đợi gửi tới 1 hệ thống" in r.content.decode()
    assert "send-bulletin-error" not in r.content.decode()
    assert OutboundMessage.objects.filter(peer=peer).count() == 1


@pytest.mark.parametrize("site", ["", "http://localhost:8000"])
def test_a_bulletin_with_media_is_not_sent_down_to_an_unreachable_address(
    client, users, settings, site
):
    """The provinces would refuse a bulletin whose files they cannot fetch: without a public
    GRASSROOTS_SITE_URL it is refused here, beside the bulletin, in words for the
    administrator; a bulletin without files still goes, and with the address set both go."""
    from grassroots.content.models import MediaAsset
    from grassroots.content.tests.conftest import make_bulletin

    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central", "SITE_URL": site}
    peer = Remote(code="province-x").declare(kinds_out=[Kind.BULLETIN])
    with_file = make_bulletin("33", status="published", title="Tin có tệp")
    sha = "ab" * 32
    MediaAsset.objects.create(
        unit=with_file.unit, bulletin=with_file, declared_kind="audio", kind="audio",
        status="ready", sha256=sha, size=9000, mime="audio/mpeg",
        original_name="thong-bao.mp3", file=f"ab/{sha}.mp3",
    )  # fmt: skip
    revision = with_file.approved_revision
    revision.data = {**revision.data, "media": [{"sha256": sha}]}
    revision.save(update_fields=["data"])
    plain = make_bulletin("33", status="published", title="Tin không tệp")
    client.force_login(users["admin"])
    url = reverse("exchange-national")
    r = client.post(url, {"bulletin": with_file.pk, "peers": [peer.pk]})
    page = r.content.decode()
    assert r.status_code == 200 and 'id="send-bulletin-error"' in page
    assert "Bản tin này có tệp đính kèm nhưng địa chỉ công khai của hệ thống" in page
    assert "các tỉnh không tải được tệp và sẽ từ chối bản tin" in page
    assert 'id="site-url-warning"' in page  # and the page says it above, for the administrator
    assert not OutboundMessage.objects.exists()
    client.post(url, {"bulletin": plain.pk, "peers": [peer.pk]})
    assert OutboundMessage.objects.filter(title="Tin không tệp").count() == 1
    settings.GRASSROOTS = {**settings.GRASSROOTS, "SITE_URL": "https://ttcs.example.gov.vn"}
    client.post(url, {"bulletin": with_file.pk, "peers": [peer.pk]})
    import json

    sent = OutboundMessage.objects.get(title="Tin có tệp")
    [media] = json.loads(sent.envelope)["body"]["media"]
    assert media["url"].startswith("https://ttcs.example.gov.vn/")


def test_after_a_retry_the_list_shows_the_message_and_says_what_happened(client, users):
    """'Gửi lại' pressed under the 'Gửi lỗi' filter comes back to the whole list (the message
    is there, soon 'Đã gửi'), saying what was done; a filter in use is shown with a way out;
    delivery is worded for an officer."""
    peer = Remote().declare(kinds_out=[Kind.BULLETIN], name="Hệ thống tỉnh Hưng Yên")
    row = _failed(peer, "r1", last_error="không kết nối được", attempts=3, error_kind="connect")
    client.force_login(users["admin"])
    r = client.post(reverse("exchange-retry", args=[row.pk]), {"status": "failed"})
    assert r.status_code == 302 and "status=" not in r["Location"]
    assert r["Location"].endswith(f"#message-{row.pk}")
    page = client.get(r["Location"]).content.decode()
    assert "Đã đưa «Tin r1» gửi tới Hệ thống tỉnh Hưng Yên vào hàng đợi gửi lại" in page
    assert f'id="message-{row.pk}" data-status="pending"' in page
    # the worker delivers it: under a filter it is no longer in, the page says which filter
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.DELIVERED, delivered_at=row.created_at, delivered_via="push"
    )
    page = client.get(reverse("exchange-messages") + "?status=pending").content.decode()
    assert "Không có thông điệp nào ở trạng thái «Chờ gửi»." in page
    assert 'id="status-filter"' in page and "Đang xem: Chờ gửi" in page
    assert f'<a href="{reverse("exchange-messages")}">xem tất cả</a>' in page
    page = client.get(reverse("exchange-messages")).content.decode()
    assert 'id="status-filter"' not in page
    assert "gửi đi lúc" in page and "Đẩy (POST)" not in page and "(POST)" not in page
    OutboundMessage.objects.filter(pk=row.pk).update(delivered_via="pull")
    assert "bên kia kéo về lúc" in client.get(reverse("exchange-messages")).content.decode()


def test_national_figures_are_named_by_the_province(client, users, central_mode):
    import json

    remote = Remote(code="province-33")
    remote.declare(unit_code="33", kinds_in=[Kind.STATISTICS], name="Hệ thống tỉnh Hưng Yên")
    body = {"province": "33", "month": "2026-11",
            "units": [{"unit": "a", "counters": {"plays": 3}}]}  # fmt: skip
    r = client.post(
        "/api/v1/exchange/inbox",
        data=json.dumps(remote.seal(Kind.STATISTICS, body, message_id="s")),
        content_type="application/json",
    )
    assert r.status_code == 202, r.content
    client.force_login(users["admin"])
    page = client.get(reverse("exchange-national") + "?thang=2026-11").content.decode()
    table = page[
        page.index('id="national-table"') : page.index("</table>", page.index("national-table"))
    ]
    assert "<td>Tỉnh Hưng Yên</td>" in table and "Hệ thống tỉnh Hưng Yên" not in table
