"""Open311 GeoReport v2: every endpoint in JSON and XML, and the spec's error format."""

import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command

from grassroots.core.testing import COMMUNE_A
from grassroots.feedback import actions
from grassroots.feedback.choices import Channel
from grassroots.feedback.models import Open311Key, Report

from .helpers import make_report

V2 = "/open311/v2"
FORMATS = ["json", "xml"]


@pytest.fixture
def key(db):
    return actions.issue_open311_key(name="Ứng dụng quốc gia")[1]


def parse(response, fmt):
    if fmt == "json":
        assert response["Content-Type"].startswith("application/json")
        return response.json()
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def assert_error(response, fmt, status):
    assert response.status_code == status, response.content[:300]
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
        return body[0]["description"]
    assert body.tag == "errors"
    error = body.find("error")
    assert error.findtext("code") == str(status) and error.findtext("description")
    return error.findtext("description")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_discovery(client, fmt):
    body = parse(client.get(f"{V2}/discovery.{fmt}"), fmt)
    if fmt == "json":
        ep = body["endpoints"][0]
        assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert "application/json" in ep["formats"] and ep["url"].endswith("/open311/v2")
    else:
        assert body.tag == "discovery"
        formats = [f.text for f in body.find("endpoints/endpoint/formats")]
        assert formats == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_services_and_definition(client, fmt):
    body = parse(client.get(f"{V2}/services.{fmt}"), fmt)
    if fmt == "json":
        codes = [s["service_code"] for s in body]
        assert "moi-truong" in codes and body[0]["type"] == "realtime"
        assert body[0]["metadata"] is False
    else:
        assert body.tag == "services"
        codes = [s.findtext("service_code") for s in body.findall("service")]
        assert "moi-truong" in codes and body.find("service/metadata").text == "false"
    definition = parse(client.get(f"{V2}/services/moi-truong.{fmt}"), fmt)
    if fmt == "json":
        assert definition == {"service_code": "moi-truong", "attributes": []}
    else:
        assert definition.tag == "service_definition"
        assert definition.findtext("service_code") == "moi-truong"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_unknown_service_code(client, key, fmt):
    assert "khong-co" in assert_error(client.get(f"{V2}/services/khong-co.{fmt}"), fmt, 404)
    resp = client.post(
        f"{V2}/requests.{fmt}",
        {"api_key": key, "service_code": "khong-co", "address_id": COMMUNE_A, "description": "x"},
    )
    assert_error(resp, fmt, 404)
    assert not Report.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_missing_or_bad_api_key(client, key, fmt):
    data = {"service_code": "moi-truong", "address_id": COMMUNE_A, "description": "Rác"}
    assert "api_key" in assert_error(client.post(f"{V2}/requests.{fmt}", data), fmt, 403)
    bad = client.post(f"{V2}/requests.{fmt}", {**data, "api_key": "o311_sai"})
    assert_error(bad, fmt, 403)
    Open311Key.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert_error(client.post(f"{V2}/requests.{fmt}", {**data, "api_key": key}), fmt, 403)
    assert not Report.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_post_request_then_follow_it(client, key, fmt):
    resp = client.post(
        f"{V2}/requests.{fmt}",
        {
            "api_key": key,
            "service_code": "moi-truong",
            "lat": "20.6555",
            "long": "106.0571",
            "description": "Nước thải chảy ra đường <b>Nguyễn Văn Linh</b>",
            "first_name": "Văn",
            "last_name": "A",
            "email": "a@example.vn",
            "phone": "0912 345 678",
        },
    )
    assert resp.status_code == 201, resp.content
    body = parse(resp, fmt)
    if fmt == "json":
        rid, token = body[0]["service_request_id"], body[0]["token"]
    else:
        rid = body.findtext("request/service_request_id")
        token = body.findtext("request/token")
    report = Report.objects.get(pk=int(rid))
    assert report.channel == Channel.OPEN311 and report.phone == "0912345678"
    assert report.unit.kind in ("xa", "phuong") and report.share_location

    # tokens/{token}
    tok = parse(client.get(f"{V2}/tokens/{token}.{fmt}"), fmt)
    got = (
        tok[0]["service_request_id"]
        if fmt == "json"
        else tok.findtext("request/service_request_id")
    )
    assert got == rid

    # requests/{id}
    one = parse(client.get(f"{V2}/requests/{rid}.{fmt}"), fmt)
    if fmt == "json":
        row = one[0]
        assert row["status"] == "open" and row["service_code"] == "moi-truong"
        assert row["description"].endswith("<b>Nguyễn Văn Linh</b>")  # data, not markup
        assert row["extended_attributes"]["state"] == "new"
        assert "phone" not in row and "email" not in row  # contact details never public
        assert row["requested_datetime"].endswith("+07:00")
    else:
        assert one.findtext("request/status") == "open"
        assert one.findtext("request/extended_attributes/state") == "new"
        assert b"&lt;b&gt;" in client.get(f"{V2}/requests/{rid}.xml").content


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_get_requests_filters(client, users, fmt):
    a = make_report(COMMUNE_A)
    b = make_report(COMMUNE_A, category=actions.Category.objects.get(code="khac"))
    actions.answer(report=b, user=users["operator"], public_answer="Xong", resolution="resolved")
    hidden = make_report(COMMUNE_A)
    actions.close(report=hidden, user=users["operator"], resolution="hidden_abuse")

    def ids(query):
        body = parse(client.get(f"{V2}/requests.{fmt}{query}"), fmt)
        if fmt == "json":
            return {int(r["service_request_id"]) for r in body}
        return {int(r.findtext("service_request_id")) for r in body.findall("request")}

    assert ids("") == {a.pk, b.pk}  # hidden abuse never shows
    assert ids("?status=open") == {a.pk}
    assert ids("?status=closed") == {b.pk}
    assert ids("?service_code=khac") == {b.pk}
    assert ids(f"?service_request_id={a.pk},{hidden.pk}") == {a.pk}
    assert ids("?start_date=2000-01-01T00:00:00Z&end_date=2001-01-01T00:00:00Z") == set()
    assert ids("?start_date=2000-01-01") == {a.pk, b.pk}
    body = parse(client.get(f"{V2}/requests/{b.pk}.{fmt}"), fmt)
    if fmt == "json":
        assert body[0]["status"] == "closed" and body[0]["status_notes"] == "Xong"
        assert body[0]["extended_attributes"]["resolution"] == "resolved"
    else:
        assert body.findtext("request/extended_attributes/resolution") == "resolved"
    assert_error(client.get(f"{V2}/requests.{fmt}?start_date=hom-qua"), fmt, 400)
    assert_error(client.get(f"{V2}/requests.{fmt}?status=pending"), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_not_found_errors(client, users, fmt):
    assert_error(client.get(f"{V2}/requests/999999.{fmt}"), fmt, 404)
    assert_error(client.get(f"{V2}/tokens/khong-co.{fmt}"), fmt, 404)
    hidden = make_report(COMMUNE_A)
    actions.close(report=hidden, user=users["operator"], resolution="hidden_abuse")
    assert_error(client.get(f"{V2}/requests/{hidden.pk}.{fmt}"), fmt, 404)
    assert_error(client.delete(f"{V2}/requests.{fmt}"), fmt, 405)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_post_validation_errors(client, key, fmt):
    base = {"api_key": key, "service_code": "moi-truong", "description": "Rác"}
    assert "vị trí" in assert_error(client.post(f"{V2}/requests.{fmt}", base), fmt, 400).lower()
    far = client.post(f"{V2}/requests.{fmt}", {**base, "lat": "10.77", "long": "106.70"})
    assert "ngoài địa bàn" in assert_error(far, fmt, 400)
    assert_error(client.post(f"{V2}/requests.{fmt}", {**base, "address_id": "99999"}), fmt, 400)
    long_text = {**base, "address_id": COMMUNE_A, "description": "a" * 10_000}
    assert "quá dài" in assert_error(client.post(f"{V2}/requests.{fmt}", long_text), fmt, 400)
    assert_error(client.post(f"{V2}/requests.{fmt}", {**base, "lat": "x", "long": "y"}), fmt, 400)
    no_code = {k: v for k, v in base.items() if k != "service_code"}
    assert_error(
        client.post(f"{V2}/requests.{fmt}", {**no_code, "address_id": COMMUNE_A}), fmt, 400
    )
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_address_string_finds_the_commune(client, key):
    resp = client.post(
        f"{V2}/requests.json",
        {
            "api_key": key,
            "service_code": "moi-truong",
            "description": "Đèn đường hỏng",
            "address_string": "Số 3 đường Điện Biên, phuong Pho Hien, Hưng Yên",
        },
    )
    assert resp.status_code == 201, resp.content
    report = Report.objects.get(pk=int(resp.json()[0]["service_request_id"]))
    assert report.unit.code == COMMUNE_A and report.address.startswith("Số 3")


@pytest.mark.django_db
def test_create_key_command(capsys, db):
    call_command("open311", "create-key", "Ứng dụng thử")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("o311_")
    key = Open311Key.objects.get(name="Ứng dụng thử")
    assert key.key_hash == Open311Key.hash(raw) and raw not in key.key_hash
    assert actions.authenticate_open311(raw) == key
    call_command("open311", "revoke", key.prefix)
    assert actions.authenticate_open311(raw) is None


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.django_db
def test_key_rate_limit(client, key, settings, fmt):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "FEEDBACK_LIMITS": {"open311": [(2, 3600)]}}
    data = {"api_key": key, "service_code": "moi-truong", "address_id": COMMUNE_A}
    for i in range(2):
        resp = client.post(f"{V2}/requests.{fmt}", {**data, "description": f"Phản ánh {i}"})
        assert resp.status_code == 201
    assert_error(client.post(f"{V2}/requests.{fmt}", {**data, "description": "3"}), fmt, 429)
    assert Report.objects.count() == 2
