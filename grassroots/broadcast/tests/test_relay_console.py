"""Relay sources in the console: list, add, edit, take off, with the API's rules and audit; the
slot form's stream picker lists them (or points to the page when there are none)."""

import pytest
import time_machine

from grassroots.broadcast.models import RelaySource, ScheduleItem
from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, call, unit

from .factories import station, vn
from .test_schedule_console import slot

pytestmark = pytest.mark.django_db
PAGE = "/dai-truyen-thanh/nguon-tiep-song/"
VOV1 = "https://radio.example.vn/vov1.ogg"


def changes(model: str, pk, action: str):
    return ObjectChange.objects.filter(content_type__model=model, object_id=str(pk), action=action)


def source(code="33", name="VOV1", url=VOV1):
    return RelaySource.objects.create(unit=unit(code), name=name, url=url)


def test_admin_adds_a_source_audited_and_operators_see_it_read_only(client, users):
    client.force_login(users["admin"])
    response = client.post(PAGE, {"unit": "33", "name": "VOV1", "url": f"  {VOV1} "})
    assert response.status_code == 302
    added = RelaySource.objects.get(url=VOV1)
    assert added.unit.code == "33" and added.name == "VOV1" and added.created_by == users["admin"]
    assert changes("relaysource", added.pk, "create").count() == 1
    page = client.get(PAGE).content.decode()
    assert VOV1 in page and f"/nguon-tiep-song/{added.pk}/" in page and 'id="relay-add"' in page

    client.force_login(users["operator"])  # a commune relays what the province lists
    page = client.get(PAGE).content.decode()
    assert VOV1 in page and "Tỉnh Hưng Yên" in page
    assert f"/nguon-tiep-song/{added.pk}/" not in page and 'id="relay-add"' not in page
    assert client.get(f"{PAGE}{added.pk}/").status_code == 403
    assert client.post(f"{PAGE}{added.pk}/ngung/").status_code == 403
    assert (
        client.post(PAGE, {"unit": COMMUNE_A, "name": "X", "url": "https://x.vn/a"}).status_code
        == 403
    )
    assert RelaySource.objects.count() == 1


def test_sources_of_another_commune_are_not_visible(client, users):
    mine = source(COMMUNE_A, "Đài phường", "https://phuong.example.vn/live")
    client.force_login(users["operator2"])
    assert "phuong.example.vn" not in client.get(PAGE).content.decode()
    assert client.get(f"{PAGE}{mine.pk}/").status_code == 404
    assert client.post(f"{PAGE}{mine.pk}/ngung/").status_code == 404
    assert RelaySource.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"unit": "33", "name": "", "url": VOV1}, "name", "Cần đặt tên cho nguồn tiếp sóng"),
        ({"unit": "33", "name": "VOV1", "url": "ftp://x.vn/a"}, "url", "http:// hoặc https://"),
        ({"unit": "33", "name": "VOV1", "url": "https://x.vn/a b"}, "url", "không có dấu cách"),
        ({"unit": "", "name": "VOV1", "url": VOV1}, "unit", "Hãy chọn đơn vị"),
        (
            {"unit": "33", "name": "Đ" * 300, "url": VOV1},
            "name",
            "Tên nguồn tiếp sóng dài 300 ký tự, tối đa 100 ký tự",
        ),
    ],
)
def test_bad_input_says_what_to_fix_and_keeps_what_was_typed(client, users, body, field, message):
    client.force_login(users["admin"])
    response = client.post(PAGE, body)
    page = response.content.decode()
    assert response.status_code == 422 and message in page
    if body["name"]:
        assert f'value="{body["name"]}"' in page  # nothing typed is lost
    assert f'value="{body["url"]}"' in page
    assert not RelaySource.objects.exists()


