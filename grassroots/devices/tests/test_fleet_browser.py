"""The fleet map in a real headless Chromium, with no tile server: commune points and names
from the unit tree, devices that share one point clustered and opened as a spider, status
colours, nothing fetched from another site; the fault count opens the device's history.

Screenshots at desk (1366×900) and phone (390×844) size go to
$GRASSROOTS_HOME/screenshots/fleet/ (var/ by default); no page may be wider than a phone.
"""

import os
import re
import uuid

import pytest

from grassroots.core.testing import COMMUNE_A, COMMUNE_B

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = os.path.join(os.environ.get("GRASSROOTS_HOME", "var"), "screenshots", "fleet")


def login(browser, base, username):
    context = browser.new_context(locale="vi-VN", viewport=DESK)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", "grassroots-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#current-user")
    return page


def shoot(page, name):
    """Screenshots at desk and phone size; at phone size the page must not overflow."""
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}-desk.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    page.screenshot(path=os.path.join(SHOTS, f"{name}-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESK)
    assert width <= PHONE["width"], f"{name}: {width} px wide on a phone"


def make_devices():
    """Three clusters of Phố Hiến at its centroid (online, in fault, offline), one elsewhere."""
    from django.utils import timezone

    from grassroots.core.testing import unit
    from grassroots.devices.models import Device
    from grassroots.devices.models_fleet import DeviceEvent, DeviceStatus

    made = {}
    for name, code, online in [
        ("Cụm loa chợ Phố Hiến", COMMUNE_A, True),
        ("Cụm loa đê Phố Hiến", COMMUNE_A, True),
        ("Cụm loa trường Phố Hiến", COMMUNE_A, False),
        ("Cụm loa Tân Hưng", COMMUNE_B, True),
    ]:
        dev = Device.objects.create(
            kind="speaker",
            unit=unit(code),
            name=name,
            serial=f"SN-{uuid.uuid4().hex[:10]}",
            technology="ip_4g",
        )
        DeviceStatus.objects.create(device=dev, online=online, last_seen=timezone.now())
        made[name] = dev
    DeviceEvent.objects.create(
        event_id=str(uuid.uuid4()),
        device=made["Cụm loa đê Phố Hiến"],
        type="fault",
        payload={"type": "fault", "code": "audio.failed", "detail": "amp: no output"},
    )
    return made


def test_fleet_map_draws_communes_and_devices_with_no_tile_server(browser, live_demo):
    from playwright.sync_api import expect

    made = make_devices()
    base = live_demo.url

    # The commune operator: devices at one point, on a plain background, with the commune name.
    page = login(browser, base, "operator")
    outside = []
    page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    page.goto(f"{base}/thiet-bi/giam-sat/")
    fleet_map = page.locator("#fleet-map")
    expect(fleet_map).to_have_class(re.compile(r"\bfleet-map-plain\b"))  # no base layer
    label = fleet_map.locator(".commune-label")
    expect(label).to_have_count(1)
    expect(label).to_have_text("Phường Phố Hiến")
    expect(label).to_be_visible()
    expect(fleet_map.locator(".leaflet-tile")).to_have_count(0)
    cluster = fleet_map.locator(".device-cluster")
    expect(cluster).to_have_count(1)  # three devices at one point: one marker, not none
    expect(cluster).to_have_text("2/3")  # online / all
    expect(cluster).to_have_class(re.compile(r"\bis-mixed\b.*\bhas-fault\b"))
    box = cluster.bounding_box()
    assert box and box["width"] >= 30 and box["height"] >= 30  # a marker a person can see
    shoot(page, "1-operator-map")
    cluster.click()  # one point down to the last zoom: the devices open as a spider
    markers = fleet_map.locator(".device-marker")
    expect(markers).to_have_count(3)
    expect(fleet_map.locator(".device-marker.is-online")).to_have_count(1)
    expect(fleet_map.locator(".device-marker.is-fault")).to_have_count(1)
    expect(fleet_map.locator(".device-marker.is-offline")).to_have_count(1)
    titles = sorted(markers.evaluate_all("els => els.map(e => e.getAttribute('title'))"))
    assert titles == sorted(f"{n} — Phường Phố Hiến" for n in list(made)[:3])
    shoot(page, "2-operator-spider")

    # The fault count opens the device's history.
    page.click("a.fault-link")
    expect(page.locator("h1")).to_have_text("Lịch sử lỗi: Cụm loa đê Phố Hiến")
    expect(page.locator("#fault-history .fault-label")).to_have_text("Bộ phát âm thanh báo lỗi")
    expect(page.locator("#fault-history")).to_contain_text("amp: no output")
    shoot(page, "3-operator-fault-history")
    page.click("#fault-history button:has-text('Đã khắc phục')")
    expect(page.locator("#fault-history [data-cleared='1']")).to_have_count(1)
    expect(page.locator(".alert")).to_contain_text("Đã đánh dấu 1 lỗi là đã khắc phục.")
    page.context.close()

    # The province: every commune drawn, names from zoom 11, devices clustered.
    page = login(browser, base, "admin")
    page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    page.goto(f"{base}/thiet-bi/giam-sat/")
    fleet_map = page.locator("#fleet-map")
    expect(fleet_map.locator("path.commune-point")).to_have_count(104)
    expect(fleet_map.locator(".commune-label")).to_have_count(104)
    expect(fleet_map.locator(".commune-label:visible")).to_have_count(0)  # too many to read
    expect(fleet_map.locator(".device-cluster, .device-marker")).not_to_have_count(0)
    shoot(page, "4-admin-map")
    for _ in range(4):
        fleet_map.locator(".leaflet-control-zoom-in").click()
        page.wait_for_timeout(300)
    expect(fleet_map.locator(".commune-label:visible").first).to_be_visible()
    shoot(page, "5-admin-map-zoomed")
    page.context.close()
    assert not outside, f"the map asked another site: {outside[:3]}"
