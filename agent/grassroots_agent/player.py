"""The player: decides by its own clock what should sound now and drives the backends.

Precedence: the newest ready `play.now` job (emergency or priority); then a live stream; then
the schedule (highest priority item whose window holds now). Power off silences everything
except an emergency, which sounds anyway unless the device is configured otherwise
(`emergency_overrides_power`).
Everything that sounds gets an as-run journal entry: played, cut (and by what) or failed.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grassroots_agent.backends import Source
from grassroots_agent.cache import MediaRef
from grassroots_agent.clock import Clock, iso
from grassroots_agent.manifest import Item
from grassroots_agent.store import AsRun, Store

log = logging.getLogger(__name__)
MAX_SLEEP = 1.0
# How many times a live stream that closed by itself is opened again before the player gives up
# and goes back to the schedule (the platform ends a session with live.stop anyway).
LIVE_REOPEN = 5


def live_reopen_delay(attempt: int) -> float:
    """Seconds before opening a live stream again the `attempt`-th time: 0.5 s doubling up to
    8 s, each randomised ±50 % so that a whole area turned away at once (Icecast lets at most
    100 listeners wait for authentication) does not come back at once."""
    return min(8.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)


@dataclass
class PriorityJob:
    """A play.now command: media played `repeat` times, preempting the schedule."""

    id: str
    media: list[MediaRef]
    repeat: int = 1
    volume: int | None = None
    until: datetime | None = None
    emergency_id: str | None = None
    title: str = ""
    done_repeats: int = 0
    ready: bool = False
    failed: str | None = None


@dataclass
class LiveJob:
    """A live.start command: an HTTP stream (or, with `frequency`, the FM receiver) played
    until live.stop (or `until`)."""

    id: str
    url: str | None
    until: datetime | None = None
    volume: int | None = None
    headers: dict[str, str] | None = None  # e.g. the device's token for the platform's Icecast
    reopened: int = 0  # times the stream was opened again after it closed by itself
    reopen_at: datetime | None = None  # when to open it again (back-off with jitter)
    frequency: float | None = None  # an FM relay started live: MHz the tuner plays
    mic: bool = False  # the station's own microphone (microphone.Microphone)


def live_source(live: LiveJob) -> Source:
    """The stream of a live session: the platform's live mounts are Ogg (`/live/<id>.ogg`, see
    docs/live.md), opened without probing; any other URL is probed as usual."""
    from urllib.parse import urlsplit

    ogg = urlsplit(live.url or "").path.endswith(".ogg")
    return Source(url=live.url, headers=live.headers, container="ogg" if ogg else None)


@dataclass
class Want:
    """What should sound now."""

    key: str
    origin: str  # schedule | priority | live
    item_id: str
    kind: str
    item: Item | None = None
    job: PriorityJob | None = None
    live: LiveJob | None = None


@dataclass
class Playing:
    """What is sounding now, and its journal entry."""

    want: Want
    entry: AsRun
    output: str  # audio | tuner
    since: datetime
    ends_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Player:
    """The schedule and priority state machine; `tick()` is called by a timer, never blocks."""

    def __init__(
        self,
        *,
        clock: Clock,
        store: Store,
        audio,
        tuner,
        media_path: Callable[[str], Path | None],
        mic=None,
        volume: int = 70,
        power: bool = True,
        emergency_overrides_power: bool = True,
        on_change: Callable[[], None] | None = None,
        on_entry: Callable[[AsRun], None] | None = None,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        self.clock = clock
        self.max_sleep = max_sleep
        self.store = store
        self.audio = audio
        self.tuner = tuner
        self.mic = mic
        self.media_path = media_path
        self.volume = volume
        self.power = power
        self.emergency_overrides_power = emergency_overrides_power
        self.on_change = on_change or (lambda: None)
        self.on_entry = on_entry or (lambda entry: None)
        self.lock = threading.RLock()
        self.items: list[Item] = []
        self.jobs: list[PriorityJob] = []
        self.live: LiveJob | None = None
        self.current: Playing | None = None
        self.boot = clock.now()
        dangling = store.asrun_close_dangling(iso(self.boot) or "")
        if dangling:
            log.info("closed %d as-run entries interrupted by a restart", dangling)
        since = iso(self.boot - timedelta(days=3)) or ""
        # every play.now job taken: since start, and from the journal those that began playing
        # before a restart (a resend of an emergency already heard must not play it again)
        self.job_ids: set[str] = store.priority_jobs(since)
        self.done: set[tuple[str, str]] = set(store.played_keys(since))
        self.started: set[tuple[str, str]] = set(self.done)
        self.suppressed: set[tuple[str, str]] = set()

    # -- inputs (any thread) ---------------------------------------------------------------
    def set_schedule(self, items: list[Item]) -> None:
        with self.lock:
            self.items = sorted(items, key=lambda i: i.start)
            # forget what played more than 3 days ago, so a long-running agent does not grow
            horizon = iso(self.clock.now() - timedelta(days=3)) or ""
            for keys in (self.done, self.started, self.suppressed):
                keys.difference_update({k for k in keys if k[1] < horizon})

    def play_now(self, job: PriorityJob) -> bool:
        """Queue a priority job; False if a job with its id is already held or has played (a
        resend of the same emergency command must not play it twice)."""
        with self.lock:
            if job.id in self.job_ids:
                return False
            self.job_ids.add(job.id)
            self.jobs.append(job)
            return True

    def job_ready(self, job_id: str, failed: str | None = None) -> None:
        with self.lock:
            for job in list(self.jobs):
                if job.id == job_id:
                    if failed:
                        self.jobs.remove(job)
                        now = iso(self.clock.now()) or ""
                        self._record(
                            self.store.asrun_record(
                                item_id=job.id,
                                kind="priority",
                                started_at=now,
                                ended_at=now,
                                status="failed",
                                reason=failed,
                            )
                        )
                    else:
                        job.ready = True

    def _drop_job(self, job: PriorityJob, cut_by: str) -> bool:
        """Forget a priority job; cut it if it is sounding. True if it was sounding."""
        self.jobs.remove(job)
        if self.current is not None and self.current.want.job is job:
            self._end(status="cut", cut_by=cut_by)
            return True
        return False

    def stop_emergency(self, emergency_id: str, reason: str = "stop") -> bool:
        """Stop one emergency (play.now jobs carrying its id); the schedule resumes at once."""
        with self.lock:
            jobs = [j for j in self.jobs if emergency_id in (j.emergency_id, j.id)]
            for job in jobs:
                self._drop_job(job, reason)
            return bool(jobs)

    def stop(self, reason: str = "stop") -> None:
        """Silence whatever plays now; the schedule item stays silent for the rest of its window."""
        with self.lock:
            self.jobs.clear()
            self.live = None
            if self.current is not None:
                if self.current.want.item is not None:
                    self.suppressed.add(self.current.want.item.key)
                self._end(status="cut", cut_by=reason)

    def live_start(self, job: LiveJob) -> None:
        with self.lock:
            self.live = job

    def live_stop(self, live_id: str | None = None) -> None:
        with self.lock:
            if self.live is None or (live_id and self.live.id != live_id):
                return
            self.live = None
            if self.current is not None and self.current.want.origin == "live":
                self._end(status="played")

    def _sounds_without_power(self, job: PriorityJob | None) -> bool:
        return job is not None and job.emergency_id is not None and self.emergency_overrides_power

    def set_power(self, on: bool) -> None:
        with self.lock:
            self.power = on
            cur = self.current
            if not on and cur is not None and not self._sounds_without_power(cur.want.job):
                self._end(status="cut", cut_by="power.off")
        self.on_change()

    def set_volume(self, volume: int) -> None:
        with self.lock:
            self.volume = max(0, min(100, volume))
            self.audio.set_volume(self.volume)
        self.on_change()

    def snapshot(self) -> dict[str, Any] | None:
        with self.lock:
            cur = self.current
            if cur is None:
                return None
            out = {
                "item_id": cur.want.item_id,
                "kind": cur.want.kind,
                "origin": cur.want.origin,
                "since": iso(cur.since),
            }
            item, job = cur.want.item, cur.want.job
            if item is not None:
                out["priority"] = item.word
                if item.title:
                    out["title"] = item.title
            elif job is not None:
                out["priority"] = "emergency" if job.emergency_id else "priority"
                if job.title:
                    out["title"] = job.title
            return out

    # -- the clock-driven part -------------------------------------------------------------
    def tick(self) -> float:
        """Bring the outputs in line with what should sound now; return seconds until next tick."""
        with self.lock:
            now = self.clock.now()
            self._check_finished(now)
            want = self._want(now)
            cur_key = self.current.want.key if self.current else None
            if (want.key if want else None) != cur_key:
                if self.current is not None:
                    cut_by = self._label(want) if want else "schedule"
                    self._end(status="cut", cut_by=cut_by)
                if want is not None:
                    self._start(want, now)
            self._report_missed(now)
            return self._next_wake(now)

    def _label(self, want: Want) -> str:
        return (
            {"priority": "play.now", "live": "live"}.get(want.origin, "item") + ":" + want.item_id
        )

    def _ready(self, item: Item) -> bool:
        return item.kind == "relay" or all(self.media_path(m.sha256) for m in item.media)

    def _want(self, now: datetime) -> Want | None:
        for job in list(self.jobs):
            if job.until is not None and now >= job.until and self._drop_job(job, "expired"):
                return self._want(now)
        for job in reversed(self.jobs):
            if job.ready and (self.power or self._sounds_without_power(job)):
                return Want(f"priority:{job.id}", "priority", job.id, "priority", job=job)
        if not self.power:
            return None
        if self.live is not None:
            if self.live.until is not None and now >= self.live.until:
                self.live = None
            else:
                return Want(f"live:{self.live.id}", "live", self.live.id, "live", live=self.live)
        best: Item | None = None
        for item in self.items:
            if item.start > now:
                break
            if now >= item.end or item.key in self.done or item.key in self.suppressed:
                continue
            if not self._ready(item):
                continue
            if best is None or item.priority > best.priority:
                best = item
        if best is None:
            return None
        return Want(f"item:{best.id}@{best.key[1]}", "schedule", best.id, best.kind, item=best)

    def _sources(self, media: list[MediaRef] | tuple[MediaRef, ...]) -> list[Source] | None:
        out = []
        for ref in media:
            path = self.media_path(ref.sha256)
            if path is None:
                return None
            size = ref.size if ref.size > 0 else path.stat().st_size if path.exists() else 0
            out.append(Source(path=str(path), duration=ref.duration, size=size))
        return out

    def _start(self, want: Want, now: datetime) -> None:
        item = want.item
        scheduled = iso(item.start) if item else None
        output, ends_at = "audio", None
        volume = self.volume
        if want.origin == "priority" and want.job is not None:
            sources = self._sources(want.job.media)
            if sources is None:
                self.jobs.remove(want.job)
                return
            volume = want.job.volume if want.job.volume is not None else volume
            self.audio.start(want.item_id, sources, volume)
        elif want.origin == "live" and want.live is not None:
            volume = want.live.volume if want.live.volume is not None else volume
            if want.live.frequency is not None:
                output = "tuner"
                self.tuner.start(want.item_id, want.live.frequency, volume)
            elif want.live.mic:
                if self.mic is None:
                    self.live = None
                    return
                output = "mic"
                self.mic.start(want.item_id, volume)
            else:
                self.audio.start(want.item_id, [live_source(want.live)], volume)
            ends_at = want.live.until
        elif item is not None:
            if item.volume is not None:  # the manifest gives each item its absolute volume
                volume = max(0, min(100, item.volume))
            ends_at = item.end
            if item.kind == "relay" and item.relay and item.relay["type"] == "fm":
                output = "tuner"
                self.tuner.start(item.id, float(item.relay["frequency"]), volume)
            elif item.kind == "relay" and item.relay:
                self.audio.start(item.id, [Source(url=str(item.relay["url"]))], volume)
            else:
                sources = self._sources(item.media)
                if sources is None:
                    return
                self.audio.start(item.id, sources, volume)
            self.started.add(item.key)
        entry = self.store.asrun_open(
            item_id=want.item_id,
            kind=want.kind,
            scheduled_start=scheduled,
            started_at=iso(now) or "",
        )
        self.current = Playing(want=want, entry=entry, output=output, since=now, ends_at=ends_at)
        log.info("playing %s (%s)", want.item_id, want.origin)
        self.on_change()

    def _end(self, *, status: str, cut_by: str | None = None, reason: str | None = None) -> None:
        cur = self.current
        if cur is None:
            return
        self.current = None
        backend = self._backend(cur.output)
        backend.stop("end" if status == "played" else "cut")
        if status == "played" and cur.want.item is not None:
            self.done.add(cur.want.item.key)
        self._record(
            self.store.asrun_close(
                cur.entry,
                ended_at=iso(self.clock.now()) or "",
                status=status,
                cut_by=cut_by,
                reason=reason,
            )
        )
        self.on_change()

    def _backend(self, output: str):
        return {"tuner": self.tuner, "mic": self.mic}.get(output) or self.audio

    def _record(self, entry: AsRun) -> None:
        try:
            self.on_entry(entry)
        except Exception:
            log.exception("as-run callback failed")

    def _check_finished(self, now: datetime) -> None:
        cur = self.current
        if cur is None:
            return
        backend = self._backend(cur.output)
        live = cur.want.live
        if live is not None and live.reopen_at is not None:
            if now < live.reopen_at:
                return
            live.reopen_at = None
            volume = live.volume if live.volume is not None else self.volume
            self.audio.start(cur.want.item_id, [live_source(live)], volume)
            return
        if cur.ends_at is not None and now >= cur.ends_at:
            if cur.want.origin == "live":
                self.live = None
            self._end(status="played")
            return
        if not backend.finished():
            return
        job = cur.want.job
        if job is not None:
            job.done_repeats += 1
            if job.done_repeats < job.repeat:
                sources = self._sources(job.media) or []
                self.audio.stop("end")
                volume = job.volume if job.volume is not None else self.volume
                self.audio.start(job.id, sources, volume)
                return
            self.jobs.remove(job)
        elif cur.want.origin == "live":
            live = cur.want.live
            if (
                live is not None
                and self.live is live
                and live.url is not None
                and live.reopened < LIVE_REOPEN
            ):
                # a dropped connection, or a server busy letting a whole area in (Icecast holds
                # ~100 listeners awaiting authentication): open the stream again, in the same
                # as-run entry, after a randomised back-off, until live.stop, `until` or the limit
                live.reopened += 1
                self.audio.stop("cut")
                wait = live_reopen_delay(live.reopened)
                live.reopen_at = now + timedelta(seconds=wait)
                log.info("live %s closed; opening it again in %.1f s", live.id, wait)
                return
            self.live = None
        self._end(status="played")

    def _report_missed(self, now: datetime) -> None:
        """A schedule item whose window passed without playing is journaled as failed."""
        if not self.power:
            return
        for item in self.items:
            if item.start > now:
                break
            if item.end > now or item.end <= self.boot or item.key in self.started:
                continue
            if item.key in self.suppressed:
                continue
            self.started.add(item.key)
            self.done.add(item.key)
            self._record(
                self.store.asrun_record(
                    item_id=item.id,
                    kind=item.kind,
                    scheduled_start=iso(item.start),
                    started_at=iso(item.start) or "",
                    ended_at=iso(item.end) or "",
                    status="failed",
                    reason="media_unavailable",
                )
            )

    def _next_wake(self, now: datetime) -> float:
        delay = self.max_sleep
        cur = self.current
        if cur is not None:
            backend = self._backend(cur.output)
            check = getattr(backend, "next_check", lambda: None)()
            if check is not None:
                delay = min(delay, check)
            if cur.ends_at is not None:
                delay = min(delay, (cur.ends_at - now).total_seconds())
            if cur.want.live is not None and cur.want.live.reopen_at is not None:
                delay = min(delay, (cur.want.live.reopen_at - now).total_seconds())
        for item in self.items:
            if item.start > now:
                delay = min(delay, (item.start - now).total_seconds())
                break
        return max(0.0, delay)