def test_edit_moves_the_relays_that_carried_the_old_address(client, users):
    src = source()
    a = station(COMMUNE_A)
    client.force_login(users["operator"])
    with time_machine.travel(vn(1, 5), tick=False):
        made = client.post(
            f"/dai-truyen-thanh/{a.pk}/lich/moi/",
            slot(relay_type="stream", relay_frequency="", relay_url=VOV1),
        )
    assert made.status_code == 302, made.content.decode()[:1500]
    item = ScheduleItem.objects.get(kind="relay", relay_url=VOV1)

    client.force_login(users["admin"])
    new = "https://radio.example.vn/vov1-moi.ogg"
    response = client.post(f"{PAGE}{src.pk}/", {"name": "VOV1 (mới)", "url": new})
    assert response.status_code == 302
    src.refresh_from_db()
    item.refresh_from_db()
    assert (src.name, src.url, item.relay_url) == ("VOV1 (mới)", new, new)
    assert changes("relaysource", src.pk, "update").count() == 1
    assert changes("scheduleitem", item.pk, "update").filter(comment="relay source moved").exists()

    other = source(name="VOV2", url="https://radio.example.vn/vov2.ogg")
    clash = client.post(f"{PAGE}{other.pk}/", {"name": "VOV2", "url": new})
    assert (
        clash.status_code == 409
        and "đã có nguồn tiếp sóng với địa chỉ này" in clash.content.decode()
    )
    other.refresh_from_db()
    assert other.url == "https://radio.example.vn/vov2.ogg"


def test_taking_a_source_off_refuses_new_relays_and_is_audited(client, users):
    src = source()
    pk = src.pk
    a = station(COMMUNE_A)
    client.force_login(users["admin"])
    page = client.get(PAGE).content.decode()
    assert "Ngừng cho phép" in page and "data-confirm=" in page
    assert client.post(f"{PAGE}{pk}/ngung/").status_code == 302
    assert not RelaySource.objects.filter(pk=pk).exists()
    assert changes("relaysource", pk, "delete").count() == 1
    client.force_login(users["operator"])
    with time_machine.travel(vn(1, 5), tick=False):
        refused = client.post(
            f"/dai-truyen-thanh/{a.pk}/lich/moi/",
            slot(relay_type="stream", relay_frequency="", relay_url=VOV1),
        )
    assert refused.status_code == 422
    assert "không có trong danh sách nguồn tiếp sóng" in refused.content.decode()


def test_slot_form_picks_from_the_list_or_points_to_the_page(client, users):
    a = station(COMMUNE_A)
    form = f"/dai-truyen-thanh/{a.pk}/lich/moi/?loai=relay"
    client.force_login(users["operator"])
    page = client.get(form).content.decode()
    assert 'id="relay-no-sources"' in page and f'href="{PAGE}"' in page
    assert "Hãy đề nghị quản trị tỉnh thêm nguồn" in page
    client.force_login(users["admin"])
    assert "Thêm nguồn tiếp sóng</a>" in client.get(form).content.decode()

    source()
    source(COMMUNE_B, "Đài xã khác", "https://xa-khac.example.vn/live")  # not for Phố Hiến
    client.force_login(users["operator"])
    page = client.get(form).content.decode()
    assert 'id="relay-no-sources"' not in page
    assert f'<option value="{VOV1}" >VOV1 · Tỉnh Hưng Yên</option>' in page
    assert "xa-khac.example.vn" not in page


def test_api_patch_uses_the_same_action(client, users):
    src = source()
    body = {"name": "VOV1 HD"}
    denied = call(
        client, "patch", f"/api/v1/relay-sources/{src.pk}", user=users["operator"], body=body
    )
    assert denied.status_code in (403, 404)
    ok = call(client, "patch", f"/api/v1/relay-sources/{src.pk}", user=users["admin"], body=body)
    assert ok.status_code == 200 and ok.json() == {
        "id": src.pk,
        "unit_code": "33",
        "name": "VOV1 HD",
        "url": VOV1,
    }
    bad = call(
        client, "patch", f"/api/v1/relay-sources/{src.pk}", user=users["admin"], body={"url": "x"}
    )
    assert bad.status_code == 422 and "http://" in bad.json()["detail"]
    assert changes("relaysource", src.pk, "update").count() == 1
