"""The CAP console in a real browser at desk (1366×900) and phone (390×844) size: received
alerts in every state, one alert's detail, the sender rules and feeds, the emergency page of an
alert on air (its repetition line). Screenshots under var/screenshots/cap/."""

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from grassroots.core.testing.browser import login, shoot

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
CAP = Path(__file__).with_name("cap")


def _recent(path: Path, now: dt.datetime) -> bytes:
    """The file with its times moved so that it was sent an hour before `now`."""
    data = path.read_text()
    stamps = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", data)
    shift = now - dt.timedelta(hours=1) - min(dt.datetime.fromisoformat(t) for t in stamps)
    for t in set(stamps):
        data = data.replace(t, (dt.datetime.fromisoformat(t) + shift).isoformat())
    return data.encode()


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
    on_air, _ = receive(_recent(CAP / "vn-flood-warning-geocode.xml", now))
    storm = _recent(CAP / "vn-storm-polygon-province.xml", now)
    receive(storm.replace(b"canhbao@nchmf.gov.vn", b"pctt@hungyen.gov.vn"))
    receive(_recent(CAP / "vn-outside-province.xml", now))
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
    # "Sửa" fills the form; "Xoá" asks for a confirmation first
    page.goto(f"{live_demo.url}/canh-bao/cai-dat/")
    page.locator("#cap-senders a", has_text="Sửa").first.click()
    assert page.input_value("#s-sender") and page.get_attribute("#s-sender", "readonly") is not None
    page.locator("#cap-feeds summary", has_text="Xoá").click()
    assert page.locator("#cap-feeds button", has_text="Xác nhận xoá").is_visible()
    shoot(page, "cap", "settings-edit")
    page.goto(f"{live_demo.url}/khan-cap/{emergency.pk}/")
    assert "Từ cảnh báo CAP NCHMF-LU-20261129-001 của canhbao@nchmf.gov.vn" in page.inner_text(
        "body"
    )
    page.goto(f"{live_demo.url}/canh-bao/")
    states = page.eval_on_selector_all("[data-state]", "els => els.map(e => e.dataset.state)")
    assert {"on_air", "awaiting", "refused", "expired", "archived"} <= set(states), states
    page.context.close()
