"""The unit picker: the units offered are the user's, with names, codes and folded names."""

import json
import re

import pytest

from grassroots.units.models import Unit
from grassroots.units.widgets import picker_context


def picker_json(html: str, html_id: str) -> list[dict]:
    m = re.search(rf'<script type="application/json" id="{html_id}-data">(.*?)</script>', html)
    return json.loads(m.group(1))


@pytest.mark.django_db
def test_rows_have_names_codes_and_parents():
    units = Unit.objects.current().filter(code__in=["33", "11953"])
    rows = picker_context(name="u", units=units, selected=["11953", "nope"])["picker"]
    province, commune = rows["items"]
    assert province["code"] == "33" and province["parent"] == ""
    assert commune == {**commune, "name": "Phường Phố Hiến", "parent": "33"}
    assert "pho hien" in commune["folded"]
    assert rows["selected"] == ["11953"]


@pytest.mark.django_db
def test_filters_offer_only_units_in_scope(client, users):
    client.force_login(users["operator"])
    html = client.get("/thiet-bi/giam-sat/").content.decode()
    rows = picker_json(html, "fleet-unit")
    assert [r["code"] for r in rows] == ["11953"]
    client.force_login(users["viewer"])
    html = client.get("/xu-ly-phan-anh/", {"don-vi": "11953"}).content.decode()
    rows = picker_json(html, "feedback-unit")
    assert len(rows) == 105 and rows[0]["name"] == "Tỉnh Hưng Yên"
    # the chosen unit is shown by name with its code beside it
    assert re.search(r"Phường Phố Hiến <small[^>]*>11953</small>", html)


@pytest.mark.django_db
def test_a_name_cannot_break_out_of_the_script_element():
    u = Unit.objects.current().get(code="11953")
    u.name = "</script><b>x</b>"
    rows = picker_context(name="u", units=[u])["picker"]
    assert "</script>" not in rows["items_json"] and "\\u003C/script" in rows["items_json"]
