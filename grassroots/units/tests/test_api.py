import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grassroots.core.testing import (
    COMMUNE_A,
    COMMUNE_B,
    EndpointContract,
    assert_problem,
    call,
    unit,
)
from grassroots.units.models import Unit


class TestUnitDetailContract(EndpointContract):
    permission = "units.view"

    def in_scope_url(self):
        return f"/api/v1/units/{COMMUNE_A}"

    def out_of_scope_url(self):
        return f"/api/v1/units/{COMMUNE_B}"


class TestUnitChildrenContract(EndpointContract):
    permission = "units.view"

    def in_scope_url(self):
        return f"/api/v1/units/{COMMUNE_A}/children"

    def out_of_scope_url(self):
        return "/api/v1/units/33/children"


@pytest.mark.django_db
def test_province_children_are_104_communes(client, users):
    response = call(client, "get", "/api/v1/units/33/children", user=users["admin"])
    assert response.status_code == 200
    kinds = [u["kind"] for u in response.json()]
    assert len(kinds) == 104
    assert kinds.count("xa") == 93 and kinds.count("phuong") == 11


@pytest.mark.django_db
def test_unit_detail_counts_and_history(client, users):
    body = call(client, "get", "/api/v1/units/33", user=users["viewer"]).json()
    assert body["kind"] == "tinh" and body["children_count"] == 104
    assert body["children_by_kind"] == {"xa": 93, "phuong": 11}
    assert {p["code"] for p in body["predecessors"]} == {"33", "34"}
    ward = call(client, "get", f"/api/v1/units/{COMMUNE_A}", user=users["admin"]).json()
    assert ward["parent"]["code"] == "33" and ward["latitude"] and ward["predecessors"]


@pytest.mark.django_db
def test_unknown_code_is_problem_404(client, users):
    assert_problem(call(client, "get", "/api/v1/units/99999", user=users["admin"]), 404)


@pytest.mark.django_db
def test_search_without_diacritics(client, users):
    found = call(client, "get", "/api/v1/units?q=pho hien", user=users["admin"]).json()
    assert "Phường Phố Hiến" in [u["name"] for u in found]
    # An operator only finds units in their own commune.
    mine = call(client, "get", "/api/v1/units?q=xa", user=users["operator"]).json()
    assert all(u["code"] == COMMUNE_A for u in mine)


@pytest.mark.django_db
def test_descendants_is_one_query(demo):
    province = unit("33")
    with CaptureQueriesContext(connection) as ctx:
        n = len(list(province.descendants()))
    assert n == 104 and len(ctx.captured_queries) == 1


@pytest.mark.django_db
def test_moving_a_unit_repaths_its_subtree(demo):
    province = unit("33")
    district = Unit.objects.create(code="900", name="Huyện Thử", kind="huyen", parent=province)
    ward = unit(COMMUNE_A)
    ward.parent = district
    ward.save()
    assert ward.path.startswith(district.path) and ward.depth == 2
    assert ward in province.descendants()
    district.parent = None
    district.save()
    ward.refresh_from_db()
    assert ward.depth == 1 and ward.path.startswith(district.path)
    assert not ward.is_within(province)
