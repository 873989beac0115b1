"""The agent against a real Mosquitto and a local HTTP server."""

from __future__ import annotations

import base64
import copy
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from grassroots_agent.clock import iso, parse_time
from grassroots_agent.signing import sign

from .conftest import DEVICE, Signer, timeline, wait_for

pytestmark = pytest.mark.mqtt
CMD = f"grassroots/v1/dev/{DEVICE}/cmd"
UNIT_CMD = "grassroots/v1/unit/33.01/cmd"


def media_item(id_, start, end, ref, priority="normal"):
    return {
        "id": id_,
        "start": iso(start),
        "end": iso(end),
        "priority": priority,
        "kind": "media",
        "media": [ref],
        "volume": 100,
    }


def test_connects_with_online_state_and_will(broker, monitor, make_agent):
    agent = make_agent(broker, None)
    state = wait_for(lambda: [s for s in monitor.states() if s.get("online")], 5)[-1]
    assert state["device"] == DEVICE and state["power"] is True
    assert set(state) >= {"playing", "volume", "cache", "manifest"}
    agent.stop()
    wait_for(lambda: monitor.states()[-1] == {"online": False, "device": DEVICE}, 5)


def test_commands_are_verified_and_refused_with_faults(broker, monitor, make_agent, signer):
    agent = make_agent(broker, None)

    def outcome(seq_or_id, timeout=5):
        def find():
            acks = [a for a in monitor.events("ack") if a["cmd_seq"] == seq_or_id]
            return acks[-1] if acks else None

        return wait_for(find, timeout)

    # a good command on the device topic and one on a unit topic
    monitor.publish(CMD, signer.command("volume.set", volume=40))
    assert outcome(1)["status"] == "ok"
    wait_for(lambda: agent.player.volume == 40)  # the ack goes out first, then the command acts
    monitor.publish(UNIT_CMD, signer.command("volume.set", target={"units": ["33.01"]}, volume=55))
    assert outcome(2)["status"] == "ok"
    wait_for(lambda: agent.player.volume == 55)

    faults_before = len(monitor.events("fault"))

    # forged: signed by a key the device does not trust, under a trusted kid
    forged = sign(
        signer.command("volume.set", volume=1)["payload"], Ed25519PrivateKey.generate(), "k1"
    )
    monitor.publish(CMD, forged)
    # unknown kid
    stranger = Signer(kid="k-unknown")
    stranger.seq = 100
    monitor.publish(CMD, stranger.command("volume.set", volume=2))
    # tampered payload: a valid envelope whose payload was changed after signing
    tampered = signer.command("volume.set", volume=3)
    tampered["payload"]["volume"] = 100
    monitor.publish(CMD, tampered)
    # garbage
    monitor.publish(CMD, b"not json")
    monitor.publish(CMD, {"payload": {"type": "stop"}, "sig": base64.b64encode(b"x").decode()})
    # expired, not yet valid, wrong target (well signed)
    expired = signer.command("volume.set", volume=4, valid=(-600, -120))
    early = signer.command("volume.set", volume=5, valid=(600, 900))
    wrong = signer.command("volume.set", volume=6, target={"device": "dev-other"})
    wrong_unit = signer.command("volume.set", volume=7, target={"units": ["34"]})
    for env in (expired, early, wrong, wrong_unit):
        monitor.publish(CMD, env)

    codes = wait_for(
        lambda: (f := monitor.events("fault")[faults_before:]) and len(f) >= 9 and f, 5
    )
    by_code = sorted(f["code"] for f in codes)
    assert by_code == sorted(
        [
            "cmd.bad_signature",
            "cmd.unknown_kid",
            "cmd.bad_signature",
            "cmd.bad_envelope",
            "cmd.bad_envelope",
            "cmd.expired",
            "cmd.not_yet_valid",
            "cmd.wrong_target",
            "cmd.wrong_target",
        ]
    )
    assert agent.player.volume == 55
    for env, reason in ((expired, "expired"), (early, "not_yet_valid"), (wrong, "wrong_target")):
        ack = outcome(env["payload"]["seq"])
        assert (ack["status"], ack["reason"]) == ("refused", reason)

    # replay of an accepted command: refused
    replay = signer.command("volume.set", volume=66)
    monitor.publish(CMD, replay)
    wait_for(lambda: agent.player.volume == 66)
    agent.player.set_volume(10)
    monitor.publish(CMD, replay)
    wait_for(lambda: any(f["code"] == "cmd.replay" for f in monitor.events("fault")))
    assert agent.player.volume == 10

    # ... also after a restart (the replay window per kid is persisted)
    agent.stop()
    agent2 = make_agent(broker, None)
    n = len(monitor.events("fault"))
    monitor.publish(CMD, replay)
    faults = wait_for(lambda: len(monitor.events("fault")) >= n + 1 and monitor.events("fault")[n:])
    assert [f["code"] for f in faults] == ["cmd.replay"]
    assert agent2.player.volume == 66  # persisted from the accepted command
    # commands on the device topic and on unit topics may interleave: an older seq that was
    # never accepted is still taken, once, inside the window
    signer.seq += 3  # leave seqs unused
    monitor.publish(CMD, signer.command("volume.set", volume=70))
    wait_for(lambda: agent2.player.volume == 70)
    older = signer.command("volume.set", volume=77, seq=signer.seq - 2)
    monitor.publish(CMD, older)
    assert outcome(older["payload"]["seq"])["status"] == "ok"
    wait_for(lambda: agent2.player.volume == 77)
    monitor.publish(CMD, older)
    wait_for(lambda: len(monitor.events("fault")) >= n + 2)
    # a command older than the window is refused, whatever it is
    signer.seq += 100
    monitor.publish(CMD, signer.command("volume.set", volume=80))
    wait_for(lambda: agent2.player.volume == 80)
    stale = signer.command("volume.set", volume=81, seq=signer.seq - 70)
    monitor.publish(CMD, stale)
    faults = wait_for(lambda: len(monitor.events("fault")) >= n + 3 and monitor.events("fault")[n:])
    assert [f["code"] for f in faults] == ["cmd.replay"] * 3
    assert "too old" in faults[-1]["detail"]
    assert agent2.player.volume == 80


