"""Phát trực tiếp in a real Chromium with a fake microphone: an officer picks a commune, starts,
the page sends the microphone as Opus slices, the relay (real ffmpeg) puts it on a real Icecast,
the page says it is on air, the officer stops, the session ends and its recording is archived.
Screenshots at desk and phone size under var/screenshots/live/."""

import os
import time

import pytest

from grassroots.core.testing import COMMUNE_A
from grassroots.core.testing.browser import DESK, login, shoot
from grassroots.core.testing.fleet import live_stack

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

FAKE_MIC = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def test_an_officer_goes_live_from_the_console_and_stops(browser, live_demo, settings, tmp_path):
    from playwright.sync_api import expect

    from grassroots.live.models import LiveEndReason, LiveSession, LiveStatus

    with live_stack(live_demo.url, tmp_path, settings):
        # the same Chromium, with a fake microphone (a beep) that needs no permission prompt
        chromium = browser.browser_type.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", *FAKE_MIC],
        )
        try:
            page = login(chromium, live_demo.url, "admin")
            page.goto(f"{live_demo.url}/truc-tiep/")
            expect(page.locator("#live-error")).to_be_hidden()
            # no area: the page says so before sending anything
            page.fill("#live-title", "Thông báo khẩn về phòng chống bão")
            page.click("#live-start")
            expect(page.locator("#live-error")).to_have_text(
                "Hãy chọn vùng phát (ít nhất một xã, phường)."
            )
            assert not LiveSession.objects.exists()
            page.select_option("#live-priority", "emergency")
            page.fill("#live-units .unit-picker-search", "pho hien")
            page.locator(f"#live-units .unit-picker-row[data-code='{COMMUNE_A}'] input").check()
            # an area without devices is said before starting
            from grassroots.alerts.actions import devices_under
            from grassroots.core.testing import unit as get_unit

            if devices_under([get_unit(COMMUNE_A)]).exists():
                expect(page.locator("#live-warning")).to_be_hidden()
            else:
                expect(page.locator("#live-warning")).to_contain_text("chưa có thiết bị nào")
            shoot(page, "live", "1-ready")
            page.click("#live-start")
            expect(page.locator("#live-status")).to_contain_text(
                "ĐANG PHÁT TRỰC TIẾP", timeout=30_000
            )
            session = LiveSession.objects.get()
            assert session.status == LiveStatus.ON_AIR
            # an area without devices is said before anyone speaks to nobody
            warning = page.locator("#live-warning")
            if session.expected_devices:
                expect(warning).to_be_hidden()
            else:
                expect(warning).to_contain_text("chưa có thiết bị nào")
            # the speaker's own page shows the session under "Đang phát" without a reload
            expect(page.locator("#live-running")).to_contain_text("Thông báo khẩn", timeout=10_000)
            assert list(session.area.values_list("code", flat=True)) == [COMMUNE_A]
            assert page.evaluate("document.getElementById('live-meter').value") >= 0
            shoot(page, "live", "2-speaking")
            # leaving the page while live: the browser asks first (accepted here)
            asked = []
            page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
            page.reload()  # what is on air, with a listen-in player
            assert asked == ["beforeunload"]
            expect(page.locator("#live-running")).to_contain_text("Thông báo khẩn")
            expect(page.locator("#live-running audio")).to_have_count(1)
            shoot(page, "live", "3-on-air")
            # the reload dropped the page's microphone: the relay ends the session when the sound
            # stops; start a new one and stop it with the button this time
            deadline = time.monotonic() + 30
            while LiveSession.objects.get(pk=session.pk).status != LiveStatus.ENDED:
                assert time.monotonic() < deadline, "the session outlived its source"
                time.sleep(0.2)
            page.reload()
            expect(page.locator("#live-running")).to_contain_text("Không có phiên")
            late = []  # slices answered 409/410: the end of the speech lost
            page.on(
                "response",
                lambda r: (
                    late.append(r.status) if "/source" in r.url and r.status in (409, 410) else None
                ),
            )
            long_title = "Phátlầnhai" + "x" * 150
            page.fill("#live-title", long_title)
            page.select_option("#live-priority", "emergency")
            page.fill("#live-units .unit-picker-search", "pho hien")
            page.locator(f"#live-units .unit-picker-row[data-code='{COMMUNE_A}'] input").check()
            page.click("#live-start")
            expect(page.locator("#live-status")).to_contain_text(
                "ĐANG PHÁT TRỰC TIẾP", timeout=30_000
            )
            page.wait_for_timeout(1500)
            page.click("#live-stop")
            expect(page.locator("#live-status")).to_have_text(
                "Đã kết thúc phiên phát.", timeout=20_000
            )
            assert late == []  # the last slice was sent before the stop
            # "Đang phát" empties and "Gần đây" lists it, without a reload
            expect(page.locator("#live-running")).to_contain_text("Không có phiên", timeout=10_000)
            expect(page.locator("#live-recent")).to_contain_text("Phátlầnhai", timeout=10_000)
            second = LiveSession.objects.get(title=long_title)
            assert second.status == LiveStatus.ENDED and second.end_reason == LiveEndReason.STOPPED
            first = LiveSession.objects.get(title__startswith="Thông báo khẩn")
            assert first.end_reason == LiveEndReason.SOURCE_LOST
            deadline = time.monotonic() + 30
            while not LiveSession.objects.get(pk=second.pk).bulletin_id:
                assert time.monotonic() < deadline, "the recording was not archived"
                time.sleep(0.2)
            page.reload()
            expect(page.locator("#live-recent")).to_contain_text("Bản ghi âm")
            # a long unbroken title wraps inside its card
            assert page.evaluate(
                "Array.from(document.querySelectorAll('#live-recent li'))"
                ".every(li => li.scrollWidth <= li.clientWidth + 1)"
            )
            shoot(page, "live", "4-ended")
            # the session is ended for the speaker (an emergency took the area over): the page says
            # why, not that its sound could not be sent, and no longer says it is on air
            from grassroots.live import actions as live

            page.fill("#live-title", "Phiên bị chen ngang")
            page.select_option("#live-priority", "emergency")
            page.fill("#live-units .unit-picker-search", "pho hien")
            page.locator(f"#live-units .unit-picker-row[data-code='{COMMUNE_A}'] input").check()
            page.click("#live-start")
            expect(page.locator("#live-status")).to_contain_text(
                "ĐANG PHÁT TRỰC TIẾP", timeout=30_000
            )
            live.end(LiveSession.objects.get(title="Phiên bị chen ngang"), LiveEndReason.PREEMPTED)
            expect(page.locator("#live-status")).to_have_text(
                "Đã kết thúc phiên phát. Nhường phiên khẩn cấp", timeout=20_000
            )
            expect(page.locator("#live-error")).to_be_hidden()
            expect(page.locator("#live-start")).to_be_visible()
            page.set_viewport_size(DESK)
        finally:
            chromium.close()


