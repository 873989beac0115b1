"""Table-driven scenarios for the timeline engine, each run with a frozen clock.

Every row: schedule items + a usage policy + a moment (Asia/Ho_Chi_Minh) → the item on air and
the rule that put it there (or silence, and why an item was skipped).
"""

from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
import time_machine

from grassroots.broadcast import engine
from grassroots.broadcast.engine import TZ, ItemSpec, PolicySpec


def vn(day: int, hh: int, mm: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=TZ)


def item(id, title, at, minutes, priority="normal", kind="media", **kw) -> ItemSpec:
    return ItemSpec(id, title, priority, kind, at, timedelta(minutes=minutes), **kw)


# 1 December 2026 is a Tuesday.
NEWS = item(1, "Bản tin sáng", vn(1, 7), 15)
LATE = item(2, "Nhạc khuya", vn(30, 23, 50, month=11), 20, rrule="FREQ=DAILY")
RELAY = item(3, "Tiếp sóng thời sự VOV", vn(1, 6), 30, "priority", "relay", rrule="FREQ=DAILY")
ALARM = item(4, "Cảnh báo lũ", vn(1, 6, 10), 5, "emergency")
DAILY_6 = item(5, "Thông báo hằng ngày", vn(1, 6), 30, rrule="FREQ=DAILY")
MWF = item(6, "Chuyên mục nông nghiệp", vn(1, 6, 15), 10, rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR")
EVENING_N = item(7, "Thông báo tối", vn(1, 18), 10, rrule="FREQ=DAILY")
EVENING_P = item(8, "Lịch tiêm chủng", vn(1, 18), 10, "priority", rrule="FREQ=DAILY;INTERVAL=2")
P1 = item(11, "Tỉnh: phòng chống dịch", vn(1, 7), 10, "priority", from_upper=True)
P2 = item(12, "Tỉnh: an toàn giao thông", vn(1, 7), 10, "priority", from_upper=True)
C1 = item(13, "Xã: họp dân khẩn", vn(1, 7), 10, "priority")
LONG = item(14, "Phóng sự dài", vn(1, 5, 50), 40)
CUT_ME = item(15, "Bản tin trưa", vn(1, 11), 20)
NOON_ALARM = item(16, "Cháy rừng", vn(1, 11, 5), 5, "emergency")
SUNDAY = item(17, "Bản tin tuần", vn(5, 8), 15, rrule="FREQ=DAILY")  # Saturday 5 Dec onwards

ALARM_2 = item(18, "Cảnh báo sạt lở", vn(1, 6, 12), 5, "emergency")
EMERGENCY_RELAY = item(19, "Tiếp sóng khẩn cấp của tỉnh", vn(1, 6, 20), 20, "emergency", "relay")

CITY = PolicySpec(name="Phường Phố Hiến", allowed_start=time(5), allowed_end=time(22))
QUIET_SUNDAY = PolicySpec(name="Xã Tân Hưng", quiet_weekdays=frozenset({6}))

SCENARIOS = [
    # (name, items, policy, moment, expected item id or None, expected rule)
    ("on time", [NEWS], None, vn(1, 7, 5), 1, "on_time"),
    ("silence after", [NEWS], None, vn(1, 7, 20), None, None),
    ("midnight crossing, before 00:00", [LATE], None, vn(1, 23, 55), 2, "on_time"),
    ("midnight crossing, after 00:00", [LATE], None, vn(2, 0, 5), 2, "on_time"),
    ("midnight crossing blocked by hours", [LATE], CITY, vn(2, 0, 5), None, "allowed_hours"),
    ("quiet Sunday", [SUNDAY], QUIET_SUNDAY, vn(6, 8, 5), None, "quiet_day"),
    ("Saturday still airs", [SUNDAY], QUIET_SUNDAY, vn(5, 8, 5), 17, "on_time"),
    ("overlap: daily first (Wed)", [DAILY_6, MWF], None, vn(2, 6, 20), 5, "on_time"),
    ("overlap: weekly waits (Wed)", [DAILY_6, MWF], None, vn(2, 6, 35), 6, "deferred"),
    ("overlap: weekly absent (Tue)", [DAILY_6, MWF], None, vn(1, 6, 35), None, None),
    ("same start: priority first", [EVENING_N, EVENING_P], None, vn(3, 18, 5), 8, "priority_first"),
    ("same start: normal after", [EVENING_N, EVENING_P], None, vn(3, 18, 15), 7, "deferred"),
    ("every other day: normal alone", [EVENING_N, EVENING_P], None, vn(2, 18, 5), 7, "on_time"),
    ("relay before emergency", [RELAY, ALARM], None, vn(1, 6, 5), 3, "on_time"),
    ("emergency mid-relay", [RELAY, ALARM], None, vn(1, 6, 12), 4, "emergency"),
    ("relay resumes", [RELAY, ALARM], None, vn(1, 6, 20), 3, "resumed"),
    (
        "emergency exempt from hours",
        [ALARM],
        replace(CITY, allowed_start=time(7)),
        vn(1, 6, 12),
        4,
        "emergency",
    ),
    ("emergency cuts media", [CUT_ME, NOON_ALARM], None, vn(1, 11, 7), 16, "emergency"),
    ("cut media not resumed", [CUT_ME, NOON_ALARM], None, vn(1, 11, 12), None, None),
    (
        "relay slot lost to long item",
        [LONG, replace(RELAY, priority="normal")],
        None,
        vn(1, 6, 15),
        14,
        "on_time",
    ),
    (
        "priority relay waits, keeps slot end",
        [replace(LONG, duration=timedelta(minutes=15)), RELAY],
        None,
        vn(1, 6, 10),
        3,
        "deferred",
    ),
    ("two provincial vs commune, no order", [P1, P2, C1], None, vn(1, 7, 5), 11, "earlier_first"),
    ("... second provincial", [P1, P2, C1], None, vn(1, 7, 15), 12, "deferred"),
    ("... commune last", [P1, P2, C1], None, vn(1, 7, 25), 13, "deferred"),
    (
        "commune order decides",
        [replace(P1, rank=3), replace(P2, rank=2), replace(C1, rank=1)],
        None,
        vn(1, 7, 5),
        13,
        "commune_order",
    ),
    (
        "commune order: #2 next",
        [replace(P1, rank=3), replace(P2, rank=2), replace(C1, rank=1)],
        None,
        vn(1, 7, 15),
        12,
        "deferred",
    ),
    (
        "commune order: #3 last",
        [replace(P1, rank=3), replace(P2, rank=2), replace(C1, rank=1)],
        None,
        vn(1, 7, 25),
        11,
        "deferred",
    ),
    ("second emergency queues", [ALARM, ALARM_2], None, vn(1, 6, 16), 18, "emergency_queue"),
    ("first emergency not cut by second", [ALARM, ALARM_2], None, vn(1, 6, 13), 4, "emergency"),
    ("emergency relay cuts relay", [RELAY, EMERGENCY_RELAY], None, vn(1, 6, 25), 19, "emergency"),
    ("relay slot over after emergency", [RELAY, EMERGENCY_RELAY], None, vn(1, 6, 41), None, None),
    (
        "ranked commune item before unranked",
        [P1, P2, replace(C1, rank=1)],
        None,
        vn(1, 7, 5),
        13,
        "commune_order",
    ),
]


@pytest.mark.parametrize(
    ("items", "policy", "moment", "expected", "rule"),
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_scenario(items, policy, moment, expected, rule):
    with time_machine.travel(moment, tick=False):
        seg = engine.on_air(items, policy)
    if expected is None:
        assert seg is None, f"expected silence, got {seg and seg.item.title}"
        if rule:
            tl = engine.build(items, policy, moment - timedelta(hours=1), moment)
            assert rule in {s.rule for s in tl.skipped}
        return
    assert seg is not None, "expected something on air"
    assert seg.item.id == expected, (seg.item.title, seg.reason)
    assert seg.rule == rule, seg.reason
    assert seg.reason  # a person can read why


def test_reasons_name_the_winner_and_the_rule():
    tl = engine.build([P1, P2, replace(C1, rank=1)], None, vn(1, 6), vn(1, 8))
    first = tl.segments[0]
    assert first.item.id == 13
    assert "thứ tự 1" in first.reason and "Tỉnh: phòng chống dịch" in first.reason
    assert [s.item.id for s in tl.segments] == [13, 11, 12]
    assert [s.start for s in tl.segments] == [vn(1, 7), vn(1, 7, 10), vn(1, 7, 20)]


def test_emergency_in_relay_splits_into_three_segments():
    tl = engine.build([RELAY, ALARM], None, vn(1, 5), vn(1, 7))
    spans = [(s.item.id, s.start, s.end, s.rule) for s in tl.segments]
    assert spans == [
        (3, vn(1, 6), vn(1, 6, 10), "on_time"),
        (4, vn(1, 6, 10), vn(1, 6, 15), "emergency"),
        (3, vn(1, 6, 15), vn(1, 6, 30), "resumed"),
    ]
    assert tl.segments[0].cut_by == 4 and tl.segments[2].part == 1
    assert tl.segments[0].id != tl.segments[2].id  # devices report each piece separately


def test_result_does_not_depend_on_the_window():
    items = [DAILY_6, MWF, RELAY, ALARM, EVENING_N, EVENING_P, LATE]
    wide = engine.build(items, CITY, vn(1, 0), vn(4, 0))
    narrow = engine.build(items, CITY, vn(2, 6), vn(2, 7))
    inside = [s for s in wide.segments if s.start >= vn(2, 6) and s.end <= vn(2, 7)]
    assert [(s.id, s.start, s.end) for s in narrow.segments] == [
        (s.id, s.start, s.end) for s in inside
    ]


def test_occurrence_keys_use_local_wall_time():
    (occ,) = engine.expand(LATE, vn(2, 0), vn(2, 0, 1))
    assert occ.key == "s2-20261201T2350"
    assert occ.start.astimezone(TZ).hour == 23


def test_exdates_remove_one_occurrence():
    skip = replace(DAILY_6, exdates=(vn(2, 6),))
    starts = [o.start for o in engine.expand(skip, vn(1, 0), vn(4, 0))]
    assert starts == [vn(1, 6), vn(3, 6)]


def test_rrule_errors_are_vietnamese():
    with pytest.raises(ValueError, match="Quy tắc lặp"):
        engine.parse_rrule("FREQ=SOMETIMES", vn(1, 6))
    with pytest.raises(ValueError, match="RFC 5545"):
        engine.parse_rrule("every day", vn(1, 6))


POLICY = PolicySpec(
    name="Phường Phố Hiến",
    max_sessions_per_day=2,
    max_minutes_per_session=15,
    allowed_start=time(5),
    allowed_end=time(21),
)


@pytest.mark.parametrize(
    ("new", "existing", "rule"),
    [
        ([(vn(1, 6), vn(1, 6, 10))], [], None),
        ([(vn(1, 21, 55), vn(1, 22, 5))], [], "allowed_hours"),
        ([(vn(1, 4, 55), vn(1, 5, 5))], [], "allowed_hours"),
        ([(vn(1, 6), vn(1, 6, 20))], [], "max_minutes_per_session"),
        # back to back with an existing play: one session, too long together
        ([(vn(1, 6, 10), vn(1, 6, 20))], [(vn(1, 6), vn(1, 6, 10))], "max_minutes_per_session"),
        # a third session in the day
        (
            [(vn(1, 18), vn(1, 18, 5))],
            [(vn(1, 6), vn(1, 6, 5)), (vn(1, 11), vn(1, 11, 5))],
            "max_sessions_per_day",
        ),
        # another day is fine
        ([(vn(2, 18), vn(2, 18, 5))], [(vn(1, 6), vn(1, 6, 5)), (vn(1, 11), vn(1, 11, 5))], None),
    ],
)
def test_usage_policy(new, existing, rule):
    found = engine.check_policy(POLICY, new, existing)
    assert (found[0].rule if found else None) == rule
    if found:
        assert "Phường Phố Hiến" in found[0].message and "Cách sửa" in found[0].message
