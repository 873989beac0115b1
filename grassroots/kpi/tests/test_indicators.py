"""Every indicator on the hand-made province of dataset.py, with answers worked out by hand."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import call_command

from grassroots.kpi import querysets, rollup
from grassroots.kpi.indicators import BY_ID, INDICATORS
from grassroots.kpi.models import DailyRollup

from .dataset import D, at, build_all, build_day, build_inventory, build_late

pytestmark = pytest.mark.django_db


def values(unit, start, end) -> dict:
    t = querysets.totals(unit, start, end)
    return {i.id: i.value(t) for i in INDICATORS}


# D .. D+2, worked out in dataset.py's terms:
EXPECTED_PERIOD = {
    "essential_reach": 100.0,  # 2 shares, both aired (X1's upload came two days late)
    "essential_delay": 225.0,  # (30 min + 7 h) / 2
    "feedback_handled": 66.7,  # R1, R2 of R1..R3
    "feedback_on_time": 50.0,  # R2 answered one working day late
    "feedback_rating": 3.5,  # (5 + 2) / 2
    "radio_ip": 66.7,  # Xã Ba's station has a wired cluster only
    "clusters_online": 66.7,  # W2 offline all of D+2
    "eboard_wards": 100.0,
    "eboard_communes": 50.0,  # Xã Ba has no e-board
    "staff_trained": None,  # no training records yet
    "device_availability": 72.2,  # (86400+43200+86400 + 2×(2×86400)) / (9×86400)
    "on_time_play": 71.4,  # 5 of 7 scheduled (one late, one failed)
    "relay_compliance": 11.1,  # 2 of 18 slots relayed fully (nothing after D)
    "emergency_delivered": 80.0,  # (2 + 2) / (3 + 2)
    "emergency_t95": 10.0,  # only E2 reached 95 %
    "bulletins": 2.0,
    "approval_lead": 2.0,  # hours from 04:30 to 06:30
}


def test_every_indicator_on_the_hand_made_province():
    w = build_all()
    got = values(w.province, D, D.replace(day=12))
    assert got == EXPECTED_PERIOD
    # Day D alone: half a day offline for W2, relay slots 2 relayed / 1 partly / 3 missed.
    day = values(w.province, D, D)
    assert day["device_availability"] == 83.3  # (86400 + 43200 + 86400) / 3 days of seconds
    assert day["relay_compliance"] == 33.3
    assert day["clusters_online"] == 100.0
    row = DailyRollup.objects.get(unit=w.ward, day=D)
    assert (row.relay_due, row.relay_full, row.relay_partial, row.relay_missed) == (2, 1, 1, 0)
    assert (row.plays, row.plays_scheduled, row.plays_on_time) == (5, 4, 3)
    # Drill-down: each commune below the province.
    period = querysets.Period(D, D.replace(day=12), "tuy-chon", "")
    kids = {c["unit"].code: c["values"] for c in querysets.children(w.province, period)}
    assert kids["99001"]["device_availability"] == 58.3  # W1 3 days, W2 12 h: 302400/518400
    assert kids["99003"]["eboard_communes"] == 0.0
    assert kids["99003"]["radio_ip"] == 0.0
    assert kids["99002"]["feedback_handled"] == 0.0
    # Devices of a commune: W2 was online 12 of 72 hours.
    devs = {d["device"].name: d for d in querysets.devices(w.ward, period)}
    assert devs["W2"]["availability"] == 16.7 and devs["W1"]["on_time"] == 75.0  # 3 of 4 slots
    assert (devs["W1"]["plays"], devs["W1"]["failed"]) == (5, 0)


def test_a_late_upload_reopens_its_day_and_rebuild_gives_the_same_rows():
    from grassroots.kpi.models import Cursor

    w = build_inventory()
    build_day(w)
    rollup.refresh(now=at(0, 23, 30))
    assert rollup.refresh(now=at(2, 9)) == [D, D.replace(day=11), D.replace(day=12)]
    before = values(w.province, D, D)
    assert before["essential_reach"] == 50.0  # X1's play is still on the device
    assert before["essential_delay"] == 30.0
    build_late(w)  # D+2 10:00
    assert rollup.refresh(now=at(2, 11)) == [D, D.replace(day=12)]  # D re-opened, D+1 not
    after = values(w.province, D, D)
    assert after["essential_reach"] == 100.0 and after["essential_delay"] == 225.0
    row = DailyRollup.objects.get(unit=w.xa2, day=D)
    assert (row.plays, row.essential_aired) == (3, 1)  # relay, 10:00 and the late 14:00
    columns = ("unit_id", "day", "plays", "device_online_s", "essential_aired",
               "reports_handled", "ratings")  # fmt: skip
    mine = DailyRollup.objects.filter(unit__path__startswith=w.province.path)
    incremental = sorted(mine.values_list(*columns))
    assert Cursor.objects.get(name="clock").day == D.replace(day=12)
    with time_machine.travel(at(2, 11), tick=False):
        call_command("kpi_rebuild", "--tu", "2026-03-10", "--den", "2026-03-12", verbosity=0)
    assert sorted(mine.values_list(*columns)) == incremental


def test_a_second_refresh_recomputes_nothing_old():
    build_inventory()
    rollup.refresh(now=at(0, 23, 30))
    assert rollup.refresh(now=at(0, 23, 40)) == [D]  # only today, which grows with the clock


def test_targets_seeded_from_the_plan_and_red_amber_green():
    import importlib

    from grassroots.kpi import seed

    migration = importlib.import_module("grassroots.kpi.migrations.0002_plan_targets")
    assert migration.TARGETS == seed.TARGETS  # the migration's frozen copy is the plan's
    seed.ensure_targets()  # no-op on a fresh database; refills one a flushing test emptied
    ind = BY_ID["eboard_communes"]
    t2026 = querysets.target_for("eboard_communes", 2026)
    assert (t2026.year, t2026.comparison, t2026.value) == (2025, "gt", 70.0)
    assert querysets.target_for("eboard_communes", 2030).value == 100.0
    assert querysets.rag(ind, 70.0, t2026) == "amber"  # "over 70 %": 70 is not enough
    assert querysets.rag(ind, 70.1, t2026) == "green"
    assert querysets.rag(ind, 50.0, t2026) == "red"
    assert querysets.rag(ind, None, t2026) == ""
    assert querysets.target_for("on_time_play", 2026) is None


@pytest.mark.parametrize(
    ("kind", "value", "start", "end", "message"),
    [
        ("thang", "2026-13", "", "", "2026-07"),
        ("quy", "2026-Q5", "", "", "2026-Q3"),
        ("nam", "abc", "", "", "2026"),
        ("tuan", "", "", "", "nam, quy, thang"),
        ("tuy-chon", "", "2026-02-30", "2026-03-01", "ngày có thật"),
        ("tuy-chon", "", "2026-03-02", "2026-03-01", "sau hoặc bằng"),
        ("tuy-chon", "", "2020-01-01", "2026-03-01", "3 năm"),
    ],
)
def test_bad_periods_say_what_to_write(kind, value, start, end, message):
    with pytest.raises(querysets.PeriodError, match=message):
        querysets.parse_period(kind, value, start, end)


def test_periods_and_last_year():
    p = querysets.parse_period("quy", "2024-q1")
    assert (p.start.isoformat(), p.end.isoformat(), p.label) == ("2024-01-01", "2024-03-31",
                                                                  "Quý 1/2024")  # fmt: skip
    ly = querysets.parse_period("tuy-chon", "", "2024-02-29", "2024-03-01").last_year()
    assert (ly.start.isoformat(), ly.end.isoformat()) == ("2023-02-28", "2023-03-01")
    assert querysets.parse_period("thang", "2026-02").end.day == 28