def test_the_page_says_when_the_microphone_is_unavailable(browser, live_demo, settings):
    """Over plain HTTP on an address other than localhost a browser is not in a secure context
    and hides the microphone: the page says so (in Vietnamese) and does not offer to start."""
    from playwright.sync_api import expect

    settings.ICECAST_URL = "http://127.0.0.1:9"
    page = login(browser, live_demo.url, "admin")
    # what a browser reports on http://<server address>/ (this server is on localhost)
    page.context.add_init_script(
        "Object.defineProperty(window, 'isSecureContext', {value: false});"
    )
    page.goto(f"{live_demo.url}/truc-tiep/")
    expect(page.locator("#live-error")).to_contain_text("HTTPS")
    expect(page.locator("#live-start")).to_be_disabled()
    page.context.close()


def test_one_tap_starts_on_a_phone_and_errors_name_the_field_not_its_path(
    browser, live_demo, settings
):
    """The commune operator types a title and taps "Bắt đầu phát trực tiếp" once, as a person
    does on a phone (the title has the focus, so it loses it under the finger): the session
    starts. Nothing shown when the title loses focus may move the button from under the finger
    between the press and the release (the press would start nothing). An error says what to
    fix in the officer's words (no `data.title:` path), and a fixed field's error goes away."""
    from playwright.sync_api import expect

    from grassroots.core.testing.browser import PHONE
    from grassroots.live import actions as live
    from grassroots.live.models import LiveEndReason, LiveSession

    settings.ICECAST_URL = "http://127.0.0.1:9"  # the page offers to start; no relay is needed
    chromium = browser.browser_type.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", *FAKE_MIC],
    )
    try:
        page = login(chromium, live_demo.url, "operator", viewport=PHONE, has_touch=True)
        page.goto(f"{live_demo.url}/truc-tiep/")
        posts = []
        page.on(
            "request",
            lambda r: (
                posts.append(r.url) if r.method == "POST" and "/api/v1/live" in r.url else None
            ),
        )
        # a title of spaces only: the server's sentence, without the field's technical path
        page.fill("#live-title", "   ")
        page.tap("#live-start")
        error = page.locator("#live-error")
        expect(error).to_have_text(live.TITLE_EMPTY)
        # the title fixed, the minutes wrong: only the minutes' error, named by the form's label
        page.fill("#live-title", "Họp dân thôn Đông")
        page.fill("#live-minutes", "0")
        page.tap("#live-start")
        expect(error).to_have_text("Tối đa (phút): phải từ 1 trở lên.")
        expect(error).not_to_contain_text("tiêu đề")
        assert "max_minutes" not in error.inner_text() and "data." not in error.inner_text()
        assert not LiveSession.objects.exists()
        page.fill("#live-minutes", "30")

        # one tap, the title field focused (it loses the focus under the finger)
        posts.clear()
        page.fill("#live-title", "Thông báo lịch tiêm chủng")
        assert page.evaluate("document.activeElement.id") == "live-title"
        page.tap("#live-start")
        expect(page.locator("#live-stop")).to_be_visible(timeout=10_000)
        assert len(posts) == 1
        session = LiveSession.objects.get()
        expect(error).to_be_hidden()
        shoot(page, "live", "9-one-tap-phone")
        live.end(session, LiveEndReason.STOPPED)
        expect(page.locator("#live-start")).to_be_visible(timeout=10_000)

        # and one click with a mouse at desk size, the title focused as well
        page.set_viewport_size(DESK)
        page.fill("#live-title", "Thông báo lần hai")
        page.click("#live-start")
        expect(page.locator("#live-stop")).to_be_visible(timeout=10_000)
        assert LiveSession.objects.filter(title="Thông báo lần hai").exists()
        page.click("#live-stop")
        expect(page.locator("#live-status")).to_have_text("Đã kết thúc phiên phát.", timeout=20_000)
    finally:
        chromium.close()
