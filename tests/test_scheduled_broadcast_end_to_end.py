"""A commune's scheduled broadcast really airs, end to end (issue 12).

Real pieces only: the web server (live server), a private Mosquitto with the ACL the platform
writes (and its websockets listener for boards), the real gateway, real `grassroots-agent`
processes (null audio backend: it writes what it would play, and when, to a timeline file) and
a real Chromium running the e-board player. Agents whose clocks are wrong run under libfaketime,
so their own clocks really are wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from grassroots.broadcast import manifests
from grassroots.core.testing import COMMUNE_A, call, unit
from grassroots.signage.tests.test_board_browser import pair, title_is

pytestmark = [pytest.mark.mqtt, pytest.mark.browser]

FAKETIME = shutil.which("faketime")


def _wait(cond, timeout=30.0, what="condition", interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


class AgentProcess:
    """`grassroots-agent` enrolled with a one-time code and run as its own process."""

    def __init__(self, root: Path, *, server: str, code: str, clock_offset: str | None = None):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.config = root / "agent.toml"
        self.timeline = root / "timeline.jsonl"
        self.log = root / "agent.log"
        enrol = subprocess.run(
            [
                sys.executable,
                "-m",
                "grassroots_agent",
                "--enrol",
                code,
                "--server",
                server,
                "--config",
                str(self.config),
                "--cache-dir",
                str(root / "state"),
                "--audio",
                "null",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert enrol.returncode == 0, enrol.stderr
        text = self.config.read_text().replace(
            'backend = "null"\n\n[tuner]',
            f'backend = "null"\ntimeline = "{self.timeline}"\n\n[tuner]',
        )
        self.config.write_text(text)
        command = [sys.executable, "-m", "grassroots_agent", "-c", str(self.config)]
        env = dict(os.environ)
        if clock_offset:
            assert FAKETIME, "faketime is not installed: run `make test` (it installs it)"
            command = [FAKETIME, "-f", clock_offset, *command]
            env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        # its own process group: faketime runs the agent as its child, and both must stop
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
            env=env,
            start_new_session=True,
        )

    def events(self) -> list[dict]:
        if not self.timeline.exists():
            return []
        return [json.loads(line) for line in self.timeline.read_text().splitlines() if line]

    def started(self, item_prefix: str) -> dict | None:
        for e in self.events():
            if e["event"] == "start" and e["item"].startswith(item_prefix):
                return e
        return None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


@pytest.fixture
def agents(tmp_path):
    started: list[AgentProcess] = []

    def start(device, server: str, **kw) -> AgentProcess:
        from grassroots.accounts.models import User
        from grassroots.devices import provisioning

        admin = User.objects.get(username="admin")
        _cred, code = provisioning.authorise(user=admin, device=device)
        agent = AgentProcess(tmp_path / f"agent-{device.pk}", server=server, code=code, **kw)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


def _speaker(name: str, code: str = COMMUNE_A):
    from grassroots.broadcast.actions import ensure_station
    from grassroots.devices.models import Device

    u = unit(code)
    return Device.objects.create(
        kind="speaker",
        unit=u,
        station=ensure_station(u),
        name=name,
        serial=f"E2E-{name}",
        technology="ip_4g",
    )


def _online(device, timeout=30):
    from grassroots.devices.models_fleet import DeviceStatus

    _wait(
        lambda: DeviceStatus.objects.filter(device=device, online=True).exists(),
        timeout,
        f"{device.name} online through the gateway",
    )


def _lateness(start_event: dict, slot: datetime) -> float:
    t = datetime.fromisoformat(start_event["t"].replace("Z", "+00:00"))
    return (t - slot).total_seconds()


def test_a_scheduled_bulletin_and_a_relay_air_on_the_commune(
    live_demo, ws_broker, agents, context, client, settings
):
    from grassroots.accounts.models import User
    from grassroots.broadcast.models import AsRunEntry, Proposal

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    users = {u.username: u for u in User.objects.all()}
    device = _speaker("Cụm loa khu phố 1")
    agent = agents(device, live_demo.url)
    _online(device)
    board_page, _board = pair(context, live_demo.url, COMMUNE_A)

    # The province writes, approves and publishes a must-air bulletin for the commune.
    body = {
        "unit_code": "33",
        "title": "Lịch tiêm vắc xin sởi",
        "body": "<p>Trạm y tế tiêm vắc xin sởi sáng thứ Bảy.</p>",
        "priority": "priority",
        "targets": [COMMUNE_A],
    }
    bulletin = call(client, "post", "/api/v1/bulletins", user=users["editor"], body=body).json()
    url = f"/api/v1/bulletins/{bulletin['id']}"
    assert call(client, "post", f"{url}/submit", user=users["editor"]).status_code == 200
    assert call(client, "post", f"{url}/approve", user=users["approver"]).status_code == 200
    assert call(client, "post", f"{url}/publish", user=users["approver"]).status_code == 200

    # The shared bulletin is on the commune's board at once (must-show).
    title_is(board_page, "Lịch tiêm vắc xin sởi", timeout=20000)

    # The commune's operator places the province's proposal a few seconds ahead.
    proposal = Proposal.objects.get(station__unit__code=COMMUNE_A)
    slot = (timezone.now() + timedelta(seconds=8)).replace(microsecond=0)
    placed = call(
        client,
        "post",
        f"/api/v1/proposals/{proposal.pk}/place",
        user=users["operator"],
        body={"starts_at": slot.isoformat()},
    )
    assert placed.status_code == 201, placed.content
    item_id = placed.json()["id"]
    manifests.compile_dirty()  # what the worker does every few seconds
    start = _wait(lambda: agent.started(f"s{item_id}-"), 30, "the agent starting the bulletin")
    late = _lateness(start, slot)
    assert -0.5 < late < 1.0, f"started {late:.3f} s after the slot"
    aired = _wait(
        lambda: AsRunEntry.objects.filter(device=device, item_id=item_id, status="played").first(),
        60,
        "the as-run entry through the gateway",
    )
    assert aired.scheduled_start == slot
    client.force_login(users["approver"])
    report = client.get(f"/dai-truyen-thanh/bao-cao-phat/?ban_tin={bulletin['id']}")
    html = report.content.decode()
    assert f'data-unit="{COMMUNE_A}"' in html and 'data-state="aired"' in html, html

    # A stream relay of the provincial radio (a source the province allows), placed by the
    # commune a few seconds ahead.
    from grassroots.broadcast.models import RelaySource

    stream = "http://127.0.0.1:9/hung-yen.ogg"
    RelaySource.objects.create(unit=unit("33"), name="Đài PT-TH Hưng Yên", url=stream)
    relay_slot = (timezone.now() + timedelta(seconds=6)).replace(microsecond=0)
    relay = {
        "unit": COMMUNE_A,
        "title": "Tiếp sóng Đài tỉnh",
        "kind": "relay",
        "priority": "normal",
        "starts_at": relay_slot.isoformat(),
        "duration_seconds": 4,
        "relay": {"type": "stream", "url": stream},
    }
    answer = call(client, "post", "/api/v1/schedules", user=users["operator"], body=relay)
    assert answer.status_code == 201, answer.content
    relay_id = answer.json()["id"]
    manifests.compile_dirty()
    start = _wait(lambda: agent.started(f"s{relay_id}-"), 30, "the agent starting the relay")
    late = _lateness(start, relay_slot)
    assert -0.5 < late < 1.0, f"relay started {late:.3f} s after the slot"
    _wait(
        lambda: AsRunEntry.objects.filter(device=device, item_id=relay_id).exists(),
        30,
        "the relay's as-run entry",
    )
    client.force_login(users["operator"])
    station = device.station
    day = timezone.localdate().isoformat()
    page = client.get(f"/dai-truyen-thanh/{station.pk}/?ngay={day}").content.decode()
    assert "Tiếp sóng Đài tỉnh" in page and 'data-state="aired"' in page


def test_agents_with_wrong_clocks_play_an_emergency(live_demo, ws_broker, agents, client, settings):
    """One agent with a right clock, one 3 hours behind, one 7 hours ahead (libfaketime): all
    three play the emergency, and the delivery page counts three real acceptances."""
    from grassroots.accounts.models import User
    from grassroots.alerts.models import EmergencyAck

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    users = {u.username: u for u in User.objects.all()}
    clocks = {"đúng giờ": None, "chậm 3 giờ": "-3h", "nhanh 7 giờ": "+7h"}
    running = []
    for label, offset in clocks.items():
        device = _speaker(f"Cụm loa {label}")
        running.append((device, agents(device, live_demo.url, clock_offset=offset)))
    for device, _agent in running:
        _online(device)
    body = {
        "units": [COMMUNE_A],
        "title": "Cảnh báo lũ",
        "text": "Nước sông Hồng lên nhanh.",
        "repeat": 1,
        "expires_in_minutes": 10,
    }
    created = call(client, "post", "/api/v1/emergencies", user=users["operator"], body=body)
    assert created.status_code == 201, created.content
    emergency = created.json()
    from grassroots.alerts.models import Emergency

    command_id = Emergency.objects.get(pk=emergency["id"]).command_id
    for device, agent in running:
        _wait(lambda a=agent: a.started(command_id), 30, f"{device.name} playing the emergency")
    _wait(
        lambda: EmergencyAck.objects.filter(emergency_id=emergency["id"], status="ok").count() == 3,
        30,
        "three acceptances",
    )
    detail = call(client, "get", f"/api/v1/emergencies/{emergency['id']}", user=users["operator"])
    assert (detail.json()["acked"], detail.json()["refused"]) == (3, 0)
    # the fleet shows which clocks are wrong
    from grassroots.devices.models_fleet import DeviceEvent

    for device, _agent in running[1:]:
        _wait(
            lambda d=device: DeviceEvent.objects.filter(
                device=d, type="fault", payload__code="clock"
            ).exists(),
            30,
            f"{device.name}'s clock fault",
        )
    rows = {
        r["name"]: r
        for r in call(client, "get", "/api/v1/devices/fleet/status", user=users["operator"]).json()
    }
    _wait(
        lambda: all(
            r.get("clock_note")
            for r in call(
                client, "get", "/api/v1/devices/fleet/status", user=users["operator"]
            ).json()
            if r["name"] != "Cụm loa đúng giờ" and r["name"].startswith("Cụm loa ")
        ),
        20,
        "clock notes in the fleet",
    )
    rows = {
        r["name"]: r
        for r in call(client, "get", "/api/v1/devices/fleet/status", user=users["operator"]).json()
    }
    assert rows["Cụm loa chậm 3 giờ"]["clock_note"].startswith("Đồng hồ thiết bị chậm 3 giờ")
    assert rows["Cụm loa nhanh 7 giờ"]["clock_note"].startswith("Đồng hồ thiết bị nhanh 7 giờ")
    assert rows["Cụm loa đúng giờ"]["clock_note"] is None
