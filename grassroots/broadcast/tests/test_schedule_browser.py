"""Scheduling pages beyond the day walk (grassroots/core/tests/test_console_day.py, which picks
up, places, puts on boards and sets a weekday relay): moving one play of a series from the week,
the usage policy page, and the province proposing a relay to every commune, in a real headless
Chromium through the console alone.

Every step asserts what the person sees and is photographed at desk (1366×900) and phone
(390×844) size under var/screenshots/scheduling/; no page may be wider than a phone's screen.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from grassroots.core.testing import COMMUNE_A

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots" / "scheduling"
DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


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


def test_move_once_policy_and_province_proposal(browser, live_server, settings):
    from playwright.sync_api import expect

    from grassroots.accounts.demo import load_demo
    from grassroots.accounts.models import User
    from grassroots.broadcast import actions
    from grassroots.broadcast.engine import TZ
    from grassroots.core.testing import unit

    settings.GRASSROOTS = {**settings.GRASSROOTS, "DEMO_PASSWORD": "grassroots-demo"}
    load_demo()
    base = live_server.url
    tomorrow = timezone.localdate() + timedelta(days=1)
    # A weekday relay (the day walk sets one through the console; here it is the start).
    commune = unit(COMMUNE_A)
    station = actions.ensure_station(commune)
    actions.create_item(
        user=User.objects.get(username="operator"),
        unit=commune,
        data=actions.ItemData(
            title="Tiếp sóng Đài tỉnh",
            priority="normal",
            kind="relay",
            starts_at=timezone.datetime.combine(tomorrow, timezone.datetime.min.time(), TZ)
            + timedelta(hours=6),
            duration_seconds=1800,
            rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            relay_type="fm",
            relay_frequency=Decimal("103.5"),
        ),
    )
    station_url = f"{base}/dai-truyen-thanh/{station.pk}/"

    # 1. One weekday's relay is moved alone from the week; the form says the others stay.
    op = login(browser, base, "operator")
    op.goto(f"{station_url}tuan/?tu={tomorrow.isoformat()}")
    week = op.locator("#week")
    expect(week).to_contain_text("Tiếp sóng Đài tỉnh")
    week.locator("a.move-once").first.click()
    op.wait_for_url(re.compile(r"/doi-lan-nay/\?ngay="))
    expect(op.locator("main")).to_contain_text("Các lần phát khác giữ nguyên.")
    expect(op.locator("#minutes")).to_have_value("30 phút")
    snap(op, "01-move-once")

    # 2. The usage policy editor (she looks; the province's rules apply).
    op.goto(station_url + "quy-dinh/")
    expect(op.locator("h1")).to_contain_text("Quy định sử dụng loa")
    snap(op, "02-policy")

    # 3. The province offers its evening news relay to every commune (optional: normal).
    admin = login(browser, base, "admin")
    admin.goto(f"{base}/dai-truyen-thanh/")
    admin.click("#propose")
    admin.wait_for_url(re.compile(r"/de-xuat-moi/$"))
    expect(admin.locator("#all_targets")).to_be_checked()
    admin.check("#kind-relay")
    admin.fill("#title", "Thời sự tối Đài tỉnh")
    admin.fill("#relay_frequency", "103,5")
    admin.fill("#at", "18:00")
    admin.fill("#minutes", "30 phút")
    admin.select_option("#repeat", "daily")
    snap(admin, "03-province-proposes")
    admin.click("#save-slot")
    admin.wait_for_url(re.compile(r"/dai-truyen-thanh/$"))
    expect(admin.locator(".alert-success")).to_contain_text("Đã gửi 'Thời sự tối Đài tỉnh' tới")
    op.goto(station_url)
    proposal = op.locator("#proposals li", has_text="Thời sự tối Đài tỉnh")
    expect(proposal.locator(".decline-proposal")).to_be_visible()
    snap(op, "04-proposal-waits")
