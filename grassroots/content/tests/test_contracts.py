"""The standard permission cases of the main bulletin endpoints."""

import pytest

from grassroots.accounts.models import User
from grassroots.content.choices import Status
from grassroots.content.models import BulletinShare
from grassroots.core.testing import (
    COMMUNE_A,
    COMMUNE_B,
    EndpointContract,
    assert_problem,
    call,
)

from .conftest import approver_on, make_bulletin


class BulletinContract(EndpointContract):
    state = Status.DRAFT
    suffix = ""

    def url(self, code: str) -> str:
        bulletin = make_bulletin(code, status=self.state)
        return f"/api/v1/bulletins/{bulletin.pk}{self.suffix}"

    def in_scope_url(self):
        return self.url(COMMUNE_A)

    def out_of_scope_url(self):
        return self.url(COMMUNE_B)


class TestDetailContract(BulletinContract):
    permission = "content.view"


class TestRevisionsContract(BulletinContract):
    permission = "content.view"
    suffix = "/revisions"


class TestTransitionsContract(BulletinContract):
    permission = "content.view"
    suffix = "/transitions"


class TestEditContract(BulletinContract):
    method = "patch"
    permission = "content.change"
    audited = True

    def body(self):
        return {"title": "Thông báo đã sửa", "priority": "priority"}


class TestSubmitContract(BulletinContract):
    method = "post"
    permission = "content.submit"
    suffix = "/submit"
    audited = True

    def body(self):
        return {"comment": "Gửi duyệt"}


class CommuneApproverContract(BulletinContract):
    """Acted on by an `approver` of commune A only (the demo approver covers the province)."""

    method = "post"
    audited = True

    def _actor(self) -> User:
        return approver_on(COMMUNE_A)

    def body(self):
        return {"comment": "Ý kiến"}


class TestApproveContract(CommuneApproverContract):
    permission = "content.approve"
    state = Status.SUBMITTED
    suffix = "/approve"


class TestRequestChangesContract(CommuneApproverContract):
    permission = "content.approve"
    state = Status.SUBMITTED
    suffix = "/request-changes"


class TestPublishContract(CommuneApproverContract):
    permission = "content.publish"
    state = Status.APPROVED
    suffix = "/publish"


class TestWithdrawContract(CommuneApproverContract):
    permission = "content.publish"
    state = Status.PUBLISHED
    suffix = "/withdraw"

    def test_without_permission_403(self, client, demo):
        from grassroots.core.testing import make_user

        # May see the bulletin but not publish or withdraw it.
        user = make_user("noperm", permissions=["content.view"], unit_code=COMMUNE_A)
        assert_problem(call(client, "post", self.in_scope_url(), user=user, body={}), 403)


class TestPickUpContract(EndpointContract):
    method = "post"
    permission = "broadcast.schedule"
    audited = True

    def url(self, code: str) -> str:
        bulletin = make_bulletin(
            "33", status=Status.PUBLISHED, targets=[COMMUNE_A, COMMUNE_B], title="Tin tỉnh"
        )
        share = BulletinShare.objects.get(bulletin=bulletin, unit__code=code)
        return f"/api/v1/bulletins/inbox/{share.pk}/pick-up"

    def in_scope_url(self):
        return self.url(COMMUNE_A)

    def out_of_scope_url(self):
        return self.url(COMMUNE_B)


@pytest.mark.django_db
class TestCreateContract(EndpointContract):
    method = "post"
    permission = "content.add"
    success = 201
    audited = True

    def in_scope_url(self):
        return "/api/v1/bulletins"

    def body(self):
        return {"unit_code": COMMUNE_A, "title": "Thông báo họp dân"}

    def test_out_of_scope_404(self, client, demo):
        body = {"unit_code": COMMUNE_B, "title": "Thông báo họp dân"}
        response = call(client, "post", "/api/v1/bulletins", user=self._actor(), body=body)
        assert_problem(response, 404)


@pytest.mark.django_db
def test_openapi_lists_every_bulletin_action(client, users):
    schema = call(client, "get", "/api/v1/openapi.json", user=users["admin"]).json()
    paths = set(schema["paths"])
    for action in ("submit", "approve", "request-changes", "publish", "withdraw", "media"):
        assert f"/api/v1/bulletins/{{bulletin_id}}/{action}" in paths
    for path in ("/api/v1/bulletins/search", "/api/v1/bulletins/inbox"):
        assert path in paths
    for name in ("BulletinCreate", "BulletinUpdate", "BulletinRead"):
        assert name in schema["components"]["schemas"]
