"""Phát trực tiếp with another source, in a real Chromium: a relay needs no microphone, so it can
be started even where the browser hides it (plain HTTP); the officer picks the FM receivers of a
commune, a frequency and starts now; the session is on air at once, listed with its source, and
stopped from the "Đang phát" panel. The relay sources of the province are offered."""

import os

import pytest

from grassroots.core.testing import COMMUNE_A
from grassroots.core.testing.browser import DESK, login, shoot

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
    # a title over the limit is refused, not cut, and the limit is said
    page.fill("#live-title", "Bão " + "x" * 297)
    page.click("#live-start")
    expect(page.locator("#live-error")).to_have_text(
        "Tiêu đề dài 301 ký tự, tối đa 200 ký tự: hãy rút gọn tiêu đề (nội dung chi tiết nói "
        "trong phiên)."
    )
    assert not LiveSession.objects.exists()
    page.fill("#live-title", "Tiếp sóng FM đài tỉnh")
    page.click("#live-start")
    expect(page.locator("#live-error")).to_be_hidden()
    expect(page.locator("#live-status")).to_contain_text("ĐANG PHÁT TRỰC TIẾP", timeout=15_000)
    session = LiveSession.objects.get()
    assert session.source == "fm" and float(session.relay_frequency) == 99.5
    running = page.locator("#live-running")
    expect(running).to_contain_text("Nguồn: Tiếp sóng FM tại cụm loa — FM 99.5 MHz", timeout=10_000)
    expect(running.locator("audio")).to_have_count(0)  # nothing to listen to over the network
    shoot(page, "live", "5-fm-relay")
    # an emergency message (console or CAP) airs over the area: the speaker is told, until it ends
    from grassroots.alerts.models import Emergency, EmergencyStatus

    flood = Emergency.objects.create(
        unit=unit(COMMUNE_A),
        title="Lũ quét",
        status=EmergencyStatus.ACTIVE,
        expires_at=session.until,
    )
    flood.area.set([unit(COMMUNE_A)])
    banner = page.locator("#live-emergency")
    expect(banner).to_contain_text(
        "đang phát khẩn cấp 'Lũ quét' — lời bạn nói lúc này không ra các loa đó", timeout=10_000
    )
    expect(banner).to_contain_text("loa tự quay lại phiên của bạn")
    shoot(page, "live", "6-emergency-over-session")
    flood.status = EmergencyStatus.STOPPED
    flood.save()
    expect(banner).to_be_hidden(timeout=10_000)
    # leaving the page while live: the browser asks first; back on it, the session is the
    # officer's own, still open: they follow it again (or end it), not clash with it
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    page.reload()
    assert asked == ["beforeunload"]
    mine = page.locator("#live-mine")
    expect(mine).to_contain_text("Phiên của bạn vẫn đang mở")
    expect(mine).to_contain_text("Tiếp sóng FM đài tỉnh")
    shoot(page, "live", "7-own-session-open")
    page.click("#live-mine-resume")
    expect(mine).to_have_count(0)
    expect(page.locator("#live-status")).to_contain_text("ĐANG PHÁT TRỰC TIẾP", timeout=10_000)
    expect(page.locator("#live-stop")).to_be_visible()
    running.get_by_role("button", name="Dừng phiên này").click()
    expect(page.locator("#live-status")).to_have_text("Đã kết thúc phiên phát.", timeout=10_000)
    expect(running).to_contain_text("Không có phiên", timeout=10_000)
    session.refresh_from_db()
    assert session.status == LiveStatus.ENDED and session.end_reason == LiveEndReason.STOPPED
    page.context.close()


def test_the_province_stops_a_communes_session_and_the_commune_is_told_who(
    browser, live_demo, settings
):
    """The province's officer confirms before stopping a commune officer's session; the commune
    officer's page says who stopped it and when, on a phone."""
    from playwright.sync_api import expect

    from grassroots.accounts.models import User
    from grassroots.core.testing.browser import PHONE
    from grassroots.live import actions as live
    from grassroots.live.models import LiveSession, officer_label

    settings.ICECAST_URL = "http://127.0.0.1:9"  # an FM relay never opens it
    commune = login(browser, live_demo.url, "operator")
    commune.set_viewport_size(PHONE)
    commune.context.add_init_script(
        "Object.defineProperty(window, 'isSecureContext', {value: false});"
    )
    commune.goto(f"{live_demo.url}/truc-tiep/")
    commune.select_option("#live-source", "fm")
    commune.fill("#live-title", "Họp dân thôn Đông")
    commune.select_option("#live-priority", "emergency")  # (any hour: no usage policy)
    commune.fill("#live-frequency", "99.5")
    commune.click("#live-start")
    expect(commune.locator("#live-status")).to_contain_text("ĐANG PHÁT TRỰC TIẾP", timeout=15_000)
    session = LiveSession.objects.get()
    assert [u.code for u in session.area.all()] == [COMMUNE_A]

    # the province's officer on a phone, with a finger: the panel is below the form
    province = login(browser, live_demo.url, "admin", viewport=PHONE, has_touch=True)
    province.goto(f"{live_demo.url}/truc-tiep/")
    item = province.locator(f"#live-running li[data-id='{session.pk}']")
    item.get_by_role("button", name="Dừng phiên này").tap()
    operator = User.objects.get(username="operator")
    question = item.locator(".live-end-question")
    expect(question).to_have_text(
        f"Dừng phiên “Họp dân thôn Đông” của {officer_label(operator)}? "
        "Người phát sẽ được báo là bạn đã dừng phiên."
    )
    expect(item.locator(".live-end-confirm")).to_be_in_viewport()
    # the panel refreshed while the question is open (its state changed): the question stays
    item.locator(".badge").evaluate("b => { b.textContent = 'changed'; }")
    expect(item.locator(".badge")).not_to_have_text("changed", timeout=10_000)
    expect(question).to_be_visible()
    expect(item.get_by_role("button", name="Dừng phiên", exact=True)).to_be_in_viewport()
    assert LiveSession.objects.get().is_running  # nothing stopped before the confirmation
    province.set_viewport_size(DESK)
    item.get_by_role("button", name="Không dừng").click()
    expect(item.get_by_role("button", name="Dừng phiên này")).to_be_visible()
    item.get_by_role("button", name="Dừng phiên này").click()
    item.get_by_role("button", name="Dừng phiên", exact=True).click()
    expect(province.locator("#live-running")).to_contain_text("Không có phiên", timeout=10_000)
    session.refresh_from_db()
    admin = User.objects.get(username="admin")
    assert session.stopped_by == admin
    at = live.timezone.localtime(session.ended_at)
    told = f"Phiên đã bị {officer_label(admin)} dừng lúc {at:%H:%M}."
    expect(commune.locator("#live-status")).to_have_text(
        f"Đã kết thúc phiên phát. {told}", timeout=10_000
    )
    expect(commune.locator("#live-recent")).to_contain_text(told, timeout=10_000)
    expect(commune.locator("#live-recent")).to_contain_text("Cán bộ khác dừng")
    assert "Người phát dừng" not in commune.locator("#live-recent").inner_text()
    shoot(commune, "live", "8-stopped-by-province")
    province.context.close()
    commune.context.close()
