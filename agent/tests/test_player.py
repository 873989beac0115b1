"""The player's decisions under a manual clock: on time, preemption, resume, stop, power, misses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grassroots_agent.backends import NullAudio, NullTuner, Timeline
from grassroots_agent.cache import MediaRef
from grassroots_agent.clock import ManualClock, iso
from grassroots_agent.manifest import Item
from grassroots_agent.player import LiveJob, Player, PriorityJob
from grassroots_agent.store import Store

from .conftest import timeline

T0 = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
SHA_A = "a" * 64
SHA_E = "e" * 64


def media(sha, duration):
    return MediaRef(url=f"/media/{sha[:4]}", sha256=sha, size=1000, duration=duration)


def item(id_, start, end, *, sha=SHA_A, duration=600.0, priority=0, kind="media", relay=None):
    return Item(
        id=id_,
        start=T0 + timedelta(seconds=start),
        end=T0 + timedelta(seconds=end),
        priority=priority,
        kind=kind,
        media=(media(sha, duration),) if kind == "media" else (),
        relay=relay,
    )


@pytest.fixture
def rig(tmp_path):
    clock = ManualClock(T0 - timedelta(seconds=10))
    store = Store(tmp_path / "state.db")
    tl = Timeline(tmp_path / "timeline.jsonl", clock)
    cached = {SHA_A, SHA_E}
    entries = []
    player = Player(
        clock=clock,
        store=store,
        audio=NullAudio(tl, clock),
        tuner=NullTuner(tl),
        media_path=lambda sha: Path("/cache") / sha if sha in cached else None,
        on_entry=entries.append,
    )

    class Rig:
        pass

    r = Rig()
    r.clock, r.store, r.player, r.entries, r.cached = clock, store, player, entries, cached
    r.store_dir = tmp_path
    r.timeline = lambda: [
        (e["event"], e["item"], e["t"]) for e in timeline(tmp_path / "timeline.jsonl")
    ]

    def run_to(seconds):
        """Advance the clock in small steps to T0 + seconds, ticking like the timer would."""
        target = T0 + timedelta(seconds=seconds)
        while clock.now() < target:
            player.tick()
            clock.advance(min(0.1, (target - clock.now()).total_seconds()))
        player.tick()

    r.run_to = run_to
    yield r
    store.close()


def test_scheduled_item_starts_and_ends_on_time(rig):
    rig.player.set_schedule([item("i1", 0, 30, duration=600)])
    rig.run_to(-0.05)
    assert rig.timeline() == []
    rig.run_to(0)
    assert rig.timeline() == [("start", "i1", iso(T0))]
    rig.run_to(31)
    assert rig.timeline()[-1] == ("end", "i1", iso(T0 + timedelta(seconds=30)))
    [entry] = rig.entries
    assert (entry.item_id, entry.status, entry.scheduled_start) == ("i1", "played", iso(T0))


def test_media_shorter_than_slot_ends_when_media_ends_and_is_not_replayed(rig):
    rig.player.set_schedule([item("i1", 0, 30, duration=5)])
    rig.run_to(20)
    assert [e[:2] for e in rig.timeline()] == [("start", "i1"), ("end", "i1")]
    assert rig.timeline()[1][2] == iso(T0 + timedelta(seconds=5))


def test_play_now_preempts_then_schedule_resumes(rig):
    rig.player.set_schedule([item("i1", 0, 60)])
    rig.run_to(5)
    job = PriorityJob(id="E1", media=[media(SHA_E, 2.0)], repeat=3)
    rig.player.play_now(job)
    rig.player.job_ready("E1")
    rig.run_to(20)
    events = [e[:2] for e in rig.timeline()]
    assert events == [
        ("start", "i1"),
        ("cut", "i1"),
        ("start", "E1"),
        ("end", "E1"),
        ("start", "E1"),
        ("end", "E1"),
        ("start", "E1"),
        ("end", "E1"),
        ("start", "i1"),
    ]
    statuses = [(e.item_id, e.status, e.cut_by) for e in rig.entries]
    assert statuses == [("i1", "cut", "play.now:E1"), ("E1", "played", None)]


def test_a_resent_play_now_with_the_same_id_is_not_played_twice(rig):
    first = PriorityJob(id="E1", media=[media(SHA_E, 2.0)], emergency_id="7")
    assert rig.player.play_now(first) is True
    rig.player.job_ready("E1")
    rig.run_to(1)
    # the same command again (a resend to devices whose ack had not arrived) while playing...
    assert rig.player.play_now(PriorityJob(id="E1", media=[media(SHA_E, 2.0)])) is False
    rig.run_to(5)
    # ... and after it played
    assert rig.player.play_now(PriorityJob(id="E1", media=[media(SHA_E, 2.0)])) is False
    rig.run_to(10)
    assert [e[:2] for e in rig.timeline()] == [("start", "E1"), ("end", "E1")]
    # ... and after a restart of the agent (the as-run journal remembers it)
    again = Player(
        clock=rig.clock,
        store=rig.store,
        audio=NullAudio(Timeline(rig.store_dir / "t2.jsonl", rig.clock), rig.clock),
        tuner=NullTuner(Timeline(rig.store_dir / "t2.jsonl", rig.clock)),
        media_path=lambda sha: Path("/cache") / sha,
    )
    assert again.play_now(PriorityJob(id="E1", media=[media(SHA_E, 2.0)])) is False
    assert again.play_now(PriorityJob(id="E2", media=[media(SHA_E, 2.0)])) is True


def test_higher_priority_item_cuts_lower_one(rig):
    rig.player.set_schedule([item("low", 0, 60), item("high", 10, 20, priority=5)])
    rig.run_to(25)
    assert [e[:2] for e in rig.timeline()] == [
        ("start", "low"),
        ("cut", "low"),
        ("start", "high"),
        ("end", "high"),
        ("start", "low"),
    ]


def test_stop_silences_item_for_the_rest_of_its_window(rig):
    rig.player.set_schedule([item("i1", 0, 60)])
    rig.run_to(1)
    rig.player.stop("stop:9")
    rig.run_to(10)
    assert [e[:2] for e in rig.timeline()] == [("start", "i1"), ("cut", "i1")]
    assert rig.entries[-1].cut_by == "stop:9"


def test_power_off_and_on(rig):
    rig.player.set_schedule([item("i1", 0, 60)])
    rig.run_to(1)
    rig.player.set_power(False)
    rig.run_to(5)
    assert [e[:2] for e in rig.timeline()] == [("start", "i1"), ("cut", "i1")]
    rig.player.set_power(True)
    rig.run_to(6)
    assert rig.timeline()[-1][:2] == ("start", "i1")


def test_emergency_sounds_while_powered_off_and_power_stays_off_after(rig):
    rig.player.set_schedule([item("i1", 0, 60)])
    rig.run_to(1)
    rig.player.set_power(False)
    rig.run_to(2)
    # a priority (non-emergency) play.now respects power off
    rig.player.play_now(PriorityJob(id="P1", media=[media(SHA_E, 1.0)]))
    rig.player.job_ready("P1")
    rig.run_to(3)
    assert [e[:2] for e in rig.timeline()] == [("start", "i1"), ("cut", "i1")]
    rig.player.stop()
    # an emergency does not
    rig.player.play_now(PriorityJob(id="E1", media=[media(SHA_E, 2.0)], emergency_id="7"))
    rig.player.job_ready("E1")
    rig.run_to(4)
    assert rig.timeline()[-1][:2] == ("start", "E1")
    rig.player.set_power(False)  # a second power off does not cut the emergency either
    rig.run_to(10)
    assert [e[:2] for e in rig.timeline()][-2:] == [("start", "E1"), ("end", "E1")]
    assert rig.player.power is False and rig.player.current is None  # back to silence


def test_emergency_respects_power_off_when_configured(tmp_path):
    clock = ManualClock(T0)
    store = Store(tmp_path / "state.db")
    tl = Timeline(tmp_path / "timeline.jsonl", clock)
    player = Player(
        clock=clock,
        store=store,
        audio=NullAudio(tl, clock),
        tuner=NullTuner(tl),
        media_path=lambda sha: Path("/cache") / sha,
        power=False,
        emergency_overrides_power=False,
    )
    player.play_now(PriorityJob(id="E1", media=[media(SHA_E, 2.0)], emergency_id="7"))
    player.job_ready("E1")
    player.tick()
    assert player.current is None and timeline(tmp_path / "timeline.jsonl") == []
    player.set_power(True)
    player.tick()
    assert player.current.want.item_id == "E1"
    store.close()


def test_item_without_media_is_journaled_failed(rig):
    rig.cached.discard(SHA_A)
    rig.player.set_schedule([item("i1", 0, 5)])
    rig.run_to(6)
    assert rig.timeline() == []
    [entry] = rig.entries
    assert (entry.status, entry.reason) == ("failed", "media_unavailable")


def test_fm_relay_and_live_stream(rig):
    relay = {"type": "fm", "frequency": 99.5}
    rig.player.set_schedule([item("fm1", 0, 10, kind="relay", relay=relay)])
    rig.run_to(2)
    rig.player.live_start(LiveJob("L1", "http://icecast/live"))
    rig.run_to(4)
    rig.player.live_stop("L1")
    rig.run_to(11)
    tl = [(e[0], e[1]) for e in rig.timeline()]
    assert tl == [
        ("start", "fm1"),
        ("cut", "fm1"),
        ("start", "L1"),
        ("end", "L1"),
        ("start", "fm1"),
        ("end", "fm1"),
    ]


def test_journal_survives_restart_and_played_items_are_not_replayed(rig, tmp_path):
    rig.player.set_schedule([item("done", 0, 5, duration=1), item("long", 10, 60)])
    rig.run_to(12)
    rig.store.close()
    # A crash: "long" is still open in the journal. A new player on the same database:
    store = Store(tmp_path / "state.db")
    tl = Timeline(tmp_path / "timeline.jsonl", rig.clock)
    player = Player(
        clock=rig.clock,
        store=store,
        audio=NullAudio(tl, rig.clock),
        tuner=NullTuner(tl),
        media_path=lambda sha: Path("/cache") / sha,
    )
    rows = {r["item"]: r for r in store.asrun_all()}
    assert rows["done"]["status"] == "played"
    assert (rows["long"]["status"], rows["long"]["cut_by"]) == ("cut", "restart")
    assert {e["item"] for e in store.asrun_pending()} == {"done", "long"}
    player.set_schedule([item("done", 0, 5, duration=1), item("long", 10, 60)])
    player.tick()
    assert player.snapshot()["item_id"] == "long"  # resumes the unfinished item, not "done"
    store.close()
