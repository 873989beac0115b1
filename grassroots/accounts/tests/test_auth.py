import pytest
from django.core.exceptions import ValidationError

from grassroots.accounts.models import ApiToken, User
from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, EndpointContract, assert_problem, call


def post_token(client, username, password):
    return call(
        client, "post", "/api/v1/auth/token", body={"username": username, "password": password}
    )


@pytest.mark.django_db
def test_token_roundtrip(client, demo):
    response = post_token(client, "operator", "grassroots-demo")
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert me["username"] == "operator"
    assert me["assignments"][0]["unit_code"] == COMMUNE_A
    listed = client.get("/api/v1/auth/tokens", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert len(listed) == 1 and "token" not in listed[0]
    # Stored hashed, never in the clear.
    assert not ApiToken.objects.filter(key_hash=token).exists()
    revoked = client.delete(
        f"/api/v1/auth/tokens/{listed[0]['id']}", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}"), 401)


@pytest.mark.django_db
def test_cannot_revoke_someone_elses_token(client, users):
    other, _ = ApiToken.objects.issue(user=users["operator2"])
    assert_problem(
        call(client, "delete", f"/api/v1/auth/tokens/{other.id}", user=users["operator"]), 404
    )
    other.refresh_from_db()
    assert other.revoked_at is None


@pytest.mark.django_db
def test_wrong_password_is_problem_401(client, demo):
    body = assert_problem(post_token(client, "operator", "nope"), 401)
    assert "Sai tên đăng nhập" in body["detail"]


@pytest.mark.django_db
def test_lockout_after_repeated_failures(client, demo, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_token(client, "viewer", "wrong")
    body = assert_problem(post_token(client, "viewer", "grassroots-demo"), 429)
    assert "khoá" in body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("payload", ["{bad json", "[]", '{"username": 5}', ""])
def test_malformed_bodies_are_problems(client, demo, payload):
    response = client.post("/api/v1/auth/token", data=payload, content_type="application/json")
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


@pytest.mark.django_db
def test_passwords_are_argon2(demo):
    assert User.objects.get(username="admin").password.startswith("argon2")


class TestUserDetailContract(EndpointContract):
    permission = "accounts.manage"
    actor = "admin"

    def in_scope_url(self):
        return f"/api/v1/users/{User.objects.get(username='operator').pk}"

    def out_of_scope_url(self):
        # An admin of one commune cannot see users of another.
        return f"/api/v1/users/{User.objects.get(username='operator2').pk}"

    def test_out_of_scope_404(self, client, demo):
        from grassroots.core.testing import make_user

        local_admin = make_user(
            "localadmin", permissions=["accounts.manage", "units.view"], unit_code=COMMUNE_A
        )
        assert_problem(call(client, "get", self.out_of_scope_url(), user=local_admin), 404)


@pytest.mark.django_db
def test_create_user_in_scope_is_audited(client, users):
    before = ObjectChange.objects.count()
    response = call(
        client,
        "post",
        "/api/v1/users",
        user=users["admin"],
        body={
            "username": "canbo.xa",
            "password": "mat-khau-dai-123",
            "full_name": "Cán bộ xã",
            "role": "operator",
            "unit_code": COMMUNE_B,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["assignments"][0]["unit_code"] == COMMUNE_B
    assert ObjectChange.objects.count() >= before + 2
    change = ObjectChange.objects.filter(content_type__model="roleassignment").first()
    assert change.unit.code == COMMUNE_B and change.user_name == "admin" and change.request_id


@pytest.mark.django_db
def test_operator_cannot_create_users(client, users):
    assert_problem(
        call(
            client,
            "post",
            "/api/v1/users",
            user=users["operator"],
            body={"username": "x.y.z", "password": "mat-khau-dai-123"},
        ),
        403,
    )


@pytest.mark.django_db
def test_duplicate_username_is_422(client, users):
    body = assert_problem(
        call(
            client,
            "post",
            "/api/v1/users",
            user=users["admin"],
            body={"username": "operator", "password": "mat-khau-dai-123"},
        ),
        422,
    )
    assert "đã có" in body["detail"]


@pytest.mark.django_db
def test_restrict_scopes_by_unit(users):
    from grassroots.units.models import Unit

    visible = Unit.objects.restrict(users["operator"], "units.view")
    assert list(visible.values_list("code", flat=True)) == [COMMUNE_A]
    assert (
        Unit.objects.restrict(users["approver"], "units.view").filter(valid_to__isnull=True).count()
        == 105
    )
    assert not Unit.objects.restrict(users["viewer"], "units.change").exists()


class TestAssignRoleContract(EndpointContract):
    """A commune-level admin grants roles only on their own commune."""

    method = "post"
    permission = "accounts.manage"
    success = 201
    audited = True

    def _actor(self):
        from grassroots.core.testing import make_user

        return User.objects.filter(username="communeadmin").first() or make_user(
            "communeadmin", permissions=["accounts.manage", "units.view"], unit_code=COMMUNE_A
        )

    def in_scope_url(self):
        return f"/api/v1/users/{User.objects.get(username='operator').pk}/assignments"

    out_of_scope_url = in_scope_url

    def body(self):
        return {"role": "viewer", "unit_code": COMMUNE_A}

    def out_of_scope_body(self):
        return {"role": "viewer", "unit_code": COMMUNE_B}


@pytest.mark.django_db
def test_last_province_admin_cannot_remove_own_admin_assignment(client, users):
    """Finding 14.6: the only province admin deleted their own assignment (204) and nobody
    could administer the province afterwards."""
    from grassroots.accounts import actions
    from grassroots.accounts.choices import RoleSlug
    from grassroots.accounts.models import RoleAssignment

    admin = users["admin"]
    (own,) = RoleAssignment.objects.filter(user=admin, role__slug=RoleSlug.PROVINCE_ADMIN)
    body = assert_problem(call(client, "delete", f"/api/v1/assignments/{own.pk}", user=admin), 422)
    assert "quản trị" in body["detail"]
    assert RoleAssignment.objects.filter(pk=own.pk).exists()
    # Nor can the last admin switch their own account off.
    with pytest.raises(ValidationError):
        actions.set_active(actor=admin, user=admin, active=False)
    # With a second province admin it may go; the second one then is the last.
    second = User.objects.create_user(username="admin2", password="test-pass-123!")
    added = actions.assign_role(actor=admin, user=second, role="province_admin", unit_code="33")
    assert call(client, "delete", f"/api/v1/assignments/{own.pk}", user=admin).status_code == 204
    assert_problem(call(client, "delete", f"/api/v1/assignments/{added.pk}", user=second), 422)
    # Other assignments (no admin right) are removed as before.
    (op,) = RoleAssignment.objects.filter(user=users["operator"], role__slug=RoleSlug.OPERATOR)
    assert call(client, "delete", f"/api/v1/assignments/{op.pk}", user=second).status_code == 204
