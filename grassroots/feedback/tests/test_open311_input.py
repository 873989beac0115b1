"""Open311 with what clients really send: impossible dates, control characters, JSON bodies."""

import json
import xml.etree.ElementTree as ET

import pytest

from grassroots.core.testing import COMMUNE_A
from grassroots.feedback import actions
from grassroots.feedback.models import Report

from .helpers import make_report
from .test_open311 import FORMATS, V2, assert_error

BAD_DATES = [
    ("start_date", "2026-02-30T00:00:00Z"),
    ("start_date", "2026-13-01"),
    ("end_date", "2026-11-31T23:59:59+07:00"),
    ("end_date", "ngày mai"),
]


@pytest.fixture
def key(db):
    return actions.issue_open311_key(name="Ứng dụng quốc gia")[1]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "value"), BAD_DATES)
@pytest.mark.django_db
def test_impossible_dates_are_400_in_spec_format(client, fmt, name, value):
    resp = client.get(f"{V2}/requests.{fmt}", {name: value})
    description = assert_error(resp, fmt, 400)
    assert name in description and "ISO 8601" in description


@pytest.mark.django_db
def test_date_without_offset_is_vietnam_time(client):
    report = make_report(COMMUNE_A)
    local = report.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
    before = (local.replace(microsecond=0)).strftime("%Y-%m-%dT%H:%M:%S")
    # the same wall-clock time read as UTC would be 7 hours later and exclude the report
    rows = client.get(f"{V2}/requests.json", {"start_date": before}).json()
    assert str(report.pk) in [r["service_request_id"] for r in rows]


CONTROL = {
    "address_string": "Thôn 3\u000b xã Phố Hiến\u001b[31m đỏ",
    "account_id": "acc\u000c-42\u0085",
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_control_characters_never_stored_and_xml_parses(client, key, fmt):
    resp = client.post(
        f"{V2}/requests.{fmt}",
        {
            "api_key": key,
            "service_code": "moi-truong",
            "address_id": COMMUNE_A,
            "description": "Cống\u0007 tắc\r\nnước tràn",
            **CONTROL,
        },
    )
    assert resp.status_code == 201, resp.content
    if fmt == "xml":
        reply = ET.fromstring(resp.content)
        rid = reply.findtext("request/service_request_id")
        assert reply.findtext("request/account_id") == "acc-42"
    else:
        rid = resp.json()[0]["service_request_id"]
        assert resp.json()[0]["account_id"] == "acc-42"
    report = Report.objects.get(pk=int(rid))
    assert report.address == "Thôn 3 xã Phố Hiến[31m đỏ"
    assert report.text == "Cống tắc\nnước tràn"
    ET.fromstring(client.get(f"{V2}/requests/{rid}.xml").content)
    ET.fromstring(client.get(f"{V2}/requests.xml").content)


@pytest.mark.django_db
def test_rows_stored_before_the_cleaning_still_give_wellformed_xml(client):
    report = make_report(COMMUNE_A)
    Report.objects.filter(pk=report.pk).update(address="a\u000bb\u001bc", text="x\u0001y")
    ET.fromstring(client.get(f"{V2}/requests/{report.pk}.xml").content)
    root = ET.fromstring(client.get(f"{V2}/requests.xml").content)
    assert "abc" in [r.findtext("address") for r in root.findall("request")]


@pytest.mark.django_db
def test_json_body_with_api_key_is_accepted(client, key):
    body = {
        "api_key": key,
        "service_code": "moi-truong",
        "address_id": COMMUNE_A,
        "lat": 20.6555,
        "long": 106.0571,
        "description": "Đèn\u001b đường hỏng",
    }
    resp = client.post(f"{V2}/requests.json", json.dumps(body), content_type="application/json")
    assert resp.status_code == 201, resp.content
    report = Report.objects.get(pk=int(resp.json()[0]["service_request_id"]))
    assert report.text == "Đèn đường hỏng" and report.latitude == pytest.approx(20.6555)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_other_bodies_are_a_clear_415_or_400(client, key, fmt):
    resp = client.post(f"{V2}/requests.{fmt}", "<x/>", content_type="application/xml")
    assert "application/x-www-form-urlencoded" in assert_error(resp, fmt, 415)
    resp = client.post(f"{V2}/requests.{fmt}", "[1]", content_type="application/json")
    assert_error(resp, fmt, 400)
    resp = client.post(f"{V2}/requests.{fmt}", "{oops", content_type="application/json")
    assert_error(resp, fmt, 400)