def test_broker_redelivery_of_an_accepted_command_is_dropped_quietly(
    broker, monitor, make_agent, signer
):
    """A QoS-1 redelivery (DUP flag: our PUBACK was lost) of a command already taken is not a
    replay attack: it is dropped without a fault; the same bytes without DUP are refused."""
    agent = make_agent(broker, None)
    wait_for(lambda: agent.link.connected)
    cmd = signer.command("volume.set", volume=42)
    raw = json.dumps(cmd).encode()
    assert agent.handle_message(CMD, raw) == "ok"
    n = len(monitor.events("fault"))
    assert agent.handle_message(CMD, raw, dup=True) == "duplicate"
    assert agent.handle_message(CMD, raw) == "replay"
    faults = wait_for(lambda: len(monitor.events("fault")) > n and monitor.events("fault")[n:])
    time.sleep(0.3)
    assert [f["code"] for f in monitor.events("fault")[n:]] == ["cmd.replay"]
    acks = [a for a in monitor.events("ack") if a["cmd_seq"] == cmd["payload"]["seq"]]
    assert [a["status"] for a in acks] == ["ok", "refused"]
    assert faults


def test_scheduled_item_plays_offline_and_journal_arrives_later(
    broker, monitor, server, make_agent, signer, tmp_path
):
    ref = server.add_media("news.opus", b"\x01" * 4000, duration=0.6)
    start = datetime.now(UTC) + timedelta(seconds=2.5)
    server.manifest = signer.manifest(
        [media_item("bulletin-1", start, start + timedelta(seconds=2), ref)]
    )
    agent = make_agent(broker, server)
    wait_for(lambda: agent.cache.has(ref["sha256"]), 5)
    assert server.hits("/manifest")[0][2]["Authorization"] == "Bearer tok"
    # the network goes away before the item is due
    broker.stop()
    server.stop()
    wait_for(lambda: not agent.link.connected, 5)
    events = wait_for(
        lambda: (
            len(timeline(tmp_path / "timeline.jsonl")) >= 2
            and timeline(tmp_path / "timeline.jsonl")
        ),
        6,
    )
    assert [(e["event"], e["item"]) for e in events] == [
        ("start", "bulletin-1"),
        ("end", "bulletin-1"),
    ]
    lateness = (parse_time(events[0]["t"]) - parse_time(iso(start))).total_seconds()
    assert 0 <= lateness < 0.3, lateness
    assert server.asrun == []
    pending = agent.store.asrun_pending()
    assert [(e["item"], e["status"]) for e in pending] == [("bulletin-1", "played")]
    time.sleep(0.5)  # a failed upload or two while the server is down
    # the network is back: the journal is uploaded and acknowledged
    broker.start()
    server.start()
    wait_for(lambda: server.asrun, 10)
    assert [(e["item"], e["status"]) for e in server.asrun] == [("bulletin-1", "played")]
    wait_for(lambda: agent.store.asrun_pending() == [], 5)
    wait_for(lambda: agent.link.connected, 10)


