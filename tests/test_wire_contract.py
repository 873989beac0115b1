"""Contract tests across the seam: what the real server code produces is read by the real agent
code, and what the real agent produces is stored by the real gateway handlers.

Neither side builds its own picture of a message here. A change on one side that the other
cannot read fails one of these tests (architecture.md, "Device protocol").
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from grassroots.alerts.models import Emergency, EmergencyAck
from grassroots.broadcast import manifests
from grassroots.broadcast.models import AsRunEntry
from grassroots.broadcast.tests.factories import station, vn
from grassroots.broadcast.tests.test_content_bridge import audio_for
from grassroots.content.tests.conftest import make_bulletin
from grassroots.core import signing
from grassroots.core.gateway import dispatch
from grassroots.core.models import OutboxMessage
from grassroots.core.testing import COMMUNE_A, call
from grassroots.devices.models import Device
from grassroots.devices.models_fleet import DeviceEvent, DeviceStatus
from grassroots_agent.agent import Agent
from grassroots_agent.config import AgentConfig, MqttSettings
from grassroots_agent.manifest import verify
from grassroots_agent.signing import load_public_key
from grassroots_protocol import messages as wire

pytestmark = pytest.mark.django_db
NOW = vn(1, 5)


def trusted_keys() -> dict:
    return {k["kid"]: load_public_key(k["public_key"]) for k in signing.published_keys()}


def speaker(code: str = COMMUNE_A) -> Device:
    st = station(code)
    return Device.objects.create(
        kind="speaker",
        unit=st.unit,
        station=st,
        name="Cụm loa thôn 1",
        serial=f"C-{Device.objects.count() + 1}",
        technology="ip_4g",
    )


class Recorder:
    """The agent's real MQTT output (topic, bytes), captured where it leaves the agent."""

    def __init__(self, agent: Agent) -> None:
        self.sent: list[tuple[str, bytes]] = []
        agent.link.publish = self.publish  # the broker is not the subject here

    def publish(self, topic, payload, qos=1, retain=False):
        self.sent.append((topic, payload))

    def of(self, suffix: str) -> list[tuple[str, bytes]]:
        return [m for m in self.sent if m[0].endswith(suffix)]


@pytest.fixture
def agent_for(tmp_path):
    """A real agent (not started: commands are handed to it as the network thread would)."""
    made: list[Agent] = []

    def make(device: Device, *, clock=None, token=None) -> tuple[Agent, Recorder]:
        units = [u.code for u in reversed(device.unit.ancestors(include_self=True))]
        cfg = AgentConfig(
            device_id=str(device.pk),
            units=units,
            mqtt=MqttSettings.from_url("mqtt://127.0.0.1:1"),
            server_url=None,
            token=token,
            keys={k["kid"]: k["public_key"] for k in signing.published_keys()},
            state_dir=tmp_path / f"agent-{device.pk}",
        )
        agent = Agent(cfg, clock=clock)
        made.append(agent)
        return agent, Recorder(agent)

    yield make
    for agent in made:
        agent._stopped = True
        agent.store.close()


def allow_stream(url: str) -> None:
    """The province lists a stream its communes may relay (only listed streams go on air)."""
    from grassroots.broadcast.models import RelaySource
    from grassroots.core.testing import unit

    RelaySource.objects.get_or_create(unit=unit("33"), url=url, defaults={"name": "VOV1"})


