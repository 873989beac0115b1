"""The live relay (`grassroots live`): feeds each running live session's source into Icecast.

One ffmpeg per session reads the speaker's webm/Opus slices as the web process appends them
(`live.actions.source_path`), and writes two outputs: Opus 24 kb/s mono in Ogg pages of 100 ms to
the session's Icecast mount (what devices hear), and the same sound to the recording file (the
archive). Once Icecast lists the mount, `live.went_on_air` signs `live.start`; when the session
ends (stopped, silent source, time limit) ffmpeg is closed and the recording archived.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from grassroots.core import icecast

from . import actions as live
from .models import LiveEndReason, LiveSession, LiveSource, LiveStatus

log = logging.getLogger("grassroots.live")

BITRATE = "24k"  # speech; the goal is ≤ 32 kb/s per device
FIRST_SOUND_SECONDS = 60.0  # the browser may take a while to get microphone permission
SCAN_SECONDS = 0.3


def _secret(env: str, name: str) -> str:
    value = os.environ.get(env, "")
    if value:
        return value
    return icecast._secret(Path(settings.GRASSROOTS["HOME"]), name)


def source_url(mount: str) -> str:
    """ffmpeg's `icecast://` address of a mount, with the source password."""
    base = urlsplit(settings.ICECAST_SOURCE_URL)
    password = _secret("ICECAST_SOURCE_PASSWORD", "source-password")
    return f"icecast://{icecast.SOURCE_USER}:{password}@{base.hostname}:{base.port or 80}{mount}"


