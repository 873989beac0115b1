"""Console pages of CAP: received alerts with state and reason, settings, the CAP preview."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from lxml import etree

from grassroots.alerts.cap.ingest import province, receive
from grassroots.alerts.cap.parse import hardened_parser, schema
from grassroots.alerts.models import CapAlert, CapFeed, CapSender
from grassroots.core.testing import COMMUNE_A

CAP = Path(__file__).with_name("cap")
NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))


@pytest.mark.django_db
def test_received_alerts_list_and_detail_show_state_reason_and_escape(client, users):
    data = (CAP / "vn-outside-province.xml").read_bytes()
    data = data.replace(b"<headline>", b"<headline>&lt;script&gt;x()&lt;/script&gt;")
    with time_machine.travel(NOW, tick=True):
        alert, _ = receive(data)
    assert alert.state == "refused"
    client.force_login(users["viewer"])
    page = client.get("/canh-bao/").content.decode()
    assert "Từ chối" in page and "nằm ngoài Tỉnh Hưng Yên" in page
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page
    detail = client.get(f"/canh-bao/{alert.pk}/").content.decode()
    assert "Thành phố Đà Nẵng" in detail and "&lt;alert" in detail  # the XML, escaped
    assert "<script>x()" not in detail
    # the XML as received: Vietnamese text, not numeric character references
    xml = detail.split('id="cap-xml">', 1)[1].split("</pre>", 1)[0]
    assert "&lt;areaDesc&gt;Thành phố Đà Nẵng&lt;/areaDesc&gt;" in xml
    assert "&amp;#" not in xml
    # the CAP values read in Vietnamese on the pages; the XML keeps the CAP words
    assert "Nghiêm trọng / Ngay lập tức / Đã quan sát thấy" in detail
    assert "&lt;severity&gt;Severe&lt;/severity&gt;" in xml
    assert "Nghiêm trọng / Ngay lập tức / Đã quan sát thấy" in page
    assert client.get("/canh-bao/?state=refused").content.decode().count('data-state="') == 1
    assert client.get("/canh-bao/?state=on_air").content.decode().count('data-state="') == 0


@pytest.mark.django_db
def test_settings_are_changed_by_province_administrators_only(client, users):
    client.force_login(users["operator"])
    client.post("/canh-bao/cai-dat/", {"step": "sender", "sender": "a@b", "name": "A"})
    assert not CapSender.objects.exists()
    client.force_login(users["admin"])
    client.post(
        "/canh-bao/cai-dat/",
        {
            "step": "sender",
            "sender": "canhbao@nchmf.gov.vn",
            "name": "KTTV",
            "trusted": "1",
            "live_severity": "Extreme",
            "live_urgency": "Immediate",
            "live_certainty": "Observed",
            "priority_severity": "Severe",
            "priority_urgency": "Expected",
            "priority_certainty": "Likely",
            "repeat": "2",
            "repeat_every": "45",
        },
    )
    rule = CapSender.objects.get(sender="canhbao@nchmf.gov.vn")
    assert rule.trusted and rule.live_severity == "Extreme" and rule.repeat == 2
    assert rule.repeat_every_minutes == 45
    assert "nhắc lại mỗi 45 phút" in client.get("/canh-bao/cai-dat/").content.decode()
    client.post(
        "/canh-bao/cai-dat/",
        {"step": "feed", "name": "KTTV", "url": "https://example.org/cap.atom", "interval": "60"},
    )
    feed = CapFeed.objects.get()
    assert (feed.interval_seconds, feed.enabled, feed.unit) == (60, False, province())
    bad = client.post(
        "/canh-bao/cai-dat/",
        {"step": "feed", "name": "X", "url": "file:///etc/passwd", "interval": "60"},
        follow=True,
    )
    assert "http://" in bad.content.decode() and CapFeed.objects.count() == 1
    page = client.get("/canh-bao/cai-dat/").content.decode()
    assert "canhbao@nchmf.gov.vn" in page and "https://example.org/cap.atom" in page


@pytest.mark.django_db
def test_emergency_confirmation_previews_the_cap_to_be_published(client, users):
    client.force_login(users["admin"])
    answer = client.post(
        "/khan-cap/",
        {
            "step": "review",
            "title": "Cảnh báo lũ",
            "text": "Di chuyển lên chỗ cao.",
            "units": COMMUNE_A,
            "repeat": "2",
            "expires": "30",
        },
    )
    cap = answer.context["cap"]
    root = etree.fromstring(cap.encode(), hardened_parser())
    assert schema().validate(root), schema().error_log
    assert "urn:oasis:names:tc:emergency:cap:1.2" in answer.content.decode()
    assert "Cảnh báo lũ" in cap and COMMUNE_A in cap
    assert not CapAlert.objects.exists()


@pytest.mark.django_db
def test_the_provinces_own_feed_is_refused_as_an_input(client, users, settings):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "SITE_URL": "https://thongtin.hungyen.gov.vn"}
    client.force_login(users["admin"])
    for url in (
        "http://testserver/feeds/cap.atom",  # the address the officer is using
        "https://thongtin.hungyen.gov.vn/feeds/cap.atom",
        "http://127.0.0.1:8000/feeds/cap.atom",
    ):
        answer = client.post(
            "/canh-bao/cai-dat/",
            {"step": "feed", "name": "Tỉnh", "url": url, "interval": "60"},
            follow=True,
        )
        assert "vòng lặp" in answer.content.decode(), url
    assert not CapFeed.objects.exists()
    # another province's platform publishes the same path: that one is welcome
    client.post(
        "/canh-bao/cai-dat/",
        {"step": "feed", "name": "Hà Nội", "url": "https://hanoi.example/feeds/cap.atom",
         "interval": "60"},
    )  # fmt: skip
    assert CapFeed.objects.count() == 1


@pytest.mark.django_db
def test_sender_rules_and_feeds_are_edited_disabled_and_deleted_by_administrators(client, users):
    client.force_login(users["admin"])
    client.post(
        "/canh-bao/cai-dat/",
        {"step": "sender", "sender": "kttv@example.vn", "name": "KTTV <tỉnh>", "repeat": "2",
         "live_severity": "Extreme", "live_urgency": "Immediate", "live_certainty": "Observed",
         "priority_severity": "Severe", "priority_urgency": "Expected",
         "priority_certainty": "Likely"},
    )  # fmt: skip
    client.post(
        "/canh-bao/cai-dat/",
        {"step": "feed", "name": "KTTV", "url": "https://example.org/cap.atom", "interval": "60",
         "enabled": "1"},
    )  # fmt: skip
    rule, feed = CapSender.objects.get(), CapFeed.objects.get()
    page = client.get("/canh-bao/cai-dat/").content.decode()
    assert "Xác nhận xoá" in page and "KTTV &lt;tỉnh&gt;" in page
    # "Sửa" fills the form with the row's values
    edit = client.get(f"/canh-bao/cai-dat/?sua-nguon={rule.pk}").content.decode()
    assert 'value="kttv@example.vn" readonly' in edit
    assert '<option value="Extreme" selected>Cực kỳ nghiêm trọng</option>' in edit
    edit = client.get(f"/canh-bao/cai-dat/?sua-luong={feed.pk}").content.decode()
    assert 'value="https://example.org/cap.atom" readonly' in edit and 'value="60"' in edit
    # disabling a feed: the same form without "Đang dùng"
    client.post(
        "/canh-bao/cai-dat/",
        {"step": "feed", "name": "KTTV", "url": "https://example.org/cap.atom", "interval": "90"},
    )
    feed.refresh_from_db()
    assert (feed.enabled, feed.interval_seconds) == (False, 90)
    # only a province administrator deletes
    client.force_login(users["operator"])
    assert "Xác nhận xoá" not in client.get("/canh-bao/cai-dat/").content.decode()
    client.post("/canh-bao/cai-dat/", {"step": "delete_sender", "id": str(rule.pk)})
    client.post("/canh-bao/cai-dat/", {"step": "delete_feed", "id": str(feed.pk)})
    assert CapSender.objects.count() == 1 and CapFeed.objects.count() == 1
    client.force_login(users["admin"])
    client.post("/canh-bao/cai-dat/", {"step": "delete_sender", "id": str(rule.pk)})
    done = client.post(
        "/canh-bao/cai-dat/", {"step": "delete_feed", "id": str(feed.pk)}, follow=True
    )
    assert "Đã xoá luồng cảnh báo." in done.content.decode()
    assert not CapSender.objects.exists() and not CapFeed.objects.exists()
    gone = client.post(
        "/canh-bao/cai-dat/", {"step": "delete_feed", "id": "99999999999999"}, follow=True
    )
    assert gone.status_code == 200
