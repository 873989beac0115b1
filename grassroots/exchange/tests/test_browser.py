"""Real Chromium: a province administrator opens the exchange pages from the menu, sees the
peer and its key, a failed message with its error, retries it; a refused message is listed.
Screenshots at desk and phone size go to var/screenshots/exchange/."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402

from grassroots.core.testing.browser import login, open_nav, shoot  # noqa: E402


@pytest.mark.browser
def test_admin_sees_peers_and_retries_a_failed_message(browser, live_demo):
    from grassroots.exchange import outbound
    from grassroots.exchange.choices import DeliveryStatus, Kind, Refusal, Via
    from grassroots.exchange.models import OutboundMessage, RefusedMessage

    from .helpers import Remote, bulletin_body

    peer = Remote().declare(name="Hệ thống thông tin nguồn trung ương <script>")
    [row] = outbound.emit(
        peers=[peer],
        kind=Kind.BULLETIN,
        message_id="province-33:bulletin:1",
        body=bulletin_body(),
        title="Thông báo lịch tiêm chủng mở rộng tháng 12 cho trẻ em dưới 5 tuổi",
    )
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.FAILED,
        attempts=12,
        last_error="HTTP 503: Hệ thống trung ương đang bảo trì, hãy thử lại sau.",
    )
    RefusedMessage.objects.create(
        source="province-99",
        message_id="x:1",
        version=3,
        kind="bulletin",
        reason=Refusal.UNKNOWN_PEER,
        detail="Hệ thống 'province-99' chưa được khai báo (hoặc đã ngừng liên thông).",
        via=Via.PUSH,
    )
    page = login(browser, live_demo.url, "admin")
    open_nav(page, "Quản trị", "Hệ thống liên thông")
    page.wait_for_selector("#peer-list [data-peer=central]")
    assert "<script>" in page.inner_text("#peer-list")  # shown as text, not run
    assert "province-99" in page.inner_text("#refused-list")
    assert "Thu hồi bản tin" in page.inner_text("#peer-list")  # kinds in Vietnamese
    shoot(page, "exchange", "peers")
    open_nav(page, "Quản trị", "Thông điệp liên thông")
    page.select_option("#ex-status", "failed")
    page.wait_for_selector("#outbound-list [data-status=failed]")
    assert "đang bảo trì" in page.inner_text("#outbound-list")
    shoot(page, "exchange", "messages-failed")
    page.click("#outbound-list [data-status=failed] button")
    page.wait_for_selector(".alert-success, .alert")
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    page.wait_for_selector("#outbound-list [data-status=pending]")
    shoot(page, "exchange", "messages-retried")
    open_nav(page, "Quản trị", "Gửi xuống, số liệu toàn quốc")
    page.wait_for_selector("#national-table")
    shoot(page, "exchange", "national")
    open_nav(page, "Quản trị", "Hệ thống liên thông")
    page.click("#peer-list details summary")
    page.wait_for_selector(".peer-settings input[name=url]")
    shoot(page, "exchange", "peer-settings")


@pytest.mark.browser
def test_central_officer_follows_a_bulletin_province_by_province(browser, live_demo):
    """The national page lists the bulletin sent down with how many provinces received,
    placed and aired it, and the month's indicators per province and for the country; the
    bulletin's page shows each province's state. Statistics come through the real inbox."""
    import json
    import urllib.request

    from django.utils import timezone

    from grassroots.accounts.models import User
    from grassroots.content.tests.conftest import make_bulletin
    from grassroots.exchange import actions
    from grassroots.exchange.choices import Kind

    from .helpers import Remote

    hy = Remote(code="province-33")
    hy_peer = hy.declare(
        kinds_in=[Kind.STATISTICS], kinds_out=[Kind.BULLETIN], name="Tỉnh Hưng Yên"
    )
    other_peer = Remote(code="province-y").declare(
        unit_code="11977", kinds_out=[Kind.BULLETIN], name="Tỉnh <i>thử</i>"
    )
    bulletin = make_bulletin("33", status="published", title="Thông báo lịch nghỉ Tết Nguyên đán")
    admin = User.objects.get(username="admin")
    rows = actions.send_bulletin(user=admin, bulletin=bulletin, peers=[hy_peer, other_peer]).queued
    message_id = rows[0].message_id
    month = timezone.localdate().strftime("%Y-%m")
    body = {
        "province": "33", "month": month, "feedback_received": 4, "feedback_handled": 3,
        "units": [{"unit": "11953", "name": "Phường Phố Hiến",
                   "counters": {"plays": 6, "plays_scheduled": 4, "plays_on_time": 3,
                                "essential_due": 2, "essential_aired": 2}}],
        "aired": [{"ref": message_id, "approved": True, "communes": 104, "placed": 3,
                   "aired_communes": 2, "plays": 6}],
    }  # fmt: skip
    request = urllib.request.Request(
        f"{live_demo.url}/api/v1/exchange/inbox",
        data=json.dumps(hy.seal(Kind.STATISTICS, body, message_id="s")).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 202

    page = login(browser, live_demo.url, "admin")
    open_nav(page, "Quản trị", "Gửi xuống, số liệu toàn quốc")
    sent = page.locator(f"#sent-table tr[data-message='{message_id}']")
    counts = [
        sent.locator(f"[data-count={c}]").inner_text() for c in ("received", "placed", "aired")
    ]
    assert counts == ["1", "1", "1"]
    reach = page.locator("#national-indicators [data-indicator=essential_reach] td")
    assert reach.last.inner_text() == "100"  # the country: 2 of 2
    assert "Tỉnh Hưng Yên" in page.inner_text("#national-table")
    shoot(page, "exchange", "national-sent")
    sent.locator("a").click()
    page.wait_for_selector("#receiver-list")
    hy_row = page.locator("#receiver-list tr[data-peer=province-33]")
    assert hy_row.get_attribute("data-state") == "aired"
    other = page.locator("#receiver-list tr[data-peer=province-y]")
    assert other.get_attribute("data-state") == "pending"
    assert "<i>thử</i>" in other.inner_text()  # shown as text
    assert "Gửi tới 2 tỉnh: 1 đã nhận, 1 đã xếp lịch phát, 1 đã phát." in page.inner_text(
        "#sent-summary"
    )
    shoot(page, "exchange", "sent-bulletin")


@pytest.mark.browser
def test_province_approver_sees_central_text_without_tags_and_the_change(browser, live_demo):
    """The centre's real body (its bulletin's sanitised HTML turned into the protocol's plain
    text) through the province's real inbox: the province's editor shows the words, no tags.
    Published at the province, a changed version waits for the approver, who sees the change
    and takes it; the communes keep the bulletin until then."""
    import json
    import urllib.request

    from grassroots.accounts.models import User
    from grassroots.content import actions as content
    from grassroots.content.models import Bulletin
    from grassroots.content.tests.conftest import make_bulletin
    from grassroots.core.testing import COMMUNE_A
    from grassroots.exchange import actions

    from .helpers import Remote

    def deliver(envelope):
        request = urllib.request.Request(
            f"{live_demo.url}/api/v1/exchange/inbox",
            data=json.dumps(envelope).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            assert response.status == 202

    centre = make_bulletin(
        "33",
        status="approved",
        title="Hướng dẫn phòng chống rét đậm",
        body="<p>Giữ ấm cho người già &amp; trẻ nhỏ.</p><p>Không đốt than<br>trong phòng kín.</p>",
        targets=[COMMUNE_A],
    )
    body = actions.bulletin_body(centre, targets=[COMMUNE_A])
    central = Remote()
    central.declare()
    deliver(central.seal("bulletin", body, message_id="central:bulletin:9"))
    received = Bulletin.objects.exclude(pk=centre.pk).get(title=centre.title)

    page = login(browser, live_demo.url, "approver")
    page.goto(f"{live_demo.url}/ban-tin/{received.pk}/")
    text = page.input_value("#id_body")
    assert text == "Giữ ấm cho người già & trẻ nhỏ.\n\nKhông đốt than\ntrong phòng kín."
    assert "<p>" not in text and "<br>" not in text
    shoot(page, "exchange", "received-bulletin-editor")

    approver = User.objects.get(username="approver")
    received = content.approve(bulletin=received, user=approver)
    content.publish(bulletin=received, user=approver)
    body["title"] = "Hướng dẫn phòng chống rét đậm (bổ sung)"
    body["text"] = "Giữ ấm cho người già & trẻ nhỏ.\n\nKhông đốt than trong phòng kín.\n\nGọi 115."
    deliver(central.seal("bulletin", body, message_id="central:bulletin:9", version=2))

    page.goto(f"{live_demo.url}/ban-tin/cho-duyet/")
    page.click("#central-updates a")
    page.wait_for_selector("#update-summary")
    assert "+ Gọi 115." in page.inner_text("[data-change=text]")
    shoot(page, "exchange", "central-update")
    page.click("#update-form button[value=accept]")
    page.wait_for_selector("#bulletin-status[data-status=published]")
    assert page.input_value("#id_title") == body["title"]
    assert page.query_selector("#central-update") is None
