"""Killing the gateway loses no device message (issue 14, finding 3).

Real pieces: a private Mosquitto with the platform's logins and ACL, the real `grassroots
gateway` process (on the test database), and devices publishing QoS 1 events with their own
logins. The gateway is killed with SIGKILL at random moments and started again; every event
the broker accepted (PUBACKed to its device) must end up stored, once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from grassroots.core import broker

from .publisher import TelemetryPublisher

pytestmark = [pytest.mark.mqtt]


def _database_url() -> str:
    """The test database, as a child process reaches it."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}" if s.get("PASSWORD") else user
    return f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_gateway_killed_at_random_loses_no_device_message(tmp_path, settings):
    from grassroots.accounts.demo import load_demo
    from grassroots.devices import simulation
    from grassroots.devices.models_fleet import DeviceEvent

    load_demo()
    home = tmp_path / "home"
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": home}
    specs = simulation.ensure_fleet(8)
    port = broker.free_port()
    conf = broker.write_config(home, port, auth=True)
    broker.sync(home)
    mosquitto = subprocess.Popen(
        [broker.mosquitto_binary(), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = dict(
        os.environ,
        GRASSROOTS_HOME=str(home),
        DATABASE_URL=_database_url(),
        MQTT_URL=f"mqtt://{broker.SERVER_USER}:{broker.server_password(home)}@127.0.0.1:{port}",
    )
    log = (tmp_path / "gateway.log").open("ab")

    def gateway() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "grassroots", "gateway"], env=env, stdout=log, stderr=log
        )

    gw = gateway()
    devices: list[TelemetryPublisher] = []
    rng = random.Random(12)
    kills = 0
    try:
        # the gateway's session starts with its first connection; from then on the broker
        # keeps what arrives for it
        deadline = time.monotonic() + 60
        while b"gateway connected" not in (tmp_path / "gateway.log").read_bytes():
            assert time.monotonic() < deadline, "the gateway did not connect"
            time.sleep(0.1)
        devices = [
            TelemetryPublisher(s["id"], s["password"], port, 0.05) for s in specs
        ]  # 160 events/s in all
        for d in devices:
            d.start()
        # kill the gateway at random moments while events flow, and start it again
        for _ in range(4):
            time.sleep(rng.uniform(0.8, 2.5))
            gw.send_signal(signal.SIGKILL)
            gw.wait(5)
            kills += 1
            time.sleep(rng.uniform(0.1, 1.0))  # events keep coming while it is down
            gw = gateway()
        time.sleep(1.5)
        for d in devices:
            d.finish()
        accepted = set().union(*(d.accepted for d in devices))
        assert len(accepted) > 500, "the devices could not publish"
        stored: set[str] = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stored = set(
                DeviceEvent.objects.filter(type="telemetry").values_list("event_id", flat=True)
            )
            if accepted <= stored:
                break
            time.sleep(0.3)
        lost = accepted - stored
        assert not lost, (
            f"{len(lost)} of {len(accepted)} accepted events were lost over {kills} kills"
        )
        assert DeviceEvent.objects.filter(type="telemetry").count() == len(stored)  # once each
    finally:
        for d in devices:
            d.halt.set()
        gw.terminate()
        gw.wait(10)
        mosquitto.terminate()
        mosquitto.wait(5)
