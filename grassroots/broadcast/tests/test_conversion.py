"""The conversion plan: ranking, counts and yearly steps to 100 % IP."""

import io

import pytest
import time_machine
from openpyxl import load_workbook

from grassroots.broadcast.conversion import build_plan
from grassroots.broadcast.models import Station
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, call
from grassroots.devices.tests.factories import DeviceFactory
from grassroots.units.models import Unit

from .factories import station, vn

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(demo):
    """Four stations: all IP; wired and broken; new-rural with FM; degraded wired."""
    communes = list(
        Unit.objects.filter(parent__code="33", valid_to__isnull=True)
        .exclude(code__in=[COMMUNE_A, COMMUNE_B])
        .order_by("code")[:2]
    )
    ip, broken = station(COMMUNE_A), station(COMMUNE_B)
    ntm = station(communes[0].code)
    Unit.objects.filter(pk=ntm.unit_id).update(is_new_rural_target=True)
    plain = station(communes[1].code)
    for st, tech, cond in [
        (ip, "ip_4g", "working"),
        (ip, "ip_4g", "broken"),
        (broken, "ip_4g", "working"),
        (broken, "wired", "broken"),
        (ntm, "fm", "working"),
        (plain, "wired", "degraded"),
        (plain, "wired", "working"),
    ]:
        DeviceFactory(unit=st.unit, station=st, technology=tech, condition=cond)
    DeviceFactory(unit=plain.unit, station=plain, kind="board", technology="ip_4g")
    return {"ip": ip, "broken": broken, "ntm": ntm, "plain": plain}


def test_ranking_broken_then_new_rural(fleet):
    plan = build_plan(Station.objects.all(), year=2026, target_year=2027)
    assert plan.total == 4 and plan.fully_ip == 1 and plan.percent_ip == 25.0
    order = [r.station for r in plan.rows]
    assert order == [fleet["broken"], fleet["ntm"], fleet["plain"]]
    assert [r.year for r in plan.rows] == [2026, 2026, 2027]
    assert [(y.year, y.to_convert, y.percent) for y in plan.years] == [
        (2026, 2, 75.0),
        (2027, 1, 100.0),
    ]
    assert plan.years[-1].target_percent == 100.0
    assert "hỏng" in plan.rows[0].why and "nông thôn mới" in plan.rows[1].why


def test_plan_api_and_xlsx(client, users, fleet):
    with time_machine.travel(vn(1, 9), tick=False):
        body = call(
            client, "get", "/api/v1/stations/conversion-plan?target_year=2028", user=users["viewer"]
        ).json()
        assert body["total"] == 4 and body["years"][-1]["percent"] == 100.0
        assert body["stations"][0]["unit_code"] == COMMUNE_B
        mine = call(
            client, "get", "/api/v1/stations/conversion-plan", user=users["operator"]
        ).json()
        assert mine["total"] == 1 and mine["fully_ip"] == 1
        response = call(
            client, "get", "/api/v1/stations/conversion-plan.xlsx", user=users["viewer"]
        )
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb["Kế hoạch chuyển đổi"]
    assert "100 %" in ws["A1"].value and ws["C3"].value == fleet["broken"].unit.name
    assert [c.value for c in wb["Theo năm"]["A"]][1:] == [2026, 2027, 2028]


def test_every_commune_gets_one_station(demo):
    from grassroots.broadcast.actions import ensure_all_stations

    station(COMMUNE_A)
    made = ensure_all_stations()
    assert made == 103 and Station.objects.count() == 104
    assert ensure_all_stations() == 0
    plan = build_plan(Station.objects.all(), year=2026)
    assert plan.total == 104 and plan.fully_ip == 0
    assert "chưa khai báo cụm loa" in plan.rows[-1].why
