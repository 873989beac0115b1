"""Provisioning to play, end to end: console API → enrolment → real Mosquitto with the ACL the
platform writes → gateway → a real agent (null audio) → emergency `play.now` → ack stored and the
agent plays the TTS audio it downloaded (with its device token, hash-checked)."""

import json
import subprocess
import threading
import time

import pytest

from grassroots.core import broker

pytestmark = [pytest.mark.mqtt]


def _wait(cond, timeout=30, what=""):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_provisioning_to_play(live_demo, tmp_path, settings, client):
    import asyncio

    from grassroots.accounts.models import User
    from grassroots.alerts.models import EmergencyAck
    from grassroots.core.gateway import Gateway, discover
    from grassroots.core.testing import COMMUNE_A, call, unit
    from grassroots.devices.models import Device
    from grassroots.devices.models_fleet import DeviceStatus
    from grassroots_agent.simulate import DeviceSpec, Fleet, FleetOptions

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}
    port = broker.free_port()
    conf = broker.write_config(tmp_path, port, auth=True)
    mosquitto = subprocess.Popen([broker.mosquitto_binary(), "-c", str(conf)])
    settings.MQTT_URL = (
        f"mqtt://{broker.SERVER_USER}:{broker.server_password(tmp_path)}@127.0.0.1:{port}"
    )
    gateway = Gateway(settings.MQTT_URL)
    loop = asyncio.new_event_loop()
    discover()
    gw_thread = threading.Thread(target=loop.run_until_complete, args=(gateway.run(),), daemon=True)
    fleet = None
    try:
        time.sleep(0.4)
        gw_thread.start()
        admin = User.objects.get(username="admin")
        device = Device.objects.create(
            kind="speaker",
            unit=unit(COMMUNE_A),
            name="Cụm loa thôn 2",
            serial="E2E-1",
            technology="ip_4g",
        )
        code = call(client, "post", f"/api/v1/devices/{device.pk}/authorise", user=admin).json()
        config = client.post(
            "/api/v1/devices/enrol",
            data=json.dumps({"code": code["enrolment_code"]}),
            content_type="application/json",
        ).json()
        assert broker.sync(tmp_path)  # on_commit already did; the broker knows dev-<id> now
        time.sleep(0.3)

        spec = DeviceSpec(
            id=str(config["device_id"]),
            units=list(reversed(config["units"])),
            username=config["mqtt_username"],
            password=config["mqtt_password"],
            token=config["token"],
        )
        opts = FleetOptions(
            broker_url=f"mqtt://127.0.0.1:{port}",
            server_url=live_demo.url,
            keys=config["trusted_keys"],
            state_dir=str(tmp_path / "agent"),
            timeline=True,
            connect_spread=0,
        )
        fleet = Fleet([spec], opts).start()
        _wait(lambda: fleet.connected() == 1, what="agent login")
        _wait(
            lambda: DeviceStatus.objects.filter(device=device, online=True).exists(),
            what="online state through the gateway",
        )

        operator = User.objects.get(username="operator")
        response = call(
            client,
            "post",
            "/api/v1/emergencies",
            user=operator,
            body={
                "units": [COMMUNE_A],
                "title": "Cảnh báo",
                "text": "Đê sông Luộc có nguy cơ tràn.",
                "repeat": 1,
                "expires_in_minutes": 10,
            },
        )
        assert response.status_code == 201, response.content
        emergency_id = response.json()["id"]
        _wait(
            lambda: EmergencyAck.objects.filter(emergency_id=emergency_id, device=device).exists(),
            what="ack",
        )
        timeline = tmp_path / "agent" / spec.id / "timeline.jsonl"

        def played():
            if not timeline.exists():
                return False
            events = [json.loads(line) for line in timeline.read_text().splitlines()]
            return any(e.get("event") == "start" for e in events)

        _wait(played, what="the agent playing the emergency audio")
    finally:
        if fleet is not None:
            fleet.stop()
        loop.call_soon_threadsafe(gateway.stop)
        gw_thread.join(10)
        mosquitto.terminate()
        mosquitto.wait(5)
