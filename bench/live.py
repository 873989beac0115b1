"""Live broadcast: delay from a speaker's word to the agents' audio output; bandwidth per device.

The whole path, real processes: a timestamped source (quiet noise with a short 1 kHz beep every
`GAP_S` seconds, Opus in WebM as a browser's MediaRecorder makes it, CBR) is POSTed in 250 ms
slices to `/api/v1/live/{id}/source` on a real gunicorn, each slice when it would be complete in
a browser; the live relay (`grassroots live`, its own process) feeds ffmpeg → a real Icecast
(listener hook → the web); the real gateway and Mosquitto carry the signed `live.start`; N real
agents (the `record` audio backend: ffmpeg decoding the stream into a WAV file, as it would into
the sound card) play it. The delay of a beep is the time its first loud samples appear in an
agent's output minus the time the speaker made it (the start of its slice); p50/p95 over every
beep × agent. Bandwidth per device: bytes Icecast sent to listeners / listeners / seconds.

Goals (issue 20): p95 ≤ 2 s for 1 and 200 agents; ≤ 32 kb/s per device. The decoders of 200
agents and the load generator share this machine's cores with everything else.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

SIZES = [int(n) for n in os.environ.get("BENCH_LIVE_AGENTS", "1,200").split(",")]
BEEPS = int(os.environ.get("BENCH_LIVE_BEEPS", "4"))
GAP_S = 4.0  # a delay up to GAP_S is matched to its own beep
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
    log = (home / "icecast" / "bench.log").open("w")  # noqa: SIM115 - the process keeps it
    proc = subprocess.Popen([icecast.icecast_binary(), "-c", str(conf)], stdout=log, stderr=log)
    time.sleep(0.5)
    return proc, port


def _web(port: int, env: dict, home: Path) -> subprocess.Popen:
    """The web process as `grassroots run` starts it (gunicorn, threaded workers): it answers
    Icecast's listener hook for a whole area joining at once."""
    from grassroots.core.management.commands.run import web_argv

    proc = subprocess.Popen(
        web_argv(home, "127.0.0.1", port, 2),
        env=env,
        stdout=subprocess.DEVNULL,
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

    def poll(self) -> None:
        now = time.monotonic()
        for d in self.dirs:
            for f in sorted(d.glob("*.wav")) if d.exists() else []:
                self._read(d, f, now)

    def _read(self, d: Path, f: Path, now: float) -> None:
        import array

        offset = self.offsets.setdefault(f, 44)
        try:
            with f.open("rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except FileNotFoundError:
            return
        data = data[: len(data) - len(data) % 2]
        if not data:
            return
        self.offsets[f] = offset + len(data)
        peak = max(abs(s) for s in array.array("h", data))
        seen = self.seen[d]
        # a new onset: loud after quiet, and not the same beep read in two pieces
        if peak > 6000 and not self.loud.get(f) and (not seen or now - seen[-1] > 1.0):
            seen.append(now)
        self.loud[f] = peak > 6000  # the beep lasts 150 ms; a quiet read ends it


def _round(n_agents: int, specs: list[dict], ctx: dict) -> dict:
    import json

    from grassroots.alerts.models import LiveSession, LiveStatus
    from grassroots.devices import simulation
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
        seconds = GAP_S * (BEEPS + 1) + 1
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
        spoken = [t0 + k * GAP_S for k in range(1, BEEPS + 1)]
        offset = 0
        for i in range(n_slices):
            due = t0 + (i + 1) * SLICE_S  # a browser hands over a slice when it is complete
            while time.monotonic() < due:
                time.sleep(0.005)
            piece = audio[cuts[i] : cuts[i + 1]]
            req = urllib.request.Request(
                f"{ctx['web']}/api/v1/live/{session['id']}/source?offset={offset}",
                data=piece,
                headers={**headers, "Content-Type": "application/octet-stream"},
            )
            urllib.request.urlopen(req, timeout=10).read()  # noqa: S310
            offset += len(piece)
        live = LiveSession.objects.get(pk=session["id"])
        stats = _stats(ctx["icecast_port"], ctx["home"], live.mount)
        stream_s = time.monotonic() - t0
        time.sleep(GAP_S)  # the last beep reaches everyone
        watching.set()
        watcher.join(10)
        req = urllib.request.Request(
            f"{ctx['web']}/api/v1/live/{session['id']}/stop", data=b"", headers=headers
        )
        urllib.request.urlopen(req, timeout=30).read()  # noqa: S310
        delays = []
        heard = 0
        for seen in onsets.seen.values():
            # match each detected onset to the beep spoken just before it (within GAP_S)
            for t in seen:
                before = [s for s in spoken if s <= t]
                if before and t - before[-1] < GAP_S:
                    delays.append(t - before[-1])
            heard += 1 if seen else 0
        delays.sort()
        sent = int(stats.get("total_bytes_sent", 0) or 0)
        listeners = max(1, int(stats.get("listener_peak", 0) or n_agents))
        from .fleet import _percentile

        deadline = time.monotonic() + 30
        while LiveSession.objects.get(pk=session["id"]).status != LiveStatus.ENDED:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        return {
            "agents": n_agents,
            "agents_heard": heard,
            "beeps_expected": BEEPS * n_agents,
            "beeps_detected": len(delays),
            "delay_p50_s": round(_percentile(delays, 0.5), 3) if delays else None,
            "delay_p95_s": round(_percentile(delays, 0.95), 3) if delays else None,
            "delay_max_s": round(delays[-1], 3) if delays else None,
            "kbps_per_device": round(sent * 8 / 1000 / listeners / stream_s, 1),
            "listener_peak": listeners,
        }
    finally:
        fleet.stop()


def run() -> dict:
    from django.conf import settings

    from grassroots.accounts.models import ApiToken, User
    from grassroots.core import broker
    from grassroots.devices import simulation

    from .fleet import _prepare_db

    _prepare_db()
    specs = simulation.ensure_fleet(max(SIZES))
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
    web_proc = _web(web_port, env, home)
    settings.ICECAST_URL = env["ICECAST_URL"]
    try:
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
        }
        rounds = {}
        for n in SIZES:
            result = _round(n, specs, ctx)
            print(
                f"live: {n} agents: delay p50 {result['delay_p50_s']} s, p95 "
                f"{result['delay_p95_s']} s; {result['beeps_detected']}/"
                f"{result['beeps_expected']} beeps; {result['kbps_per_device']} kb/s per device",
                flush=True,
            )
            rounds[f"agents_{n}"] = result
        return {
            **rounds,
            "goal_p95_s": 2.0,
            "goal_kbps_per_device": 32,
            "note": "decoders, load generator and platform share the machine's cores",
        }
    finally:
        for proc in (web_proc, relay, gateway, icecast_proc, mosquitto):
            proc.terminate()
        for proc in (web_proc, relay, gateway, icecast_proc, mosquitto):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