def test_play_now_preempts_and_schedule_resumes(
    broker, monitor, server, make_agent, signer, tmp_path
):
    ref = server.add_media("music.opus", b"\x02" * 3000, duration=30)
    alert = server.add_media("alert.opus", b"\x03" * 2000, duration=0.3)
    start = datetime.now(UTC) + timedelta(seconds=0.5)
    server.manifest = signer.manifest(
        [media_item("prog", start, start + timedelta(seconds=30), ref)]
    )
    agent = make_agent(broker, server)
    wait_for(lambda: (agent.player.snapshot() or {}).get("item_id") == "prog", 5)
    cmd = signer.command(
        "play.now",
        target={"units": ["33"]},
        id="emg-1",
        media=[alert],
        repeat=2,
        priority="emergency",
    )
    monitor.publish(UNIT_CMD, cmd)
    ack = wait_for(lambda: monitor.events("ack"), 5)[-1]
    assert (ack["cmd_seq"], ack["status"], ack["cmd_id"]) == (cmd["payload"]["seq"], "ok", "emg-1")

    def resumed():
        tl = [(e["event"], e["item"]) for e in timeline(tmp_path / "timeline.jsonl")]
        return tl if tl[-1:] == [("start", "prog")] and len(tl) > 2 else None

    assert wait_for(resumed, 5) == [
        ("start", "prog"),
        ("cut", "prog"),
        ("start", "emg-1"),
        ("end", "emg-1"),
        ("start", "emg-1"),
        ("end", "emg-1"),
        ("start", "prog"),
    ]
    asrun = wait_for(lambda: len(server.asrun) >= 2 and server.asrun, 5)
    assert [(e["item"], e["status"], e["cut_by"]) for e in asrun] == [
        ("prog", "cut", "play.now:emg-1"),
        ("emg-1", "played", None),
    ]
    live = [e for ev in monitor.events("asrun") for e in ev["entries"]]
    assert {e["id"] for e in live} >= {e["id"] for e in asrun}

    # stop silences the item; the state says nothing plays
    monitor.publish(CMD, signer.command("stop"))
    wait_for(lambda: agent.player.snapshot() is None, 5)
    wait_for(lambda: monitor.states()[-1]["playing"] is None, 5)


