"""A CAP alert goes on the air end to end (issue 18).

Real pieces only: the live web server, a private Mosquitto with the platform's ACL, the real
gateway, a real `grassroots-agent` process (null audio backend, writing what it plays to a
timeline) and a real Chromium running the e-board player. A Vietnamese flood warning by geocode
is POSTed as CAP 1.2; the agent plays it (TTS audio) and acks it through the gateway, the
board shows it as its emergency overlay; the CAP Cancel stops it on both.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from grassroots.alerts.cap.export import cap_time
from grassroots.core.testing import COMMUNE_A, token_for
from grassroots.signage.tests.test_board_browser import pair
from tests.test_scheduled_broadcast_end_to_end import _online, _speaker, _wait, agents  # noqa: F401

pytestmark = [pytest.mark.mqtt, pytest.mark.browser]
CAP = Path(__file__).resolve().parent.parent / "grassroots/alerts/tests/cap"


def _flood(sent, expires) -> bytes:
    """The flood warning file, sent a minute ago and valid ten minutes more."""
    data = (CAP / "vn-flood-warning-geocode.xml").read_text()
    data = data.replace("2026-11-29T08:00:00+07:00", cap_time(sent))
    return data.replace("2026-11-29T20:00:00+07:00", cap_time(expires)).encode()


def _cancel(sent, referenced_sent) -> bytes:
    data = (CAP / "vn-flood-cancel.xml").read_text()
    data = data.replace("2026-11-29T11:30:00+07:00", cap_time(sent))
    return data.replace("2026-11-29T08:00:00+07:00", cap_time(referenced_sent)).encode()


def test_a_cap_flood_warning_is_played_by_an_agent_and_shown_on_a_board(
    live_demo,
    ws_broker,
    agents,  # noqa: F811 - the fixture imported above
    context,
    client,
    settings,
):
    from grassroots.accounts.models import User
    from grassroots.alerts.cap.ingest import province
    from grassroots.alerts.models import CapSender, Emergency, EmergencyAck, EmergencyStatus

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    admin = User.objects.get(username="admin")
    CapSender.objects.create(
        unit=province(), sender="canhbao@nchmf.gov.vn", name="KTTV", trusted=True, repeat=1
    )
    device = _speaker("Cụm loa CAP")
    agent = agents(device, live_demo.url)
    _online(device)
    board, _ = pair(context, live_demo.url, COMMUNE_A)
    board.wait_for_function("() => window.__board.mqttConnected === true", timeout=15000)

    sent = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(admin)}"}
    answer = client.post(
        "/api/v1/alerts/cap",
        _flood(sent, sent + timedelta(minutes=11)),
        content_type="application/cap+xml",
        **auth,
    )
    assert answer.status_code == 201 and answer.json()["state"] == "on_air", answer.content
    emergency = Emergency.objects.get(pk=answer.json()["emergency_id"])
    assert emergency.status == EmergencyStatus.ACTIVE and emergency.media
    played = _wait(lambda: agent.started(emergency.command_id), 30, "the agent playing the alert")
    assert played["item"].startswith(emergency.command_id)
    _wait(
        lambda: EmergencyAck.objects.filter(emergency=emergency, device=device, status="ok"),
        30,
        "the agent's ack through the gateway",
    )
    board.wait_for_selector("#emergency", state="visible", timeout=10000)
    assert "Cảnh báo lũ khẩn cấp trên sông Luộc" in board.inner_text("#emergency")

    cancel = client.post(
        "/api/v1/alerts/cap",
        _cancel(timezone.now().replace(microsecond=0), sent),
        content_type="application/cap+xml",
        **auth,
    )
    assert cancel.status_code == 201 and "1 lần phát đã dừng" in cancel.json()["reason"]
    board.wait_for_selector("#emergency", state="hidden", timeout=10000)
    # the agent cut the alert short (a natural end would be "end")
    cut = _wait(
        lambda: [
            e
            for e in agent.events()
            if e["event"] != "start" and e["item"].startswith(emergency.command_id)
        ],
        30,
        "the agent stopping it",
    )
    assert cut[0]["event"] == "cut", cut
