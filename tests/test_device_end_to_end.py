"""Provisioning to play, end to end: console API → enrolment → real Mosquitto with the ACL the
platform writes → gateway → a real agent (null audio) → emergency `play.now` → ack stored and the
agent plays the TTS audio it downloaded (with its device token, hash-checked)."""

import json
import time

import pytest

from grassroots.core import broker
from grassroots.core.testing.fleet import wait_until

pytestmark = [pytest.mark.mqtt]


def test_provisioning_to_play(live_demo, tmp_path, settings, client):
    from grassroots.accounts.models import User
    from grassroots.alerts.models import EmergencyAck
    from grassroots.core.testing import COMMUNE_A, call
    from grassroots.core.testing.fleet import enrol_speaker, private_gateway
    from grassroots.devices.models_fleet import DeviceStatus
    from grassroots_agent.simulate import Fleet, FleetOptions

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}
    with private_gateway(tmp_path, settings) as port:
        fleet = None
        try:
            admin = User.objects.get(username="admin")
            device, spec, config = enrol_speaker(
                client, admin, COMMUNE_A, name="Cụm loa thôn 2", serial="E2E-1"
            )
            assert broker.sync(tmp_path)  # on_commit already did; the broker knows dev-<id> now
            time.sleep(0.3)

            opts = FleetOptions(
                broker_url=f"mqtt://127.0.0.1:{port}",
                server_url=live_demo.url,
                keys=config["trusted_keys"],
                state_dir=str(tmp_path / "agent"),
                timeline=True,
                connect_spread=0,
            )
            fleet = Fleet([spec], opts).start()
            wait_until(lambda: fleet.connected() == 1, timeout=30, what="agent login")
            wait_until(
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
            wait_until(
                lambda: EmergencyAck.objects.filter(
                    emergency_id=emergency_id, device=device
                ).exists(),
                what="ack",
            )
            timeline = tmp_path / "agent" / spec.id / "timeline.jsonl"

            def played():
                if not timeline.exists():
                    return False
                events = [json.loads(line) for line in timeline.read_text().splitlines()]
                return any(e.get("event") == "start" for e in events)

            wait_until(played, what="the agent playing the emergency audio")
        finally:
            if fleet is not None:
                fleet.stop()
