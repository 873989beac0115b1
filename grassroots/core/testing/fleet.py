"""What the end-to-end tests with real agents share: a private Mosquitto with the ACL the
platform writes and the gateway in a thread, live delivery (a private Icecast and the live
relay), devices enrolled through the real API, and small waits on what agents do."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def wait_until(cond: Callable[[], object], timeout: float = 40, what: str = "") -> None:
    """Poll `cond` every 0.1 s until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def wav_seconds(directory: Path) -> float:
    """Seconds of decoded audio (16 kHz mono s16 WAV) an agent's `record` backend wrote."""
    files = list(directory.glob("*.wav")) if directory.exists() else []
    return sum(max(0, f.stat().st_size - 44) for f in files) / 32000


@contextlib.contextmanager
def private_gateway(tmp_path: Path, settings) -> Iterator[int]:
    """A private Mosquitto (authentication on, the platform's password file and ACL) and the
    gateway running in a thread, `settings.MQTT_URL` pointing at it. Yields the broker's port;
    stops both on exit."""
    from grassroots.core import broker
    from grassroots.core.gateway import Gateway, discover

    port = broker.free_port()
    conf = broker.write_config(tmp_path, port, auth=True)
    mosquitto = subprocess.Popen([broker.mosquitto_binary(), "-c", str(conf)])
    settings.MQTT_URL = (
        f"mqtt://{broker.SERVER_USER}:{broker.server_password(tmp_path)}@127.0.0.1:{port}"
    )
    gateway = Gateway(settings.MQTT_URL)
    loop = asyncio.new_event_loop()
    discover()
    thread = threading.Thread(target=loop.run_until_complete, args=(gateway.run(),), daemon=True)
    try:
        thread.start()
        yield port
    finally:
        loop.call_soon_threadsafe(gateway.stop)
        thread.join(10)
        mosquitto.terminate()
        mosquitto.wait(5)


@contextlib.contextmanager
def live_stack(base_url: str, home: Path, settings) -> Iterator[str]:
    """Live delivery as `grassroots run` starts it: a private Icecast that asks the platform at
    `base_url` about every listener, and the live relay in a thread. Settings point at them
    (`ICECAST_URL` and `ICECAST_SOURCE_URL`; `GRASSROOTS["HOME"]` is `home`, where the relay
    reads the sources), tasks run at once (an archived recording is processed right away)
    and a source silent for 2 s ends its session. Yields Icecast's URL; stops the relay, then
    Icecast."""
    from grassroots.core import icecast
    from grassroots.core.testing.icecast import start_icecast
    from grassroots.live.relay import LiveRelay

    assert icecast.icecast_binary(), "icecast2 is not installed: run `make test`"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": home}
    settings.LIVE_SOURCE_TIMEOUT = 2.0
    ice, port = start_icecast(home, f"{base_url}/api/v1/live/icecast/listener")
    settings.ICECAST_URL = settings.ICECAST_SOURCE_URL = f"http://127.0.0.1:{port}"
    stop_relay = threading.Event()
    relay = threading.Thread(target=LiveRelay().run, args=(stop_relay,), daemon=True)
    try:
        relay.start()
        yield settings.ICECAST_URL
    finally:
        stop_relay.set()
        relay.join(15)
        ice.terminate()
        ice.wait(5)


def enrol_speaker(client, admin, unit_code: str, *, name: str, serial: str):
    """A loudspeaker cluster created in `unit_code`, authorised by `admin` and enrolled through
    the API as a new controller would. Returns (device, the agent's DeviceSpec, the enrolment
    answer: trusted keys, units, MQTT credentials)."""
    from grassroots.core.testing import call
    from grassroots.devices.models import Device
    from grassroots.units.models import Unit
    from grassroots_agent.simulate import DeviceSpec

    device = Device.objects.create(
        kind="speaker",
        unit=Unit.objects.get(code=unit_code, valid_to__isnull=True),
        name=name,
        serial=serial,
        technology="ip_4g",
    )
    code = call(client, "post", f"/api/v1/devices/{device.pk}/authorise", user=admin).json()
    config = client.post(
        "/api/v1/devices/enrol",
        data=json.dumps({"code": code["enrolment_code"]}),
        content_type="application/json",
    ).json()
    spec = DeviceSpec(
        id=str(config["device_id"]),
        units=list(reversed(config["units"])),
        username=config["mqtt_username"],
        password=config["mqtt_password"],
        token=config["token"],
    )
    return device, spec, config
