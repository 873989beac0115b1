"""The device agent: MQTT commands in, state and events out, manifest and media over HTTP,
the player on its own clock in between."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
import urllib.error
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from grassroots_agent import __version__
from grassroots_agent.backends import Timeline, make_audio, make_tuner
from grassroots_agent.cache import CacheError, HttpClient, MediaCache, MediaRef
from grassroots_agent.clock import Clock, ServerClock, iso
from grassroots_agent.config import AgentConfig
from grassroots_agent.manifest import Manifest, ManifestError, ManifestFile, fetch, verify
from grassroots_agent.microphone import Microphone
from grassroots_agent.microphone import parse_input as parse_mic_input
from grassroots_agent.player import LiveJob, Player, PriorityJob
from grassroots_agent.runtime import Backoff, Link, Runtime, Timer
from grassroots_agent.signing import EnvelopeError, load_public_key, open_envelope
from grassroots_agent.store import AsRun, SeqVerdict, Store
from grassroots_protocol import messages as wire
from grassroots_protocol.topics import device_topics

log = logging.getLogger(__name__)

COMMAND_TYPES = frozenset(wire.COMMAND_TYPES) - {"screenshot"}  # screenshots are for e-boards


class Refused(Exception):
    """A command was refused; `code` goes into the ack and the fault event."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def topics(device_id: str, units: list[str]) -> dict[str, Any]:
    """The MQTT topics of one device (grassroots_protocol.topics)."""
    return device_topics(device_id, units)