def mounts() -> set[str]:
    """The mounts Icecast serves now (its admin `listmounts`)."""
    url = f"{settings.ICECAST_SOURCE_URL}/admin/listmounts"
    password = _secret("ICECAST_ADMIN_PASSWORD", "admin-password")
    req = urllib.request.Request(url)  # noqa: S310 - our own Icecast (http)
    req.add_header(
        "Authorization", "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    )
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:  # noqa: S310 - our own Icecast
            text = resp.read().decode("utf-8", "replace")
    except OSError:
        return set()
    import re

    return set(re.findall(r'<source mount="([^"]+)"', text))


def ffmpeg_argv(mount: str, recording: Path | None, url: str | None = None) -> list[str]:
    """ffmpeg reading the speaker's slices on stdin (or, for a relay, the radio stream `url`,
    reconnecting and giving up after the source timeout without data), writing the mount and,
    when `recording` is given, the recording."""
    opus = ["-ac", "1", "-ar", "48000", "-c:a", "libopus", "-application", "voip"]
    if url is None:
        given = ["-fflags", "nobuffer", "-probesize", "4096", "-analyzeduration", "0"]
        given += ["-i", "pipe:0"]
    else:
        timeout = str(int(settings.LIVE_SOURCE_TIMEOUT * 1_000_000))
        given = [
            *["-nostdin", "-reconnect", "1", "-reconnect_streamed", "1"],
            *["-reconnect_delay_max", "4", "-rw_timeout", timeout, "-i", url],
        ]
    record = (
        []
        if recording is None
        else [*["-map", "0:a", *opus, "-b:a", "32k", "-f", "ogg", "-y", str(recording)]]
    )
    return [
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        *given,
        *["-map", "0:a", *opus, "-b:a", BITRATE, "-frame_duration", "20"],
        *["-page_duration", "100000", "-flush_packets", "1"],
        *["-content_type", "application/ogg", "-f", "ogg", source_url(mount)],
        *record,
    ]


@dataclass
class Feed:
    """One session being relayed."""

    session_id: int
    mount: str
    source: Path
    recording: Path
    until: float  # time.time() of the session's limit
    created: float = field(default_factory=time.monotonic)
    offset: int = 0
    last_data: float | None = None
    proc: subprocess.Popen | None = None
    on_air: bool = False
    url: str | None = None  # a relay of a radio stream: ffmpeg reads it, nothing is recorded

    def pump(self) -> int:
        """Pass the bytes the web process appended since last time to ffmpeg (a relay: start
        ffmpeg on the stream; it counts as sounding while ffmpeg runs)."""
        if self.url is not None:
            if self.proc is None:
                self.proc = subprocess.Popen(
                    ffmpeg_argv(self.mount, None, self.url),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            if self.proc.poll() is None:
                self.last_data = time.monotonic()
            return 0
        try:
            with self.source.open("rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return 0
        if not data:
            return 0
        if self.proc is None:
            self.proc = subprocess.Popen(
                ffmpeg_argv(self.mount, self.recording),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return 0
        self.offset += len(data)
        self.last_data = time.monotonic()
        return len(data)

    def silent_for(self) -> float:
        return time.monotonic() - (self.last_data or self.created)

    def close(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.url is not None and self.proc.poll() is None:
            self.proc.terminate()  # a stream never ends by itself: ffmpeg closes on SIGTERM
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.returncode not in (0, None):
            err = (
                self.proc.stderr.read().decode("utf-8", "replace")[-500:]
                if self.proc.stderr
                else ""
            )
            log.warning(
                "live %s: ffmpeg ended with %s: %s", self.session_id, self.proc.returncode, err
            )


class LiveRelay:
    """Feeds every running session; `run(stop)` until the event is set."""

    def __init__(self, *, source_timeout: float | None = None) -> None:
        self.source_timeout = source_timeout or settings.LIVE_SOURCE_TIMEOUT
        self.feeds: dict[int, Feed] = {}
        self._last_scan = 0.0

    def scan(self) -> None:
        """Pick up new sessions, notice ended ones, end silent or overdue ones."""
        close_old_connections()
        running = {
            s.pk: s
            for s in LiveSession.objects.filter(status__in=[LiveStatus.WAITING, LiveStatus.ON_AIR])
        }
        for pk, session in list(running.items()):
            if session.source == LiveSource.FM:
                # each cluster tunes its own receiver: nothing to feed, only the time limit
                running.pop(pk)
                if timezone.now() >= session.until:
                    live.end_by_relay(pk, LiveEndReason.TIME_LIMIT)
                continue
            if pk not in self.feeds:
                self.feeds[pk] = Feed(
                    pk,
                    session.mount,
                    live.source_path(session),
                    live.recording_path(session),
                    session.until.timestamp(),
                    url=session.relay_url if session.source == LiveSource.STREAM else None,
                )
        for pk in [pk for pk in self.feeds if pk not in running]:
            self.finish(self.feeds.pop(pk))
        listed: set[str] | None = None
        for pk, feed in list(self.feeds.items()):
            if feed.proc is not None and not feed.on_air:
                listed = mounts() if listed is None else listed
                if feed.mount in listed:
                    feed.on_air = True
                    live.went_on_air(pk)
                    log.info("live %s on air at %s", pk, feed.mount)
            limit = self.source_timeout if feed.last_data else FIRST_SOUND_SECONDS
            died = feed.proc is not None and feed.proc.poll() is not None
            if feed.silent_for() > limit or died:
                live.end_by_relay(pk, LiveEndReason.SOURCE_LOST)
                self.finish(self.feeds.pop(pk))
            elif time.time() >= feed.until:
                live.end_by_relay(pk, LiveEndReason.TIME_LIMIT)
                self.finish(self.feeds.pop(pk))

    def finish(self, feed: Feed) -> None:
        """Close the session's ffmpeg (the mount goes away) and archive its recording."""
        feed.pump()
        feed.close()
        feed.source.unlink(missing_ok=True)
        if feed.recording.exists():
            live.archive_recording(feed.session_id, feed.recording)
        feed.recording.unlink(missing_ok=True)
        log.info("live %s finished", feed.session_id)

    def step(self) -> None:
        for feed in list(self.feeds.values()):
            feed.pump()
        if time.monotonic() - self._last_scan >= SCAN_SECONDS:
            self._last_scan = time.monotonic()
            self.scan()

    def run(self, stop: threading.Event, interval: float = 0.02) -> None:
        log.info("live relay started (%s)", settings.ICECAST_SOURCE_URL or "no Icecast")
        while not stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("live relay step failed")
                close_old_connections()
                stop.wait(1.0)
            stop.wait(interval)
        for feed in self.feeds.values():
            feed.close()

    @staticmethod
    def now():
        return timezone.now()
