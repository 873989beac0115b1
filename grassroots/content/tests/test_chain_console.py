"""The approval-chain editor of the console: who may open it, steps in order with who may
take each, validation next to the step, audit rows like the API's, delete falls back."""

from __future__ import annotations

import pytest

from grassroots.content import actions
from grassroots.content.models import ApprovalChain
from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, make_user, unit

pytestmark = pytest.mark.django_db

LIST = "/ban-tin/quy-trinh-duyet/"


def edit_url(code: str) -> str:
    return f"{LIST}{code}/"


def rows(*steps) -> dict:
    """Form fields for these (role, level, name) steps, in this order."""
    data = {}
    for i, (role, level, name) in enumerate(steps):
        data.update({f"order-{i}": str(i + 1), f"role-{i}": role, f"level-{i}": level,
                     f"name-{i}": name, f"existing-{i}": "1"})  # fmt: skip
    return data


@pytest.mark.parametrize("who", ["operator", "viewer", "editor"])
def test_without_the_approval_right_no_link_and_403(client, users, who):
    client.force_login(users[who])
    assert 'data-nav="approval-chains"' not in client.get("/").content.decode()
    for url in (LIST, edit_url(COMMUNE_A)):
        response = client.get(url)
        assert response.status_code == 403
        assert "Không có quyền" in response.content.decode()
    client.post(edit_url(COMMUNE_A), rows(("approver", "owner", "x")))
    assert not ApprovalChain.objects.exists()


def test_approver_creates_edits_and_deletes_a_chain(client, users):
    client.force_login(users["approver"])
    assert 'data-nav="approval-chains"' in client.get("/").content.decode()
    page = client.get(LIST).content.decode()
    assert 'id="no-chains"' in page and "Ban biên tập tỉnh" in page  # who takes the default
    # the picker's choice opens the unit's page, which starts from the inherited default
    response = client.get(f"{LIST}chon/", {"don-vi": COMMUNE_A})
    assert response["Location"] == edit_url(COMMUNE_A)
    page = client.get(edit_url(COMMUNE_A)).content.decode()
    assert "Quy trình mặc định" in page and 'id="delete-chain"' not in page

    # a role without the approval right cannot take a step: refused on that step, nothing lost
    data = {"name": "Hai cấp", **rows(("approver", "owner", "Lãnh đạo phường"),
                                      ("editor", "root", "Thẩm định của tỉnh"))}  # fmt: skip
    page = client.post(edit_url(COMMUNE_A), data).content.decode()
    assert "Bước 2: vai trò «Biên tập viên» không có quyền Duyệt bản tin" in page
    assert 'value="Lãnh đạo phường"' in page and 'value="Hai cấp"' in page
    assert not ApprovalChain.objects.exists()

    # fixed, and the rows' numbers give the order: the province step typed first runs second
    data = {"name": "Hai cấp", **rows(("approver", "root", "Thẩm định của tỉnh"),
                                      ("approver", "owner", "Lãnh đạo phường"))}  # fmt: skip
    data["order-0"], data["order-1"] = "2", "1"
    response = client.post(edit_url(COMMUNE_A), data)
    assert response.status_code == 302
    steps = actions.chain_steps(unit(COMMUNE_A))
    assert [(s.level, s.name) for s in steps] == [
        ("owner", "Lãnh đạo phường"),
        ("root", "Thẩm định của tỉnh"),
    ]
    assert ObjectChange.objects.filter(
        content_type__model="approvalchain", action="create"
    ).exists()
    # the list shows the steps in order, where each is taken and who may take it
    page = client.get(LIST).content.decode()
    page = page[page.index("chain-card") :]
    assert page.index("Lãnh đạo phường") < page.index("Thẩm định của tỉnh")
    assert "duyệt tại đơn vị soạn bản tin (Phường Phố Hiến)" in page
    assert "duyệt tại cấp tỉnh (Tỉnh Hưng Yên)" in page
    assert "Người duyệt được: Ban biên tập tỉnh" in page  # the demo approver, named
    # the demo approver is the only one who could take either step, and one person takes
    # one step: the second step says it can never be taken
    assert page.count('class="small text-danger step-stuck"') == 1
    second = make_user("duyet.hai", permissions=["content.view"], unit_code="33")
    from grassroots.accounts.models import Role, RoleAssignment

    RoleAssignment.objects.create(
        user=second, role=Role.objects.get(slug="approver"), unit=unit("33")
    )
    page = client.get(LIST).content.decode()
    assert "step-stuck" not in page and "Ban biên tập tỉnh, duyet.hai" in page

    # edit: drop the first step ("— bỏ bước này —")
    data = rows(("", "owner", "Lãnh đạo phường"), ("approver", "root", "Thẩm định của tỉnh"))
    assert client.post(edit_url(COMMUNE_A), data).status_code == 302
    assert [s.level for s in actions.chain_steps(unit(COMMUNE_A))] == ["root"]
    assert ObjectChange.objects.filter(
        content_type__model="approvalchain", action="update"
    ).exists()

    # no step at all is refused (deleting is the way back to the parent's chain)
    page = client.post(edit_url(COMMUNE_A), rows(("", "owner", "x"))).content.decode()
    assert "Hãy đặt ít nhất một bước duyệt" in page

    # delete: the commune follows the default again
    page = client.get(edit_url(COMMUNE_A)).content.decode()
    assert 'id="delete-chain"' in page and "quy trình mặc định (một bước duyệt)" in page
    response = client.post(f"{edit_url(COMMUNE_A)}xoa/", follow=True)
    assert "Đã xoá quy trình duyệt của" in response.content.decode()
    assert actions.chain_for(unit(COMMUNE_A)) is None
    assert ObjectChange.objects.filter(
        content_type__model="approvalchain", action="delete"
    ).exists()


