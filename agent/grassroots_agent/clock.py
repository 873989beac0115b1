"""Clocks: the player asks a clock for the time so tests can inject one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def parse_time(value: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp (a trailing Z is accepted); naive values are taken as UTC."""
    if value is None:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def iso(dt: datetime | None) -> str | None:
    """Format a datetime as ISO 8601 UTC with milliseconds and a Z suffix."""
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
