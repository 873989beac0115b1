"""Audio output and FM tuner backends.

A backend plays one thing at a time: `start()` it, ask `finished()` now and then, `stop()` it.
`null` backends write the timeline they would play (JSONL) instead of making sound.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from grassroots_agent.clock import Clock, iso

log = logging.getLogger(__name__)

# Opus speech at 32 kb/s: how long the null backend pretends a file of unknown length lasts.
NULL_BYTES_PER_SECOND = 4000


@dataclass(frozen=True)
class Source:
    """What to play: a local file (with its length if known) or a stream URL."""

    path: str | None = None
    url: str | None = None
    duration: float | None = None
    size: int | None = None
    headers: dict[str, str] | None = None  # HTTP headers sent when opening `url`
    container: str | None = None  # the stream's known format (ffmpeg -f): no probing at all

    def label(self) -> str:
        return self.url or Path(self.path or "").name


class Timeline:
    """Append-only JSONL of {"t", "event", "item", "source"} lines, shared by null backends."""

    def __init__(self, path: Path | None, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, event: str, item: str, source: str) -> None:
        if self.path is None:
            return
        line = json.dumps(
            {"t": iso(self.clock.now()), "event": event, "item": item, "source": source},
            ensure_ascii=False,
        )
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class Backend(Protocol):
    def start(self, item: str, sources: list[Source], volume: int) -> None: ...

    def finished(self) -> bool: ...

    def next_check(self) -> float | None: ...

    def stop(self, event: str = "cut") -> None: ...

    def set_volume(self, volume: int) -> None: ...


class NullAudio:
    """Plays nothing; writes start/end/cut lines and 'finishes' after the files' durations."""

    def __init__(self, timeline: Timeline, clock: Clock) -> None:
        self.timeline = timeline
        self.clock = clock
        self._item: str | None = None
        self._label = ""
        self._ends: datetime | None = None

    def start(self, item: str, sources: list[Source], volume: int) -> None:
        self._item = item
        self._label = ",".join(s.label() for s in sources)
        total: float | None = 0.0
        for s in sources:
            if s.url is not None:
                total = None  # a stream never ends on its own
                break
            if s.duration is not None:
                total += s.duration
            else:
                total += (s.size or 0) / NULL_BYTES_PER_SECOND
        self._ends = self.clock.now() + timedelta(seconds=total) if total is not None else None
        self.timeline.write("start", item, self._label)

    def finished(self) -> bool:
        return self._item is not None and self._ends is not None and self.clock.now() >= self._ends

    def next_check(self) -> float | None:
        if self._ends is None:
            return None
        return max(0.0, (self._ends - self.clock.now()).total_seconds())

    def stop(self, event: str = "cut") -> None:
        if self._item is not None:
            self.timeline.write(event, self._item, self._label)
        self._item = None
        self._ends = None

    def set_volume(self, volume: int) -> None:
        pass

    def local_output(self, item: str, volume: int) -> list[str]:
        """ffmpeg output options for a local capture (the microphone): nothing sounds."""
        self.timeline.write("start", item, "microphone")
        return ["-f", "null", "-"]


