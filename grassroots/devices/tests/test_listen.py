"""Listen-in (plan V.6): what a cluster airs now, from its state report and what the platform
sent it, as something an officer of its unit or above can play from the right position."""

import datetime
import json
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from grassroots.broadcast import manifests
from grassroots.broadcast.models import RelaySource
from grassroots.broadcast.tests.factories import schedule_body, station, store_media, vn
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, assert_problem, call, unit
from grassroots.devices.models_fleet import DeviceStatus
from grassroots.live import actions as live
from grassroots.live.models import LiveSession

from .factories import DeviceFactory

pytestmark = pytest.mark.django_db
SEVEN = vn(1, 7)


def ip_device(code):
    st = station(code)
    return DeviceFactory(unit=st.unit, station=st)


def report(device, playing, online=True):
    """The state a real agent reports (grassroots_protocol.State), as the gateway stores it."""
    DeviceStatus.objects.update_or_create(
        device=device,
        defaults={
            "online": online,
            "last_seen": timezone.now(),
            "state": {"online": online, "device": str(device.pk), "playing": playing},
        },
    )


def items_of(device):
    manifests.compile_devices([device.pk], force=True)
    body = json.loads(device.manifest.body)
    return body["payload"]["items"]


def listen(client, user, device):
    return call(client, "get", f"/api/v1/devices/{device.pk}/listen", user=user)


def test_a_scheduled_file_is_heard_from_where_the_device_is(client, users, tmp_path):
    dev = ip_device(COMMUNE_A)
    with time_machine.travel(SEVEN - datetime.timedelta(hours=1), tick=False):
        body = schedule_body(COMMUNE_A, title="Bản tin sáng", starts_at=SEVEN.isoformat())
        created = call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
        assert created.status_code == 201, created.content
        (item,) = [i for i in items_of(dev) if i["kind"] == "media"]
    sha = store_media(COMMUNE_A)[0]["sha256"]
    (media,) = item["media"]
    assert media["sha256"] == sha
    file = Path(settings.MEDIA_ROOT) / media["url"].removeprefix(settings.MEDIA_URL)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(b"OggS" + b"\0" * 2000)
    since = SEVEN + datetime.timedelta(seconds=3)  # the agent started it 3 s into its slot
    report(
        dev,
        {"item_id": item["id"], "kind": "media", "origin": "schedule", "since": since.isoformat()},
    )
    with time_machine.travel(SEVEN + datetime.timedelta(minutes=2), tick=False):
        for who in ("viewer", "admin", "operator"):  # the province (upper level) and the commune
            answer = listen(client, users[who], dev)
            assert answer.status_code == 200, answer.content
            data = answer.json()
            assert data["state"] == "file", data
            assert data["url"] == media["url"] and data["title"] == "Bản tin sáng"
            assert data["offset_seconds"] == pytest.approx(117.0)
            assert data["priority"] == "normal"
    # the officer's browser may fetch that file (ranges, to start at the offset)
    client.force_login(users["viewer"])
    got = client.get(data["url"], HTTP_RANGE="bytes=100-")
    assert got.status_code == 206 and got.content == (b"OggS" + b"\0" * 2000)[100:]
    # another commune's officer neither sees the device nor fetches the file
    assert_problem(listen(client, users["operator2"], dev), 404)
    client.force_login(users["operator2"])
    assert client.get(data["url"]).status_code == 404
    # past the item's files (300 s): nothing left to hear
    with time_machine.travel(SEVEN + datetime.timedelta(minutes=6), tick=False):
        assert listen(client, users["admin"], dev).json()["state"] == "idle"


def test_a_running_live_session_is_heard_on_its_mount(client, users, settings):
    settings.ICECAST_URL = settings.ICECAST_SOURCE_URL = "http://127.0.0.1:18832"
    dev = ip_device(COMMUNE_A)
    with time_machine.travel(SEVEN, tick=False):
        session = live.start(
            user=users["admin"], unit_codes=[COMMUNE_A, COMMUNE_B], title="Chống bão"
        )
        live.went_on_air(session.pk)
    report(dev, {"item_id": session.live_id, "kind": "live", "origin": "live"})
    data = listen(client, users["operator"], dev).json()
    assert data["state"] == "live" and data["title"] == "Chống bão"
    mount, _, query = data["url"].removeprefix(settings.ICECAST_URL).partition("?")
    assert mount == session.mount
    # the commune's officer does not see the session (its unit is the province) but hears it
    # through the device they see: the ticket names the device
    assert not LiveSession.objects.restrict(users["operator"], "broadcast.view").exists()
    assert live.listener_allowed(mount=f"{mount}?{query}")
    # a ticket naming a device outside the session's area lets no one in
    other = ip_device(COMMUNE_B)
    ticket = live.listen_token(users["operator2"], session, device=other)
    assert live.listener_allowed(mount=f"{mount}?listen={ticket}")  # B is in the area
    ticket = live.listen_token(users["operator2"], session, device=dev)  # not their device
    assert not live.listener_allowed(mount=f"{mount}?listen={ticket}")
    live.end(session, "stopped")
    assert listen(client, users["operator"], dev).json()["state"] == "unknown"


def test_relays_idle_and_offline_devices_say_what_they_do(client, users):
    dev = ip_device(COMMUNE_A)
    RelaySource.objects.create(unit=unit("33"), name="VOV1", url="https://stream.example/vov1.ogg")
    with time_machine.travel(SEVEN - datetime.timedelta(hours=1), tick=False):
        for kind_relay in (
            {"type": "stream", "url": "https://stream.example/vov1.ogg"},
            {"type": "fm", "frequency": 100.5},
        ):
            start = SEVEN if kind_relay["type"] == "stream" else SEVEN + datetime.timedelta(hours=1)
            body = schedule_body(
                COMMUNE_A,
                title=f"Tiếp sóng {kind_relay['type']}",
                kind="relay",
                starts_at=start.isoformat(),
                media=[],
                relay=kind_relay,
            )
            created = call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
            assert created.status_code == 201, created.content
        relays = {i["relay"]["type"]: i for i in items_of(dev) if i["kind"] == "relay"}
    report(dev, {"item_id": relays["stream"]["id"], "kind": "relay", "origin": "schedule"})
    data = listen(client, users["admin"], dev).json()
    assert data["state"] == "stream" and data["url"] == "https://stream.example/vov1.ogg"
    report(dev, {"item_id": relays["fm"]["id"], "kind": "relay", "origin": "schedule"})
    data = listen(client, users["admin"], dev).json()
    assert data["state"] == "fm" and not data["url"] and "FM 100.5 MHz" in data["message"]
    report(dev, None)
    assert listen(client, users["admin"], dev).json()["state"] == "idle"
    report(dev, None, online=False)
    data = listen(client, users["admin"], dev).json()
    assert data["state"] == "offline" and "mất kết nối" in data["message"]
