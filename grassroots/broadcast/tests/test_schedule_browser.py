"""The commune operator's and the province viewer's scheduling day in a real headless Chromium,
through the console alone: pick up a shared bulletin, place it on the station and on the boards,
set a weekday relay of the provincial radio; the viewer opens the must-air status.

Every step asserts what the person sees and is photographed at desk (1366×900) and phone
(390×844) size under var/screenshots/scheduling/; no page may be wider than a phone's screen.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from grassroots.core.testing import COMMUNE_A, COMMUNE_B

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots" / "scheduling"
DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TITLE = "Tỉnh: phòng chống rét cho gia súc"


def login(browser, base: str, username: str):
    context = browser.new_context(viewport=DESK, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", "grassroots-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#current-user")
    return page


def snap(page, name: str) -> None:
    """Photograph the page at desk and phone size; at phone size nothing may overflow."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-desk.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width}px wide on a phone"
    page.set_viewport_size(DESK)


def test_operator_schedules_and_viewer_checks_must_air(browser, live_server, settings):
    from playwright.sync_api import expect

    from grassroots.accounts.demo import load_demo
    from grassroots.broadcast.models import Proposal, ScheduleItem
    from grassroots.content.tests.conftest import make_bulletin
    from grassroots.signage.models import Playlist

    from .test_content_bridge import audio_for

    settings.GRASSROOTS = {**settings.GRASSROOTS, "DEMO_PASSWORD": "grassroots-demo"}
    load_demo()
    # The province has published a priority (must-air) bulletin to two communes; its voice is
    # ready. This is the approver's day (content tests); here it is the starting point.
    bulletin = make_bulletin(
        "33", status="published", title=TITLE, priority="priority", targets=[COMMUNE_A, COMMUNE_B]
    )
    audio_for(bulletin)
    base = live_server.url
    tomorrow = timezone.localdate() + timedelta(days=1)

    # 1. The operator of Phố Hiến picks the bulletin up in the inbox.
    op = login(browser, base, "operator")
    op.goto(f"{base}/ban-tin/hop-thu/")
    row = op.locator(".inbox-row", has_text=TITLE)
    expect(row).to_contain_text("bắt buộc phát")
    row.locator("button.pick-up").click()
    row = op.locator(".inbox-row", has_text=TITLE)
    expect(row).to_contain_text("đã nhận")
    expect(row.locator("a.to-station")).to_have_text("Phát trên loa…")
    expect(row.locator("a.to-boards")).to_have_text("Lên bảng tin…")
    snap(op, "01-inbox-picked-up")

    # 2. "Phát trên loa…" opens the must-air proposal's form, prefilled; she places it at 07:00.
    row.locator("a.to-station").click()
    op.wait_for_url(re.compile(r"/dai-truyen-thanh/\d+/de-xuat/\d+/$"))
    expect(op.locator("#proposal-info")).to_contain_text("bắt buộc phát")
    expect(op.locator("#title")).to_have_value(TITLE)
    expect(op.locator("#minutes")).to_have_value("1:35")
    snap(op, "02-place-form")
    op.fill("#day", tomorrow.isoformat())
    op.fill("#at", "07:00")
    op.fill("#rank", "1")
    op.click("#save-slot")
    op.wait_for_url(re.compile(r"/dai-truyen-thanh/\d+/\?ngay="))
    expect(op.locator(".alert-success")).to_contain_text(f"Đã xếp lịch '{TITLE}' lúc 07:00")
    expect(op.locator("#timeline")).to_contain_text(TITLE)
    expect(op.locator("#slots .slot-row", has_text=TITLE)).to_contain_text("thứ tự 1")
    expect(op.locator("#proposals")).to_contain_text("Không có đề xuất nào đang chờ.")
    snap(op, "03-station-day-placed")
    station_url = op.url.split("?")[0]

    # 3. "Lên bảng tin…" puts it into a new playlist of the commune's boards.
    op.goto(f"{base}/ban-tin/hop-thu/")
    op.locator(".inbox-row", has_text=TITLE).locator("a.to-boards").click()
    op.wait_for_url(re.compile(r"/chia-se/\d+/len-bang-tin/$"))
    expect(op.locator("h1")).to_have_text("Đưa bản tin lên bảng tin điện tử")
    op.check("#pl-new")
    op.fill("#new-name", "Tin của tỉnh")
    snap(op, "04-to-boards")
    op.click("#save-boards")
    op.wait_for_url(re.compile(r"/bang-tin-dien-tu/danh-sach/\d+/$"))
    expect(op.locator(".alert-success")).to_contain_text(f"Đã đưa '{TITLE}' lên bảng tin")
    snap(op, "05-playlist-saved")

    # 4. A weekday relay of the provincial radio at 06:00; first a typo in the frequency.
    op.goto(station_url)
    op.click("#add-relay")
    op.wait_for_url(re.compile(r"/lich/moi/\?loai=relay$"))
    expect(op.locator("#kind-relay")).to_be_checked()
    op.fill("#title", "Tiếp sóng Đài Phát thanh và Truyền hình Hưng Yên")
    op.fill("#relay_frequency", "1035")
    op.fill("#day", tomorrow.isoformat())
    op.fill("#at", "06:00")
    op.fill("#minutes", "30")
    op.select_option("#repeat", "weekdays")
    op.click("#save-slot")
    expect(op.locator("#slot-error")).to_contain_text("64 đến 108 MHz")
    expect(op.locator("#relay_frequency")).to_have_class(re.compile("is-invalid"))
    # Nothing typed is lost: she fixes only the frequency.
    expect(op.locator("#title")).to_have_value("Tiếp sóng Đài Phát thanh và Truyền hình Hưng Yên")
    expect(op.locator("#repeat")).to_have_value("weekdays")
    snap(op, "06-relay-refused")
    op.fill("#relay_frequency", "103,5")
    op.click("#save-slot")
    op.wait_for_url(re.compile(r"/dai-truyen-thanh/\d+/\?ngay="))
    relay = op.locator("#slots .slot-row", has_text="Tiếp sóng Đài Phát thanh")
    expect(relay).to_contain_text("Thứ Hai – thứ Sáu")
    expect(relay).to_contain_text("06:00")
    snap(op, "07-station-relay-set")

    # 5. The week shows the relay on weekdays and the bulletin, each with why it plays.
    op.click("#open-week")
    op.wait_for_url(re.compile(r"/tuan/"))
    week = op.locator("#week")
    expect(week).to_contain_text("Tiếp sóng Đài Phát thanh")
    expect(week.locator(f"[data-day='{tomorrow.isoformat()}']")).to_contain_text(TITLE)
    weekend = [
        (tomorrow + timedelta(days=n)).isoformat()
        for n in range(7)
        if (tomorrow + timedelta(days=n)).weekday() >= 5
    ]
    for day in weekend:
        expect(week.locator(f"[data-day='{day}']")).not_to_contain_text("Tiếp sóng")
    snap(op, "08-week")
    # One weekday's relay can be moved alone; the form says the others stay.
    week.locator("a.move-once").first.click()
    op.wait_for_url(re.compile(r"/doi-lan-nay/\?ngay="))
    expect(op.locator("main")).to_contain_text("Các lần phát khác giữ nguyên.")
    snap(op, "08b-move-once")

    # 6. The usage policy editor (she looks; the province's rules apply).
    op.goto(station_url + "quy-dinh/")
    expect(op.locator("h1")).to_contain_text("Quy định sử dụng loa")
    snap(op, "09-policy")

    # 7. The province offers its evening news relay to every commune (optional: normal).
    admin = login(browser, base, "admin")
    admin.goto(f"{base}/dai-truyen-thanh/")
    admin.click("#propose")
    admin.wait_for_url(re.compile(r"/de-xuat-moi/$"))
    expect(admin.locator("#all_targets")).to_be_checked()
    admin.check("#kind-relay")
    admin.fill("#title", "Thời sự tối Đài tỉnh")
    admin.fill("#relay_frequency", "103,5")
    admin.fill("#at", "18:00")
    admin.fill("#minutes", "30")
    admin.select_option("#repeat", "daily")
    snap(admin, "10-province-proposes")
    admin.click("#save-slot")
    admin.wait_for_url(re.compile(r"/dai-truyen-thanh/$"))
    expect(admin.locator(".alert-success")).to_contain_text("Đã gửi 'Thời sự tối Đài tỉnh' tới")
    op.goto(station_url)
    expect(op.locator("#proposals")).to_contain_text("Thời sự tối Đài tỉnh")
    expect(op.locator("#proposals .decline-proposal")).to_be_visible()

    # 8. The province viewer sees which communes placed the must-air bulletin.
    viewer = login(browser, base, "viewer")
    viewer.goto(f"{base}/dai-truyen-thanh/")
    viewer.click("#open-must-air")
    viewer.wait_for_url(re.compile(r"/bat-buoc-phat/"))
    expect(viewer.locator("#must-air-title")).to_have_text(TITLE)
    expect(viewer.locator("#must-air-summary")).to_contain_text("1 xã chưa xếp lịch")
    table = viewer.locator("#must-air-table")
    expect(table.locator("tr[data-status='placed']")).to_contain_text("Phố Hiến")
    expect(table.locator("tr[data-status='pending']")).to_contain_text("Tân Hưng")
    snap(viewer, "11-must-air-status")

    # What the console did is what the database holds (no API was called).
    placed = Proposal.objects.get(item__revision__bulletin=bulletin, station__unit__code=COMMUNE_A)
    assert placed.status == "placed" and placed.decided_by.username == "operator"
    relay_item = ScheduleItem.objects.get(kind="relay", unit__code=COMMUNE_A)
    assert relay_item.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert str(relay_item.relay_frequency) == "103.50"
    playlist = Playlist.objects.get(unit__code=COMMUNE_A, name="Tin của tỉnh")
    assert list(playlist.items.values_list("bulletin_id", flat=True)) == [bulletin.pk]
