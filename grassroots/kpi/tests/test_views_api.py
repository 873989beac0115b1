"""Dashboard pages, exports and the API on the hand-made province, as a province viewer and as
a commune operator (who sees only their commune)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from grassroots.core.testing import assert_problem, call, make_user

from .dataset import build_all

pytestmark = pytest.mark.django_db
MARCH = "ky=thang&gia-tri=2026-03"
PERIOD = "ky=tuy-chon&tu=2026-03-10&den=2026-03-12"


@pytest.fixture
def scoped():
    w = build_all()
    w.viewer = make_user("kpi-viewer", permissions=["kpi.view"], unit_code="99")
    w.operator = make_user("kpi-op", permissions=["kpi.view"], unit_code="99001")
    return w


def test_api_indicators_and_values_scoped(client, scoped):
    r = call(client, "get", "/api/v1/kpi/indicators", user=scoped.viewer)
    assert r.status_code == 200
    by_id = {i["id"]: i for i in r.json()}
    assert by_id["eboard_communes"]["targets"][0] == {
        "year": 2025, "comparison": "gt", "value": 70.0,
        "source": "Kế hoạch thông tin cơ sở tỉnh Hưng Yên, mục I.2.a, gạch đầu dòng 4",
    }  # fmt: skip
    assert by_id["staff_trained"]["has_data"] is True  # the training records (may be empty)
    url = "/api/v1/kpi/values?indicator=device_availability&from=2026-03-10&to=2026-03-12&by=day"
    body = call(client, "get", url + "&unit=99", user=scoped.viewer).json()
    assert body["total"] == 72.2
    assert [p["value"] for p in body["values"]] == [83.3, 66.7, 66.7]
    # the operator's default unit is their commune; the province is not theirs (404)
    mine = call(client, "get", url, user=scoped.operator).json()
    assert (mine["unit"], mine["total"]) == ("99001", 58.3)
    assert_problem(call(client, "get", url + "&unit=99", user=scoped.operator), 404)
    assert_problem(call(client, "get", url + "&unit=99002", user=scoped.operator), 404)
    no_perm = make_user("kpi-none", permissions=["units.view"], unit_code="99")
    assert call(client, "get", url, user=no_perm).status_code == 403
    assert call(client, "get", url).status_code == 401


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("indicator=nope", "Không có chỉ số 'nope'"),
        ("indicator=bulletins&by=week", "day, month hoặc year"),
        ("indicator=bulletins&from=2026-02-30&to=2026-03-01", "ngày có thật"),
        ("indicator=bulletins&from=2026-03-02&to=2026-03-01", "sau hoặc bằng"),
        ("indicator=bulletins&from=2025-01-01&to=2026-12-31&by=day", "by=month"),
    ],
)
def test_api_bad_input_is_a_vietnamese_422(client, scoped, query, words):
    body = assert_problem(
        call(client, "get", f"/api/v1/kpi/values?{query}", user=scoped.viewer), 422
    )
    assert words in body["detail"]


def test_pages_province_viewer_and_commune_operator(client, scoped):
    client.force_login(scoped.viewer)
    page = client.get(f"/chi-so/?{PERIOD}").content.decode()
    assert "Tỉnh Thử" in page and "Xã Ba" in page and "chưa có dữ liệu" in page
    assert 'data-indicator="eboard_communes"' in page
    facts = client.get(f"/chi-so/du-lieu/feedback_on_time/?don-vi=99&{PERIOD}").content.decode()
    assert facts.count("<tr>") == 4  # header + R1..R3
    bad = client.get("/chi-so/?ky=thang&gia-tri=2026-13").content.decode()
    assert "Kỳ &#x27;2026-13&#x27; chưa đúng" in bad
    xlsx = client.get(f"/chi-so/don-vi/99/?{PERIOD}&xuat=xlsx&bang=don-vi")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = {r[0]: r for r in ws.iter_rows(values_only=True)}
    assert set(rows) == {"Đơn vị", "Phường Một", "Xã Hai", "Xã Ba"}
    csv = client.get(f"/chi-so/du-lieu/relay_compliance/?don-vi=99&{PERIOD}&xuat=csv")
    assert csv["Content-Type"].startswith("text/csv") and "Phường Một" in csv.content.decode()
    relay = client.get(f"/chi-so/tiep-song/99001/?{MARCH}").content.decode()
    assert "Tiếp sóng một phần" in relay
    assert client.get(f"/chi-so/du-lieu/nope/?{PERIOD}").status_code == 404
    assert client.get(f"/chi-so/?{PERIOD}&xuat=pdf").status_code == 404

    client.force_login(scoped.operator)
    page = client.get(f"/chi-so/?{PERIOD}").content.decode()
    assert "Phường Một" in page and "Xã Hai" not in page and "W2" in page
    assert client.get(f"/chi-so/don-vi/99002/?{PERIOD}").status_code == 404
    assert client.get(f"/chi-so/du-lieu/feedback_handled/?don-vi=99&{PERIOD}").status_code == 404
    facts = client.get(f"/chi-so/du-lieu/feedback_handled/?{PERIOD}").content.decode()
    assert facts.count("<tr>") == 3  # header + R1, R2 (R3 is Xã Hai's)
