"""The CAP console in a real browser at desk (1366×900) and phone (390×844) size: received
alerts in every state, one alert's detail, the sender rules and feeds, the emergency page of an
alert on air (its repetition line). Screenshots under var/screenshots/cap/."""

import datetime as dt
import os
from pathlib import Path

import pytest
import time_machine

from grassroots.core.testing.browser import login, shoot

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CAP = Path(__file__).with_name("cap")


def _alerts():
    """Alerts in each state: on air (repeated every 30 min), awaiting approval, refused,
    expired, archived; a trusted sender with a repetition and an untrusted one; a feed."""
    from grassroots.alerts import actions
    from grassroots.alerts.cap.ingest import province, receive
    from grassroots.alerts.models import CapFeed, CapSender, Emergency

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    CapSender.objects.create(
        unit=province(), sender="canhbao@nchmf.gov.vn", name="TT Dự báo KTTV quốc gia",
        trusted=True, repeat_every_minutes=30,
    )  # fmt: skip
    CapSender.objects.create(
        unit=province(), sender="pctt@hungyen.gov.vn", name="Ban chỉ huy PCTT tỉnh Hưng Yên",
        trusted=False,
    )  # fmt: skip
    CapFeed.objects.create(
        unit=province(), name="Cảnh báo KTTV (Atom)", url="https://example.org/cap/atom.xml",
        interval_seconds=120, last_status="2 cảnh báo mới, 1 bị từ chối.",
    )  # fmt: skip
    sent = dt.datetime.fromisoformat("2026-11-29T08:00:00+07:00")
    with time_machine.travel(now - dt.timedelta(minutes=5), tick=False):
        flood = (CAP / "vn-flood-warning-geocode.xml").read_bytes()
        shift = now - dt.timedelta(minutes=5) - sent.astimezone(dt.UTC)
        later = (sent + shift).isoformat()
        flood = flood.replace(b"2026-11-29T08:00:00+07:00", later.encode())
        flood = flood.replace(
            b"2026-11-29T20:00:00+07:00",
            (sent + shift + dt.timedelta(hours=6)).isoformat().encode(),
        )
        on_air, _ = receive(flood)
        storm = (CAP / "vn-storm-polygon-province.xml").read_bytes()
        receive(storm.replace(b"canhbao@nchmf.gov.vn", b"pctt@hungyen.gov.vn"))
        receive((CAP / "vn-outside-province.xml").read_bytes())
        receive((CAP / "oasis-a2-thunderstorm.xml").read_bytes())
    receive((CAP / "vn-expired.xml").read_bytes())
    e = Emergency.objects.get(pk=on_air.emergency_id)
    sha = "ab" * 32
    e.media = [{"url": f"/media/assets/ab/ab/{sha}.opus", "sha256": sha, "size": 9, "duration": 20}]
    actions.send(e)
    e.save(update_fields=["media"])
    return on_air, e


def test_cap_console_pages_at_desk_and_phone_size(browser, live_demo):
    alert, emergency = _alerts()
    page = login(browser, live_demo.url, "admin")
    for path, name, ready in [
        ("/canh-bao/", "alerts", "[data-state]"),
        (f"/canh-bao/{alert.pk}/", "alert", "h1"),
        ("/canh-bao/cai-dat/", "settings", "#cap-sender-form"),
        (f"/khan-cap/{emergency.pk}/", "emergency", "#e-repeat"),
    ]:
        page.goto(f"{live_demo.url}{path}")
        page.wait_for_selector(ready)
        shoot(page, "cap", name)
    assert "Nhắc lại mỗi 30 phút" in page.inner_text("#e-repeat")
    page.goto(f"{live_demo.url}/canh-bao/")
    states = page.eval_on_selector_all("[data-state]", "els => els.map(e => e.dataset.state)")
    assert {"on_air", "awaiting", "refused", "expired", "archived"} <= set(states), states
    page.context.close()
