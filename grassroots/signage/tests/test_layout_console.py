"""Layouts in the console: edit, delete, and a layout in use never deleted silently."""

from __future__ import annotations

import json

import pytest

from grassroots.core.models import ObjectChange, OutboxMessage
from grassroots.core.testing import COMMUNE_A, unit
from grassroots.signage import actions
from grassroots.signage.models import Board, Layout

from .helpers import manifest_payload, paired_board, user

pytestmark = pytest.mark.django_db

LAYOUTS = "/bang-tin-dien-tu/bo-cuc/"

FIELDS = {"name": "Sảnh UBND", "kind": "split", "show_clock": "on", "show_unit_name": "on",
          "ticker_text": "", "text_scale": "120", "default_duration": "15"}  # fmt: skip


def layout_of(unit_code: str, name: str = "Sảnh UBND", by: str = "operator") -> Layout:
    return actions.save_layout(
        user=user(by), unit=unit(unit_code), data={"name": name, "text_scale": 120}
    )


def test_list_links_edit_for_managers_only(client, demo):
    layout = layout_of(COMMUNE_A)
    client.force_login(user("operator"))
    page = client.get(LAYOUTS).content.decode()
    assert f'href="{LAYOUTS}{layout.pk}/"' in page and 'id="layout-form"' in page
    assert "chưa bảng tin nào dùng" in page
    client.force_login(user("viewer"))
    page = client.get(LAYOUTS).content.decode()
    assert "Sảnh UBND" in page
    assert f'href="{LAYOUTS}{layout.pk}/"' not in page and 'id="layout-form"' not in page
    response = client.get(f"{LAYOUTS}{layout.pk}/")
    assert response.status_code == 403 and "Không có quyền" in response.content.decode()
    client.force_login(user("operator2"))
    assert client.get(f"{LAYOUTS}{layout.pk}/").status_code == 404
    assert client.post(f"{LAYOUTS}{layout.pk}/xoa/").status_code == 404
    assert Layout.objects.filter(pk=layout.pk).exists()