def test_a_compiled_manifest_with_every_item_kind_is_read_by_the_agent(users, client):
    device = speaker()
    allow_stream("https://stream.example/vov1.ogg")
    with time_machine.travel(NOW, tick=False):
        bulletin = make_bulletin(COMMUNE_A, status="published", title="Lịch tiêm phòng")
        audio_for(bulletin)
        rev = bulletin.approved_revision_id
        op = users["operator"]
        bodies = [
            {"title": "Bản tin", "kind": "bulletin", "revision": rev, "priority": "normal"},
            {"title": "Danh sách", "kind": "playlist", "playlist": [rev], "priority": "priority"},
            {
                "title": "Tiếp sóng FM",
                "kind": "relay",
                "relay": {"type": "fm", "frequency": 99.5},
                "priority": "normal",
            },
            {
                "title": "Tiếp sóng VOV1",
                "kind": "relay",
                "relay": {"type": "stream", "url": "https://stream.example/vov1.ogg"},
                "priority": "priority",
            },
        ]
        for hour, body in enumerate(bodies, start=6):
            body |= {
                "unit": COMMUNE_A,
                "starts_at": f"2026-12-01T{hour:02d}:30:00+07:00",
                "duration_seconds": 600,
            }
            answer = call(client, "post", "/api/v1/schedules", user=op, body=body)
            assert answer.status_code == 201, answer.content
        stored = manifests.manifest_for(device)
        parsed = verify(json.loads(stored.body), keys=trusted_keys(), device_id=str(device.pk))
    by_title = {i.title: i for i in parsed.items}
    assert set(by_title) == {b["title"] for b in bodies}
    assert by_title["Bản tin"].kind == "media" and by_title["Bản tin"].word == "normal"
    assert by_title["Danh sách"].word == "priority"
    assert by_title["Danh sách"].priority > by_title["Bản tin"].priority  # ranks by TT39 word
    assert by_title["Bản tin"].media[0].sha256 == "cd" * 32
    assert by_title["Tiếp sóng FM"].relay == {"type": "fm", "frequency": 99.5}
    assert by_title["Tiếp sóng VOV1"].relay["url"] == "https://stream.example/vov1.ogg"
    assert by_title["Bản tin"].start == vn(1, 6, 30)


def test_a_manifest_the_agent_cannot_read_names_the_field():
    """The bug this contract exists for: priorities as numbers on one side, words on the other."""
    from grassroots_agent.manifest import ManifestError

    body = {
        "type": "manifest",
        "device": "7",
        "unit": COMMUNE_A,
        "generated_at": "2026-12-01T05:00:00+07:00",
        "valid_until": "2026-12-03T05:00:00+07:00",
        "items": [
            {
                "id": "s1-x",
                "start": "2026-12-01T06:00:00+07:00",
                "end": "2026-12-01T06:10:00+07:00",
                "priority": 2,
                "kind": "relay",
                "relay": {"type": "fm", "frequency": 99.5},
            }
        ],
    }
    with pytest.raises(ManifestError) as caught:
        verify(signing.sign(body), keys=trusted_keys(), device_id="7")
    assert caught.value.code == "bad_manifest" and "items.0.priority" in caught.value.detail
    # and the server refuses to build such an item in the first place
    with pytest.raises(wire.ProtocolError, match="priority"):
        wire.parse_manifest_items(body["items"])


