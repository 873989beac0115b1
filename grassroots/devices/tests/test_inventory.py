"""Inventory workbook: round trip, malformed files refused per row with nothing saved."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from grassroots.accounts.models import ApiToken
from grassroots.broadcast.tests.factories import station
from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, assert_problem, call, unit
from grassroots.devices import inventory
from grassroots.devices.models import Device

from .factories import DeviceFactory

pytestmark = pytest.mark.django_db


def workbook(rows, headers=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = inventory.SHEET
    ws.append(headers or inventory.HEADERS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(code, serial, tech="IP/4G", kind="Cụm loa", cond="Hoạt động tốt", name="Cụm loa thôn 1"):
    return [code, "", kind, name, serial, tech, cond, 20.65, 106.05, 2021, "VNPT", "Viettel", ""]


def upload(client, user, data: bytes):
    raw = ApiToken.objects.issue(user=user, name="t")[1]
    return client.post(
        "/api/v1/devices/inventory",
        {"file": SimpleUploadedFile("kiem-ke.xlsx", data)},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )


def test_import_creates_devices_bound_to_the_station(client, users):
    data = workbook(
        [
            row(COMMUNE_A, "A-001"),
            row(COMMUNE_A, "A-002", tech="Có dây", cond="Hỏng"),
            row(COMMUNE_A, "A-003", kind="Bảng tin điện tử", tech="ip 4g", name="Bảng tin UBND"),
        ]
    )
    response = upload(client, users["operator"], data)
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 3, "updated": 0}
    devices = {d.serial: d for d in Device.objects.all()}
    assert devices["A-002"].technology == "wired" and devices["A-002"].condition == "broken"
    assert devices["A-003"].kind == "board"
    assert {d.station.unit.code for d in devices.values()} == {COMMUNE_A}
    assert ObjectChange.objects.filter(object_repr__contains="A-00").count() == 3


def test_export_then_import_is_a_round_trip(client, users):
    st = station(COMMUNE_A)
    DeviceFactory(unit=st.unit, station=st, serial="X-1", technology="fm", supplier="Công ty A")
    response = call(client, "get", "/api/v1/devices/inventory.xlsx", user=users["operator"])
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in ws[1]] == inventory.HEADERS
    assert ws["F2"].value == "FM" and ws["A2"].value == COMMUNE_A
    again = upload(client, users["operator"], response.content)
    assert again.json() == {"created": 0, "updated": 0}


@pytest.mark.parametrize(
    ("rows", "headers", "expected"),
    [
        (
            [row(COMMUNE_A, "S1")],
            ["Mã đơn vị", "Tên", "Ghi chép"],  # "Serial" is an accepted English header now
            {(1, "Loại thiết bị"), (1, "Ghi chép")},
        ),
        (
            [row(COMMUNE_A, "S1"), row("99999", "S2"), row(COMMUNE_A, "S1")],
            None,
            {(3, "Mã đơn vị"), (4, "Số sê-ri")},
        ),
        (
            [row(COMMUNE_A, "S1", tech="Vệ tinh"), row(COMMUNE_A, "", cond="Tạm được")],
            None,
            {(2, "Công nghệ"), (3, "Số sê-ri"), (3, "Tình trạng")},
        ),
        ([row(COMMUNE_A, "S1"), row(COMMUNE_B, "S2")], None, {(3, "Mã đơn vị")}),
    ],
    ids=["wrong columns", "unknown unit and duplicate", "bad values", "other commune"],
)
def test_malformed_file_is_refused_per_row_and_nothing_saved(
    client, users, rows, headers, expected
):
    before = (Device.objects.count(), ObjectChange.objects.count())
    response = upload(client, users["operator"], workbook(rows, headers))
    problem = assert_problem(response, 422)
    found = {(e["row"], e["field"]) for e in problem["errors"]}
    assert expected <= found, problem["errors"]
    assert "chưa lưu thiết bị nào" in problem["detail"]
    assert all("Dòng" in e["message"] or e["row"] == 1 for e in problem["errors"])
    assert (Device.objects.count(), ObjectChange.objects.count()) == before


def test_serial_of_another_commune_is_not_taken_over(client, users):
    st = station(COMMUNE_B)
    DeviceFactory(unit=st.unit, station=st, serial="B-1")
    problem = assert_problem(
        upload(client, users["operator"], workbook([row(COMMUNE_A, "B-1")])), 422
    )
    assert problem["errors"][0]["field"] == "Số sê-ri"
    assert Device.objects.get(serial="B-1").unit == unit(COMMUNE_B)


def test_not_a_workbook(client, users):
    problem = assert_problem(upload(client, users["operator"], b"not excel"), 422)
    assert "xlsx" in problem["detail"]


def test_product_template_with_merged_unit_cells_and_display_codes(client, users):
    """The unit code/name merged over the rows of one commune, serials formatted 000000."""
    wb = Workbook()
    ws = wb.active
    ws.title = inventory.SHEET
    ws.append(["BIỂU RÀ SOÁT THỰC TRẠNG ĐÀI TRUYỀN THANH CẤP XÃ"])
    ws.append(inventory.HEADERS)
    for serial in (1201, 1202, 1203):
        ws.append(row(COMMUNE_A, serial))
    for r in (4, 5):
        ws[f"A{r}"] = None
    ws["B3"] = "Phường Phố Hiến"
    ws.merge_cells("A3:A5")
    ws.merge_cells("B3:B5")
    for r in (3, 4, 5):
        ws[f"E{r}"].number_format = "000000"
    buf = io.BytesIO()
    wb.save(buf)
    response = upload(client, users["operator"], buf.getvalue())
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 3, "updated": 0}
    serials = set(Device.objects.values_list("serial", flat=True))
    assert serials == {"001201", "001202", "001203"}
    assert set(Device.objects.values_list("unit__code", flat=True)) == {COMMUNE_A}


def test_english_headers_and_legacy_names(client, users):
    headers = [f for f, _t, _r in inventory.COLUMNS]
    data = workbook([row(COMMUNE_A, "E-1", name="Côm loa th«n 1")], headers)  # TCVN3
    response = upload(client, users["operator"], data)
    assert response.status_code == 200, response.content
    assert Device.objects.get(serial="E-1").name == "Cụm loa thôn 1"


def test_export_parses_even_with_control_characters_stored_before_cleaning(client, users):
    st = station(COMMUNE_A)
    device = DeviceFactory(unit=st.unit, station=st, serial="X-2")
    Device.objects.filter(pk=device.pk).update(notes="hỏng\u000b loa\u001b", name="Cụm\u0007 1")
    response = call(client, "get", "/api/v1/devices/inventory.xlsx", user=users["operator"])
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["M2"].value == "hỏng loa" and ws["D2"].value == "Cụm 1"


def test_a_refused_workbook_in_the_console_is_a_red_alert(client, users):
    """Error messages take Bootstrap's `alert-danger` (Django's own tag, `error`, is unstyled)."""
    client.force_login(users["operator"])
    data = workbook([row(COMMUNE_A, "A-001", tech="vô tuyến lạ")])
    response = client.post("/thiet-bi/", {"file": SimpleUploadedFile("kiem-ke.xlsx", data)})
    assert response.status_code == 200
    assert b'class="alert alert-danger"' in response.content
    assert b"alert-error" not in response.content