def test_a_commune_approver_edits_only_its_commune(client, users):
    commune = make_user("duyet.xa", permissions=["content.view", "content.approve"],
                        unit_code=COMMUNE_A)  # fmt: skip
    client.force_login(commune)
    assert client.get(edit_url(COMMUNE_A)).status_code == 200
    assert client.get(edit_url(COMMUNE_B)).status_code == 404
    assert client.post(edit_url(COMMUNE_B), rows(("approver", "owner", ""))).status_code == 404
    assert not ApprovalChain.objects.exists()


def test_delete_falls_back_to_the_parent_chain(client, users):
    province = [{"role": "approver", "level": "root", "name": "Tỉnh duyệt"}]
    actions.set_chain(user=users["admin"], unit=unit("33"), name="Tỉnh", steps=province)
    commune = [{"role": "approver", "level": "owner", "name": "Xã duyệt"}]
    actions.set_chain(user=users["admin"], unit=unit(COMMUNE_A), steps=commune)
    client.force_login(users["admin"])
    page = client.get(edit_url(COMMUNE_A)).content.decode()
    assert "theo quy trình của Tỉnh Hưng Yên" in page
    client.post(f"{edit_url(COMMUNE_A)}xoa/")
    assert [s.name for s in actions.chain_steps(unit(COMMUNE_A))] == ["Tỉnh duyệt"]
    # GET never deletes
    assert client.get(f"{edit_url('33')}xoa/").status_code == 405


def test_the_api_deletes_a_chain_like_the_console(client, users):
    from grassroots.core.testing import assert_problem, call

    actions.set_chain(
        user=users["admin"], unit=unit(COMMUNE_A), steps=[{"role": "approver", "level": "root"}]
    )
    url = f"/api/v1/bulletins/approval-chains/{COMMUNE_A}"
    assert_problem(call(client, "delete", url, user=users["operator"]), 403)
    response = call(client, "delete", url, user=users["approver"])
    assert response.status_code == 200 and response.json()["applies_from"] is None
    assert ObjectChange.objects.filter(
        content_type__model="approvalchain", action="delete"
    ).exists()
    body = assert_problem(call(client, "delete", url, user=users["approver"]), 404)
    assert "không có quy trình duyệt riêng" in body["detail"]
    # a step no one could take is refused by the API too
    steps = [{"role": "editor", "level": "owner"}]
    body = assert_problem(
        call(client, "put", url, user=users["approver"], body={"steps": steps}), 422
    )
    assert "không có quyền Duyệt bản tin" in body["detail"]
