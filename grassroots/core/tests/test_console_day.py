"""A day in the console, role by role, in a real browser, through the console alone: the
editor writes, previews and submits; the approver approves and publishes; the operator answers
a citizen and reviews an emergency before sending it; the province viewer opens the home page.
Each step asserts what the person sees and leaves a screenshot at desk (1366 x 900) and phone
(390 x 844) size under var/."""

import os
import re

import pytest

from grassroots.core.testing import COMMUNE_A

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = os.path.join(os.environ.get("GRASSROOTS_HOME", "var"), "screenshots", "console-day")
TITLE = "Thông báo lịch tiêm phòng dại đợt 2"
BODY = "UBND phường thông báo: từ 7h30 ngày 15/3 tiêm phòng dại tại nhà văn hoá khu phố."


def login(browser, base, username):
    context = browser.new_context(locale="vi-VN", viewport=DESK)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", "grassroots-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#current-user")
    return page


def shoot(page, name):
    """Screenshots at desk and phone size; the page must not be wider than a phone."""
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}-desk.png"), full_page=True)
    nav_height = page.evaluate("document.querySelector('nav.console-nav').offsetHeight")
    assert nav_height < 70, f"{name}: the navigation wraps onto two lines at 1366 px"
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    page.screenshot(path=os.path.join(SHOTS, f"{name}-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESK)
    assert width <= PHONE["width"], f"{name}: {width} px wide on a phone"


def open_nav(page, group, link):
    page.click(f"#nav-groups >> text={group}")
    page.click(f"#nav-groups .dropdown-menu.show >> text={link}")


def test_a_day_in_the_console(browser, live_demo):
    from playwright.sync_api import expect

    from grassroots.content.models import Bulletin
    from grassroots.feedback.tests.helpers import make_report

    base = live_demo.url
    report = make_report(COMMUNE_A, text="Đèn đường ngõ 7 bị hỏng hai tuần nay")

    # The provincial editor: home, then writes, previews, targets Phố Hiến and submits.
    editor = login(browser, base, "editor")
    expect(editor.locator("h1")).to_contain_text("Xin chào")
    expect(editor.locator("#work-queue")).to_contain_text("Bản tin bị trả lại")
    expect(editor.locator("#nav-emergency")).to_have_count(0)
    shoot(editor, "1-editor-home")
    open_nav(editor, "Nội dung", "Soạn bản tin")
    editor.fill("#id_title", TITLE)
    editor.fill("#id_body", BODY)
    editor.fill("#id_targets .unit-picker-search", "pho hien")
    rows = editor.locator("#id_targets .unit-picker-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Phường Phố Hiến")
    expect(rows.first).to_contain_text(COMMUNE_A)
    rows.first.locator("input").check()
    expect(editor.locator("#id_targets .unit-chip")).to_contain_text("Phường Phố Hiến")
    editor.click("#tts-preview")
    expect(editor.locator("#tts-reading")).to_contain_text("ủy ban nhân dân", ignore_case=True)
    shoot(editor, "2-editor-writes")
    editor.click("#save-bulletin")
    editor.wait_for_url(re.compile(r"/ban-tin/\d+/$"))
    expect(editor.locator(".alert-success")).to_contain_text("Đã lưu")
    editor.click("#do-submit")
    expect(editor.locator("#bulletin-status")).to_have_attribute("data-status", "submitted")
    expect(editor.locator("#bulletin-status")).to_have_text("Chờ duyệt")
    shoot(editor, "3-editor-submitted")
    bulletin = Bulletin.objects.get(title=TITLE)
    assert [u.code for u in bulletin.targets.all()] == [COMMUNE_A]

    # The approver: the home page counts it and links to it; approves and publishes.
    approver = login(browser, base, "approver")
    card = approver.locator("[data-work=approvals]")
    expect(card.locator(".work-count")).to_have_text("1")
    expect(approver.locator("#nav-groups")).to_contain_text("Nội dung 1")
    shoot(approver, "4-approver-home")
    card.locator(f"text={TITLE}").click()
    expect(approver.locator("ol.small")).to_contain_text("Tỉnh Hưng Yên")
    approver.click("#do-approve")
    expect(approver.locator("#bulletin-status")).to_have_attribute("data-status", "approved")
    approver.click("#do-publish")
    expect(approver.locator("#bulletin-status")).to_have_attribute("data-status", "published")
    shoot(approver, "5-approver-published")

    # The commune operator: the new bulletin waits in the inbox; answers a citizen.
    operator = login(browser, base, "operator")
    inbox = operator.locator("[data-work=inbox]")
    expect(inbox.locator(".work-count")).to_have_text("1")
    expect(inbox).to_contain_text(TITLE)
    expect(operator.locator("#nav-emergency")).to_be_visible()
    shoot(operator, "6-operator-home")
    open_nav(operator, "Phản ánh", "Phản ánh của người dân")
    operator.click(f"text={report.tracking_code}")
    operator.fill("#id_public_answer", "Đã thay bóng đèn ngõ 7 sáng nay. Cảm ơn bạn đã báo.")
    operator.click("#answer-button")
    expect(operator.locator(".alert-success")).to_contain_text("Đã gửi trả lời.")
    expect(operator.locator("#id_public_answer")).to_have_value("")
    expect(operator.locator("body")).to_contain_text("Đã thay bóng đèn ngõ 7 sáng nay.")
    shoot(operator, "7-operator-answered")
    # ...and prepares an emergency: nothing goes out before the review page is confirmed.
    operator.click("#nav-emergency")
    operator.fill("#e-title", "Cảnh báo triều cường")
    operator.fill("#e-text", "Nước sông lên nhanh, đề nghị bà con kê cao đồ đạc.")
    operator.fill("#e-units .unit-picker-search", "pho hien")
    operator.locator(f"#e-units [data-code='{COMMUNE_A}'] input").check()
    operator.click("#e-review")
    expect(operator.locator("#c-area")).to_contain_text("Phường Phố Hiến")
    expect(operator.locator("#c-devices")).to_contain_text("0")
    expect(operator.locator("#c-text")).to_contain_text("kê cao đồ đạc")
    operator.click("#c-preview")
    expect(operator.locator("#tts-reading")).to_contain_text("nước sông", ignore_case=True)
    shoot(operator, "8-operator-emergency-review")
    operator.click("#e-edit")
    expect(operator.locator("#e-title")).to_have_value("Cảnh báo triều cường")
    expect(operator.locator("#e-units .unit-chip")).to_contain_text("Phường Phố Hiến")

    # The province viewer: names, not codes; what can be opened, nothing that answers 403.
    viewer = login(browser, base, "viewer")
    expect(viewer.locator("#home-scope")).to_contain_text("Người xem")
    expect(viewer.locator("#home-scope")).to_contain_text("Tỉnh Hưng Yên")
    body = viewer.locator("body").inner_text()
    assert "accounts.view" not in body and "Đơn vị trong phạm vi" not in body
    expect(viewer.locator("#nav-emergency")).to_have_count(0)
    lang = viewer.locator(".lang-select")
    assert lang.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "language box is cut"
    shoot(viewer, "9-viewer-home")
    open_nav(viewer, "Giám sát", "Báo cáo phát bản tin")
    expect(viewer.locator("h1")).to_be_visible()
    assert viewer.url.endswith("/dai-truyen-thanh/bao-cao-phat/")
    shoot(viewer, "10-viewer-report")
