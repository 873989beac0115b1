"""Clocks: the player asks a clock for the time so tests can inject one."""

from __future__ import annotations

import email.utils
import threading
from datetime import UTC, datetime, timedelta

from grassroots_protocol import format_time


def parse_time(value: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp (a trailing Z is accepted); naive values are taken as UTC."""
    if value is None:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def iso(dt: datetime | None) -> str | None:
    """Format a datetime as ISO 8601 UTC with milliseconds and a Z suffix (the wire form)."""
    return None if dt is None else format_time(dt)


class Clock:
    """The system clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock(Clock):
    """The system clock shifted by a fixed offset (simulates a device whose clock is off)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ManualClock(Clock):
    """A clock that only moves when told to (deterministic tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


class ServerClock(Clock):
    """The server's time as this device knows it: its own clock plus a learned offset.

    Controllers in communes often have wrong clocks (no RTC battery, no NTP over a 4G SIM), so
    the agent judges schedules and command windows by the server's time (architecture.md,
    "Device protocol"). It learns the offset from:
    - the HTTP `Date` of each answer from its server: it bounds the offset to an interval of
      one second plus the round trip; an offset already inside it is kept (so a device whose
      clock is right is not made up to half a second wrong), else the middle is taken;
    - the `issued_at` of each signed command whose `seq` is new: the server's time is at least
      that, so a clock found behind it is moved forward at once; until an HTTP answer has been
      seen, a clock more than `max_skew` ahead is also set back to it.
    `offset` is server − device. Thread-safe.
    """

    def __init__(self, base: Clock | None = None, *, max_skew: float = 60.0) -> None:
        self.base = base or Clock()
        self.max_skew = timedelta(seconds=max_skew)
        self.offset = timedelta(0)
        self.source = "none"
        self.synced_at: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def local(self) -> datetime:
        """The device's own clock, uncorrected."""
        return self.base.now()

    @property
    def skewed(self) -> bool:
        """True if the device's own clock is off by more than `max_skew`."""
        return abs(self.offset) > self.max_skew

    def _set(self, offset: timedelta, source: str) -> bool:
        changed = abs(offset - self.offset) > timedelta(seconds=1.5) or source != self.source
        self.offset = offset
        self.source = source
        self.synced_at = self.base.now() + offset
        return changed

    def learn_http_date(self, date_header: str | None, sent: datetime, received: datetime) -> bool:
        """An HTTP answer's `Date` (sent/received: the local clock around the request).

        Returns True if the offset changed by more than the header's resolution.
        """
        if not date_header:
            return False
        try:
            server = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            return False
        if server.tzinfo is None:
            return False
        # The server stamped the header at some local moment in [sent, received], with its
        # clock truncated to the second: the true offset lies in (low, high). Keep the offset
        # we have when it lies there (a right clock stays exactly right); else take the middle.
        low = server - received
        high = server + timedelta(seconds=1) - sent
        with self._lock:
            if low <= self.offset <= high:
                self.source = "http"
                self.synced_at = received + self.offset
                return False
            return self._set(low + (high - low) / 2, "http")

    def learn_issued_at(self, issued_at: datetime) -> bool:
        """A freshly signed command (new `seq`) was issued at `issued_at` by the server's clock."""
        with self._lock:
            local = self.base.now()
            now = local + self.offset
            if issued_at > now + timedelta(seconds=2):
                return self._set(issued_at - local, "command")
            if self.source != "http" and now - issued_at > self.max_skew:
                return self._set(issued_at - local, "command")
            return False

    def info(self) -> dict:
        """The `clock` part of the state report (grassroots_protocol.ClockInfo)."""
        with self._lock:
            out = {"offset_s": round(self.offset.total_seconds(), 3), "source": self.source}
            if self.synced_at is not None:
                out["synced_at"] = format_time(self.synced_at)
            return out
