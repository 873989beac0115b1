"""The station controller's own microphone (plan III.1: every IP station has one).

One ffmpeg captures the local input (`[microphone] input`: ffmpeg input options, ALSA's
`-f alsa -i default` by default; a test gives an `lavfi` tone or a file through the same code
path) and writes two outputs at once:

1. the cluster's own speakers, through the audio backend's local output (ALSA, or a WAV file
   for the `record` backend, nothing for `null`), so the operator is heard at once;
2. Ogg/Opus 32 kb/s (20 ms frames, 100 ms pages) on its stdout, which a thread reads and, while
   the microphone is shared, POSTs to the platform in order (`source_url?offset=N`, the
   device's token): the platform's live relay puts it on Icecast for the unit's other clusters
   (grassroots_protocol.DeviceLiveAnswer).

The player drives it like the FM tuner (a backend with start/finished/stop): a microphone live
job has precedence over the schedule and is journaled as a `live` as-run entry.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import subprocess
import threading
import time
import urllib.error
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_INPUT = ["-f", "alsa", "-i", "default"]
SEND_EVERY = 0.25  # seconds of sound per POST (as the console's MediaRecorder slices)
MAX_BACKLOG = 200 * 1024  # bytes kept while the platform is unreachable, then sharing stops


def parse_input(value) -> list[str]:
    """`[microphone] input` as ffmpeg arguments: a list, or one shell-quoted string."""
    if value is None:
        return list(DEFAULT_INPUT)
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value]


class Microphone:
    """Capture → own speakers + (when shared) the platform. Thread-safe; one session at a time.

    `local_output(item, volume)` gives the ffmpeg output options of the audio backend;
    `post(url, data)` sends bytes with the device token and returns the HTTP status (raises
    OSError when the platform cannot be reached); `on_fault(code, detail)` reports a failure."""

    def __init__(
        self,
        input_args: list[str],
        local_output: Callable[[str, int], list[str]],
        post: Callable[[str, bytes], int],
        on_fault: Callable[[str, str], None] | None = None,
    ) -> None:
        self.input_args = input_args
        self.local_output = local_output
        self.post = post
        self.on_fault = on_fault or (lambda code, detail: None)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._source_url: str | None = None
        self._stop_url: str | None = None
        self.sent = 0  # bytes the platform has of the shared session

    # -- backend interface (the player) ----------------------------------------------------
    def start(self, item: str, volume: int) -> None:
        """Open the capture and play it locally (volume in %)."""
        self.stop()
        vol = int(volume)
        argv = [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            *self.input_args,
            *["-map", "0:a", *self.local_output(item, vol)],
            *["-map", "0:a", "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "32k"],
            *["-application", "voip", "-frame_duration", "20", "-page_duration", "100000"],
            *["-flush_packets", "1", "-f", "ogg", "pipe:1"],
        ]
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        with self._lock:
            self._proc = proc
            self.sent = 0
        self._reader = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._reader.start()
        log.info("microphone open (%s)", " ".join(self.input_args))

    def finished(self) -> bool:
        with self._lock:
            return self._proc is not None and self._proc.poll() is not None

    def next_check(self) -> float | None:
        return 0.5 if self._proc is not None else None

    def stop(self, event: str = "cut") -> None:
        """Close the capture; a shared session is ended on the platform (`stop_url`)."""
        with self._lock:
            proc, self._proc = self._proc, None
            stop_url, self._stop_url = self._stop_url, None
            self._source_url = None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(2)  # it sends what the capture had left, then ends
            self._reader = None
        if stop_url:  # off the caller's thread (the player holds its lock)
            threading.Thread(target=self._end_session, args=(stop_url,), daemon=True).start()

    def _end_session(self, stop_url: str) -> None:
        with contextlib.suppress(OSError, urllib.error.URLError):
            self.post(stop_url, b"")

    def set_volume(self, volume: int) -> None:
        pass  # applies from the next time the microphone opens

    # -- sharing -----------------------------------------------------------------------------
    def share(self, source_url: str, stop_url: str) -> None:
        """Send the sound to the platform from now on (the session the platform opened)."""
        with self._lock:
            self._source_url, self._stop_url = source_url, stop_url
            self.sent = 0

    @property
    def shared(self) -> bool:
        return self._source_url is not None

    def _read(self, proc: subprocess.Popen) -> None:
        """Read the Opus output; while shared, POST it in order every SEND_EVERY seconds."""
        backlog = b""
        last = time.monotonic()
        stream = proc.stdout
        assert stream is not None
        while True:
            chunk = stream.read1(8192) if hasattr(stream, "read1") else stream.read(8192)
            if not chunk:
                break
            with self._lock:
                url = self._source_url
            if url is None:
                backlog = b""
                continue
            backlog += chunk
            if time.monotonic() - last < SEND_EVERY:
                continue
            last = time.monotonic()
            backlog = self._send(url, backlog)
        with self._lock:
            url = self._source_url
        if url and backlog:
            self._send(url, backlog)

    def _send(self, url: str, data: bytes) -> bytes:
        """POST `data` at the current offset; returns what is left to send."""
        try:
            status = self.post(f"{url}?offset={self.sent}", data)
        except (OSError, urllib.error.URLError) as exc:
            if len(data) > MAX_BACKLOG:
                self._give_up("live.unreachable", f"platform unreachable: {exc}")
                return b""
            return data
        if status in (409, 410, 404):
            # the session ended on the platform (stopped by an officer, time limit): keep
            # playing locally, stop sending
            self._give_up("live.ended", f"the platform answered {status}")
            return b""
        if status >= 400:
            self._give_up("live.refused", f"the platform answered {status}")
            return b""
        self.sent += len(data)
        return b""

    def _give_up(self, code: str, detail: str) -> None:
        with self._lock:
            self._source_url = None
            self._stop_url = None
        log.info("microphone no longer shared: %s", detail)
        if code != "live.ended":
            self.on_fault(code, detail)
