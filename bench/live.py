"""Live broadcast: how fast an area joins, then the delay from a speaker's word to the agents'
audio output; bandwidth per device.

The whole path, real processes: a timestamped source (quiet noise with a short 1 kHz beep every
`GAP_S` seconds, Opus in WebM as a browser's MediaRecorder makes it, CBR) is POSTed in 250 ms
slices to `/api/v1/live/{id}/source` on a real gunicorn, each slice when it would be complete in
a browser; the live relay (`grassroots live`, its own process) feeds ffmpeg → a real Icecast
(listener hook → the web); the real gateway and Mosquitto carry the signed `live.start`; N real
agents (the `record` audio backend: ffmpeg decoding the stream into a WAV file, as it would into
the sound card) play it.

- **Join:** from the signed `live.start` (the session on air) to each agent's stream being open
  (its first WAV file) and to its first audio out; p50/p95/max.
- **Delay (the goal):** once every agent plays (or after `JOIN_CAP_S`), BEEPS more beeps; the
  delay of a beep is the time its first loud samples appear in an agent's output minus the time
  the speaker made it (the start of its slice); p50/p95 over beep × agent, with beeps detected
  out of expected (a beep an agent never played is missed, not a delay).
- **While joining:** the beeps spoken between `live.start` and the whole area playing: how many
  the agents already playing heard, and their p95.
- **Evidence** of where joining waits: listeners Icecast turned away ("too many clients awaiting
  authentication", 403) and the listener hook's requests (web access log).
- **Bandwidth per device:** bytes Icecast sent to listeners / the seconds they listened.

Goals (issue 20): p95 ≤ 2 s for 1 and 200 agents; ≤ 32 kb/s per device. The decoders of 200
agents (each ffmpeg start costs ~60 ms of CPU: 200 of them are ~12 CPU-seconds, which 200 real
devices spend each on its own CPU), the load generator and the platform share this machine's
cores: report the load average with the numbers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

SIZES = [int(n) for n in os.environ.get("BENCH_LIVE_AGENTS", "1,200").split(",")]
PROBE = int(os.environ.get("BENCH_LIVE_PROBE", "200"))  # plain listeners joining at once; 0: none
BEEPS = int(os.environ.get("BENCH_LIVE_BEEPS", "4"))
GAP_S = 4.0  # a delay up to GAP_S is matched to its own beep
JOIN_CAP_S = float(os.environ.get("BENCH_LIVE_JOIN_CAP", "40"))  # longest wait for the area
SLICE_S = 0.25
RATE = 16000  # the record backend writes 16 kHz mono s16


def _source(seconds: float) -> bytes:
    """Quiet noise with a 150 ms 1 kHz beep every GAP_S; Opus CBR 32 kb/s in live WebM."""
    # quiet noise under it keeps the encoder at its full rate, as speech would
    beep = f"lt(mod(t\\,{GAP_S})\\,0.15)*gte(t\\,{GAP_S}-0.01)"
    expr = f"if({beep}\\,0.8*sin(2*PI*1000*t)\\,0.04*(random(0)-0.5))"
    return subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i"]
        + [f"aevalsrc={expr}:s=48000:d={seconds}", "-ac", "1", "-c:a", "libopus"]
        + ["-b:a", "32k", "-vbr", "off", "-live", "1", "-f", "webm", "pipe:1"],
        check=True,
        capture_output=True,
    ).stdout


def _icecast(home: Path, auth_url: str) -> tuple[subprocess.Popen, int]:
    from grassroots.core import broker, icecast

    port = broker.free_port()
    conf = icecast.write_config(home, port, auth_url)
    # 3 (information): Icecast notes every listener queued for authentication and how many wait
    level = int(os.environ.get("BENCH_LIVE_ICECAST_LOGLEVEL", "3"))
    conf.write_text(conf.read_text().replace("<loglevel>2<", f"<loglevel>{level}<"))
    log = (home / "icecast" / "bench.log").open("w")  # noqa: SIM115 - the process keeps it
    proc = subprocess.Popen([icecast.icecast_binary(), "-c", str(conf)], stdout=log, stderr=log)
    time.sleep(0.5)
    return proc, port


def _web(port: int, env: dict, home: Path, log: Path | None = None) -> subprocess.Popen:
    """The web process as `grassroots run` starts it (gunicorn, threaded workers): it answers
    Icecast's listener hook for a whole area joining at once."""
    from grassroots.core.management.commands.run import web_argv

    out = log.open("w") if log else subprocess.DEVNULL  # noqa: SIM115 - the process keeps it
    proc = subprocess.Popen(
        web_argv(home, "127.0.0.1", port, 2),
        env=env,
        stdout=out,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()  # noqa: S310
            return proc
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the web server did not start") from None
            time.sleep(0.2)


def _stats(port: int, home: Path, mount: str) -> dict:
    """Icecast's counters for the mount (admin stats)."""
    import base64

    from grassroots.core import icecast

    password = icecast._secret(home, "admin-password")
    req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/stats")  # noqa: S310
    req.add_header(
        "Authorization", "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    )
    text = urllib.request.urlopen(req, timeout=5).read().decode()  # noqa: S310
    block = text.split(f'<source mount="{mount}">', 1)[-1].split("</source>", 1)[0]
    return dict(re.findall(r"<(\w+)>([^<]*)</\1>", block))


class Onsets:
    """Watches agents' WAV outputs and notes when each beep's first loud samples show up."""

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs  # each agent's output directory (a WAV file per opening of the stream)
        self.offsets: dict[Path, int] = {}
        self.loud: dict[Path, bool] = {}
        self.seen: dict[Path, list[float]] = {d: [] for d in dirs}
        # when each agent's stream opened (its first WAV file appeared: Icecast let it in and
        # ffmpeg read the stream's headers) and when its first audio came out
        self.opened: dict[Path, float] = {}
        self.first_audio: dict[Path, float] = {}
        self.files: dict[Path, list[Path]] = {}
        self._scanned = 0.0

    def poll(self) -> None:
        """One look at every output. Cheap (it shares the cores with what it measures): a
        directory is listed again only until its first file shows up, and every half second
        for the files of a reopened stream; a file is read only when it grew."""
        now = time.monotonic()
        rescan = now - self._scanned > 0.5
        if rescan:
            self._scanned = now
        for d in self.dirs:
            files = self.files.setdefault(d, [])
            if rescan or not files:
                try:
                    names = sorted(e.name for e in os.scandir(d) if e.name.endswith(".wav"))
                except FileNotFoundError:
                    names = []
                for name in names:
                    if d / name not in files:
                        files.append(d / name)
                        self.opened.setdefault(d, now)
            for f in files:
                self._read(d, f, now)

    def _read(self, d: Path, f: Path, now: float) -> None:
        import array

        offset = self.offsets.setdefault(f, 44)
        try:
            if os.stat(f).st_size < offset + 2:
                return
            with f.open("rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except FileNotFoundError:
            return
        data = data[: len(data) - len(data) % 2]
        if not data:
            return
        self.offsets[f] = offset + len(data)
        self.first_audio.setdefault(d, now)
        samples = array.array("h", data)
        peak = max(max(samples), -min(samples))
        seen = self.seen[d]
        # a new onset: loud after quiet, and not the same beep read in two pieces
        if peak > 6000 and not self.loud.get(f) and (not seen or now - seen[-1] > 1.0):
            seen.append(now)
        self.loud[f] = peak > 6000  # the beep lasts 150 ms; a quiet read ends it


def _round(n_agents: int, specs: list[dict], ctx: dict) -> dict:
    import json

    from grassroots.devices import simulation
    from grassroots.live.models import LiveSession, LiveStatus
    from grassroots_agent.simulate import DeviceSpec, Fleet, FleetOptions

    state = ctx["home"] / f"bench-live-{n_agents}"
    shutil.rmtree(state, ignore_errors=True)
    opts = FleetOptions(
        broker_url=f"mqtt://127.0.0.1:{ctx['mqtt_port']}",
        server_url=ctx["web"],
        keys=simulation.trusted_keys(),
        state_dir=str(state),
        connect_spread=min(5.0, n_agents / 100),
        audio_backend="record",
    )
    fleet = Fleet([DeviceSpec(**s) for s in specs[:n_agents]], opts).start()
    try:
        deadline = time.monotonic() + 120
        while fleet.connected() < n_agents:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{fleet.connected()} of {n_agents} agents connected")
            time.sleep(0.2)
        time.sleep(2)
        headers = {"Authorization": f"Bearer {ctx['token']}"}
        body = json.dumps(
            {"units": ["33"], "title": f"Bench live {n_agents}", "priority": "emergency"}
        ).encode()
        req = urllib.request.Request(
            f"{ctx['web']}/api/v1/live",
            data=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        session = json.loads(urllib.request.urlopen(req, timeout=30).read())  # noqa: S310
        # The speaker talks from t0 on (a beep every GAP_S). The agents join as live.start
        # reaches them; once every agent plays (or JOIN_CAP_S passed) BEEPS more beeps are
        # measured: the delay of a joined area. The beeps spoken while the area was still
        # joining are reported apart, with the join times themselves.
        seconds = JOIN_CAP_S + GAP_S * (BEEPS + 1) + 1
        audio = _source(seconds)
        n_slices = int(seconds / SLICE_S)
        per = len(audio) / n_slices
        cuts = [round(i * per) for i in range(n_slices)] + [len(audio)]
        files = [state / s["id"] / "audio" for s in specs[:n_agents]]
        onsets = Onsets(files)
        watching = threading.Event()

        def watch():  # its own thread, so reading 200 outputs never delays the source
            while not watching.is_set():
                onsets.poll()
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        t0 = time.monotonic()
        offset = 0
        all_joined: float | None = None
        end_at = t0 + seconds
        spoken_until = t0  # the end of the last slice sent
        for i in range(n_slices):
            due = t0 + (i + 1) * SLICE_S  # a browser hands over a slice when it is complete
            if due > end_at:
                break
            spoken_until = due
            while time.monotonic() < due:
                time.sleep(0.005)
            if all_joined is None and (
                len(onsets.first_audio) == n_agents or due - t0 > JOIN_CAP_S
            ):
                all_joined = time.monotonic()
                # BEEPS whole gaps after the next beep, then a little for the last one
                next_beep = t0 + GAP_S * (int((all_joined - t0) / GAP_S) + 1)
                end_at = next_beep + GAP_S * (BEEPS - 1) + 1
            piece = audio[cuts[i] : cuts[i + 1]]
            req = urllib.request.Request(
                f"{ctx['web']}/api/v1/live/{session['id']}/source?offset={offset}",
                data=piece,
                headers={**headers, "Content-Type": "application/octet-stream"},
            )
            try:
                urllib.request.urlopen(req, timeout=10).read()  # noqa: S310
            except urllib.error.HTTPError as exc:  # e.g. the relay ended a starved session
                ended = LiveSession.objects.get(pk=session["id"])
                raise RuntimeError(
                    f"slice {i} refused ({exc.code}: {exc.read()[:200]!r}); session "
                    f"{ended.status} {ended.end_reason}"
                ) from exc
            offset += len(piece)
        live = LiveSession.objects.get(pk=session["id"])
        stats = _stats(ctx["icecast_port"], ctx["home"], live.mount)
        stream_end = time.monotonic()
        time.sleep(GAP_S)  # the last beep reaches everyone
        watching.set()
        watcher.join(10)
        req = urllib.request.Request(
            f"{ctx['web']}/api/v1/live/{session['id']}/stop", data=b"", headers=headers
        )
        try:
            urllib.request.urlopen(req, timeout=30).read()  # noqa: S310
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: the relay already ended it (the source stopped)
                raise
        on_air = live.started_at.timestamp() - (time.time() - time.monotonic())
        spoken = [t0 + k * GAP_S for k in range(1, int(seconds / GAP_S) + 1)]
        spoken = [t for t in spoken if on_air <= t <= spoken_until - 0.2]
        measured = [t for t in spoken if all_joined is not None and t > all_joined]
        joining = [t for t in spoken if t not in measured]
        delays: list[float] = []  # the measured beeps x agents
        early: list[float] = []  # beeps spoken while the area was joining
        by_beep: dict[float, list[float]] = {s: [] for s in spoken}
        for seen in onsets.seen.values():
            # match each detected onset to the beep spoken just before it (within GAP_S)
            for t in seen:
                before = [s for s in spoken if s <= t]
                if before and t - before[-1] < GAP_S:
                    (delays if before[-1] in measured else early).append(t - before[-1])
                    by_beep[before[-1]].append(t - before[-1])
        delays.sort()
        early.sort()
        # joining: from the signed live.start (the session going on air) to each agent's stream
        # being open (Icecast let it in, its first WAV file appeared) and to its first audio
        join_open = sorted(t - on_air for t in onsets.opened.values())
        join_audio = sorted(t - on_air for t in onsets.first_audio.values())
        sent = int(stats.get("total_bytes_sent", 0) or 0)
        listeners = max(1, int(stats.get("listener_peak", 0) or n_agents))
        # bandwidth per device: bytes sent over the seconds each agent was listening
        listened = sum(max(0.0, stream_end - t) for t in onsets.opened.values())
        from .fleet import _percentile

        def pct(values: list[float], q: float) -> float | None:
            return round(_percentile(values, q), 3) if values else None

        expected = len(measured) * n_agents
        icecast_log = (ctx["home"] / "icecast" / "bench.log").read_text(errors="replace")
        icecast_log, ctx["icecast_log_at"] = icecast_log[ctx["icecast_log_at"] :], len(icecast_log)
        pending = [int(n) for n in re.findall(r"has (\d+) pending", icecast_log)]
        web_log = ctx["web_log"].read_text(errors="replace")[ctx["web_log_at"] :]
        ctx["web_log_at"] += len(web_log)
        deadline = time.monotonic() + 30
        while LiveSession.objects.get(pk=session["id"]).status != LiveStatus.ENDED:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        ended = LiveSession.objects.get(pk=session["id"])
        return {
            "agents": n_agents,
            # "stopped" by the bench; "source_lost": the speaker (this process) was starved for
            # longer than the relay's source timeout, and the round is not valid
            "ended_by": ended.end_reason,
            "agents_joined": len(join_audio),
            # from live.start to each agent's stream open and to its first audio out
            "join_open_p50_s": pct(join_open, 0.5),
            "join_open_p95_s": pct(join_open, 0.95),
            "join_audio_p50_s": pct(join_audio, 0.5),
            "join_audio_p95_s": pct(join_audio, 0.95),
            "join_audio_max_s": round(join_audio[-1], 3) if join_audio else None,
            # the joined area: the goal's delay
            "beeps_expected": expected,
            "beeps_detected": len(delays),
            "delay_p50_s": pct(delays, 0.5),
            "delay_p95_s": pct(delays, 0.95),
            "delay_max_s": round(delays[-1], 3) if delays else None,
            # beeps spoken between live.start and the whole area playing
            "joining_beeps_expected": len(joining) * n_agents,
            "joining_beeps_detected": len(early),
            "joining_delay_p95_s": pct(early, 0.95),
            # evidence of where joining waits: listeners Icecast turned away ("too many clients
            # awaiting authentication", 403) and the platform's listener hook requests
            "icecast_refused": len(
                re.findall(re.escape(live.mount) + r' HTTP/1\.1" 403', icecast_log)
            ),
            "hook_requests": web_log.count("/api/v1/live/icecast/listener"),
            "auth_pending_max": max(pending, default=None),  # Icecast refuses past 100
            "kbps_per_device": round(sent * 8 / 1000 / listened, 1) if listened else None,
            "listener_peak": listeners,
            # each beep: seconds after live.start it was spoken, agents that heard it, p50, p95
            "beeps": [
                [round(s - on_air, 2), len(v), pct(sorted(v), 0.5), pct(sorted(v), 0.95)]
                for s, v in by_beep.items()
            ],
        }
    finally:
        fleet.stop()


def _probe_round(n: int, specs: list[dict], ctx: dict) -> dict:
    """The platform's own join capacity: when the session goes on air, `n` plain HTTP listeners
    (no decoder) open the mount at once, each with a device's token, as `n` devices with their
    own CPUs would; time from on air to the first stream bytes, and how many were turned away."""
    import http.client
    import json
    from urllib.parse import urlsplit

    from grassroots.live.models import LiveSession, LiveStatus

    headers = {"Authorization": f"Bearer {ctx['token']}"}
    body = json.dumps({"units": ["33"], "title": f"Bench join {n}", "priority": "emergency"})
    req = urllib.request.Request(
        f"{ctx['web']}/api/v1/live",
        data=body.encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    session = json.loads(urllib.request.urlopen(req, timeout=30).read())  # noqa: S310
    seconds = 20.0
    audio = _source(seconds)
    n_slices = int(seconds / SLICE_S)
    per = len(audio) / n_slices
    stop = threading.Event()

    def speak():
        t0, offset = time.monotonic(), 0
        for i in range(n_slices):
            while time.monotonic() < t0 + (i + 1) * SLICE_S:
                time.sleep(0.005)
            if stop.is_set():
                return
            piece = audio[round(i * per) : round((i + 1) * per)]
            r = urllib.request.Request(
                f"{ctx['web']}/api/v1/live/{session['id']}/source?offset={offset}",
                data=piece,
                headers={**headers, "Content-Type": "application/octet-stream"},
            )
            urllib.request.urlopen(r, timeout=10).read()  # noqa: S310
            offset += len(piece)

    speaker = threading.Thread(target=speak, daemon=True)
    speaker.start()
    deadline = time.monotonic() + 30
    while (live := LiveSession.objects.get(pk=session["id"])).status != LiveStatus.ON_AIR:
        if time.monotonic() > deadline:
            raise RuntimeError("the session did not go on air")
        time.sleep(0.05)
    on_air = time.monotonic()
    url = urlsplit(f"http://127.0.0.1:{ctx['icecast_port']}{live.mount}")
    joined: list[float] = []
    refused: list[int] = []
    lock = threading.Lock()
    from grassroots_agent.player import LIVE_REOPEN, live_reopen_delay
    from grassroots_protocol.messages import LIVE_TOKEN_HEADER

    def listen(token: str) -> None:
        """Open the mount as an agent does: turned away, it tries again after the agent's own
        back-off (grassroots_agent.player), up to its limit."""
        for attempt in range(1, LIVE_REOPEN + 2):
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            try:
                conn.request("GET", url.path, headers={LIVE_TOKEN_HEADER: token})
                resp = conn.getresponse()
                if resp.status == 200:
                    resp.read(1)
                    with lock:
                        joined.append(time.monotonic() - on_air)
                    time.sleep(2)
                    return
                with lock:
                    refused.append(resp.status)
            except OSError:
                with lock:
                    refused.append(0)
            finally:
                conn.close()
            if attempt <= LIVE_REOPEN:
                time.sleep(live_reopen_delay(attempt))

    threads = [threading.Thread(target=listen, args=(s["token"],)) for s in specs[:n]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    speaker.join(10)
    urllib.request.urlopen(  # noqa: S310
        urllib.request.Request(
            f"{ctx['web']}/api/v1/live/{session['id']}/stop", data=b"", headers=headers
        ),
        timeout=30,
    ).read()
    from .fleet import _percentile

    joined.sort()
    return {
        "listeners": n,
        "joined": len(joined),
        "refused": len(refused),  # times a listener was turned away (then tried again)
        "join_p50_s": round(_percentile(joined, 0.5), 3) if joined else None,
        "join_p95_s": round(_percentile(joined, 0.95), 3) if joined else None,
        "join_max_s": round(joined[-1], 3) if joined else None,
    }


def run() -> dict:
    from django.conf import settings

    from grassroots.accounts.models import ApiToken, User
    from grassroots.core import broker
    from grassroots.devices import simulation

    from .fleet import _prepare_db

    _prepare_db()
    specs = simulation.ensure_fleet(max([*SIZES, PROBE]))
    home = Path(settings.GRASSROOTS["HOME"])
    mqtt_port = broker.free_port()
    shutil.rmtree(home / "mosquitto" / "data", ignore_errors=True)
    conf = broker.write_config(home, mqtt_port, auth=True)
    mosquitto = subprocess.Popen(
        [broker.mosquitto_binary(), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    web_port = broker.free_port()
    web = f"http://127.0.0.1:{web_port}"
    icecast_proc, icecast_port = _icecast(home, f"{web}/api/v1/live/icecast/listener")
    server_url = f"mqtt://{broker.SERVER_USER}:{broker.server_password(home)}@127.0.0.1:{mqtt_port}"
    env = dict(
        os.environ,
        MQTT_URL=server_url,
        ICECAST_URL=f"http://127.0.0.1:{icecast_port}",
        ICECAST_SOURCE_URL=f"http://127.0.0.1:{icecast_port}",
    )
    gateway = subprocess.Popen(
        [sys.executable, "-m", "grassroots", "gateway"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    relay = subprocess.Popen(
        [sys.executable, "-m", "grassroots", "live"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    web_log = home / "icecast" / "bench-web.log"  # the access log: the hook's requests
    web_proc = None
    try:
        # inside the try: a web that does not start must not leave the others running (a
        # leftover relay would take the next run's sessions onto its own Icecast)
        web_proc = _web(web_port, env, home, web_log)
        settings.ICECAST_URL = env["ICECAST_URL"]
        broker.sync(home)
        time.sleep(0.5)
        admin = User.objects.get(username="admin")
        token = ApiToken.objects.issue(user=admin, name="bench-live")[1]
        ctx = {
            "home": home,
            "mqtt_port": mqtt_port,
            "icecast_port": icecast_port,
            "web": web,
            "token": token,
            "web_log": web_log,
            "web_log_at": 0,
            "icecast_log_at": 0,
        }
        rounds = {}
        for n in SIZES:
            result = _round(n, specs, ctx)
            print(
                f"live: {n} agents (ended: {result['ended_by']}): joined "
                f"{result['agents_joined']}, first audio p50 "
                f"{result['join_audio_p50_s']} s p95 {result['join_audio_p95_s']} s; then delay "
                f"p50 {result['delay_p50_s']} s p95 {result['delay_p95_s']} s, "
                f"{result['beeps_detected']}/{result['beeps_expected']} beeps; while joining "
                f"{result['joining_beeps_detected']}/{result['joining_beeps_expected']} beeps; "
                f"{result['icecast_refused']} refused, {result['hook_requests']} hook requests, "
                f"at most {result['auth_pending_max']} awaiting authentication; "
                f"{result['kbps_per_device']} kb/s per device",
                flush=True,
            )
            rounds[f"agents_{n}"] = result
        if PROBE:
            result = _probe_round(PROBE, specs, ctx)
            print(
                f"live: {PROBE} plain listeners (no decoders) at on air: joined "
                f"{result['joined']}, {result['refused']} refused; first bytes p50 "
                f"{result['join_p50_s']} s p95 {result['join_p95_s']} s "
                f"max {result['join_max_s']} s",
                flush=True,
            )
            rounds[f"platform_join_{PROBE}"] = result
        return {
            **rounds,
            "goal_p95_s": 2.0,
            "goal_kbps_per_device": 32,
            "note": "decoders, load generator and platform share the machine's cores",
        }
    finally:
        procs = [p for p in (web_proc, relay, gateway, icecast_proc, mosquitto) if p is not None]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
