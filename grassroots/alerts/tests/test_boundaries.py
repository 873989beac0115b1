"""CAP areas against real unit boundaries (loaded from GeoJSON) instead of centroids.

The GeoJSON is hand-made (tests/cap/boundaries-pho-hien-tan-hung.geojson): Phường Phố Hiến
and Xã Tân Hưng as boxes around their seed centroids, sharing one corner. A small tornado
polygon over the west of Phố Hiến does not contain the ward's centroid: with centroids only it
reaches no commune (refused, outside); with the boundaries loaded it reaches Phố Hiến only.
"""

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from grassroots.alerts.cap import geo
from grassroots.alerts.cap.ingest import province
from grassroots.alerts.cap.parse import Area
from grassroots.alerts.models import CapSender, CapState
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, token_for
from grassroots.units.models import UnitBoundary

from .test_cap import CAP, NOW

pytestmark = pytest.mark.django_db
GEOJSON = CAP / "boundaries-pho-hien-tan-hung.geojson"
WEST_OF_PHO_HIEN = [(20.660, 106.048), (20.680, 106.048), (20.680, 106.060), (20.660, 106.060)]


def load(path=GEOJSON, *args):
    out = StringIO()
    call_command("units", "boundaries", str(path), *args, stdout=out)
    return out.getvalue()


def codes(areas):
    return [u.code for u in geo.resolve(province(), areas)]


def test_a_polygon_reaches_a_commune_its_edge_crosses_once_boundaries_are_loaded(demo):
    area = [Area(desc="tây Phố Hiến", polygons=[WEST_OF_PHO_HIEN + WEST_OF_PHO_HIEN[:1]])]
    assert codes(area) == []  # centroids only: the ward's centre is outside the polygon
    assert "boundaries loaded: 2" in load()
    assert codes(area) == [COMMUNE_A]
    # a circle of 1 km in the same place: the same answer (its centre is 2 km off the centroid)
    assert codes([Area(desc="tròn", circles=[(20.672, 106.052, 1.0)])]) == [COMMUNE_A]
    # an area that only touches Phố Hiến's east edge does not reach it
    touching = [(20.650, 106.085), (20.660, 106.085), (20.660, 106.090), (20.650, 106.090)]
    assert codes([Area(desc="mép", polygons=[touching + touching[:1]])]) == []
    # communes without a loaded boundary still use their centroid (Phường Hồng Châu here)
    hong_chau = [(20.62, 106.06), (20.63, 106.06), (20.63, 106.07), (20.62, 106.07)]
    assert codes([Area(desc="Hồng Châu", polygons=[hong_chau + hong_chau[:1]])]) == ["11980"]


def test_a_cap_alert_over_part_of_a_ward_goes_on_air_there(client, users):
    CapSender.objects.create(
        unit=province(), sender="canhbao@nchmf.gov.vn", name="KTTV", trusted=True
    )
    data = (CAP / "vn-tornado-polygon-edge.xml").read_bytes()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(users['admin'])}"}
    with time_machine.travel(NOW, tick=True):
        refused = client.post(
            "/api/v1/alerts/cap", data, content_type="application/cap+xml", **auth
        )
        assert refused.json()["state"] == CapState.REFUSED
        assert "nằm ngoài Tỉnh Hưng Yên" in refused.json()["reason"]
        load()
        on_air = client.post(
            "/api/v1/alerts/cap",
            data.replace(b"NCHMF-LOC-20261129-002", b"NCHMF-LOC-20261129-003"),
            content_type="application/cap+xml",
            **auth,
        )
    assert on_air.status_code == 201 and on_air.json()["state"] == CapState.ON_AIR
    assert on_air.json()["units"] == [COMMUNE_A]


def test_loading_is_all_or_nothing_with_reasons_in_vietnamese(demo, tmp_path):
    doc = json.loads(GEOJSON.read_text())
    bad = tmp_path / "bad.geojson"
    # latitude and longitude swapped in the second feature: its centroid is far away
    swapped = json.loads(json.dumps(doc))
    ring = swapped["features"][1]["geometry"]["coordinates"][0][0]
    swapped["features"][1]["geometry"]["coordinates"][0][0] = [[y, x] for x, y in ring]
    bad.write_text(json.dumps(swapped))
    with pytest.raises(CommandError, match="đảo kinh độ/vĩ độ"):
        load(bad)
    # a shape 30 km away from the commune's own centre (wrong code, or another place)
    moved = json.loads(json.dumps(doc))
    ring = moved["features"][1]["geometry"]["coordinates"][0][0]
    moved["features"][1]["geometry"]["coordinates"][0][0] = [[x, y + 0.3] for x, y in ring]
    bad.write_text(json.dumps(moved))
    with pytest.raises(CommandError, match="tâm của Xã Tân Hưng cách ranh giới"):
        load(bad)
    unknown = json.loads(json.dumps(doc))
    unknown["features"][0]["properties"]["code"] = "99999"
    bad.write_text(json.dumps(unknown))
    with pytest.raises(CommandError, match="không có đơn vị hiện hành"):
        load(bad)
    assert not UnitBoundary.objects.exists()
    assert "skipped (unknown codes): 1" in load(bad, "--skip-unknown")
    assert list(UnitBoundary.objects.values_list("unit__code", flat=True)) == [COMMUNE_B]
    point = json.loads(json.dumps(doc))
    point["features"][0]["geometry"] = {"type": "Point", "coordinates": [106.06, 20.66]}
    bad.write_text(json.dumps(point))
    with pytest.raises(CommandError, match="Polygon hoặc MultiPolygon"):
        load(bad)
    bad.write_text('{"type": "Feature"}')
    with pytest.raises(CommandError, match="FeatureCollection"):
        load(bad)
    # a self-intersecting ring (a bow tie) is repaired when it stays polygonal
    bow = json.loads(json.dumps(doc))
    bow["features"][0]["geometry"]["coordinates"] = [
        [[106.046, 20.645], [106.085, 20.684], [106.085, 20.645], [106.046, 20.684],
         [106.046, 20.645]]
    ]  # fmt: skip
    bad.write_text(json.dumps(bow))
    assert "repaired: 1" in load(bad)
    assert UnitBoundary.objects.count() == 2


def test_reloading_replaces_a_boundary(demo):
    load()
    load()
    assert UnitBoundary.objects.count() == 2
    stored = UnitBoundary.objects.get(unit__code=COMMUNE_A)
    assert (stored.south, stored.west, stored.north, stored.east) == (
        20.645,
        106.046,
        20.684,
        106.085,
    )
    assert dt.datetime.now(dt.UTC) - stored.loaded_at < dt.timedelta(minutes=5)
