"""Console pages: stations, a station's timeline with reasons, the conversion plan."""

import pytest
import time_machine

from grassroots.core.testing import COMMUNE_A, COMMUNE_B, call
from grassroots.devices.tests.factories import DeviceFactory

from .factories import schedule_body, station, vn

pytestmark = pytest.mark.django_db


def test_station_pages(client, users):
    a, b = station(COMMUNE_A), station(COMMUNE_B)
    DeviceFactory(unit=a.unit, station=a, technology="wired", condition="broken")
    with time_machine.travel(vn(1, 5), tick=False):
        call(
            client,
            "post",
            "/api/v1/schedules",
            user=users["operator"],
            body=schedule_body(COMMUNE_A),
        )
        client.force_login(users["operator"])
        page = client.get("/dai-truyen-thanh/").content.decode()
        assert a.name in page and b.name not in page
        timeline = client.get(f"/dai-truyen-thanh/{a.pk}/?ngay=2026-12-01").content.decode()
        assert "Bản tin sáng" in timeline and "07:00" in timeline
        assert "phát đúng giờ" in timeline
        partial = client.get(f"/dai-truyen-thanh/{a.pk}/?ngay=2026-12-02", HTTP_HX_REQUEST="true")
        assert b"<html" not in partial.content
        assert client.get(f"/dai-truyen-thanh/{b.pk}/").status_code == 404
        plan = client.get("/ke-hoach-chuyen-doi/").content.decode()
        assert "1 cụm loa cũ hỏng" in plan
        xlsx = client.get("/ke-hoach-chuyen-doi.xlsx")
        assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
        devices = client.get("/thiet-bi/").content.decode()
        assert "Có dây" in devices
        assert client.get("/thiet-bi/kiem-ke.xlsx").status_code == 200


def test_console_requires_login(client, demo):
    assert client.get("/dai-truyen-thanh/").status_code == 302
