"""The board player in a real headless Chromium, with a real Mosquitto (MQTT over WebSockets)
and the real gateway publishing the outbox: pairing, push, emergency, offline play, escaping."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from grassroots.core import broker, gateway
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, call, unit
from grassroots.signage import actions
from grassroots.signage.models import Board, DisplayProof

from .helpers import approved_bulletin, user

pytestmark = [pytest.mark.browser, pytest.mark.mqtt]

CODE = re.compile(r"^[A-Z0-9]{3}-[A-Z0-9]{3}$")


def _wait(cond, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class _Gateway:
    """The real gateway in a thread (as grassroots/core/tests/test_gateway.py runs it)."""

    def __init__(self, url):
        self.gw = gateway.Gateway(url)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self.gw.run(),), daemon=True
        )

    def __enter__(self):
        gateway.discover()
        self.thread.start()
        return self.gw

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.gw.stop)
        self.thread.join(10)


@pytest.fixture
def ws_broker(tmp_path, settings):
    """A private Mosquitto with logins and a websockets listener; the platform points at it."""
    home = tmp_path / "home"
    port, ws_port = broker.free_port(), broker.free_port()
    conf = broker.write_config(home, port, ws_port, auth=True)
    proc = subprocess.Popen(
        [broker.mosquitto_binary(), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import socket

    def listening(p):
        try:
            socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
            return True
        except OSError:
            return False

    _wait(lambda: listening(port) and listening(ws_port), 10, "mosquitto")
    url = f"mqtt://{broker.SERVER_USER}:{broker.server_password(home)}@127.0.0.1:{port}"
    settings.MQTT_URL = url
    settings.MQTT_WS_URL = f"ws://127.0.0.1:{ws_port}/"
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": home}
    with _Gateway(url):
        yield home
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN")
    yield ctx
    ctx.close()


def fast_layout(code: str, seconds: int = 3):
    """A split layout of the unit whose items turn quickly (the tests watch the rotation)."""
    return actions.save_layout(
        user=user("admin"),
        unit=unit(code),
        data={"name": "Nhanh", "kind": "split", "default_duration": seconds},
    )


def open_board(context, base):
    page = context.new_page()
    page.goto(f"{base}/board/")
    page.wait_for_function(
        "() => document.getElementById('pair-code') && /^[A-Z0-9]{3}-[A-Z0-9]{3}$/"
        ".test(document.getElementById('pair-code').textContent)",
        timeout=15000,
    )
    return page, page.inner_text("#pair-code")


def pair(context, base, code_unit: str, operator: str = "operator"):
    """Open /board/, approve its code as the operator (action), wait until it plays."""
    page, code = open_board(context, base)
    with transaction.atomic():
        device = actions.approve_pairing(user=user(operator), code=code, unit=unit(code_unit))
    page.wait_for_selector("#screen", state="visible", timeout=15000)
    return page, device


def title_is(page, text, timeout=15000):
    page.wait_for_function(
        "t => document.getElementById('item-title').textContent === t", arg=text, timeout=timeout
    )


def test_pair_in_console_show_push_proof_and_screenshot(browser, context, live_demo, ws_broker):
    fast_layout(COMMUNE_A)
    approved_bulletin(COMMUNE_A, "Lịch tiêm phòng dại cho chó mèo", "<p>Sáng thứ Bảy.</p>")
    page, code = open_board(context, live_demo.url)
    assert CODE.match(code)

    console = browser.new_page()
    console.goto(f"{live_demo.url}/dang-nhap/")
    console.fill("#id_username", "operator")
    console.fill("#id_password", "grassroots-demo")
    console.click("button[type=submit]")
    console.wait_for_selector("#current-user")
    console.goto(f"{live_demo.url}/bang-tin-dien-tu/")
    console.fill("#id_code", code.lower())
    console.select_option("#id_unit", label="Phường Phố Hiến")
    console.fill("#id_name", "Bảng tin chợ Phố Hiến")
    console.click("#pair-form button[type=submit]")
    console.wait_for_selector("text=Đã ghép nối")
    device_id = int(console.url.rstrip("/").split("/")[-1])

    page.wait_for_selector("#screen", state="visible", timeout=15000)
    title_is(page, "Lịch tiêm phòng dại cho chó mèo")
    assert page.inner_text("#unit-name") == "Phường Phố Hiến"
    assert page.evaluate("window.__board.verify") == "ed25519"
    assert page.evaluate("localStorage.getItem('gr.board.cred')").count("gbt_") == 1

    # A newly approved bulletin appears without a reload (manifest.updated over MQTT-WS).
    approved_bulletin(COMMUNE_A, "Thông báo cắt điện ngày mai")
    page.wait_for_function(
        "() => document.getElementById('ticker-text').textContent.includes('Thông báo cắt điện')",
        timeout=10000,
    )
    title_is(page, "Thông báo cắt điện ngày mai", timeout=10000)

    # Heartbeat over MQTT (retained state, via the gateway) shows online state and current item.
    _wait(lambda: Board.objects.get(pk=device_id).reported_online, 10, "online state")
    _wait(lambda: Board.objects.get(pk=device_id).current_item != "", 10, "current item")
    _wait(lambda: Board.objects.get(pk=device_id).state.get("verify") == "ed25519", 10, "verify")

    # Proof of display, posted in a batch.
    page.evaluate("window.__board.flush()")
    _wait(lambda: DisplayProof.objects.filter(device_id=device_id).exists(), 10, "proofs")
    assert DisplayProof.objects.filter(device_id=device_id, bulletin__isnull=False).exists()

    # Screenshot on demand from the console.
    console.goto(f"{live_demo.url}/bang-tin-dien-tu/{device_id}/")
    console.click("#take-screenshot")
    _wait(lambda: Board.objects.get(pk=device_id).screenshot_at is not None, 30, "screenshot")
    console.goto(f"{live_demo.url}/bang-tin-dien-tu/{device_id}/")
    shot = console.wait_for_selector("#screenshot")
    assert console.evaluate("e => e.naturalWidth", shot) == 1280

    # The console preview renders the same player with the same manifest.
    preview = browser.new_page()
    preview.context.add_cookies(console.context.cookies())
    preview.goto(f"{live_demo.url}/bang-tin-dien-tu/{device_id}/xem-truoc/")
    preview.wait_for_function(
        "() => document.getElementById('item-title').textContent.length > 0", timeout=10000
    )
    assert "Thông báo cắt điện" in preview.inner_text("#ticker-text")
    for p in (preview, console, page):
        p.close()


def test_emergency_overlay_shows_then_clears_on_stop_other_unit_untouched(
    context, live_demo, ws_broker, client, settings
):
    approved_bulletin(COMMUNE_A, "Tin phường")
    approved_bulletin(COMMUNE_B, "Tin xã Tân Hưng", author="operator2")
    page_a, _ = pair(context, live_demo.url, COMMUNE_A)
    page_b, device_b = pair(context.browser.new_context(), live_demo.url, COMMUNE_B, "operator2")
    title_is(page_a, "Tin phường")
    title_is(page_b, "Tin xã Tân Hưng")
    # Scoped manifests: the other unit's board has only its own item.
    assert page_b.evaluate("window.__board.manifest.items.map(i => i.title)") == ["Tin xã Tân Hưng"]
    page_a.wait_for_function("() => window.__board.mqttConnected === true", timeout=10000)
    page_b.wait_for_function("() => window.__board.mqttConnected === true", timeout=10000)

    # The platform's own emergency path: POST /api/v1/emergencies (TTS, signed play.now).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    response = call(
        client,
        "post",
        "/api/v1/emergencies",
        user=user("operator"),
        body={
            "units": [COMMUNE_A],
            "title": "Lũ quét: sơ tán ngay",
            "text": "Người dân ven sông di chuyển đến nhà văn hoá.",
            "expires_in_minutes": 30,
        },
    )
    assert response.status_code == 201, response.content
    emergency_id = response.json()["id"]
    # The 5 s target (TTS included) is a speed and belongs to a benchmark; a loaded CI machine
    # took 7 s here, so the test waits for the overlay, not for the clock.
    page_a.wait_for_selector("#emergency", state="visible", timeout=30000)
    assert page_a.inner_text("#em-title") == "Lũ quét: sơ tán ngay"
    assert re.match(r"^(29|30):\d\d$", page_a.inner_text("#em-countdown"))
    assert page_b.is_hidden("#emergency")

    # A forged command (payload changed after signing) never reaches the screen.
    import json

    from grassroots.devices import protocol

    with transaction.atomic():
        forged = protocol.build(
            "play.now",
            {"units": [COMMUNE_A]},
            {"priority": "emergency", "media": [ALERT_MEDIA], "emergency": {
                "id": 999, "title": "Giả mạo", "text": "x",
                "expires_at": (timezone.now() + timedelta(minutes=5)).isoformat()}},
        )  # fmt: skip
    forged["payload"]["emergency"]["title"] = "Giả mạo đã sửa"
    forged_seq = forged["payload"]["seq"]
    page_b.evaluate("e => window.__board.handle('t', e)", json.dumps(forged))
    page_b.wait_for_timeout(300)
    assert page_b.is_hidden("#emergency")
    # ... and is refused with a reason, in an ack that follows the protocol.
    from grassroots.devices.models_fleet import DeviceEvent
    from grassroots_protocol import parse_event

    refused = DeviceEvent.objects.filter(device=device_b, type="ack", payload__status="refused")
    _wait(refused.exists, 10, "refused ack")
    ack = parse_event(refused.get().payload)
    assert (ack.reason, ack.cmd_type, ack.cmd_seq) == ("bad_signature", "play.now", forged_seq)
    stopped = call(
        client, "post", f"/api/v1/emergencies/{emergency_id}/stop", user=user("operator")
    )
    assert stopped.status_code == 200
    page_a.wait_for_selector("#emergency", state="hidden", timeout=5000)
    title_is(page_a, "Tin phường")
    page_b.context.close()


# what a play.now carries (the boards show the overlay; loudspeakers play the file)
ALERT_MEDIA = {"url": "/media/assets/ab/cd/alert.opus", "sha256": "ab" * 32, "size": 1000}


def test_emergency_clears_at_expiry(context, live_demo, ws_broker):
    page, _ = pair(context, live_demo.url, COMMUNE_A)
    page.wait_for_function("() => window.__board.mqttConnected === true", timeout=10000)
    # A short expiry (the API's minimum is a minute): the signed command straight to the topic.
    from grassroots.devices import protocol

    # 10 s: a loaded CI machine once took more than 4 s to bring the command to the board,
    # which then (rightly) never showed an emergency already expired
    expires = timezone.now() + timedelta(seconds=10)
    with transaction.atomic():
        protocol.send_to_units(
            ["33"],
            protocol.CommandType.PLAY_NOW,
            {
                "priority": "emergency",
                "media": [ALERT_MEDIA],
                "emergency": {
                    "id": 998,
                    "title": "Cảnh báo ngắn",
                    "text": "Hết hạn sau vài giây.",
                    "expires_at": expires.isoformat(),
                },
            },
        )
    page.wait_for_selector("#emergency", state="visible", timeout=10_000)
    page.wait_for_selector("#emergency", state="hidden", timeout=15_000)


def _bulletin_with_image(code: str, title: str, color=(200, 30, 30)):
    """An approved bulletin with a board-sized JPEG rendition stored content-addressed."""
    import hashlib
    from pathlib import Path

    from django.conf import settings
    from PIL import Image

    from grassroots.content import actions as content
    from grassroots.content.media.store import relative_path
    from grassroots.content.models import MediaAsset

    buf = io.BytesIO()
    Image.new("RGB", (320, 180), color).save(buf, "JPEG")
    data = buf.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    rel = relative_path(sha, "jpg")
    path = Path(settings.MEDIA_ROOT) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    bulletin = content.create(user=user("operator"), unit=unit(code), data={"title": title})
    MediaAsset.objects.create(
        unit=bulletin.unit,
        bulletin=bulletin,
        sha256=sha,
        declared_kind="image",
        kind="image",
        mime="image/jpeg",
        size=len(data),
        file=rel,
        status="ready",
        renditions={"board": {"path": rel, "sha256": sha, "size": len(data), "mime": "image/jpeg"}},
    )
    content.submit(bulletin=bulletin, user=user("operator"))
    return content.approve(bulletin=bulletin, user=user("approver"))


def test_offline_keeps_rotating_cached_items_and_recovers(context, live_demo, ws_broker):
    fast_layout(COMMUNE_A, seconds=2)
    _bulletin_with_image(COMMUNE_A, "Ảnh: ngày hội đại đoàn kết")
    approved_bulletin(COMMUNE_A, "Tin thứ hai")
    page, device = pair(context, live_demo.url, COMMUNE_A)
    page.wait_for_selector("#item-media img", timeout=15000)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=10000)

    def seen_titles(n, timeout=15000):
        page.evaluate("window.__seen = new Set()")
        page.wait_for_function(
            """n => { window.__seen.add(document.getElementById('item-title').textContent);
                     return window.__seen.size >= n; }""",
            arg=n,
            timeout=timeout,
            polling=200,
        )

    context.set_offline(True)
    seen_titles(2)
    # Even a restart without network comes back from the service worker's cache.
    page.reload()
    page.wait_for_selector("#screen", state="visible", timeout=15000)
    seen_titles(2)
    page.wait_for_selector("#item-media img", timeout=10000)
    assert page.evaluate("document.querySelector('#item-media img').src").startswith("blob:")
    # The manifest the service worker answered from its cache (with its old Date) taught the
    # board nothing about the server's time; the offset learned before the restart is kept.
    assert page.evaluate("window.__board.clock.lo === -Infinity")
    assert page.evaluate("window.__board.clock.source") == "http"

    # Back online: it recovers by itself and follows pushes again.
    context.set_offline(False)
    page.wait_for_function("() => window.__board.mqttConnected === true", timeout=15000)
    approved_bulletin(COMMUNE_A, "Tin sau khi có mạng lại")
    page.wait_for_function(
        "() => window.__board.manifest.items.some(i => i.title === 'Tin sau khi có mạng lại')",
        timeout=15000,
    )
    assert Board.objects.get(pk=device.pk).is_paired


def test_script_in_bulletin_shows_as_text_and_runs_nothing(context, live_demo, ws_broker):
    evil_title = '<img src=x onerror="window.__pwned=1">Cảnh giác lừa đảo'
    evil_body = (
        "<p>Không bấm đường link lạ.</p><script>window.__pwned=2</script>"
        "&lt;script&gt;window.__pwned=3&lt;/script&gt;"
        '&lt;img src=x onerror="window.__pwned=4"&gt;'
    )
    approved_bulletin(COMMUNE_A, evil_title, evil_body)
    errors = []
    page, _ = pair(context, live_demo.url, COMMUNE_A)
    page.on("pageerror", lambda e: errors.append(str(e)))
    title_is(page, evil_title)
    body = page.inner_text("#item-body")
    assert "<script>window.__pwned=3</script>" in body
    assert '<img src=x onerror="window.__pwned=4">' in body
    assert page.locator("#item img, #item script").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not errors


# --- device time (issue 12): boards with wrong clocks ------------------------------------------

SKEWS = {
    "20min-ahead": (timedelta(minutes=20), "nhanh 20 phút"),
    "3h-behind": (timedelta(hours=-3), "chậm 3 giờ"),
    "7h-ahead": (timedelta(hours=7), "nhanh 7 giờ"),
}
SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def skewed_board(browser, skew: timedelta, base: str, viewport=(1920, 1080)):
    """A desk-sized board page whose clock (Date, timers) runs `skew` off the real time."""
    ctx = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, locale="vi-VN"
    )
    page = ctx.new_page()
    page.clock.install(time=datetime.now(UTC) + skew)
    codes: list[float] = []
    page.on(
        "request",
        lambda r: (
            codes.append(time.monotonic())
            if r.method == "POST" and r.url.endswith("/api/v1/boards/pairing")
            else None
        ),
    )
    page.goto(f"{base}/board/")
    local = page.evaluate("Date.now()") / 1000
    assert abs(local - (time.time() + skew.total_seconds())) < 30, "the page's clock is not shifted"
    return ctx, page, codes


def vn_clock(moment) -> str:
    return (moment + timedelta(hours=7)).strftime("%H:%M")


@pytest.mark.parametrize("name", list(SKEWS))
def test_skewed_board_pairs_shows_server_time_and_the_emergency(
    browser, live_demo, ws_broker, client, settings, name
):
    from grassroots.alerts.models import EmergencyAck
    from grassroots.devices.models_fleet import DeviceEvent, DeviceStatus
    from grassroots_protocol import parse_event

    skew, words = SKEWS[name]
    approved_bulletin(COMMUNE_A, "Lịch tiêm phòng dại cho chó mèo", "<p>Sáng thứ Bảy.</p>")
    ctx, page, codes = skewed_board(browser, skew, live_demo.url)
    page.wait_for_function(
        "() => /^[A-Z0-9]{3}-[A-Z0-9]{3}$/.test(document.getElementById('pair-code').textContent)",
        timeout=15000,
    )
    # One code, valid for its full 15 minutes by the server's clock: no request storm.
    page.wait_for_timeout(4000)
    assert len(codes) == 1, f"{len(codes)} pairing requests in 4 s"
    assert re.search(r"còn 1[45] phút", page.inner_text("#pair-expiry"))
    assert words in page.inner_text("#pair-clock")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"board-{name}-pairing.png"))

    code = page.inner_text("#pair-code")
    with transaction.atomic():
        device = actions.approve_pairing(user=user("operator"), code=code, unit=unit(COMMUNE_A))
    page.wait_for_selector("#screen", state="visible", timeout=15000)
    title_is(page, "Lịch tiêm phòng dại cho chó mèo")
    page.wait_for_function("() => window.__board.mqttConnected === true", timeout=10000)
    # The on-screen clock is the server's (Vietnam) time, not the page's.
    shown = page.inner_text("#clock-time")
    now = timezone.now()
    assert shown in {vn_clock(now), vn_clock(now - timedelta(seconds=2))}, shown
    assert shown != vn_clock(now + skew)
    page.screenshot(path=str(SHOTS / f"board-{name}-playing.png"))

    # The state report carries the offset; a `clock` fault is stored by the gateway's handlers.
    expected = -skew.total_seconds()

    def reported(state):
        clock = (state or {}).get("clock") or {}
        return clock.get("source") == "http" and abs(clock.get("offset_s", 0) - expected) < 5

    _wait(lambda: reported(Board.objects.get(pk=device.pk).state), 10, "clock in board state")
    _wait(
        lambda: reported(DeviceStatus.objects.filter(device=device).values_list("state", flat=True)
                         .first()),
        10,
        "clock in device status",
    )  # fmt: skip
    _wait(
        lambda: DeviceEvent.objects.filter(device=device, type="fault").exists(), 10, "clock fault"
    )
    fault = DeviceEvent.objects.get(device=device, type="fault").payload
    assert fault["code"] == "clock" and abs(fault["offset_s"] - expected) < 5, fault
    assert words in fault["detail"]

    # A real emergency through the API: the board verifies its window by the server's time.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    response = call(
        client,
        "post",
        "/api/v1/emergencies",
        user=user("operator"),
        body={
            "units": [COMMUNE_A],
            "title": "Lũ quét: sơ tán ngay",
            "text": "Người dân ven sông di chuyển đến nhà văn hoá.",
            "expires_in_minutes": 30,
        },
    )
    assert response.status_code == 201, response.content
    page.wait_for_selector("#emergency", state="visible", timeout=5000)
    assert re.match(r"^(29|30):\d\d$", page.inner_text("#em-countdown"))
    page.screenshot(path=str(SHOTS / f"board-{name}-emergency.png"))
    emergency = response.json()["id"]
    _wait(
        lambda: EmergencyAck.objects.filter(emergency_id=emergency, device=device).exists(),
        10,
        "emergency ack",
    )
    ack = EmergencyAck.objects.get(emergency_id=emergency, device=device)
    assert (ack.status, ack.reason) == ("ok", "")
    # Every event the board sent follows the protocol (the gateway keeps others as `protocol`).
    events = list(DeviceEvent.objects.filter(device=device).values_list("payload", flat=True))
    assert {e["type"] for e in events} == {"ack", "fault"}
    for e in events:
        assert parse_event(e).id
    assert len(codes) == 1
    ctx.close()


def test_locked_out_board_waits_as_told_and_says_so(browser, live_demo):
    """An address that holds too many open codes gets 429 + Retry-After; the board waits that
    long (no storm) and says so on screen, in Vietnamese."""
    for _ in range(actions.MAX_OPEN_CODES_PER_IP):
        actions.start_pairing(client_ip="127.0.0.1")
    ctx, page, codes = skewed_board(browser, timedelta(minutes=20), live_demo.url, (1280, 720))
    page.wait_for_function(
        "() => document.getElementById('pair-error').textContent.includes('Thử lại sau')",
        timeout=10000,
    )
    text = page.inner_text("#pair-error")
    assert "Quá nhiều lần xin mã ghép nối" in text and re.search(r"1[4-7] phút", text), text
    page.wait_for_timeout(5000)
    assert len(codes) == 1, f"{len(codes)} pairing requests in 5 s"
    ctx.close()


def test_unreachable_server_backs_off_and_says_so(browser, live_demo):
    ctx, page, codes = skewed_board(browser, timedelta(hours=-3), live_demo.url, (1280, 720))
    page.wait_for_function(
        "() => /^[A-Z0-9]{3}-/.test(document.getElementById('pair-code').textContent)"
    )
    # The network goes down: the code's claim fails; the board waits 5 s, 10 s, 20 s...
    ctx.set_offline(True)
    claims: list[float] = []
    page.on("request", lambda r: claims.append(time.monotonic()) if "claim" in r.url else None)
    page.wait_for_function(
        "() => document.getElementById('pair-error').textContent"
        ".includes('Không kết nối được máy chủ')",
        timeout=10000,
    )
    first = len(claims)
    page.wait_for_timeout(8000)
    assert len(claims) - first <= 2, f"{len(claims) - first} claims in 8 s while unreachable"
    assert "Thử lại sau" in page.inner_text("#pair-error")
    # Back online: the board tries again within seconds (not after its back-off) and recovers.
    ctx.set_offline(False)
    page.wait_for_function(
        "() => document.getElementById('pair-error').textContent === ''", timeout=8000
    )
    assert len(codes) == 1
    ctx.close()


def test_a_newer_signed_command_corrects_a_clock_that_heard_no_http(browser, live_demo, ws_broker):
    """Until an HTTP Date is seen, a newer command's issued_at sets back a clock more than 60 s
    ahead, and always lifts a clock that is behind; an old (replayed) command changes nothing."""
    import json

    from grassroots.devices import protocol

    ctx, page, _ = skewed_board(browser, timedelta(hours=7), live_demo.url, (1280, 720))
    page.wait_for_function(
        "() => /^[A-Z0-9]{3}-/.test(document.getElementById('pair-code').textContent)"
    )
    with transaction.atomic():
        device = actions.approve_pairing(
            user=user("operator"), code=page.inner_text("#pair-code"), unit=unit(COMMUNE_A)
        )
    page.wait_for_selector("#screen", state="visible", timeout=15000)
    page.wait_for_function("() => window.__board.mqttConnected === true", timeout=10000)

    def command():
        with transaction.atomic():
            return json.dumps(protocol.build("stop", {"device": str(device.pk)}, {}))

    def offset_after(envelope):
        # forget what HTTP taught, hand the command over, read the clock (in one task: no fetch
        # can answer in between)
        return page.evaluate(
            """async e => {
                const c = window.__board.clock;
                Object.assign(c, {http: false, offset: 0, lo: -Infinity, hi: Infinity});
                await window.__board.handle('t', e);
                return [c.offset / 1000, c.source];
            }""",
            envelope,
        )

    old = command()
    offset, source = offset_after(command())
    assert abs(offset + 7 * 3600) < 5 and source == "command", offset
    # A replay of an older command (lower seq) proves nothing about the server's time now.
    assert offset_after(old)[0] == 0
    # A board 3 hours behind is lifted to the command's issued_at.
    page.clock.set_system_time(datetime.now(UTC) - timedelta(hours=3))
    offset, source = offset_after(command())
    assert abs(offset - 3 * 3600) < 5 and source == "command", offset
    # A command that expired by the server's time is refused, with the reason and what the board
    # took for the server's time.
    from grassroots.devices.models_fleet import DeviceEvent
    from grassroots_protocol import parse_event

    with transaction.atomic():
        stale = protocol.build(
            "stop",
            {"device": str(device.pk)},
            {},
            not_before=timezone.now() - timedelta(minutes=20),
            ttl=timedelta(minutes=5),
        )
    page.evaluate("e => window.__board.handle('t', e)", json.dumps(stale))
    refused = DeviceEvent.objects.filter(
        device=device, type="ack", payload__cmd_seq=stale["payload"]["seq"]
    )
    _wait(refused.exists, 10, "refused ack")
    ack = parse_event(refused.get().payload)
    assert (ack.status, ack.reason) == ("refused", "expired")
    assert "Giờ máy chủ theo bảng tin" in ack.detail
    ctx.close()
