"""Nghe đang phát in a real Chromium: an officer of the province opens the fleet page, clicks
"Nghe đang phát" on a cluster that is airing a scheduled file, and the page plays that file
(real Opus, served with ranges) from where the device is; a cluster that is offline-idle says
so. Screenshots under var/screenshots/listen/."""

import datetime
import json
import os
import subprocess
from pathlib import Path

import pytest

from grassroots.core.testing import COMMUNE_A
from grassroots.core.testing.browser import login, shoot

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def test_an_officer_listens_to_what_a_cluster_airs(browser, live_demo, settings):
    from django.test import Client
    from django.utils import timezone
    from playwright.sync_api import expect

    from grassroots.accounts.models import User
    from grassroots.broadcast import manifests
    from grassroots.broadcast.tests.factories import schedule_body, station, store_media
    from grassroots.core.testing import call
    from grassroots.devices.models_fleet import DeviceStatus
    from grassroots.devices.tests.factories import DeviceFactory

    st = station(COMMUNE_A)
    dev = DeviceFactory(unit=st.unit, station=st, name="Cụm loa chợ")
    idle = DeviceFactory(unit=st.unit, station=st, name="Cụm loa đê")
    tomorrow = (timezone.localtime() + datetime.timedelta(days=1)).replace(
        hour=7, minute=0, second=0, microsecond=0
    )
    operator = User.objects.get(username="operator")
    body = schedule_body(COMMUNE_A, title="Bản tin sáng", starts_at=tomorrow.isoformat())
    assert call(Client(), "post", "/api/v1/schedules", user=operator, body=body).status_code == 201
    store_media(COMMUNE_A)
    manifests.compile_devices([dev.pk], force=True)
    dev.refresh_from_db()
    (item,) = [i for i in json.loads(dev.manifest.body)["payload"]["items"] if i["kind"] == "media"]
    # the file the device plays: a real minute of Opus where the platform stores it
    file = Path(settings.MEDIA_ROOT) / item["media"][0]["url"].removeprefix(settings.MEDIA_URL)
    file.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=60"]
        + ["-ac", "1", "-c:a", "libopus", "-b:a", "32k", "-f", "ogg", "-y", str(file)],
        check=True,
    )
    since = timezone.now() - datetime.timedelta(seconds=25)  # 25 s into the file
    playing = {"item_id": item["id"], "kind": "media", "origin": "schedule"}
    DeviceStatus.objects.create(
        device=dev,
        online=True,
        last_seen=timezone.now(),
        state={"online": True, "playing": {**playing, "since": since.isoformat()}},
    )
    DeviceStatus.objects.create(
        device=idle,
        online=True,
        last_seen=timezone.now(),
        state={"online": True, "playing": {**playing, "item_id": "gone", "since": None}},
    )

    page = login(browser, live_demo.url, "viewer")  # the province: an upper level
    page.goto(f"{live_demo.url}/thiet-bi/giam-sat/?unit={COMMUNE_A}")
    said = """() => {
      window.said = [];
      new MutationObserver(() => window.said.push(
        document.getElementById('listen-message').textContent)).observe(
        document.getElementById('listen-message'), {childList: true, characterData: true,
        subtree: true});
    }"""
    page.evaluate(said)
    row = page.locator(f"tr[data-device='{dev.pk}']")
    row.get_by_role("button", name="Nghe đang phát").click()
    panel = page.locator("#listen-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#listen-device")).to_have_text("Cụm loa chợ")
    expect(page.locator("#listen-title")).to_have_text("Bản tin sáng")
    audio = page.locator("#listen-audio")
    page.wait_for_function(
        "() => { const a = document.getElementById('listen-audio');"
        " return !a.paused && a.currentTime > 25 && a.currentTime < 40; }",
        timeout=15_000,
    )
    first = audio.evaluate("a => a.currentTime")
    page.wait_for_timeout(1500)
    assert audio.evaluate("a => a.currentTime") > first + 0.5  # it plays on
    expect(page.locator("#listen-message")).to_contain_text("đang ở phút 0:2")
    # until the sound came, the panel said it was connecting
    assert page.evaluate("window.said")[:1] == ["Đang kết nối…"]
    shoot(page, "listen", "1-file")
    # the list refreshes every 5 s; the player, outside it, keeps playing
    page.wait_for_timeout(5500)
    assert not audio.evaluate("a => a.paused")

    # a cluster whose item is not in its schedule: the page says so, nothing plays
    idle_row = page.locator(f"tr[data-device='{idle.pk}']")
    idle_row.get_by_role("button", name="Nghe đang phát").click()
    expect(page.locator("#listen-message")).to_have_text(
        "Không tìm thấy mục đang phát trong lịch phát hiện hành của thiết bị."
    )
    assert audio.evaluate("a => a.paused")
    page.click("#listen-close")
    expect(panel).to_be_hidden()
    # what it plays comes to its end: said so, no finished player with the old title
    status = DeviceStatus.objects.get(device=dev)
    near_end = timezone.now() - datetime.timedelta(seconds=58)
    status.state = {"online": True, "playing": {**playing, "since": near_end.isoformat()}}
    status.save()
    row.get_by_role("button", name="Nghe đang phát").click()
    expect(page.locator("#listen-title")).to_have_text("Bản tin sáng")
    expect(page.locator("#listen-message")).to_have_text(
        "Đã phát xong mục này. Bấm “Nghe đang phát” để nghe mục cụm loa đang phát bây giờ.",
        timeout=15_000,
    )
    expect(audio).to_be_hidden()
    expect(page.locator("#listen-title")).to_have_text("")
    shoot(page, "listen", "2-ended")
    page.context.close()