def test_manifest_etag_resync_and_rejected_manifests(broker, monitor, server, make_agent, signer):
    ref = server.add_media("a.opus", b"\x04" * 1000, duration=1)
    now = datetime.now(UTC)
    item = media_item("later", now + timedelta(hours=1), now + timedelta(hours=2), ref)
    server.manifest = signer.manifest([item])
    agent = make_agent(broker, server)
    wait_for(lambda: agent.manifest is not None and agent.cache.has(ref["sha256"]), 5)
    etag = agent.manifest.etag
    assert agent.sync_manifest() is False  # 304
    assert server.hits("/manifest")[-1][2]["If-None-Match"] == etag

    # manifest.updated: the new one is fetched and the state reports the new ETag
    item2 = media_item("later2", now + timedelta(hours=3), now + timedelta(hours=4), ref)
    server.manifest = signer.manifest([item, item2])
    monitor.publish(CMD, signer.command("manifest.updated"))
    wait_for(lambda: agent.manifest.etag != etag, 5)
    assert [i.id for i in agent.manifest.items] == ["later", "later2"]
    wait_for(lambda: monitor.states()[-1]["manifest"]["etag"] == agent.manifest.etag, 5)

    # a tampered manifest is refused and reported; the last good one stays
    good = agent.manifest.etag
    bad = copy.deepcopy(signer.manifest([item]))
    bad["payload"]["items"][0]["id"] = "evil"
    server.manifest = bad
    assert agent.sync_manifest() is False
    server.manifest = signer.manifest([item], device="dev-other")
    assert agent.sync_manifest() is False
    server.manifest = signer.manifest([item], generated_at=now - timedelta(days=1))
    assert agent.sync_manifest() is False
    codes = [
        f["code"]
        for f in wait_for(lambda: len(monitor.events("fault")) >= 3 and monitor.events("fault"))
    ]
    assert codes == ["manifest.bad_signature", "manifest.wrong_device", "manifest.stale_manifest"]
    assert agent.manifest.etag == good
    stored = json.loads((agent.cfg.state_dir / "manifest.json").read_text())
    assert stored["etag"] == good


def test_nothing_plays_past_the_manifest_valid_until(
    broker, monitor, server, make_agent, signer, tmp_path
):
    """The server vouches for a schedule only up to valid_until: an item running past it is cut
    there, one starting after it never plays, and the device reports that it ran out."""
    ref = server.add_media("a.opus", b"\x05" * 1000, duration=30)
    now = datetime.now(UTC)
    until = now + timedelta(seconds=3)
    server.manifest = signer.manifest(
        [
            media_item("runs-over", now + timedelta(seconds=1.5), now + timedelta(seconds=20), ref),
            media_item("after", now + timedelta(seconds=4), now + timedelta(seconds=9), ref),
        ],
        valid_until=until,
    )
    agent = make_agent(broker, server)
    wait_for(lambda: agent.manifest is not None, 5)
    assert [(i.id, i.end) for i in agent.manifest.items] == [("runs-over", parse_time(iso(until)))]
    fault = wait_for(
        lambda: next((f for f in monitor.events("fault") if f["code"] == "manifest.expired"), None),
        8,
    )
    assert "no newer manifest" in fault["detail"]
    wait_for(lambda: monitor.states()[-1]["manifest"]["expired"] is True, 5)
    time.sleep(1.2)
    events = [(e["event"], e["item"]) for e in timeline(tmp_path / "timeline.jsonl")]
    assert events == [("start", "runs-over"), ("end", "runs-over")]
    assert [f["code"] for f in monitor.events("fault")].count("manifest.expired") == 1


def test_hash_mismatch_in_manifest_media_is_reported(broker, monitor, server, make_agent, signer):
    ref = server.add_media("x.opus", b"\x05" * 1000, duration=1)
    server.media["/media/x.opus"] = b"\x06" * 1000
    now = datetime.now(UTC)
    server.manifest = signer.manifest(
        [media_item("x", now + timedelta(hours=1), now + timedelta(hours=2), ref)]
    )
    agent = make_agent(broker, server)
    fault = wait_for(lambda: monitor.events("fault"), 5)[-1]
    assert fault["code"] == "media.hash_mismatch" and fault["sha256"] == ref["sha256"]
    assert not agent.cache.has(ref["sha256"])


