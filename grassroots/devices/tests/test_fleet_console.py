"""The fleet page in the console: fault history (scoped, cleared by an officer, audited), the
map's data (commune centroids, device points, the optional tile server) and the list's order."""

import json
import uuid

import pytest
from django.test import override_settings

from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, unit
from grassroots.devices import faults
from grassroots.devices.models import Device
from grassroots.devices.models_fleet import DeviceEvent

pytestmark = pytest.mark.django_db
FLEET = "/thiet-bi/giam-sat/"


def device(code=COMMUNE_A, name="Cụm loa chợ", **kw):
    return Device.objects.create(
        kind="speaker",
        unit=unit(code),
        name=name,
        serial=f"SN-{uuid.uuid4().hex[:10]}",
        technology="ip_4g",
        **kw,
    )


def fault(dev, code, detail=""):
    return DeviceEvent.objects.create(
        event_id=str(uuid.uuid4()),
        device=dev,
        type="fault",
        payload={"type": "fault", "code": code, "detail": detail},
    )


def map_data(client) -> dict:
    page = client.get(FLEET).content.decode()
    start = page.index('<script id="fleet-map-data" type="application/json">')
    body = page[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_fault_count_opens_the_history_with_labels_detail_and_state(client, users):
    dev = device()
    fault(dev, "media.download_failed", "HTTP 503 từ máy chủ")
    fault(dev, "clock", "lệch 3 giờ")
    fault(dev, "weird.new_code", "<script>alert(1)</script>")
    client.force_login(users["operator"])
    page = client.get(FLEET).content.decode()
    history = f"/thiet-bi/giam-sat/{dev.pk}/loi/"
    assert f'href="{history}"' in page
    assert "3 lỗi chưa khắc phục" in page

    page = client.get(history).content.decode()
    assert faults.label("media.download_failed") in page  # "Không tải được tệp âm thanh"
    assert "Không tải được tệp âm thanh" in page and "HTTP 503 từ máy chủ" in page
    assert "Đồng hồ thiết bị lệch so với máy chủ" in page
    assert "Lỗi thiết bị (weird.new_code)" in page  # unknown codes are shown, not hidden
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert page.count('data-cleared="0"') == 3 and "Đã khắc phục</button>" in page
    assert "media.download_failed" not in page  # the label, not the raw code


def test_operator_clears_one_fault_then_all_audited(client, users):
    dev = device()
    first, second = fault(dev, "audio.failed"), fault(dev, "relay.failed")
    client.force_login(users["operator"])
    history = f"/thiet-bi/giam-sat/{dev.pk}/loi/"
    response = client.post(history, {"event": first.pk})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.cleared_at is not None and first.cleared_by == users["operator"]
    assert second.cleared_at is None
    page = client.get(history).content.decode()
    assert "1 lỗi chưa khắc phục" in page and "đã khắc phục</span>" in page
    assert "1 lỗi chưa khắc phục" in client.get(FLEET).content.decode()

    client.post(history, {"all": "1"})
    second.refresh_from_db()
    assert second.cleared_at is not None
    audited = ObjectChange.objects.filter(
        object_id__in=[str(first.pk), str(second.pk)], comment="fault cleared"
    )
    assert audited.count() == 2 and {a.user_name for a in audited} == {"operator"}
    fleet = client.get(FLEET).content.decode()
    assert "text-danger fault-link" not in fleet  # nothing open
    assert "lịch sử lỗi</a>" in fleet  # the history stays one click away


def test_fault_history_is_scoped_and_clearing_needs_control(client, users):
    dev = device()
    event = fault(dev, "audio.failed")
    history = f"/thiet-bi/giam-sat/{dev.pk}/loi/"
    client.force_login(users["operator2"])  # another commune: the device does not exist for them
    assert client.get(history).status_code == 404
    assert client.post(history, {"all": "1"}).status_code == 404
    client.force_login(users["viewer"])  # sees it, cannot clear it
    page = client.get(history)
    assert page.status_code == 200 and "Đã khắc phục</button>" not in page.content.decode()
    assert client.post(history, {"all": "1"}).status_code == 403
    event.refresh_from_db()
    assert event.cleared_at is None


def test_clearing_without_a_choice_says_what_to_do(client, users):
    dev = device()
    fault(dev, "audio.failed")
    client.force_login(users["operator"])
    response = client.post(f"/thiet-bi/giam-sat/{dev.pk}/loi/", {"event": "x"}, follow=True)
    assert "Hãy chọn lỗi cần đánh dấu đã khắc phục." in response.content.decode()
    assert DeviceEvent.objects.filter(device=dev, cleared_at__isnull=True).count() == 1


def test_map_draws_the_users_communes_and_devices_without_a_tile_server(client, users):
    placed = device()  # no coordinates of its own: its commune's centroid
    own = device(name="Cụm loa đê", latitude=20.70, longitude=106.10)
    device(COMMUNE_B, name="Cụm loa xã khác")
    client.force_login(users["operator"])
    data = map_data(client)
    a = unit(COMMUNE_A)
    assert data["tiles"] is None
    assert data["communes"] == [
        {"code": COMMUNE_A, "name": a.name, "lat": a.latitude, "lon": a.longitude}
    ]
    by_id = {p["id"]: p for p in data["devices"]}
    assert set(by_id) == {placed.pk, own.pk}  # nothing of the other commune
    assert (by_id[placed.pk]["lat"], by_id[placed.pk]["lon"]) == (a.latitude, a.longitude)
    assert (by_id[own.pk]["lat"], by_id[own.pk]["lon"]) == (20.70, 106.10)

    client.force_login(users["admin"])
    communes = map_data(client)["communes"]
    assert len(communes) == 104  # every commune of the province has its centroid in the seed
    for c in communes:  # inside Hưng Yên's bounding box (after the 2025 merger with Thái Bình)
        assert 20.25 < c["lat"] < 21.05 and 105.85 < c["lon"] < 106.7, c


def test_tile_server_setting_adds_a_base_layer_and_allows_its_images(client, users):
    from grassroots.core.middleware import content_security_policy

    client.force_login(users["operator"])
    conf = {
        "MAP_TILES": "https://tiles.tinh.example/{z}/{x}/{y}.png",
        "MAP_ATTRIBUTION": "© Sở VHTTDL <b>",
        "MAP_MAX_ZOOM": "17",
    }
    from django.conf import settings

    with override_settings(GRASSROOTS={**settings.GRASSROOTS, **conf}):
        data = map_data(client)
        policy = content_security_policy()
    assert data["tiles"] == {
        "url": "https://tiles.tinh.example/{z}/{x}/{y}.png",
        "attribution": "© Sở VHTTDL <b>",
        "max_zoom": 17,
    }
    img = next(p for p in policy.split("; ") if p.startswith("img-src"))
    assert "https://tiles.tinh.example" in img
    assert "tiles.tinh.example" not in content_security_policy()  # unset: this site only


def test_an_unusable_tile_setting_is_reported_and_ignored(client, users):
    from django.conf import settings
    from django.core.checks import run_checks

    bad = {**settings.GRASSROOTS, "MAP_TILES": "tiles.tinh.example/{z}/{x}.png"}
    with override_settings(GRASSROOTS=bad):
        warnings = [m for m in run_checks() if m.id == "devices.W001"]
        client.force_login(users["operator"])
        assert map_data(client)["tiles"] is None
    assert len(warnings) == 1 and "http(s)://" in warnings[0].msg


def test_fleet_list_is_sorted_by_commune_then_device_name(client, users):
    device(COMMUNE_B, name="Cụm loa B")
    device(COMMUNE_A, name="Cụm loa Đình")
    device(COMMUNE_A, name="Cụm loa Chợ")
    device(COMMUNE_A, name="Cụm loa Ao")
    client.force_login(users["admin"])
    page = client.get(FLEET).content.decode()
    order = [n for n in ("Cụm loa Ao", "Cụm loa Chợ", "Cụm loa Đình", "Cụm loa B") if n in page]
    positions = [page.index(f"<td>{n}<br>") for n in order]
    # Phường Phố Hiến (A) before Xã Tân Hưng (B); inside A: Ao, Chợ, Đình (Đ after D, not after Z)
    assert positions == sorted(positions)


def test_work_queue_lists_open_faults_with_a_link_to_their_history(users):
    from grassroots.core import workqueue

    dev = device()
    event = fault(dev, "audio.failed")
    work = workqueue.for_user(users["operator"], keys={"faults"})["faults"]
    assert work.count == 1
    assert work.items[0]["url"] == f"/thiet-bi/giam-sat/{dev.pk}/loi/"
    assert work.items[0]["note"] == "Bộ phát âm thanh báo lỗi"
    from grassroots.devices import actions

    actions.clear_faults(user=users["operator"], device=dev)
    event.refresh_from_db()
    assert event.cleared_at is not None
    assert workqueue.for_user(users["operator"], keys={"faults"})["faults"].count == 0


def test_the_lists_refresh_sends_rows_only(client, users):
    dev = device()
    fault(dev, "audio.failed")
    client.force_login(users["operator"])
    page = client.get(FLEET, HTTP_HX_REQUEST="true").content.decode()
    assert page.startswith('<div id="fleet-rows">') and "fleet-map-data" not in page
    assert f'href="/thiet-bi/giam-sat/{dev.pk}/loi/"' in page
