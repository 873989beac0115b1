"""A fleet of real agents (null audio) in a few processes, for demos and benchmarks.

Each process shares one network loop thread (all its paho clients), one timer thread and a
small HTTP thread pool among its agents: one MQTT client per device, no thread per device.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grassroots_agent.config import AgentConfig, MqttSettings

log = logging.getLogger(__name__)


@dataclass
class DeviceSpec:
    """One simulated device: id, unit codes (own + ancestors) and its credentials."""

    id: str
    units: list[str]
    username: str | None = None
    password: str | None = None
    token: str | None = None


@dataclass
class FleetOptions:
    broker_url: str
    server_url: str | None
    keys: dict[str, str]
    state_dir: str
    timeline: bool = False
    cache_limit: int = 64 * 1024 * 1024
    connect_spread: float = 2.0
    manifest_poll: float = 300.0
    backoff_min: float = 1.0
    backoff_max: float = 60.0
    log_level: str = "ERROR"
    # local files every agent holds in its cache from the start (as if delivered earlier)
    preload: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # `null` (a timeline only) or `record` (really decode what plays into WAV files under each
    # agent's state directory, `audio/`: live tests and the live benchmark)
    audio_backend: str = "null"
    # the station microphone's ffmpeg input (e.g. an lavfi tone standing in for ALSA)
    mic_input: list[str] | None = None


def default_devices(n: int, units: list[list[str]] | None = None) -> list[DeviceSpec]:
    """n devices sim-00000..; spread over 100 communes under one district and province."""
    out = []
    for i in range(n):
        chain = units[i % len(units)] if units else [f"sim.{i % 100:03d}", "sim", "sim-province"]
        out.append(DeviceSpec(id=f"sim-{i:05d}", units=list(chain)))
    return out


def make_config(spec: DeviceSpec, opts: FleetOptions) -> AgentConfig:
    mqtt = MqttSettings.from_url(
        opts.broker_url,
        username=spec.username,
        password=spec.password,
        backoff_min=opts.backoff_min,
        backoff_max=opts.backoff_max,
    )
    state = Path(opts.state_dir) / spec.id
    return AgentConfig(
        device_id=spec.id,
        units=spec.units,
        mqtt=mqtt,
        server_url=opts.server_url,
        token=spec.token,
        keys=opts.keys,
        state_dir=state,
        cache_limit=opts.cache_limit,
        audio_backend=opts.audio_backend,
        audio_options={"dir": str(state / "audio")} if opts.audio_backend == "record" else {},
        timeline=state / "timeline.jsonl" if opts.timeline else None,
        manifest_poll=opts.manifest_poll,
        mic_input=opts.mic_input,
    )


class Fleet:
    """Agents of one process sharing one Runtime."""

    def __init__(self, specs: list[DeviceSpec], opts: FleetOptions, workers: int = 4) -> None:
        from grassroots_agent.agent import Agent
        from grassroots_agent.runtime import Runtime

        self.runtime = Runtime(workers=workers).start()
        self.agents = [
            Agent(
                make_config(spec, opts),
                runtime=self.runtime,
                max_sleep=5.0,
                first_connect_delay=opts.connect_spread * (i / max(1, len(specs))),
            )
            for i, spec in enumerate(specs)
        ]
        for agent in self.agents:
            for path in opts.preload:
                agent.cache.add_file(Path(path))

    def start(self) -> Fleet:
        for agent in self.agents:
            agent.start()
        return self

    def connected(self) -> int:
        return sum(1 for a in self.agents if a.link.connected)

    def stop(self) -> None:
        for agent in self.agents:
            agent.stop()
        self.runtime.stop()


def _raise_fd_limit() -> None:
    """Each agent holds a socket and three SQLite files: lift the soft limit to the hard one."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def _worker(specs, opts, conn) -> None:
    """One simulator process. It talks to its parent over a pipe only (no shared locks): it
    sends how many agents connected, then runs until told to stop or until the pipe closes,
    which is also what happens when the parent dies (SIGTERM, SIGKILL), so the agents never
    outlive `grassroots simulate`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _raise_fd_limit()
    # thousands of agents: keep each one's warnings (faults are reported over MQTT anyway) quiet
    logging.getLogger("grassroots_agent").setLevel(opts.log_level)
    fleet = Fleet(specs, opts).start()
    deadline = time.monotonic() + 60
    while fleet.connected() < len(specs) and time.monotonic() < deadline and not conn.poll():
        time.sleep(0.05)
    try:
        conn.send(fleet.connected())
        conn.poll(None)  # a message (stop) or the end of the pipe (the parent is gone)
    except (EOFError, OSError):
        pass
    fleet.stop()


def run(
    n_devices: int,
    broker_url: str,
    *,
    server_url: str | None = None,
    keys: dict[str, str] | None = None,
    devices: list[DeviceSpec] | None = None,
    processes: int | None = None,
    state_dir: str | None = None,
    duration: float | None = None,
    timeline: bool = False,
    on_ready: Callable[[int], None] | None = None,
    stop_event: Any = None,
    preload: list[str] | None = None,
) -> int:
    """Run `n_devices` agents in a few processes until `duration` elapses, `stop_event` is set
    or Ctrl-C; returns how many were connected once all processes were ready."""
    if not keys:
        raise ValueError("the fleet needs the server's trusted public keys")
    specs = devices or default_devices(n_devices)
    procs_n = processes or max(1, min(os.cpu_count() or 1, (len(specs) + 499) // 500))
    state_dir = state_dir or tempfile.mkdtemp(prefix="grassroots-sim-")
    opts = FleetOptions(
        broker_url=broker_url,
        server_url=server_url,
        keys=keys,
        state_dir=state_dir,
        timeline=timeline,
        connect_spread=min(10.0, len(specs) / 500),
        preload=list(preload or []),
    )
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for k in range(procs_n):
        chunk = specs[k::procs_n]
        if not chunk:
            continue
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(chunk, opts, theirs), daemon=True)
        proc.start()
        theirs.close()  # only the worker holds its end: our death closes the pipe for it
        pipes.append(mine)
        procs.append(proc)
    connected = 0
    deadline = time.monotonic() + 120
    for conn in pipes:
        try:
            if conn.poll(max(0.0, deadline - time.monotonic())):
                connected += conn.recv()
        except (EOFError, OSError):
            pass  # that process died while starting
    log.info("simulator: %d/%d agents connected in %d processes", connected, len(specs), len(procs))
    if on_ready is not None:
        on_ready(connected)
    waiter = threading.Event()
    try:
        deadline = None if duration is None else time.monotonic() + duration
        while True:
            if stop_event is not None and stop_event.is_set():
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            waiter.wait(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        for conn in pipes:
            with contextlib.suppress(OSError):
                conn.send("stop")
        for proc in procs:
            proc.join(15)
            if proc.is_alive():
                proc.terminate()
    return connected