class ProcessGroup:
    """A shell pipeline or command run in its own process group, stopped as a whole."""

    def __init__(self, argv: list[str] | str, shell: bool = False) -> None:
        self.proc = subprocess.Popen(  # noqa: S602 - operator-configured pipeline
            argv,
            shell=shell,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 2.0) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        threading.Thread(target=self._reap, args=(timeout,), daemon=True).start()

    def _reap(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class ProcessAudio:
    """Real output: one subprocess per source, played in turn (ffplay or ffmpeg | aplay), or
    (`record`) decoded into WAV files in `[audio] dir` instead of a sound card."""

    POLL = 0.2

    def __init__(self, kind: str, options: dict | None = None) -> None:
        self.kind = kind
        self.options = options or {}
        self.volume = 70
        self._queue: list[Source] = []
        self._proc: ProcessGroup | None = None
        self._item: str | None = None
        self._count = 0
        if kind == "ffplay" and not shutil.which("ffplay"):
            log.warning("ffplay not found on PATH")

    def _input(self, src: Source) -> list[str]:
        """ffmpeg/ffplay input options: a stream is opened at its live edge, without probing
        ahead (a live speaker is heard in well under 2 s), with the headers it asks for. A
        stream of known format (the platform's live mounts are Ogg) is not probed at all:
        probing waits for ~2 KB, 0.3–0.6 s of 24 kb/s speech that a sound card would then play
        behind the speaker for the whole session."""
        if src.url is None:
            return ["-i", src.path or ""]
        opts = ["-fflags", "nobuffer", "-probesize", "4096", "-analyzeduration", "0"]
        if src.headers:
            opts += ["-headers", "".join(f"{k}: {v}\r\n" for k, v in src.headers.items())]
        if src.container:
            opts += ["-f", src.container]
        return [*opts, "-i", src.url]

    def _command(self, src: Source) -> tuple[list[str] | str, bool]:
        gain = self.volume / 100
        if self.kind == "ffplay":
            return (
                ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error"]
                + ["-volume", str(self.volume), *self._input(src)],
                False,
            )
        if self.kind == "record":
            # what the speaker would play, as 16 kHz mono WAV files (tests, benchmarks, monitoring)
            out = Path(self.options.get("dir", "."))
            out.mkdir(parents=True, exist_ok=True)
            self._count += 1
            name = f"{self._item or 'item'}-{self._count}.wav".replace("/", "_").replace(":", "_")
            return (
                ["ffmpeg", "-nostdin", "-loglevel", "error", *self._input(src)]
                + ["-af", f"volume={gain:.2f}", "-ac", "1", "-ar", "16000"]
                + ["-flush_packets", "1", "-f", "wav", "-y", str(out / name)],
                False,
            )
        device = shlex.quote(str(self.options.get("device", "default")))
        given = " ".join(shlex.quote(a) for a in self._input(src))
        return (
            f"ffmpeg -nostdin -loglevel error {given} -af volume={gain:.2f} "
            f"-f wav - | aplay -q -D {device}",
            True,
        )

    def _next(self) -> bool:
        if not self._queue:
            return False
        argv, shell = self._command(self._queue.pop(0))
        self._proc = ProcessGroup(argv, shell=shell)
        return True

    def start(self, item: str, sources: list[Source], volume: int) -> None:
        self.stop()
        self.volume = volume
        self._item = item
        self._queue = list(sources)
        self._next()

    def finished(self) -> bool:
        if self._item is None or self._proc is None:
            return False
        if self._proc.running():
            return False
        return not self._next()

    def next_check(self) -> float | None:
        return self.POLL if self._item is not None else None

    def stop(self, event: str = "cut") -> None:
        if self._proc is not None:
            self._proc.stop()
        self._proc = None
        self._queue = []
        self._item = None

    def set_volume(self, volume: int) -> None:
        self.volume = volume  # applies from the next file

    def local_output(self, item: str, volume: int) -> list[str]:
        """ffmpeg output options that play a local capture (the microphone) on this output:
        the sound card through ALSA, or (`record`) a WAV file like any other item."""
        gain = ["-af", f"volume={volume / 100:.2f}"]
        if self.kind == "record":
            out = Path(self.options.get("dir", "."))
            out.mkdir(parents=True, exist_ok=True)
            self._count += 1
            name = f"{item}-{self._count}.wav".replace("/", "_").replace(":", "_")
            return [*gain, "-ac", "1", "-ar", "16000", "-flush_packets", "1"] + [
                *["-f", "wav", "-y", str(out / name)]
            ]
        return [*gain, "-f", "alsa", str(self.options.get("device", "default"))]


class NullTuner:
    """FM tuner that plays nothing and writes the timeline."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._item: str | None = None
        self._label = ""

    def start(self, item: str, frequency: float, volume: int) -> None:
        self._item, self._label = item, f"fm:{frequency:g}"
        self.timeline.write("start", item, self._label)

    def finished(self) -> bool:
        return False

    def stop(self, event: str = "cut") -> None:
        if self._item is not None:
            self.timeline.write(event, self._item, self._label)
        self._item = None


class CommandTuner:
    """FM relay through an operator-configured pipeline, e.g. `rtl_fm ... | aplay ...`."""

    def __init__(self, command: str) -> None:
        self.command = command
        self._proc: ProcessGroup | None = None

    def start(self, item: str, frequency: float, volume: int) -> None:
        self.stop()
        cmd = self.command.format(
            freq=f"{frequency:g}", freq_hz=int(round(frequency * 1_000_000)), volume=volume
        )
        self._proc = ProcessGroup(cmd, shell=True)  # noqa: S604 - operator's own pipeline

    def finished(self) -> bool:
        return self._proc is not None and not self._proc.running()

    def stop(self, event: str = "cut") -> None:
        if self._proc is not None:
            self._proc.stop()
        self._proc = None


def make_audio(kind: str, timeline: Timeline, clock: Clock, options: dict | None = None):
    if kind == "null":
        return NullAudio(timeline, clock)
    if kind in ("ffplay", "alsa", "record"):
        return ProcessAudio(kind, options)
    raise ValueError(f"unknown audio backend {kind!r} (null, ffplay, alsa, record)")


def make_tuner(kind: str, timeline: Timeline, command: str | None = None):
    if kind == "null":
        return NullTuner(timeline)
    if kind == "command":
        if not command:
            raise ValueError("tuner backend 'command' needs [tuner] command = ...")
        return CommandTuner(command)
    raise ValueError(f"unknown tuner backend {kind!r} (null, command)")