class Agent:
    """One device. Give it a config; `start()` it; `stop()` it. Safe to run many per process."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock | None = None,
        runtime: Runtime | None = None,
        max_sleep: float = 1.0,
        first_connect_delay: float = 0.0,
        telemetry_interval: float = 300.0,
        state_delay: float = 1.0,
    ) -> None:
        self.cfg = config
        self.id = config.device_id
        # every time the agent uses is the server's time as it knows it (ServerClock)
        self.clock = clock if isinstance(clock, ServerClock) else ServerClock(clock or Clock())
        self._own_runtime = runtime is None
        self.rt = runtime or Runtime()
        self.telemetry_interval = telemetry_interval
        self.state_delay = state_delay
        self._state_due = False
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(config.state_dir / "state.db")
        self.keys = {kid: load_public_key(b64) for kid, b64 in config.keys.items()}
        self.http = HttpClient(
            config.server_url,
            config.token,
            config.http_timeout,
            on_date=self._http_date,
            local_now=self.clock.local,
        )
        self._clock_reported: float | None = None
        self.cache = MediaCache(config.cache_dir, self.store, self.http, config.cache_limit)
        self.timeline = Timeline(config.timeline, self.clock)
        self.manifest_file = ManifestFile(config.state_dir / "manifest.json")
        self.manifest: Manifest | None = self.manifest_file.load(self.keys, self.id)
        self.topics = topics(self.id, config.units)
        volume = int(self.store.get("volume", str(config.volume)) or config.volume)
        power = self.store.get("power", "1") == "1"
        audio = make_audio(config.audio_backend, self.timeline, self.clock, config.audio_options)
        self.mic = Microphone(
            config.mic_input or parse_mic_input(None),
            audio.local_output,
            self._post_bytes,
            on_fault=lambda code, detail: self.fault(code, detail),
        )
        self._mic_id: str | None = None
        self.player = Player(
            clock=self.clock,
            store=self.store,
            audio=audio,
            tuner=make_tuner(config.tuner_backend, self.timeline, config.tuner_command),
            mic=self.mic,
            media_path=self._media_path,
            volume=volume,
            power=power,
            emergency_overrides_power=config.emergency_overrides_power,
            on_change=self._state_changed,
            on_entry=self._entry_closed,
            max_sleep=max_sleep,
        )
        if self.manifest is not None:
            self.player.set_schedule(self.manifest.items)
        self._expiry_reported: str | None = None
        m = config.mqtt
        offline = json.dumps({"online": False, "device": self.id}).encode()
        self.link = Link(
            self.rt.net,
            client_id=self.id,
            host=m.host,
            port=m.port,
            username=m.username,
            password=m.password,
            tls=m.tls,
            ca_file=m.ca_file,
            keepalive=m.keepalive,
            session_expiry=m.session_expiry,
            backoff=Backoff(m.backoff_min, m.backoff_max),
            will=(self.topics["state"], offline),
            on_connect=self._connected,
            on_message=self.handle_message,
            first_delay=first_connect_delay,
        )
        self._offline = offline
        self._lock = threading.Lock()
        self._timers: dict[str, Timer] = {}
        self._sync_lock = threading.Lock()
        self._upload_lock = threading.Lock()
        self._upload_backoff = Backoff(config.asrun_retry_min, config.asrun_retry_max)
        self._media_faults: set[str] = set()
        self._work_lock = threading.Lock()
        self._pending = 0  # accepted commands that have not acted yet
        self._stopped = False
        self._rng = random.Random()

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> Agent:
        if self._own_runtime:
            self.rt.start()
        self.link.start()
        self.poke()
        self._later("sync", 0, lambda: self._submit(self.sync_manifest))
        self._later("upload", 0.5, lambda: self._submit(self.upload_asrun))
        self._later("telemetry", self.telemetry_interval, self._telemetry)
        self._watch_expiry()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self.settle(2.0)  # commands already acknowledged act before we go
        self._stopped = True
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
        with self.player.lock:
            self.player._end(status="cut", cut_by="shutdown")
        self.link.close(final=(self.topics["state"], self._offline))
        if self._own_runtime:
            self.rt.stop()
        with self._sync_lock, self._upload_lock:
            self.store.close()

    def _later(self, name: str, delay: float, fn) -> None:
        """Schedule `fn` on the timer thread, replacing an earlier pending call of the same name."""
        if self._stopped:
            return
        with self._lock:
            old = self._timers.get(name)
            if old is not None:
                old.cancel()
            self._timers[name] = self.rt.timers.call_later(max(0.0, delay), fn)

    def _submit(self, fn, *args) -> None:
        if self._stopped:
            return
        with contextlib.suppress(RuntimeError):  # the pool is shut down
            self.rt.pool.submit(self._guard, fn, *args)

    def _guard(self, fn, *args) -> None:
        if self._stopped:
            return
        try:
            fn(*args)
        except Exception:
            if not self._stopped:
                log.exception("%s: background job %s failed", self.id, getattr(fn, "__name__", fn))

    # -- player ----------------------------------------------------------------------------
    def poke(self) -> None:
        """Ask the player to re-evaluate now."""
        self._later("tick", 0, self._tick)

    def _tick(self) -> None:
        if self._stopped:
            return
        delay = self.player.tick()
        self._later("tick", delay, self._tick)

    def _media_path(self, sha: str):
        path = self.cache.path(sha)
        return path if path.is_file() else None

    def _state_changed(self) -> None:
        """Publish the state soon, once for a burst of changes. Acks and faults go out at once;
        the retained state (what the console's fleet view shows) can trail by a second, which
        keeps an emergency's thousands of acks ahead of the state updates it causes."""
        with self._lock:
            if self._state_due:
                return
            self._state_due = True
        self._later("state", self.state_delay * self._rng.uniform(0.5, 1.0), self._publish_due)

    def _publish_due(self) -> None:
        with self._lock:
            self._state_due = False
        self.publish_state()

    def _entry_closed(self, entry: AsRun) -> None:
        if self.link.connected:
            self.event("asrun", entries=[entry.as_dict()])
        self._later("upload", 0.2, lambda: self._submit(self.upload_asrun))

    def _manifest_expired(self) -> bool:
        until = self.manifest.valid_until if self.manifest else None
        return until is not None and self.clock.now() >= until

    def _watch_expiry(self) -> None:
        """Report once when the schedule runs out because no newer manifest arrived in time."""
        until = self.manifest.valid_until if self.manifest else None
        if until is None:
            return
        delay = (until - self.clock.now()).total_seconds()
        if delay > 0:
            self._later("expiry", min(delay, 3600.0), self._watch_expiry)
            return
        etag = self.manifest.etag or iso(until) or ""
        if self._expiry_reported != etag:
            self._expiry_reported = etag
            self.fault(
                "manifest.expired",
                f"schedule valid until {iso(until)}; no newer manifest: nothing scheduled plays",
            )
            self._state_changed()

    # -- MQTT --------------------------------------------------------------------------------
    def _connected(self) -> None:
        self.link.subscribe(self.topics["cmd"])
        self.publish_state()
        pending = self.store.asrun_pending(200)
        if pending:
            self.event("asrun", entries=pending)
        self._later("upload", 0.2, lambda: self._submit(self.upload_asrun))
        self._later("sync", self._rng.uniform(0, 2), lambda: self._submit(self.sync_manifest))

    def state(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "online": True,
            "device": self.id,
            "at": iso(self.clock.now()),
            "playing": self.player.snapshot(),
            "volume": self.player.volume,
            "power": self.player.power,
            "cache": self.cache.usage(),
            "manifest": {
                "etag": m.etag if m else None,
                "generated_at": m.payload.get("generated_at") if m else None,
                "valid_until": m.payload.get("valid_until") if m else None,
                "expired": self._manifest_expired(),
                "items": len(m.items) if m else 0,
            },
            "agent": __version__,
            "version": wire.PROTOCOL_VERSION,
            "clock": self.clock.info(),
        }

    def publish_state(self) -> None:
        if self._stopped or not self.link.connected:
            return
        payload = json.dumps(self.state(), ensure_ascii=False).encode()
        self.link.publish(self.topics["state"], payload, qos=1, retain=True)

    def _telemetry(self) -> None:
        self.publish_state()
        self._later("telemetry", self.telemetry_interval, self._telemetry)

    def event(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Publish an event (QoS 1) on the device's events topic; paho queues it while offline."""
        body = {
            "type": type_,
            "id": str(uuid.uuid4()),
            "device": self.id,
            "at": iso(self.clock.now()),
        }
        body.update(fields)
        if not self._stopped:
            self.link.publish(self.topics["events"], json.dumps(body, ensure_ascii=False).encode())
        return body

    def fault(self, code: str, detail: str = "", **fields: Any) -> None:
        log.warning("%s: fault %s %s", self.id, code, detail)
        self.event("fault", code=code, detail=detail, **fields)

    # -- commands ----------------------------------------------------------------------------
    def handle_message(self, topic: str, raw: bytes, dup: bool = False) -> str:
        """Verify one command, acknowledge it and queue its effect; return "ok" or the refusal.

        Runs on the network thread, so it does only what the ack depends on: signature, the
        payload's shape (grassroots_protocol), target, time window by the server's time, and
        the replay window (recorded before the ack). What the command does (preempt the player,
        fetch media, publish state) runs right after on this same thread, in arrival order
        (`NetLoop.defer`). An ack therefore means "verified and accepted"; a failure while
        acting is reported as a fault and in the as-run journal.
        """
        claimed: dict[str, Any] = {"topic": topic}
        try:
            envelope = json.loads(raw)
            if isinstance(envelope, dict) and isinstance(envelope.get("payload"), dict):
                p = envelope["payload"]
                claimed.update(kid=envelope.get("kid"), seq=p.get("seq"), cmd_type=p.get("type"))
            payload = open_envelope(envelope, self.keys)
        except (ValueError, UnicodeDecodeError) as exc:
            code = exc.code if isinstance(exc, EnvelopeError) else "bad_envelope"
            self.fault(f"cmd.{code}", str(exc), **claimed)
            return code
        kid, seq = envelope["kid"], payload.get("seq")
        try:
            try:
                cmd = wire.parse_command(payload)
            except wire.ProtocolError as exc:
                if payload.get("type") not in wire.COMMAND_TYPES:
                    raise Refused("unsupported_type", str(payload.get("type"))) from exc
                raise Refused(exc.code, f"{exc.field}: {exc.detail}") from exc
            if cmd.type not in COMMAND_TYPES:
                raise Refused("unsupported_type", cmd.type)
            if not cmd.target.covers(self.id, self.cfg.units):
                raise Refused("wrong_target", cmd.target.model_dump_json(exclude_none=True))
            if self.store.seq_is_new(kid, cmd.seq):
                self._learn_time(cmd.issued_at)
            self.check(cmd)
            action = self.prepare(cmd, kid=kid)
            verdict = self.store.accept_seq(kid, cmd.seq)
            if verdict == SeqVerdict.DUPLICATE and dup:
                # the broker re-sent a command we already took (its PUBACK was lost): not news
                log.debug("%s: redelivered seq %s ignored", self.id, seq)
                return "duplicate"
            if verdict != SeqVerdict.NEW:
                detail = "already accepted" if verdict == SeqVerdict.DUPLICATE else "too old"
                raise Refused("replay", f"seq {seq}: {detail}")
        except Refused as exc:
            self.fault(f"cmd.{exc.code}", exc.detail, **claimed)
            self.ack(payload, kid, "refused", exc.code, exc.detail)
            return exc.code
        if cmd.type != "asrun.ack":
            self.ack(payload, kid, "ok")
        self._serial(action)
        return "ok"

    def ack(
        self,
        payload: dict,
        kid: str,
        status: str,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Answer a command on the events topic (grassroots_protocol.Ack)."""
        fields: dict[str, Any] = {
            "cmd_seq": payload.get("seq") if isinstance(payload.get("seq"), int) else None,
            "kid": kid,
            "cmd_type": str(payload.get("type"))[:64],
            "cmd_id": str(payload.get("id"))[:64] if payload.get("id") is not None else None,
            "status": status,
        }
        if reason:
            fields["reason"] = reason[:64]
        if detail:
            fields["detail"] = detail[:500]
        self.event("ack", **fields)

    def check(self, cmd: wire.Command) -> None:
        """The time window, judged by the server's time as this device knows it."""
        now = self.clock.now()
        skew = timedelta(seconds=self.cfg.clock_skew)
        if now + skew < cmd.not_before:
            raise Refused("not_yet_valid", f"not before {iso(cmd.not_before)}; now {iso(now)}")
        if now - skew > cmd.expires_at:
            raise Refused("expired", f"expired at {iso(cmd.expires_at)}; now {iso(now)}")

    # -- server time ---------------------------------------------------------------------------
    def _http_date(self, date: str | None, sent, received) -> None:
        if self.clock.learn_http_date(date, sent, received):
            self._clock_changed()

    def _learn_time(self, issued_at) -> None:
        if self.clock.learn_issued_at(issued_at):
            self._clock_changed()

    def _clock_changed(self) -> None:
        """Report a `clock` fault when the device's own clock is off by more than the limit
        (once per change of more than a minute), and put the new offset in the state."""
        offset = self.clock.offset.total_seconds()
        last = self._clock_reported
        if self.clock.skewed and (last is None or abs(offset - last) > 60):
            self._clock_reported = offset
            self.fault(
                "clock",
                f"device clock is {offset:+.0f} s from the server's (source {self.clock.source});"
                " playing by the server's time",
                offset_s=round(offset, 3),
            )
        elif not self.clock.skewed:
            self._clock_reported = None
        self.poke()
        self._state_changed()

    # -- acting on commands ------------------------------------------------------------------
    def _serial(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the network thread after the commands that arrived with it are acked."""
        with self._work_lock:
            self._pending += 1
        self.rt.net.defer(partial(self._act, fn))

    def _act(self, fn: Callable[[], None]) -> None:
        try:
            if not self._stopped:
                fn()
        except Exception:
            log.exception("%s: command action failed", self.id)
        finally:
            with self._work_lock:
                self._pending -= 1

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until the commands accepted so far have acted (tests, orderly shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._work_lock:
                if self._pending == 0:
                    return True
            time.sleep(0.005)
        return False

    def prepare(self, cmd: wire.Command, *, kid: str) -> Callable[[], None]:
        """What a (valid) command does, as a function to run after the ack."""
        if isinstance(cmd, wire.PlayNow):
            return partial(self._play_now, self._priority_job(cmd))
        if isinstance(cmd, wire.Stop):
            emergency = cmd.emergency_id
            return partial(
                self._stop, str(emergency) if emergency is not None else None, f"stop:{cmd.seq}"
            )
        if isinstance(cmd, wire.VolumeSet):
            return partial(self._set_volume, cmd.volume)
        if isinstance(cmd, wire.PowerSet):
            return partial(self._set_power, cmd.power == "on")
        if isinstance(cmd, wire.Resync | wire.ConfigUpdated):
            return self._resync
        if isinstance(cmd, wire.ManifestUpdated):
            return partial(self._manifest_updated, cmd.etags.get(self.id))
        if isinstance(cmd, wire.LiveStart):
            headers = None
            if cmd.auth == "device" and self.cfg.token:
                headers = {wire.LIVE_TOKEN_HEADER: self.cfg.token}
            job = LiveJob(
                cmd.live_id or cmd.id,
                cmd.url,
                until=cmd.until,
                volume=cmd.volume,
                headers=headers,
                frequency=cmd.relay.frequency if cmd.relay is not None else None,
            )
            return partial(self._live_start, job)
        if isinstance(cmd, wire.LiveStop):
            return partial(self._live_stop, cmd.live_id)
        if isinstance(cmd, wire.AsRunAck):
            return partial(self.store.asrun_ack, list(cmd.entries))
        raise Refused("unsupported_type", cmd.type)

    def _priority_job(self, cmd: wire.PlayNow) -> PriorityJob:
        emergency = cmd.emergency
        return PriorityJob(
            id=cmd.id,
            media=[MediaRef.from_wire(m) for m in cmd.media],
            repeat=cmd.repeat,
            volume=cmd.volume,
            until=emergency.expires_at if emergency else cmd.until,
            emergency_id=str(emergency.id) if emergency else None,
            title=emergency.title if emergency else "",
        )

    def _play_now(self, job: PriorityJob) -> None:
        if not self.player.play_now(job):
            log.info("%s: play.now %s already taken; not played twice", self.id, job.id)
            return
        if all(self.cache.has(m.sha256) for m in job.media):
            self.player.job_ready(job.id)
            self._tick()  # preempt now, on this thread, rather than on the next timer turn
        else:  # in the pool: a stop must not wait behind a download
            self._submit(self._fetch_job, job)

    def _stop(self, emergency_id: str | None, reason: str) -> None:
        if emergency_id is not None:
            self.player.stop_emergency(emergency_id, reason=reason)
        else:
            self.player.stop(reason=reason)
        self.poke()

    def _set_volume(self, volume: int) -> None:
        self.player.set_volume(volume)
        self.store.put("volume", str(volume))

    def _set_power(self, on: bool) -> None:
        self.player.set_power(on)
        self.store.put("power", "1" if on else "0")
        self.poke()

    def _resync(self) -> None:
        self._submit(self.sync_manifest, True)
        self._later("upload", 0, lambda: self._submit(self.upload_asrun))
        self._state_changed()

    def _manifest_updated(self, etag: str | None) -> None:
        if not (etag and self.manifest and self.manifest.etag == etag):
            self._submit(self.sync_manifest)

    def _live_start(self, job: LiveJob) -> None:
        current = self.player.live
        if current is not None and current.mic and current.id == job.id:
            return  # our own microphone, shared: it already sounds here, straight from the input
        self.player.live_start(job)
        self.poke()

    # -- the station's own microphone (microphone.Microphone) ----------------------------------
    def mic_start(
        self, *, share: bool = False, title: str = "", priority: str | None = None
    ) -> str:
        """The operator opens the station's microphone: it sounds on this cluster at once (a
        live job: before the schedule, journaled); with `share` the platform is asked for a
        session (grassroots_protocol.DeviceLiveRequest, device token) and the sound is sent to
        it for the unit's other clusters. If the platform refuses or cannot be reached, the
        microphone still sounds here and a fault says why. Returns the live id."""
        self.mic_stop()
        answer = None
        if share:
            answer = self._open_mic_session(title, priority or self.cfg.mic_priority)
        live_id = answer.live_id if answer else f"mic-{uuid.uuid4().hex[:12]}"
        job = LiveJob(live_id, None, until=answer.until if answer else None, mic=True)
        with self._lock:
            self._mic_id = live_id
        self.player.live_start(job)
        self._tick()
        if answer is not None:
            self.mic.share(answer.source_url, answer.stop_url)
        return live_id

    def mic_stop(self) -> None:
        """The operator closes the microphone; a shared session ends on the platform too."""
        with self._lock:
            live_id, self._mic_id = self._mic_id, None
        if live_id is not None:
            self.player.live_stop(live_id)
            self.poke()

    def _open_mic_session(self, title: str, priority: str) -> wire.DeviceLiveAnswer | None:
        if not self.cfg.server_url:
            self.fault("live.refused", "no server configured")
            return None
        body = wire.DeviceLiveRequest(
            title=(title or self.cfg.mic_title or f"Micro tại đài ({self.id})")[:200],
            priority=priority,
        )
        req = self.http.request(
            "api/v1/live/device",
            method="POST",
            data=json.dumps(body.wire(), ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with self.http.open(req) as resp:
                return wire.DeviceLiveAnswer.model_validate(json.loads(resp.read()))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            self.fault("live.refused", f"{exc.code}: {detail}")
        except (OSError, ValueError) as exc:
            self.fault("live.unreachable", str(exc))
        return None

    def _post_bytes(self, url: str, data: bytes) -> int:
        """POST bytes to the platform with the device token; the HTTP status."""
        req = self.http.request(
            url, method="POST", data=data, headers={"Content-Type": "application/octet-stream"}
        )
        try:
            with self.http.open(req) as resp:
                resp.read()
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def _live_stop(self, live_id: str | None) -> None:
        self.player.live_stop(live_id)
        self.poke()

    def _fetch_job(self, job: PriorityJob) -> None:
        try:
            for ref in job.media:
                self.cache.fetch(ref, pinned={m.sha256 for m in job.media} | self._pinned())
        except CacheError as exc:
            self.fault(exc.code, str(exc), item=job.id)
            self.player.job_ready(job.id, failed=exc.code)
        else:
            self.player.job_ready(job.id)
        self.poke()

    # -- manifest and media ------------------------------------------------------------------
    def _pinned(self) -> set[str]:
        now = self.clock.now()
        items = self.manifest.items if self.manifest else []
        return {m.sha256 for i in items if i.end > now for m in i.media}

    def sync_manifest(self, force: bool = False) -> bool:
        """Fetch the manifest (ETag), verify and keep it, then fetch missing media. True if new."""
        if self._stopped or not self.cfg.server_url:
            return False
        self._later(
            "sync",
            self.cfg.manifest_poll * self._rng.uniform(0.9, 1.1),
            lambda: self._submit(self.sync_manifest),
        )
        with self._sync_lock:
            if self._stopped:
                return False
            etag = None if force or self.manifest is None else self.manifest.etag
            try:
                status, body, new_etag = fetch(self.http, self.id, etag)
            except (OSError, urllib.error.URLError, ValueError) as exc:
                log.info("%s: manifest sync failed: %s", self.id, exc)
                return False
            changed = False
            if status != 304:
                try:
                    manifest = verify(
                        body,
                        keys=self.keys,
                        device_id=self.id,
                        etag=new_etag,
                        current=self.manifest,
                    )
                except ManifestError as exc:
                    self.fault(f"manifest.{exc.code}", exc.detail)
                    return False
                self.manifest = manifest
                self.manifest_file.save(manifest)
                self.player.set_schedule(manifest.items)
                self._watch_expiry()
                self._media_faults.clear()
                self.poke()
                self._state_changed()
                changed = True
            self._fetch_media()
            return changed

    def _fetch_media(self) -> None:
        if self.manifest is None:
            return
        now = self.clock.now()
        pinned = self._pinned()
        for item in self.manifest.items:
            if item.end <= now:
                continue
            for ref in item.media:
                if self._stopped:
                    return
                if self.cache.has(ref.sha256) or ref.sha256 in self._media_faults:
                    continue
                try:
                    self.cache.fetch(ref, pinned=pinned)
                except CacheError as exc:
                    self._media_faults.add(ref.sha256)
                    self.fault(exc.code, str(exc), item=item.id, sha256=ref.sha256)
                    continue
                self.poke()
        self._state_changed()

    # -- as-run upload -----------------------------------------------------------------------
    def upload_asrun(self) -> int:
        """POST unacknowledged entries until none is left; on failure retry later with back-off."""
        if self._stopped or not self.cfg.server_url:
            return 0
        sent = 0
        with self._upload_lock:
            while not self._stopped:
                pending = self.store.asrun_pending(200)
                if not pending:
                    self._upload_backoff.reset()
                    self._later("upload", 60, lambda: self._submit(self.upload_asrun))
                    return sent
                body = json.dumps({"device": self.id, "entries": pending}).encode()
                req = self.http.request(
                    f"api/v1/devices/{self.id}/asrun",
                    method="POST",
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                try:
                    with self.http.open(req) as resp:
                        answer = json.loads(resp.read().decode("utf-8"))
                        accepted = answer.get("accepted", [])
                        rejected = answer.get("rejected") or []
                except (OSError, urllib.error.URLError, ValueError, AttributeError) as exc:
                    delay = self._upload_backoff.next()
                    log.info("%s: as-run upload failed (%s); retry in %.1fs", self.id, exc, delay)
                    self._later("upload", delay, lambda: self._submit(self.upload_asrun))
                    return sent
                ids = {e["id"] for e in pending}
                # an entry the server rejects as invalid would be rejected forever: report, drop
                for r in rejected:
                    if isinstance(r, dict) and str(r.get("id")) in ids:
                        self.fault("asrun.rejected", str(r.get("message", "")), entry=r.get("id"))
                        accepted = [*accepted, r.get("id")]
                acked = [str(i) for i in accepted if str(i) in ids]
                self.store.asrun_ack(acked)
                sent += len(acked)
                if not acked:
                    delay = self._upload_backoff.next()
                    self._later("upload", delay, lambda: self._submit(self.upload_asrun))
                    return sent
        return sent
