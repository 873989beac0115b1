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