def test_edit_with_errors_next_to_the_field_then_saved_and_pushed(client, demo):
    layout = layout_of(COMMUNE_A)
    cred = paired_board(COMMUNE_A)
    client.force_login(user("operator"))
    page = client.post(f"{LAYOUTS}{layout.pk}/", {**FIELDS, "text_scale": "400"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "is-invalid" in html and 'value="Sảnh UBND"' in html
    assert "Cỡ chữ từ 60 đến 250 (%)" in html
    before = OutboxMessage.objects.count()
    response = client.post(f"{LAYOUTS}{layout.pk}/", {**FIELDS, "name": "Nhà văn hoá  \x07"})
    assert response.status_code == 302
    layout.refresh_from_db()
    assert layout.name == "Nhà văn hoá" and layout.text_scale == 120
    change = ObjectChange.objects.filter(content_type__model="layout", action="update").get()
    assert change.before["name"] == "Sảnh UBND" and change.after["name"] == "Nhà văn hoá"
    # the boards of the unit are told to refresh
    assert OutboxMessage.objects.count() > before
    assert manifest_payload(client, cred)  # still served


def test_a_layout_in_use_names_its_boards_and_is_deleted_only_when_confirmed(client, demo):
    layout = layout_of(COMMUNE_A)
    cred = paired_board(COMMUNE_A, name="Bảng tin chợ Phố Hiến")
    board = Board.objects.get(pk=cred["device"])
    actions.configure_board(user=user("operator"), board=board, data={"layout": layout.pk})
    client.force_login(user("operator"))
    assert "1 bảng tin đang dùng" in client.get(LAYOUTS).content.decode()
    page = client.get(f"{LAYOUTS}{layout.pk}/").content.decode()
    assert "Bảng tin chợ Phố Hiến" in page and 'name="detach"' in page
    assert "Xoá và đưa 1 bảng tin về mặc định" in page
    # without the confirmation the layout stays and the message names the board
    response = client.post(f"{LAYOUTS}{layout.pk}/xoa/", follow=True)
    assert "đang dùng cho 1 bảng tin: Bảng tin chợ Phố Hiến" in response.content.decode()
    assert Layout.objects.filter(pk=layout.pk).exists()
    before = OutboxMessage.objects.count()
    response = client.post(f"{LAYOUTS}{layout.pk}/xoa/", {"detach": "1"}, follow=True)
    assert "1 bảng tin đã về bố cục mặc định" in response.content.decode()
    assert not Layout.objects.filter(pk=layout.pk).exists()
    board.refresh_from_db()
    assert board.layout is None
    assert ObjectChange.objects.filter(content_type__model="layout", action="delete").exists()
    detached = ObjectChange.objects.filter(content_type__model="board", action="update")
    assert detached.filter(object_id=str(board.pk), comment__contains="bị xoá").count() == 1
    pushed = [json.loads(m.payload) for m in OutboxMessage.objects.order_by("pk")[before:]]
    assert any(p["payload"]["type"] == "manifest.updated" for p in pushed)


def test_an_unused_layout_is_deleted(client, demo):
    layout = layout_of(COMMUNE_A)
    client.force_login(user("operator"))
    page = client.get(f"{LAYOUTS}{layout.pk}/").content.decode()
    assert 'id="layout-boards-none"' in page and "data-confirm" in page
    assert client.get(f"{LAYOUTS}{layout.pk}/xoa/").status_code == 302  # GET deletes nothing
    assert Layout.objects.filter(pk=layout.pk).exists()
    assert client.post(f"{LAYOUTS}{layout.pk}/xoa/").status_code == 302
    assert not Layout.objects.filter(pk=layout.pk).exists()


def test_a_province_layout_is_not_editable_by_a_commune_operator(client, demo):
    layout = layout_of("33", name="Mẫu của tỉnh", by="admin")
    client.force_login(user("operator"))
    assert f'href="{LAYOUTS}{layout.pk}/"' not in client.get(LAYOUTS).content.decode()
    assert client.get(f"{LAYOUTS}{layout.pk}/").status_code == 404
    assert client.post(f"{LAYOUTS}{layout.pk}/xoa/", {"detach": "1"}).status_code == 404
    assert Layout.objects.filter(pk=layout.pk).exists()


def test_a_layout_used_as_the_units_default_is_in_use_too(client, demo):
    """A board with no layout of its own takes the nearest unit's first layout: deleting that
    layout changes the board's screen, so it is named and confirmed like a chosen one."""
    first = layout_of(COMMUNE_A, name="Mặc định phường")
    second = layout_of(COMMUNE_A, name="Bố cục riêng")
    plain = paired_board(COMMUNE_A, name="Bảng tin nhà văn hoá")
    chosen = paired_board(COMMUNE_A, name="Bảng tin chợ")
    actions.configure_board(
        user=user("operator"), board=Board.objects.get(pk=chosen["device"]),
        data={"layout": second.pk},
    )  # fmt: skip
    assert [(b.device.name, b.chosen) for b in actions.boards_using(first)] == [
        ("Bảng tin nhà văn hoá", False)
    ]
    assert [(b.device.name, b.chosen) for b in actions.boards_using(second)] == [
        ("Bảng tin chợ", True)
    ]
    client.force_login(user("operator"))
    page = client.get(f"{LAYOUTS}{first.pk}/").content.decode()
    assert "Bảng tin nhà văn hoá" in page and "làm mặc định của đơn vị" in page
    response = client.post(f"{LAYOUTS}{first.pk}/xoa/", follow=True)
    assert "dùng làm mặc định của đơn vị" in response.content.decode()
    assert Layout.objects.filter(pk=first.pk).exists()
    client.post(f"{LAYOUTS}{first.pk}/xoa/", {"detach": "1"})
    assert not Layout.objects.filter(pk=first.pk).exists()
    # the plain board now takes the unit's next layout; the other keeps its choice
    assert [b.device.name for b in actions.boards_using(second)] == [
        "Bảng tin chợ",
        "Bảng tin nhà văn hoá",
    ]
    assert manifest_payload(client, plain)["layout"]["text_scale"] == 120


def test_the_api_edits_and_deletes_layouts_with_the_same_rules(client, demo):
    from grassroots.core.testing import assert_problem, call

    layout = layout_of(COMMUNE_A)
    cred = paired_board(COMMUNE_A, name="Bảng tin chợ")
    url = f"/api/v1/signage/layouts/{layout.pk}"
    response = call(client, "put", url, user=user("operator"), body={"name": "Sảnh mới"})
    assert response.status_code == 200 and response.json()["name"] == "Sảnh mới"
    assert response.json()["text_scale"] == 120  # fields not sent are kept
    bad = call(client, "put", url, user=user("operator"), body={"text_scale": 999})
    assert_problem(bad, 422)
    assert_problem(call(client, "put", url, user=user("operator2"), body={"name": "x"}), 404)
    body = assert_problem(call(client, "delete", url, user=user("operator")), 409)
    assert body["boards"] == [cred["device"]] and "Bảng tin chợ" in body["detail"]
    response = call(client, "delete", f"{url}?detach=true", user=user("operator"))
    assert response.status_code == 204
    assert not Layout.objects.filter(pk=layout.pk).exists()
    assert ObjectChange.objects.filter(content_type__model="layout", action="delete").exists()
