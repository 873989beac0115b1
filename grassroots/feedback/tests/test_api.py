"""Officer API: the endpoint contract for every route, and the workflow rules behind it."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from grassroots.core.models import ObjectChange
from grassroots.core.testing import (
    COMMUNE_A,
    COMMUNE_B,
    EndpointContract,
    assert_problem,
    call,
    make_user,
    unit,
)
from grassroots.feedback import notify
from grassroots.feedback.choices import ReportStatus, Resolution
from grassroots.feedback.models import Notification, Report, UnitSettings

from .helpers import make_report

BASE = "/api/v1/feedback/reports"


class TestListContract(EndpointContract):
    permission = "feedback.view"

    def in_scope_url(self):
        make_report(COMMUNE_A)
        return BASE

    def out_of_scope_url(self):  # a list has no out-of-scope object; see test below
        return f"{BASE}/{make_report(COMMUNE_B).pk}"


class TestDetailContract(EndpointContract):
    permission = "feedback.view"

    def in_scope_url(self):
        return f"{BASE}/{make_report(COMMUNE_A).pk}"

    def out_of_scope_url(self):
        return f"{BASE}/{make_report(COMMUNE_B).pk}"


class _Write(EndpointContract):
    method = "post"
    permission = "feedback.handle"
    audited = True
    verb = ""

    def in_scope_url(self):
        return f"{BASE}/{make_report(COMMUNE_A).pk}/{self.verb}"

    def out_of_scope_url(self):
        return f"{BASE}/{make_report(COMMUNE_B).pk}/{self.verb}"


class TestAssignContract(_Write):
    verb = "assign"

    def body(self):
        return {"assignee": "operator"}


class TestAnswerContract(_Write):
    verb = "answer"

    def body(self):
        return {"public_answer": "Đã cho thu gom rác.", "resolution": "resolved"}


class TestCloseContract(_Write):
    verb = "close"

    def body(self):
        return {"resolution": "not_responsible", "note": "Thuộc công ty môi trường"}


class TestRerouteContract(_Write):
    verb = "reroute"

    def body(self):
        return {"unit_code": COMMUNE_B, "reason": "Sự việc ở xã bên cạnh"}


class TestMergeContract(_Write):
    verb = "merge"

    def in_scope_url(self):
        self.into = make_report(COMMUNE_A)
        return super().in_scope_url()

    def out_of_scope_url(self):
        self.into = make_report(COMMUNE_A)
        return super().out_of_scope_url()

    def body(self):
        into = getattr(self, "into", None)
        return {"into_id": into.pk if into else 0}


class TestReopenContract(_Write):
    verb = "reopen"

    def in_scope_url(self):
        r = make_report(COMMUNE_A)
        Report.objects.filter(pk=r.pk).update(status=ReportStatus.CLOSED, resolution="resolved")
        return f"{BASE}/{r.pk}/reopen"

    def body(self):
        return {"reason": "Người dân báo vẫn còn rác"}


@pytest.mark.django_db
def test_list_only_shows_own_commune(client, users):
    mine, other = make_report(COMMUNE_A), make_report(COMMUNE_B)
    rows = call(client, "get", BASE, user=users["operator"]).json()
    ids = {r["id"] for r in rows}
    assert mine.pk in ids and other.pk not in ids
    province = {r["id"] for r in call(client, "get", BASE, user=users["viewer"]).json()}
    assert {mine.pk, other.pk} <= province


@pytest.mark.django_db
def test_viewer_cannot_answer(client, users):
    r = make_report(COMMUNE_A)
    body = {"public_answer": "x"}
    assert_problem(
        call(client, "post", f"{BASE}/{r.pk}/answer", user=users["viewer"], body=body), 403
    )


@pytest.mark.django_db
def test_answer_notifies_citizen_by_email_and_sms(client, users):
    notify.LoggingSmsBackend.sent.clear()
    r = make_report(COMMUNE_A, email="dan@example.vn", phone="0912345678")
    resp = call(
        client,
        "post",
        f"{BASE}/{r.pk}/answer",
        user=users["operator"],
        body={"public_answer": "Đã xử lý xong.", "private_answer": "Cảm ơn bác."},
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == ReportStatus.ANSWERED
    assert Notification.objects.filter(report=r, sent_at__isnull=True).count() == 2
    assert notify.deliver_pending() == 2
    assert mail.outbox[-1].to == ["dan@example.vn"] and r.tracking_code in mail.outbox[-1].body
    assert notify.LoggingSmsBackend.sent[-1][0] == "0912345678"
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_failed_sms_is_retried(settings, users):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "SMS_BACKEND": "builtins.object"}
    r = make_report(COMMUNE_A, phone="0912345678")
    Notification.objects.create(channel="sms", recipient="0912345678", body="x", report=r)
    assert notify.deliver_pending() == 0
    note = Notification.objects.get(report=r)
    assert note.attempts == 1 and note.sent_at is None and note.last_error


@pytest.mark.django_db
def test_assign_requires_officer_of_the_unit(client, users):
    r = make_report(COMMUNE_A)
    resp = call(
        client,
        "post",
        f"{BASE}/{r.pk}/assign",
        user=users["operator"],
        body={"assignee": "operator2"},
    )
    assert_problem(resp, 422)
    users["operator"].email = "op@example.vn"
    users["operator"].save()
    resp = call(
        client,
        "post",
        f"{BASE}/{r.pk}/assign",
        user=users["operator"],
        body={"assignee": "operator"},
    )
    assert resp.json()["assignee"] == "operator" and resp.json()["status"] == "in_progress"
    assert Notification.objects.filter(recipient="op@example.vn").exists()


@pytest.mark.django_db
def test_reroute_sideways_hands_over(client, users):
    r = make_report(COMMUNE_A)
    resp = call(
        client,
        "post",
        f"{BASE}/{r.pk}/reroute",
        user=users["operator"],
        body={"unit_code": COMMUNE_B, "reason": "Thuộc xã Tân Hưng"},
    )
    assert resp.status_code == 200
    r.refresh_from_db()
    assert r.unit.code == COMMUNE_B and r.origin_unit.code == COMMUNE_B
    # operator lost it, operator2 has it
    assert_problem(call(client, "get", f"{BASE}/{r.pk}", user=users["operator"]), 404)
    assert call(client, "get", f"{BASE}/{r.pk}", user=users["operator2"]).status_code == 200
    assert r.events.filter(kind="rerouted", note="Thuộc xã Tân Hưng").exists()


@pytest.mark.django_db
def test_reroute_needs_a_reason(client, users):
    r = make_report(COMMUNE_A)
    resp = call(
        client,
        "post",
        f"{BASE}/{r.pk}/reroute",
        user=users["operator"],
        body={"unit_code": COMMUNE_B, "reason": " "},
    )
    assert "lý do" in assert_problem(resp, 422)["detail"]


@pytest.mark.django_db
def test_province_pulls_report_up_and_commune_still_sees_it(client, users):
    r = make_report(COMMUNE_A)
    resp = call(
        client,
        "post",
        f"{BASE}/{r.pk}/reroute",
        user=users["admin"],
        body={"unit_code": "33", "reason": "Vụ việc liên xã, tỉnh xử lý"},
    )
    assert resp.status_code == 200
    r.refresh_from_db()
    assert r.unit.code == "33" and r.origin_unit.code == COMMUNE_A
    assert call(client, "get", f"{BASE}/{r.pk}", user=users["operator"]).status_code == 200
    assert r.events.filter(kind="pulled_up").exists()
    # a commune operator cannot push a report up to a level it does not handle
    r2 = make_report(COMMUNE_A)
    resp = call(
        client,
        "post",
        f"{BASE}/{r2.pk}/reroute",
        user=users["operator"],
        body={"unit_code": "33", "reason": "lên tỉnh"},
    )
    assert_problem(resp, 403)


@pytest.mark.django_db
def test_merge_duplicates(client, users):
    a, b = make_report(COMMUNE_A), make_report(COMMUNE_A)
    resp = call(
        client, "post", f"{BASE}/{b.pk}/merge", user=users["operator"], body={"into_id": a.pk}
    )
    assert resp.json()["merged_into"] == a.tracking_code
    b.refresh_from_db()
    assert b.status == ReportStatus.CLOSED and b.resolution == Resolution.DUPLICATE
    # merging into itself or into another commune's report is refused
    assert_problem(
        call(
            client, "post", f"{BASE}/{a.pk}/merge", user=users["operator"], body={"into_id": a.pk}
        ),
        422,
    )
    other = make_report(COMMUNE_B)
    assert_problem(
        call(
            client,
            "post",
            f"{BASE}/{a.pk}/merge",
            user=users["operator"],
            body={"into_id": other.pk},
        ),
        404,
    )


@pytest.mark.django_db
def test_close_states_and_hidden_for_abuse(client, users):
    r = make_report(COMMUNE_A)
    resp = call(
        client,
        "post",
        f"{BASE}/{r.pk}/close",
        user=users["operator"],
        body={"resolution": "hidden_abuse", "note": "Nội dung xúc phạm"},
    )
    assert resp.json()["resolution"] == "hidden_abuse"
    assert not Report.objects.public().filter(pk=r.pk).exists()
    assert client.get(f"/phan-anh/theo-doi/{r.tracking_code}/").status_code == 404
    assert_problem(
        call(
            client,
            "post",
            f"{BASE}/{r.pk}/close",
            user=users["operator"],
            body={"resolution": "bogus"},
        ),
        422,
    )
    assert_problem(
        call(
            client,
            "post",
            f"{BASE}/{r.pk}/close",
            user=users["operator"],
            body={"resolution": "duplicate"},
        ),
        422,
    )


@pytest.mark.django_db
def test_low_rating_reopens_when_unit_chose_so(client, users):
    from grassroots.feedback import actions

    UnitSettings.objects.create(unit=unit(COMMUNE_A), reopen_on_low_rating=True)
    r = make_report(COMMUNE_A)
    actions.answer(report=r, user=users["operator"], public_answer="Xong", resolution="resolved")
    actions.rate(report=r, stars=4, comment="Tốt")
    r.refresh_from_db()
    assert r.status == ReportStatus.CLOSED
    # one rating per answer
    with pytest.raises(ValidationError, match="một lần"):
        actions.rate(report=r, stars=1, comment="Đổi ý")
    r = make_report(COMMUNE_A)
    actions.answer(report=r, user=users["operator"], public_answer="Xong", resolution="resolved")
    actions.rate(report=r, stars=1, comment="Chưa xử lý gì cả")
    r.refresh_from_db()
    assert r.status == ReportStatus.IN_PROGRESS and r.events.filter(kind="reopened").exists()
    # Commune B did not choose it: a low rating stays a rating
    r2 = make_report(COMMUNE_B)
    actions.answer(report=r2, user=users["operator2"], public_answer="Xong", resolution="resolved")
    actions.rate(report=r2, stars=1)
    r2.refresh_from_db()
    assert r2.status == ReportStatus.CLOSED


@pytest.mark.django_db
def test_writes_leave_audit_rows_with_the_unit(client, users):
    r = make_report(COMMUNE_A)
    call(
        client,
        "post",
        f"{BASE}/{r.pk}/answer",
        user=users["operator"],
        body={"public_answer": "OK"},
    )
    change = ObjectChange.objects.filter(object_id=str(r.pk), comment="answer").get()
    assert change.user == users["operator"] and change.unit.code == COMMUNE_A
    assert change.before["status"] == "new" and change.after["status"] == "answered"


@pytest.mark.django_db
def test_categories_endpoint(client, users):
    rows = call(client, "get", "/api/v1/feedback/categories", user=users["viewer"]).json()
    assert {"code": "moi-truong", "name": "Môi trường, vệ sinh"}.items() <= rows[1].items()


@pytest.mark.django_db
def test_user_with_only_view_sees_but_cannot_handle(client, demo):
    user = make_user("xem", permissions=["feedback.view"], unit_code=COMMUNE_A)
    r = make_report(COMMUNE_A)
    assert call(client, "get", f"{BASE}/{r.pk}", user=user).status_code == 200
    assert_problem(
        call(client, "post", f"{BASE}/{r.pk}/close", user=user, body={"resolution": "resolved"}),
        403,
    )


@pytest.mark.django_db
def test_answer_cannot_hide_or_mark_duplicate(client, users):
    r = make_report(COMMUNE_A)
    for resolution in ("hidden_abuse", "duplicate"):
        body = {"public_answer": "x", "resolution": resolution}
        resp = call(client, "post", f"{BASE}/{r.pk}/answer", user=users["operator"], body=body)
        assert_problem(resp, 422)
    r.refresh_from_db()
    assert r.status == ReportStatus.NEW and not Notification.objects.filter(report=r).exists()


@pytest.mark.django_db
def test_openapi_lists_the_feedback_routes(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/feedback/reports/{report_id}/answer" in paths
    assert "/api/v1/feedback/categories" in paths
