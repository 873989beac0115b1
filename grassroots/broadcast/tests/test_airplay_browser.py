"""The airplay report on a phone (390×844) in a real headless Chromium: a bulletin with a long
title scheduled in several communes; the picker and the table stay inside the screen (the
table scrolls in its own box). Screenshots in $GRASSROOTS_HOME/screenshots/airplay/."""

import os
from datetime import timedelta

import pytest

from grassroots.core.testing import COMMUNE_A, COMMUNE_B

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 390, "height": 844}
SHOTS = os.path.join(os.environ.get("GRASSROOTS_HOME", "var"), "screenshots", "airplay")
TITLE = (
    "Thông báo của Ủy ban nhân dân tỉnh về việc triển khai kế hoạch phòng, chống thiên tai và "
    "tìm kiếm cứu nạn mùa mưa bão năm 2026 trên địa bàn toàn tỉnh Hưng Yên"
)


def test_airplay_report_fits_a_phone(browser, live_demo):
    from django.utils import timezone
    from playwright.sync_api import expect

    from grassroots.broadcast.actions import ensure_station
    from grassroots.broadcast.models import ScheduleItem
    from grassroots.content.tests.conftest import make_bulletin
    from grassroots.core.testing import unit

    bulletin = make_bulletin("33", status="published", title=TITLE)
    for n, code in enumerate((COMMUNE_A, COMMUNE_B, "11980")):
        commune = unit(code)
        item = ScheduleItem.objects.create(
            unit=commune,
            title=TITLE,
            priority="normal",
            kind="bulletin",
            revision=bulletin.approved_revision,
            starts_at=timezone.now() + timedelta(hours=n + 1),
            duration_seconds=95,
        )
        item.stations.add(ensure_station(commune))

    base = live_demo.url
    context = browser.new_context(locale="vi-VN", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", "viewer")
    page.fill("#id_password", "grassroots-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/dai-truyen-thanh/bao-cao-phat/")
    page.select_option("select[name=ban_tin]", str(bulletin.pk))
    page.click("form button.btn-primary")
    expect(page.locator("#airplay-table tbody tr")).to_have_count(3)
    expect(page.locator("#airplay-summary")).to_contain_text("0 / 3 xã đã phát")
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, "report-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("#airplay-table").evaluate(
        "t => [t.parentElement.clientWidth, t.parentElement.scrollWidth]"
    )
    assert box[0] <= PHONE["width"] and box[1] > box[0]  # the table scrolls inside its box
    context.close()
