"""A day in the console, role by role, in one real browser, through the console alone (no API
call): the editor writes, previews and submits; the approver approves and publishes after the
confirmation; the commune operator picks the bulletin up, places it on the station and on the
boards, sets a weekday relay of the provincial radio and answers a citizen (and reviews an
emergency without sending it); the province viewer opens the home page and the must-air status.

Each step asserts what the person sees and leaves a screenshot at desk (1366 x 900) and phone
(390 x 844) size under var/screenshots/console-day/; no page may be wider than a phone.
"""

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from grassroots.core.testing import COMMUNE_A

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = os.path.join(os.environ.get("GRASSROOTS_HOME", "var"), "screenshots", "console-day")
TITLE = "Thông báo lịch tiêm phòng dại đợt 2"
BODY = "UBND phường thông báo: từ 7h30 ngày 15/3 tiêm phòng dại tại nhà văn hoá khu phố."
RELAY = "Tiếp sóng Đài Phát thanh và Truyền hình Hưng Yên"


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
    """Screenshots at desk and phone size; the page must not be wider than a phone, and the
    navigation must fit on one line at desk size."""
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}-desk.png"), full_page=True)
    nav_height = page.evaluate("document.querySelector('nav.console-nav').offsetHeight")
    assert nav_height < 70, f"{name}: the navigation wraps onto two lines at 1366 px"
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(100)
    page.screenshot(path=os.path.join(SHOTS, f"{name}-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESK)
    assert width <= PHONE["width"], f"{name}: {width} px wide on a phone"


def open_nav(page, group, link):
    page.click(f"#nav-groups >> text={group}")
    page.click(f"#nav-groups .dropdown-menu.show >> text={link}")


def test_a_day_in_the_console(browser, live_demo):
    from playwright.sync_api import expect

    from grassroots.broadcast.models import Proposal, ScheduleItem
    from grassroots.broadcast.tests.test_content_bridge import audio_for
    from grassroots.content.models import Bulletin
    from grassroots.feedback.tests.helpers import make_report
    from grassroots.signage.models import Playlist

    expect.set_options(timeout=15_000)  # two cores shared with other jobs in CI
    base = live_demo.url
    report = make_report(COMMUNE_A, text="Đèn đường ngõ 7 bị hỏng hai tuần nay")
    tomorrow = timezone.localdate() + timedelta(days=1)

    # The provincial editor: home, then writes a priority bulletin for Phố Hiến, previews the
    # reading, and submits it.
    editor = login(browser, base, "editor")
    expect(editor.locator("h1")).to_contain_text("Xin chào")
    expect(editor.locator("#work-queue")).to_contain_text("Bản tin bị trả lại")
    expect(editor.locator("#nav-emergency")).to_have_count(0)
    shoot(editor, "01-editor-home")
    open_nav(editor, "Nội dung", "Soạn bản tin")
    editor.fill("#id_title", TITLE)
    editor.fill("#id_body", BODY)
    editor.select_option("#id_priority", "priority")
    editor.fill("#id_targets .unit-picker-search", "pho hien")
    rows = editor.locator("#id_targets .unit-picker-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Phường Phố Hiến")
    expect(rows.first).to_contain_text(COMMUNE_A)
    rows.first.locator("input").check()
    expect(editor.locator("#id_targets .unit-chip")).to_contain_text("Phường Phố Hiến")
    editor.click("#tts-preview")
    expect(editor.locator("#tts-reading")).to_contain_text("ủy ban nhân dân", ignore_case=True)
    shoot(editor, "02-editor-writes")
    editor.click("#save-bulletin")
    editor.wait_for_url(re.compile(r"/ban-tin/\d+/$"))
    expect(editor.locator(".alert-success")).to_contain_text("Đã lưu")
    editor.click("#do-submit")
    expect(editor.locator("#bulletin-status")).to_have_attribute("data-status", "submitted")
    expect(editor.locator("#bulletin-status")).to_have_text("Chờ duyệt")
    expect(editor.locator("#transitions")).to_contain_text("Biên tập viên Sở VHTTDL")
    shoot(editor, "03-editor-submitted")
    bulletin = Bulletin.objects.get(title=TITLE)
    assert [u.code for u in bulletin.targets.all()] == [COMMUNE_A]

    # The approver: the home page counts it and links to it; approves, then publishes after a
    # confirmation that names who receives it; the published bulletin can still be read aloud.
    approver = login(browser, base, "approver")
    card = approver.locator("[data-work=approvals]")
    expect(card.locator(".work-count")).to_have_text("1")
    expect(approver.locator("#nav-groups")).to_contain_text("Nội dung 1")
    shoot(approver, "04-approver-home")
    card.locator(f"text={TITLE}").click()
    expect(approver.locator("ol.small")).to_contain_text("Tỉnh Hưng Yên")
    approver.click("#do-approve")
    expect(approver.locator("#bulletin-status")).to_have_attribute("data-status", "approved")
    approver.click("#do-publish")
    confirm = approver.locator("#publish-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.locator("#publish-recipients")).to_have_text("Phường Phố Hiến")
    expect(confirm.locator("#publish-must-air")).to_contain_text("phải xếp lịch phát")
    expect(approver.locator("#bulletin-status")).to_have_attribute("data-status", "approved")
    shoot(approver, "05-approver-confirms-publish")
    confirm.locator("#confirm-publish").click()
    expect(approver.locator("#bulletin-status")).to_have_attribute("data-status", "published")
    approver.click("#tts-preview")
    expect(approver.locator("#tts-reading")).to_contain_text("ủy ban nhân dân", ignore_case=True)
    body = approver.locator("main").inner_text()
    assert "SHA-256" not in body and "approver" not in body
    shoot(approver, "06-approver-published")
    audio_for(bulletin)  # the worker voices the approved revision (not part of the console)

    # The commune operator: the bulletin waits in the inbox; picks it up.
    operator = login(browser, base, "operator")
    inbox = operator.locator("[data-work=inbox]")
    expect(inbox.locator(".work-count")).to_have_text("1")
    expect(inbox).to_contain_text(TITLE)
    expect(operator.locator("#nav-emergency")).to_be_visible()
    shoot(operator, "07-operator-home")
    open_nav(operator, "Nội dung", "Hộp thư bản tin")
    row = operator.locator(".inbox-row", has_text=TITLE)
    expect(row).to_contain_text("bắt buộc phát")
    row.locator("button.pick-up").click()
    row = operator.locator(".inbox-row", has_text=TITLE)
    expect(row).to_contain_text("đã nhận")
    expect(row.locator("a.to-station")).to_have_text("Phát trên loa…")
    shoot(operator, "08-operator-picked-up")

    # "Phát trên loa…" opens the must-air proposal, prefilled; she places it at 07:00.
    row.locator("a.to-station").click()
    operator.wait_for_url(re.compile(r"/dai-truyen-thanh/\d+/de-xuat/\d+/$"))
    expect(operator.locator("#proposal-info")).to_contain_text("bắt buộc phát")
    expect(operator.locator("#title")).to_have_value(TITLE)
    expect(operator.locator("#minutes")).to_have_value("1 phút 35 giây")
    operator.fill("#day", tomorrow.isoformat())
    operator.fill("#at", "07:00")
    operator.fill("#rank", "1")
    shoot(operator, "09-operator-place-form")
    operator.click("#save-slot")
    operator.wait_for_url(re.compile(r"/dai-truyen-thanh/\d+/\?ngay="))
    expect(operator.locator(".alert-success")).to_contain_text(f"Đã xếp lịch '{TITLE}' lúc 07:00")
    placed = operator.locator("#timeline tr", has_text=TITLE)
    expect(placed).to_contain_text("07:00")
    expect(placed).to_contain_text("07:01:35")
    expect(operator.locator("#slots .slot-row", has_text=TITLE)).to_contain_text("thứ tự 1")
    expect(operator.locator("#proposals")).to_contain_text("Không có đề xuất nào đang chờ.")
    shoot(operator, "10-operator-station-day")
    station_url = operator.url.split("?")[0]

    # Back in the inbox the bulletin says where it plays; "Lên bảng tin…" puts it on the boards.
    open_nav(operator, "Nội dung", "Hộp thư bản tin")
    row = operator.locator(".inbox-row", has_text=TITLE)
    expect(row.locator(".placed-on-station")).to_contain_text(f"{tomorrow:%d/%m/%Y} 07:00")
    expect(row.locator("a.to-station")).to_have_count(0)
    expect(row.locator("a.to-station-again")).to_have_text("Phát thêm một lần…")
    row.locator("a.to-boards").click()
    operator.wait_for_url(re.compile(r"/chia-se/\d+/len-bang-tin/$"))
    expect(operator.locator("h1")).to_have_text("Đưa bản tin lên bảng tin điện tử")
    operator.check("#pl-new")
    operator.fill("#new-name", "Tin của tỉnh")
    shoot(operator, "11-operator-to-boards")
    operator.click("#save-boards")
    operator.wait_for_url(re.compile(r"/bang-tin-dien-tu/danh-sach/\d+/$"))
    expect(operator.locator(".alert-success")).to_contain_text(f"Đã đưa '{TITLE}' lên bảng tin")
    operator.goto(f"{base}/ban-tin/hop-thu/")
    row = operator.locator(".inbox-row", has_text=TITLE)
    expect(row.locator(".placed-on-boards")).to_contain_text("Tin của tỉnh")
    shoot(operator, "12-operator-inbox-placed")

    # A weekday relay of the provincial radio at 06:00: a typo in the frequency first, refused
    # in Vietnamese with nothing typed lost.
    operator.goto(station_url)
    operator.click("#add-relay")
    operator.wait_for_url(re.compile(r"/lich/moi/\?loai=relay$"))
    expect(operator.locator("#kind-relay")).to_be_checked()
    operator.fill("#title", RELAY)
    operator.fill("#relay_frequency", "1035")
    operator.fill("#day", tomorrow.isoformat())
    operator.fill("#at", "06:00")
    expect(operator.locator("#minutes")).to_have_value("30 phút")
    operator.select_option("#repeat", "weekdays")
    operator.click("#save-slot")
    expect(operator.locator("#slot-error")).to_contain_text("64 đến 108 MHz")
    expect(operator.locator("#relay_frequency")).to_have_class(re.compile("is-invalid"))
    expect(operator.locator("#title")).to_have_value(RELAY)
    expect(operator.locator("#repeat")).to_have_value("weekdays")
    shoot(operator, "13-operator-relay-refused")
    operator.fill("#relay_frequency", "103,5")
    operator.click("#save-slot")
    operator.wait_for_url(re.compile(r"/dai-truyen-thanh/\d+/\?ngay="))
    relay = operator.locator("#slots .slot-row", has_text=RELAY)
    expect(relay).to_contain_text("Thứ Hai – thứ Sáu lúc 06:00")
    expect(relay).to_contain_text("30 phút")
    expect(relay).not_to_contain_text("FREQ")
    shoot(operator, "14-operator-relay-set")
    # The week shows the relay on weekdays only, and the bulletin.
    operator.click("#open-week")
    operator.wait_for_url(re.compile(r"/tuan/"))
    week = operator.locator("#week")
    expect(week.locator(f"[data-day='{tomorrow.isoformat()}']")).to_contain_text(TITLE)
    for n in range(7):
        day = tomorrow + timedelta(days=n)
        cell = week.locator(f"[data-day='{day.isoformat()}']")
        if day.weekday() >= 5:
            expect(cell).not_to_contain_text("Tiếp sóng")
        elif cell.count():
            expect(cell).to_contain_text("06:00–06:30")
    shoot(operator, "15-operator-week")

    # She answers a citizen: the form empties, the answer shows.
    open_nav(operator, "Phản ánh", "Phản ánh của người dân")
    operator.click(f"text={report.tracking_code}")
    operator.fill("#id_public_answer", "Đã thay bóng đèn ngõ 7 sáng nay. Cảm ơn bạn đã báo.")
    operator.click("#answer-button")
    expect(operator.locator(".alert-success")).to_contain_text("Đã gửi trả lời.")
    expect(operator.locator("#id_public_answer")).to_have_value("")
    expect(operator.locator("body")).to_contain_text("Đã thay bóng đèn ngõ 7 sáng nay.")
    shoot(operator, "16-operator-answered")
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
    shoot(operator, "17-operator-emergency-review")
    operator.click("#e-edit")
    expect(operator.locator("#e-title")).to_have_value("Cảnh báo triều cường")

    # The province viewer: names, not codes; the must-air status shows Phố Hiến placed it.
    viewer = login(browser, base, "viewer")
    expect(viewer.locator("#home-scope")).to_contain_text("Người xem")
    expect(viewer.locator("#home-scope")).to_contain_text("Tỉnh Hưng Yên")
    body = viewer.locator("body").inner_text()
    assert "accounts.view" not in body and "Đơn vị trong phạm vi" not in body
    expect(viewer.locator("#nav-emergency")).to_have_count(0)
    lang = viewer.locator(".lang-select")
    assert lang.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "language box is cut"
    shoot(viewer, "18-viewer-home")
    open_nav(viewer, "Phát thanh", "Đài truyền thanh")
    viewer.click("#open-must-air")
    viewer.wait_for_url(re.compile(r"/bat-buoc-phat/"))
    expect(viewer.locator("#must-air-title")).to_have_text(TITLE)
    placed_row = viewer.locator("#must-air-table tr[data-status='placed']")
    expect(placed_row).to_contain_text("Phố Hiến")
    expect(placed_row).to_contain_text(f"{tomorrow:%d/%m/%Y} 07:00")
    shoot(viewer, "19-viewer-must-air")

    # What the console did is what the database holds (no API was called).
    proposal = Proposal.objects.get(
        item__revision__bulletin=bulletin, station__unit__code=COMMUNE_A
    )
    assert proposal.status == "placed" and proposal.decided_by.username == "operator"
    relay_item = ScheduleItem.objects.get(kind="relay", unit__code=COMMUNE_A)
    assert relay_item.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert relay_item.duration_seconds == 1800 and str(relay_item.relay_frequency) == "103.50"
    playlist = Playlist.objects.get(unit__code=COMMUNE_A, name="Tin của tỉnh")
    assert list(playlist.items.values_list("bulletin_id", flat=True)) == [bulletin.pk]
