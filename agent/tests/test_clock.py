"""The server's time as a device learns it (clock.ServerClock)."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from grassroots_agent.clock import ManualClock, ServerClock

SERVER = datetime(2026, 12, 1, 5, 0, 0, 400_000, tzinfo=UTC)


def date_header(moment: datetime) -> str:
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


def sample(clock: ServerClock, device_offset: timedelta, rtt: float = 0.05) -> bool:
    """One HTTP exchange: the server answers at SERVER; the device's clock is off by
    `device_offset` (device − server)."""
    local = SERVER + device_offset
    clock.base.set(local - timedelta(seconds=rtt / 2))
    sent = clock.local()
    received = sent + timedelta(seconds=rtt)
    return clock.learn_http_date(date_header(SERVER), sent, received)


def test_a_right_clock_stays_exactly_right():
    clock = ServerClock(ManualClock())
    for _ in range(5):
        assert sample(clock, timedelta(0)) is False
    assert clock.offset == timedelta(0) and clock.source == "http" and not clock.skewed


def test_a_clock_three_hours_behind_is_corrected_within_the_header_resolution():
    clock = ServerClock(ManualClock())
    assert sample(clock, timedelta(hours=-3)) is True
    assert abs(clock.offset - timedelta(hours=3)) < timedelta(seconds=1)
    assert clock.skewed and clock.info()["source"] == "http"
    assert abs(clock.now() - (SERVER + timedelta(seconds=0.025))) < timedelta(seconds=1)
    assert sample(clock, timedelta(hours=-3)) is False  # confirmed, not moved


def test_commands_move_a_clock_forward_and_back_only_before_an_http_answer():
    clock = ServerClock(ManualClock(SERVER + timedelta(hours=7)))
    # a fresh command issued now by the server: a clock 7 h ahead is set back (no HTTP yet)
    assert clock.learn_issued_at(SERVER) is True
    assert abs(clock.now() - SERVER) < timedelta(seconds=1)
    clock = ServerClock(ManualClock(SERVER - timedelta(hours=3)))
    assert clock.learn_issued_at(SERVER) is True  # behind: moved forward at once
    assert abs(clock.now() - SERVER) < timedelta(seconds=1)
    # once the HTTP Date has spoken, an old command (held by a broker) does not pull it back
    right = ServerClock(ManualClock())
    sample(right, timedelta(0))
    assert right.learn_issued_at(SERVER - timedelta(hours=1)) is False
    assert right.offset == timedelta(0)
