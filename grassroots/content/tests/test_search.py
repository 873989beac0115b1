"""Archive search: accent-insensitive, filtered, scoped; both the FTS5 and the portable path."""

import datetime

import pytest
from django.db import connection

from grassroots.content.choices import Status
from grassroots.content.models import Bulletin
from grassroots.content.querysets import search_tokens
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, call

from .conftest import make_bulletin

pytestmark = pytest.mark.django_db

ENGINES = ["like"] + (["fts"] if connection.vendor == "sqlite" else [])


@pytest.fixture
def archive(demo):
    return {
        "vaccine": make_bulletin(
            "33",
            title="Tiêm phòng vắc-xin sởi",
            body="<p>Trẻ từ 9 tháng tuổi được tiêm phòng miễn phí.</p>",
            category="y-te",
            priority="priority",
            targets=[COMMUNE_A],
            status=Status.PUBLISHED,
        ),
        "power": make_bulletin(
            "33",
            title="Lịch cắt điện tuần này",
            body="<p>Điện lực Hưng Yên tạm ngừng cấp điện.</p>",
            category="thong-bao",
        ),
        "commune": make_bulletin(
            COMMUNE_B,
            title="Xã Tân Hưng ra quân phòng chống dịch",
            body="<p>Phun thuốc tiêu độc khử trùng.</p>",
            category="y-te",
        ),
    }


def test_tokens_are_folded():
    assert search_tokens("  Tiêm PHÒNG, điện! ") == ["tiem", "phong", "dien"]


@pytest.mark.parametrize("engine", ENGINES)
def test_without_diacritics(archive, engine):
    found = Bulletin.objects.search("tiem phong", engine=engine)
    assert list(found) == [archive["vaccine"]]
    # đ folds to d; words may come in any order, across title and body.
    assert list(Bulletin.objects.search("dien hung yen", engine=engine)) == [archive["power"]]
    assert list(Bulletin.objects.search("Tiêm Phòng", engine=engine)) == [archive["vaccine"]]
    assert not Bulletin.objects.search("tiem dien", engine=engine).exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_edits_reach_the_index(archive, engine):
    from grassroots.content import actions

    power = archive["power"]
    actions.update(
        bulletin=power,
        user=power.created_by,
        data={"title": "Lịch sửa chữa lưới điện", "body": "<p>Tạm dừng cấp nước sạch.</p>"},
    )
    assert list(Bulletin.objects.search("nuoc sach", engine=engine)) == [power]
    assert not Bulletin.objects.search("cat dien", engine=engine).exists()


def test_api_search_with_filters(client, users, archive):
    admin = users["admin"]

    def ids(query):
        response = call(client, "get", f"/api/v1/bulletins/search?{query}", user=admin)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()}

    vaccine, power, commune = archive["vaccine"].pk, archive["power"].pk, archive["commune"].pk
    assert ids("q=tiem phong") == {vaccine}
    assert ids("category=y-te") == {vaccine, commune}
    assert ids("category=y-te&unit=" + COMMUNE_B) == {commune}
    assert ids("priority=priority") == {vaccine}
    assert ids("status=published") == {vaccine}
    assert ids("status=draft&q=phong") == {commune}
    today = datetime.date.today()
    assert ids(f"date_from={today - datetime.timedelta(days=1)}") == {vaccine, power, commune}
    assert ids(f"date_to={today - datetime.timedelta(days=1)}") == set()
    listed = call(client, "get", "/api/v1/bulletins?q=tiem", user=admin).json()
    assert listed[0]["essential"] is True and listed[0]["category"] == "y-te"


def test_search_respects_scope(client, users, archive):
    found = call(client, "get", "/api/v1/bulletins/search?q=phong", user=users["operator"]).json()
    # The province's published bulletin reached Phố Hiến's inbox; Tân Hưng's draft did not.
    assert [row["id"] for row in found] == [archive["vaccine"].pk]
    found = call(client, "get", "/api/v1/bulletins/search?q=phong", user=users["operator2"]).json()
    assert [row["id"] for row in found] == [archive["commune"].pk]