def test_journal_survives_agent_restart_and_mqtt_ack(broker, monitor, server, make_agent, signer):
    ref = server.add_media("j.opus", b"\x08" * 1000, duration=0.2)
    start = datetime.now(UTC) + timedelta(seconds=1.0)
    server.manifest = signer.manifest([media_item("j1", start, start + timedelta(seconds=1), ref)])
    agent = make_agent(broker, server)
    wait_for(lambda: agent.cache.has(ref["sha256"]), 5)
    server.stop()
    wait_for(lambda: agent.store.asrun_pending(), 5)
    live = wait_for(lambda: monitor.events("asrun"), 5)  # the live channel got it meanwhile
    assert live[-1]["entries"][0]["item"] == "j1"
    agent.stop()
    # restarted with the server still down: the entry is still pending, the item is not replayed
    agent2 = make_agent(broker, server)
    assert [e["item"] for e in agent2.store.asrun_pending()] == ["j1"]
    time.sleep(1.5)
    assert agent2.player.snapshot() is None
    # the server acknowledges over MQTT with a signed asrun.ack
    ids = [e["id"] for e in agent2.store.asrun_pending()]
    monitor.publish(CMD, signer.command("asrun.ack", entries=ids))
    wait_for(lambda: agent2.store.asrun_pending() == [], 5)
    assert server.asrun == []


def test_power_stop_emergency_and_skewed_clock(
    broker, monitor, server, make_agent, signer, tmp_path
):
    from grassroots_agent.agent import Agent
    from grassroots_agent.clock import OffsetClock

    from .conftest import agent_config

    long_alert = server.add_media("long.opus", b"\x09" * 500, duration=30)
    agent = make_agent(broker, server)
    cmd = signer.command(
        "play.now",
        id="emg-9",
        media=[long_alert],
        emergency={
            "id": 9,
            "title": "Lũ",
            "expires_at": iso(datetime.now(UTC) + timedelta(minutes=5)),
        },
    )
    monitor.publish(CMD, cmd)
    wait_for(lambda: (agent.player.snapshot() or {}).get("item_id") == "emg-9", 5)
    monitor.publish(CMD, signer.command("stop", emergency_id=9))
    wait_for(lambda: agent.player.snapshot() is None, 5)
    entry = wait_for(lambda: [e for e in server.asrun if e["item"] == "emg-9"], 5)[0]
    assert (entry["status"], entry["cut_by"]) == ("cut", f"stop:{signer.seq}")

    monitor.publish(CMD, signer.command("power.set", power="off"))
    wait_for(lambda: agent.player.power is False, 5)
    wait_for(lambda: monitor.states()[-1]["power"] is False, 5)
    agent.stop()

    # a device whose clock runs 10 minutes fast (and has no server to ask the time) takes the
    # server's time from a freshly signed command: it accepts a command valid for 5 minutes,
    # and reports its clock as a fault
    cfg = agent_config(
        tmp_path / "skewed", broker_url=broker.url, server_url=None, keys={"k1": signer.public}
    )
    cfg.device_id = "dev-skewed"
    skewed = Agent(cfg, clock=OffsetClock(timedelta(minutes=10))).start()
    try:
        wait_for(lambda: skewed.link.subscribed, 10)
        target = {"device": "dev-skewed"}
        monitor.publish("grassroots/v1/dev/dev-skewed/cmd", signer.command("stop", target=target))
        ack = wait_for(lambda: [a for a in monitor.events("ack") if a["device"] == "dev-skewed"])
        assert ack[0]["status"] == "ok"
        fault = wait_for(
            lambda: [
                f
                for f in monitor.events("fault")
                if f["device"] == "dev-skewed" and f["code"] == "clock"
            ]
        )
        assert -610 < fault[0]["offset_s"] < -590
        # windows are judged by the server's time: a command that expired 2 minutes ago by the
        # server's clock is refused, though the device's own clock runs 10 minutes fast
        old = signer.command("stop", target=target, valid=(-600, -120))
        monitor.publish("grassroots/v1/dev/dev-skewed/cmd", old)
        refused = wait_for(
            lambda: [
                a
                for a in monitor.events("ack")
                if a["device"] == "dev-skewed" and a["status"] == "refused"
            ]
        )
        assert refused[0]["reason"] == "expired"
    finally:
        skewed.stop()
