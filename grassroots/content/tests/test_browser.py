"""One real-browser run of the editorial flow: write → TTS preview → submit → approve → inbox."""

import os
import re

import pytest

from grassroots.core.testing import COMMUNE_A

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

TITLE = "Thông báo tiêm phòng dại cho chó mèo"
BODY = "UBND xã thông báo: từ 7h30 ngày 15/3 tiêm phòng dại tại nhà văn hoá thôn."


def login(browser, base: str, username: str):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", "grassroots-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#current-user")
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_write_preview_submit_approve_inbox(browser, live_server, settings):
    from playwright.sync_api import expect

    from grassroots.accounts.demo import load_demo
    from grassroots.content.models import Bulletin, BulletinShare

    settings.GRASSROOTS = {**settings.GRASSROOTS, "DEMO_PASSWORD": "grassroots-demo"}
    load_demo()
    base = live_server.url
    # The provincial editor writes a bulletin for Phố Hiến and previews its reading.
    editor = login(browser, base, "editor")
    editor.goto(f"{base}/ban-tin/moi/")
    editor.fill("#id_title", TITLE)
    editor.fill("#id_body", BODY)
    editor.select_option("#id_priority", "priority")
    editor.fill("#id_targets .unit-picker-search", "pho hien")
    editor.check(f"#id_targets [data-code='{COMMUNE_A}'] input")
    editor.click("#tts-preview")
    reading = editor.locator("#tts-reading")
    expect(reading).to_contain_text("ủy ban nhân dân", ignore_case=True)
    assert "7h30" not in reading.inner_text()
    editor.click("#save-bulletin")
    editor.wait_for_url(re.compile(r"/ban-tin/\d+/$"))
    editor.click("#do-submit")
    expect(editor.locator("#bulletin-status")).to_have_attribute("data-status", "submitted")
    bulletin = Bulletin.objects.get(title=TITLE)

    # The provincial approver finds it in the queue, approves and publishes it.
    approver = login(browser, base, "approver")
    approver.goto(f"{base}/ban-tin/cho-duyet/")
    approver.click(f"#approval-queue >> text={TITLE}")
    approver.click("#do-approve")
    expect(approver.locator("#bulletin-status")).to_have_attribute("data-status", "approved")
    approver.click("#do-publish")
    expect(approver.locator("#publish-recipients")).to_contain_text("Phường Phố Hiến")
    approver.click("#confirm-publish")
    expect(approver.locator("#bulletin-status")).to_have_attribute("data-status", "published")

    # The commune operator sees it in the inbox, marked must-air, and takes it up.
    operator = login(browser, base, "operator")
    operator.goto(f"{base}/ban-tin/hop-thu/")
    row = operator.locator(".inbox-row", has_text=TITLE)
    expect(row).to_contain_text("bắt buộc phát")
    row.locator("button.pick-up").click()
    expect(operator.locator(".inbox-row", has_text=TITLE)).to_contain_text("đã nhận")
    bulletin.refresh_from_db()
    assert bulletin.status == "published" and bulletin.approved_revision.signature
    share = BulletinShare.objects.get(bulletin=bulletin)
    assert (
        share.unit.code == COMMUNE_A
        and share.must_air
        and share.picked_up_by.username == "operator"
    )
