"""Phát trực tiếp with another source, in a real Chromium: a relay needs no microphone, so it can
be started even where the browser hides it (plain HTTP); the officer picks the FM receivers of a
commune, a frequency and starts now; the session is on air at once, listed with its source, and
stopped from the "Đang phát" panel. The relay sources of the province are offered."""

import os

import pytest

from grassroots.core.testing import COMMUNE_A
from grassroots.core.testing.browser import login, shoot

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def test_an_officer_relays_the_fm_tuner_live_and_stops_it(browser, live_demo, settings):
    from playwright.sync_api import expect

    from grassroots.broadcast.models import RelaySource
    from grassroots.core.testing import unit
    from grassroots.live.models import LiveEndReason, LiveSession, LiveStatus

    settings.ICECAST_URL = "http://127.0.0.1:9"  # configured; an FM relay never opens it
    RelaySource.objects.create(
        unit=unit(settings.GRASSROOTS["PROVINCE_CODE"]),
        name="VOV1",
        url="http://radio.example/vov1.mp3",
    )
    page = login(browser, live_demo.url, "admin")
    page.context.add_init_script(
        "Object.defineProperty(window, 'isSecureContext', {value: false});"
    )
    page.goto(f"{live_demo.url}/truc-tiep/")
    expect(page.locator("#live-error")).to_contain_text("HTTPS")  # the microphone: no
    expect(page.locator("#live-source option[data-kind='stream']")).to_have_text("Tiếp sóng VOV1")
    page.select_option("#live-source", "fm")
    expect(page.locator("#live-error")).to_be_hidden()  # a relay needs no microphone
    expect(page.locator("#live-start")).to_be_enabled()
    expect(page.locator("#live-frequency")).to_be_visible()
    expect(page.locator("#live-meter")).to_be_hidden()
    page.fill("#live-title", "Tiếp sóng FM đài tỉnh")
    page.select_option("#live-priority", "emergency")
    page.fill("#live-units .unit-picker-search", "pho hien")
    page.locator(f"#live-units .unit-picker-row[data-code='{COMMUNE_A}'] input").check()
    page.fill("#live-frequency", "")  # (out of 64–108 the browser itself refuses the form)
    page.click("#live-start")
    expect(page.locator("#live-error")).to_contain_text("từ 64 đến 108 MHz")
    assert not LiveSession.objects.exists()
    page.fill("#live-frequency", "99.5")
    page.click("#live-start")
    expect(page.locator("#live-status")).to_contain_text("ĐANG PHÁT TRỰC TIẾP", timeout=15_000)
    session = LiveSession.objects.get()
    assert session.source == "fm" and float(session.relay_frequency) == 99.5
    running = page.locator("#live-running")
    expect(running).to_contain_text("Nguồn: Tiếp sóng FM tại cụm loa — FM 99.5 MHz", timeout=10_000)
    expect(running.locator("audio")).to_have_count(0)  # nothing to listen to over the network
    shoot(page, "live", "5-fm-relay")
    running.get_by_role("button", name="Dừng phiên này").click()
    expect(page.locator("#live-status")).to_have_text("Đã kết thúc phiên phát.", timeout=10_000)
    expect(running).to_contain_text("Không có phiên", timeout=10_000)
    session.refresh_from_db()
    assert session.status == LiveStatus.ENDED and session.end_reason == LiveEndReason.STOPPED
    page.context.close()