def test_an_emergency_play_now_is_taken_by_the_agent_and_its_ack_counts(
    users, client, settings, agent_for
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    device = speaker()
    DeviceStatus.objects.create(device=device, online=True)
    bulletin = make_bulletin(COMMUNE_A, status="published", title="Cảnh báo lũ")
    audio_for(bulletin)
    answer = call(
        client,
        "post",
        "/api/v1/emergencies",
        user=users["operator"],
        body={"units": [COMMUNE_A], "title": "Lũ", "bulletin_id": bulletin.pk},
    )
    assert answer.status_code == 201, answer.content
    emergency = Emergency.objects.get(pk=answer.json()["id"])
    (row,) = OutboxMessage.objects.filter(topic=f"grassroots/v1/unit/{COMMUNE_A}/cmd")
    agent, out = agent_for(device)
    assert agent.handle_message(row.topic, row.payload.encode()) == "ok"
    ((topic, raw),) = out.of("/events")
    assert wire.parse_event(raw).status == "ok"
    dispatch([(topic, raw)])
    assert EmergencyAck.objects.get(emergency=emergency, device=device).status == "ok"
    assert (
        call(client, "get", f"/api/v1/emergencies/{emergency.pk}", user=users["operator"]).json()[
            "acked"
        ]
        == 1
    )


def test_a_live_session_is_opened_by_the_agent_with_its_token_and_stopped(
    users, client, settings, agent_for
):
    """The server's signed live.start (with auth "device") and live.stop, read by the real agent:
    the stream is opened with the device token in the header Icecast's hook checks."""
    from grassroots.live import actions as live

    settings.ICECAST_URL = settings.ICECAST_SOURCE_URL = "http://127.0.0.1:18832"
    device = speaker()
    op = users["operator"]
    body = {"title": "Thông báo trực tiếp", "units": [COMMUNE_A]}
    answer = call(client, "post", "/api/v1/live", user=op, body=body)
    assert answer.status_code == 201, answer.content
    session = live.went_on_air(answer.json()["id"])
    agent, _ = agent_for(device, token="gd_contract")
    topic = f"grassroots/v1/unit/{COMMUNE_A}/cmd"

    (start,) = OutboxMessage.objects.filter(topic=topic)
    assert agent.handle_message(start.topic, start.payload.encode()) == "ok"
    agent.rt.net._run_deferred()  # the command's effect, as the network loop runs it
    job = agent.player.live
    assert job is not None and job.url == live.stream_url(session)
    assert job.headers == {wire.LIVE_TOKEN_HEADER: "gd_contract"}

    live.stop(user=op, session_id=session.pk)
    stop = OutboxMessage.objects.filter(topic=topic).exclude(pk=start.pk).get()
    assert agent.handle_message(stop.topic, stop.payload.encode()) == "ok"
    agent.rt.net._run_deferred()
    assert agent.player.live is None


@pytest.mark.parametrize(
    ("offset", "outcome"),
    [(timedelta(hours=-3), "ok"), (timedelta(hours=7), "ok"), (timedelta(0), "ok")],
)
def test_agents_with_wrong_clocks_take_an_emergency_and_report_their_clock(
    users, client, settings, agent_for, offset, outcome
):
    from grassroots_agent.clock import OffsetClock

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    device = speaker()
    bulletin = make_bulletin(COMMUNE_A, status="published", title="Cảnh báo")
    audio_for(bulletin)
    body = {"units": [COMMUNE_A], "title": "Lũ", "bulletin_id": bulletin.pk}
    answer = call(client, "post", "/api/v1/emergencies", user=users["operator"], body=body)
    assert answer.status_code == 201, answer.content
    (row,) = OutboxMessage.objects.filter(topic=f"grassroots/v1/unit/{COMMUNE_A}/cmd")
    agent, out = agent_for(device, clock=OffsetClock(offset))
    assert agent.handle_message(row.topic, row.payload.encode()) == outcome
    dispatch(out.of("/events"))
    assert EmergencyAck.objects.get(device=device).status == "ok"
    faults = list(DeviceEvent.objects.filter(device=device, type="fault"))
    if offset:
        (fault,) = faults
        assert fault.payload["code"] == "clock"
        assert abs(fault.payload["offset_s"] + offset.total_seconds()) < 5
    else:
        assert faults == []


def test_refusals_are_not_deliveries_and_a_resend_reaches_the_refuser(
    users, client, settings, agent_for
):
    """A device that refuses (here: a command signed by a key it does not trust is not even
    answered; an expired one is refused) is shown as refused with its reason, and "Gửi lại"
    sends it a freshly signed command whose ok replaces the refusal."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    device = speaker()
    DeviceStatus.objects.create(device=device, online=True)
    bulletin = make_bulletin(COMMUNE_A, status="published", title="Cảnh báo")
    audio_for(bulletin)
    body = {"units": [COMMUNE_A], "title": "Lũ", "bulletin_id": bulletin.pk}
    created = call(client, "post", "/api/v1/emergencies", user=users["operator"], body=body)
    emergency = Emergency.objects.get(pk=created.json()["id"])
    (row,) = OutboxMessage.objects.filter(topic=f"grassroots/v1/unit/{COMMUNE_A}/cmd")
    # the command reaches the device only after it expired (a broker held it an hour)
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        agent, out = agent_for(device)
        agent.clock.learn_http_date(  # the device knows the server's time
            timezone.now().strftime("%a, %d %b %Y %H:%M:%S GMT"),
            agent.clock.local(),
            agent.clock.local(),
        )
        assert agent.handle_message(row.topic, row.payload.encode()) == "expired"
    dispatch(out.of("/events"))
    ack = EmergencyAck.objects.get(emergency=emergency, device=device)
    assert (ack.status, ack.reason) == ("refused", "expired")
    detail = call(client, "get", f"/api/v1/emergencies/{emergency.pk}", user=users["operator"])
    detail = detail.json()
    assert (detail["acked"], detail["refused"]) == (0, 1)
    (unit,) = detail["delivery"]
    assert unit["refused"][0]["label"] == "Lệnh đã hết hạn khi đến thiết bị"
    page = client
    page.force_login(users["operator"])
    html = page.get(f"/khan-cap/{emergency.pk}/").content.decode()
    assert "Lệnh đã hết hạn khi đến thiết bị" in html and "1 thiết bị từ chối" in html
    # resend: a fresh command to the refuser, taken; its ok replaces the refusal
    assert call(
        client, "post", f"/api/v1/emergencies/{emergency.pk}/resend", user=users["operator"]
    ).json() == {"sent": 1}
    fresh = OutboxMessage.objects.get(topic=f"grassroots/v1/dev/{device.pk}/cmd")
    out.sent.clear()
    assert agent.handle_message(fresh.topic, fresh.payload.encode()) == "ok"
    dispatch(out.of("/events"))
    ack.refresh_from_db()
    assert (ack.status, ack.reason) == ("ok", "")
    # a late refusal (e.g. a duplicate) never replaces an ok
    late = wire.Ack(
        type="ack",
        id="late-1",
        cmd_id=emergency.command_id,
        status="refused",
        reason="replay",
    ).wire()
    dispatch([(f"grassroots/v1/dev/{device.pk}/events", json.dumps(late).encode())])
    ack.refresh_from_db()
    assert ack.status == "ok"


def test_the_agents_state_and_asrun_are_stored_by_the_gateway(users, client, agent_for):
    """The server's manifest (a relay slot) played by the agent's real player on a manual
    clock; the state it reports and the as-run entry it closes go through the real gateway."""
    from grassroots_agent.clock import ManualClock

    device = speaker()
    allow_stream("https://stream.example/vov1.ogg")
    with time_machine.travel(NOW, tick=False):
        relay = {
            "unit": COMMUNE_A,
            "title": "Tiếp sóng VOV1",
            "kind": "relay",
            "priority": "normal",
            "starts_at": "2026-12-01T06:00:00+07:00",
            "duration_seconds": 600,
            "relay": {"type": "stream", "url": "https://stream.example/vov1.ogg"},
        }
        answer = call(client, "post", "/api/v1/schedules", user=users["operator"], body=relay)
        assert answer.status_code == 201, answer.content
        stored = manifests.manifest_for(device)
    clock = ManualClock(vn(1, 5, 59))
    agent, out = agent_for(device, clock=clock)
    parsed = verify(json.loads(stored.body), keys=trusted_keys(), device_id=str(device.pk))
    agent.player.set_schedule(parsed.items)
    agent.link.connected = True  # as-run entries are published while connected
    clock.set(vn(1, 6, 0) + timedelta(seconds=1))
    agent.player.tick()
    state = json.dumps(agent.state()).encode()
    clock.set(vn(1, 6, 10))
    agent.player.tick()
    dispatch([(f"grassroots/v1/dev/{device.pk}/state", state)])
    status = DeviceStatus.objects.get(device=device)
    assert status.online and status.state["clock"]["source"] == "none"
    assert status.state["playing"]["title"] == "Tiếp sóng VOV1"
    dispatch(out.of("/events"))
    entry = AsRunEntry.objects.get(device=device)
    assert (entry.kind, entry.status, entry.item_id) == ("relay", "played", answer.json()["id"])
    assert entry.scheduled_start == vn(1, 6)
    assert (entry.started_at - entry.scheduled_start).total_seconds() == pytest.approx(1)


def test_published_schemas_are_the_protocols():
    from pathlib import Path

    from grassroots_protocol import schema

    folder = Path(__file__).resolve().parent.parent / "docs" / "protocol"
    for name, generated in schema.schemas().items():
        published = (folder / f"{name}.schema.json").read_text(encoding="utf-8")
        assert published == schema.render(generated), (
            f"docs/protocol/{name}.schema.json is stale: run "
            "`python -m grassroots_protocol.schema docs/protocol`"
        )
