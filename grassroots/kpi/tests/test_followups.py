"""The worker follows deletions and withdrawals; "staff trained" from the training records.

Both on the hand-made province of dataset.py, answers worked out by hand in the tests.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from grassroots.core.testing import make_user
from grassroots.kpi import querysets, rollup
from grassroots.kpi.indicators import BY_ID, INDICATORS
from grassroots.kpi.models import DailyRollup, DirtyDay

from .dataset import D, at, build_all, build_inventory

pytestmark = pytest.mark.django_db


def values(unit, start, end) -> dict:
    t = querysets.totals(unit, start, end)
    return {i.id: i.value(t) for i in INDICATORS}


def month_and_days_agree(unit) -> dict:
    """March from the month rows and from the day rows: the same values."""
    march = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    by_month = querysets.totals(unit, *march)
    by_day = querysets.totals_and_series(unit, *march, "day")[0]
    got = {i.id: i.value(by_month) for i in INDICATORS}
    assert got == {i.id: i.value(by_day) for i in INDICATORS}
    return got


def test_withdrawn_bulletin_and_deleted_facts_reopen_their_days():
    from grassroots.broadcast.models import AsRunEntry
    from grassroots.content import actions
    from grassroots.feedback.models import Report

    w = build_all()
    before = values(w.province, D, D)
    assert (before["essential_reach"], before["feedback_handled"]) == (100.0, 66.7)
    ward = DailyRollup.objects.get(unit=w.ward, day=D)
    assert (ward.plays, ward.plays_scheduled, ward.plays_on_time) == (5, 4, 3)

    # D+3 09:00: W1's on-time 08:00 play is deleted (a wrong entry), R3 is deleted (spam).
    with time_machine.travel(at(3, 9), tick=False):
        AsRunEntry.objects.filter(device=w.w1, scheduled_start=at(0, 8)).delete()
        Report.objects.filter(pk=w.r3.pk).delete()
    assert set(DirtyDay.objects.values_list("unit_id", "day")) == {(w.ward.pk, D), (w.xa2.pk, D)}
    assert D in rollup.refresh(now=at(3, 9, 5))
    ward = DailyRollup.objects.get(unit=w.ward, day=D)  # rows are rewritten whole
    assert (ward.plays, ward.plays_scheduled, ward.plays_on_time) == (4, 3, 2)
    after = values(w.province, D, D)
    assert after["feedback_handled"] == 100.0  # R1, R2 of R1, R2
    assert after["on_time_play"] == 66.7  # 4 of 6 scheduled: W1 2 of 3, X1 2 of 3 (one failed)
    assert not DirtyDay.objects.exists()
    march = month_and_days_agree(w.province)  # the month row followed its days
    assert (march["feedback_handled"], march["on_time_play"]) == (100.0, 66.7)

    # D+3 10:00: the province withdraws the essential bulletin: no commune owed it on D.
    publisher = make_user(
        "kpi-pub", permissions=["content.view", "content.publish"], unit_code="99"
    )
    with time_machine.travel(at(3, 10), tick=False):
        actions.withdraw(bulletin=w.essential, user=publisher)
    assert D in rollup.refresh(now=at(3, 10, 5))
    after = values(w.province, D, D)
    assert (after["essential_reach"], after["essential_delay"]) == (None, None)
    assert DailyRollup.objects.get(unit=w.xa2, day=D).essential_due == 0
    assert month_and_days_agree(w.province)["essential_reach"] is None


def _training(w):
    """Ward: A passed a class ending 06/03, B failed it, C (position not to be trained)
    passed; Xã Hai: D (in post from 20/03) passed a class ending 25/03, E left on 10/02
    without training; Xã Ba: no staff on record."""
    from grassroots.training.models import Attendance, Course, Session, StaffMember

    def staff(unit, name, *, requires=True, start=None, end=None):
        return StaffMember.objects.create(
            unit=unit, full_name=name, position="station_staff" if requires else "other",
            requires_training=requires, start_date=start, end_date=end,
        )  # fmt: skip

    course = Course.objects.create(unit=w.province, title="Nghiệp vụ", topics=["editing"])

    def session(ends):
        return Session.objects.create(
            course=course, starts_on=ends - dt.timedelta(days=1), ends_on=ends,
            place="Hội trường", trainer="GV", hours=8,
        )  # fmt: skip

    march6, march25 = session(dt.date(2026, 3, 6)), session(dt.date(2026, 3, 25))
    a, b = staff(w.ward, "A"), staff(w.ward, "B")
    c = staff(w.ward, "C", requires=False)
    d = staff(w.xa2, "D", start=dt.date(2026, 3, 20))
    staff(w.xa2, "E", end=dt.date(2026, 2, 10))
    for s, person, result in ((march6, a, "passed"), (march6, b, "failed"),
                              (march6, c, "passed"), (march25, d, "passed")):  # fmt: skip
        Attendance.objects.create(session=s, staff=person, result=result)


def test_staff_trained_from_the_training_records(client):
    from grassroots.training.querysets import staff_trained

    w = build_inventory()
    march = querysets.parse_period("thang", "2026-03")
    assert values(w.province, march.start, march.end)["staff_trained"] is None  # no records
    _training(w)
    ind = BY_ID["staff_trained"]
    got = {u.code: values(u, march.start, march.end)["staff_trained"]
           for u in (w.province, w.ward, w.xa2, w.xa3)}  # fmt: skip
    # March: ward A, B required, A trained; Xã Hai D required and trained; Xã Ba none.
    assert got == {"99": 66.7, "99001": 50.0, "99002": 100.0, "99003": None}
    # Q1: E held the post until 10/02 without training: 2 of 4.
    q1 = querysets.parse_period("quy", "2026-Q1")
    assert values(w.province, q1.start, q1.end)["staff_trained"] == 50.0
    share = staff_trained(w.province, start=q1.start, end=q1.end)
    assert (share.trained, share.required) == (2, 4)
    # A trend's months from two queries, the same rule: Jan and Feb A, B, E (none trained).
    months = [(dt.date(2026, m, 1), querysets._bucket_end(dt.date(2026, m, 1), "month"))
              for m in (1, 2, 3)]  # fmt: skip
    shares = querysets.staff_shares(w.province, months)
    assert [(s.trained, s.required) for s in shares] == [(0, 3), (0, 3), (2, 3)]
    assert [ind.value(querysets.Totals(staff=s)) for s in shares] == [0.0, 0.0, 66.7]
    kids = {c["unit"].code: c["values"]["staff_trained"]
            for c in querysets.children(w.province, march)}  # fmt: skip
    assert kids == {"99001": 50.0, "99002": 100.0, "99003": None}

    viewer = make_user("kpi-staff", permissions=["kpi.view"], unit_code="99")
    client.force_login(viewer)
    page = client.get("/chi-so/?ky=thang&gia-tri=2026-03").content.decode()
    tile = re.search(r'data-indicator="staff_trained".*?</div></div>', page, re.S).group(0)
    assert ">66,7<" in tile and "chưa có dữ liệu" not in tile
    page = client.get("/chi-so/don-vi/99003/?ky=thang&gia-tri=2026-03").content.decode()
    tile = re.search(r'data-indicator="staff_trained".*?</div></div>', page, re.S).group(0)
    assert 'kpi-value">chưa có dữ liệu<' in tile  # not 0 %
    facts = client.get("/chi-so/du-lieu/staff_trained/?don-vi=99&ky=thang&gia-tri=2026-03")
    text = facts.content.decode()
    assert "Phường Một" in text and "Xã Ba" not in text  # no staff on record: no row
    assert text.count("<tr>") == 4  # header + province, ward, Xã Hai (no names listed)


def test_emergencies_the_same_whichever_way_acknowledgements_are_read(monkeypatch):
    """A commune's few acknowledgements are read at once; a province's many by the database
    (the ⌈0.95·N⌉-th one per emergency): both give dataset.py's 80 % and 10 s."""
    w = build_all()
    few = values(w.province, D, D)
    monkeypatch.setattr(querysets, "FEW_ACKS", 0)
    many = values(w.province, D, D)
    assert (few["emergency_delivered"], few["emergency_t95"]) == (80.0, 10.0)
    assert (many["emergency_delivered"], many["emergency_t95"]) == (80.0, 10.0)
