"""Exdates as people write them: no offset is Vietnam time, a bare date is that day's occurrence."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from grassroots.broadcast import engine
from grassroots.broadcast.models import ScheduleItem
from grassroots.broadcast.specs import item_spec
from grassroots.core.testing import COMMUNE_A, assert_problem, call

from .factories import schedule_body, vn

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(vn(1, 5), tick=False):
        yield


def daily(client, users, exdates):
    body = schedule_body(
        COMMUNE_A, starts_at="2027-03-01T06:00:00+07:00", rrule="FREQ=DAILY", exdates=exdates
    )
    return call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)


def played_days(item_id: int) -> list[int]:
    spec = item_spec(ScheduleItem.objects.get(pk=item_id))
    start = datetime(2027, 3, 1, tzinfo=VN)
    return [o.start.astimezone(VN).day for o in engine.expand(spec, start, start + timedelta(7))]


def test_time_without_offset_and_bare_date_are_both_honoured(client, users):
    response = daily(client, users, ["2027-03-02T06:00:00", "2027-03-05"])
    assert response.status_code == 201, response.content
    assert played_days(response.json()["id"]) == [1, 3, 4, 6, 7]


def test_offset_forms_still_work(client, users):
    response = daily(client, users, ["2027-03-03T06:00:00+07:00", "2027-03-03T23:00:00Z"])
    assert response.status_code == 201, response.content
    assert played_days(response.json()["id"]) == [1, 2, 5, 6, 7]  # 23:00Z is 06:00 on the 4th


@pytest.mark.parametrize("bad", ["2027-02-30", "05/03/2027", "mai", "2027-03-02T25:00:00"])
def test_anything_else_is_422_saying_what_to_write(client, users, bad):
    body = assert_problem(daily(client, users, [bad]), 422)
    assert "2026-03-01T06:00:00+07:00" in body["detail"] and "exdates" in body["detail"]


def test_update_takes_the_same_forms(client, users):
    created = daily(client, users, []).json()
    url = f"/api/v1/schedules/{created['id']}"
    response = call(client, "patch", url, user=users["operator"], body={"exdates": ["2027-03-04"]})
    assert response.status_code == 200, response.content
    assert played_days(created["id"]) == [1, 2, 3, 5, 6, 7]
