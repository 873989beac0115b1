import pytest

from grassroots.accounts.models import Role, User


@pytest.mark.django_db
def test_admin_edits_role_permissions(client, users):
    client.force_login(users["admin"])
    role = Role.objects.get(slug="viewer")
    response = client.post(
        "/vai-tro/", {"role_id": role.id, "permissions": ["units.view", "content.view"]}
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.permissions == ["content.view", "units.view"]
    assert client.get("/vai-tro/").status_code == 200


@pytest.mark.django_db
def test_operator_cannot_open_role_or_user_pages(client, users):
    client.force_login(users["operator"])
    assert client.get("/vai-tro/").status_code == 403
    assert client.get("/nguoi-dung/").status_code == 403


@pytest.mark.django_db
def test_admin_creates_user_from_console(client, users):
    client.force_login(users["admin"])
    response = client.post(
        "/nguoi-dung/",
        {
            "username": "canbo.moi",
            "full_name": "Cán bộ mới",
            "password": "mat-khau-dai-123",
            "role": "operator",
            "unit_code": "11977",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="canbo.moi")
    assert user.assignments.get().unit.code == "11977"
    bad = client.post("/nguoi-dung/", {"username": "x", "password": "123"})
    assert bad.status_code == 200 and "Chỉ dùng chữ không dấu" in bad.content.decode()


@pytest.mark.django_db
def test_audit_page_for_admins_only(client, users):
    client.force_login(users["admin"])
    assert client.get("/nhat-ky/?unit=11953").status_code == 200
    client.force_login(users["editor"])
    assert client.get("/nhat-ky/").status_code == 403
