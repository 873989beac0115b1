"""The editorial workflow through the API: write, submit, approve, publish, inbox, pick-up."""

import pytest

from grassroots.accounts.models import Role, RoleAssignment, User
from grassroots.content import actions
from grassroots.content.choices import ApprovalLevel, Status
from grassroots.content.models import BulletinRevision, BulletinShare, MediaAsset, Transition
from grassroots.core import signing
from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, assert_problem, call, unit

from .conftest import approver_on, make_bulletin

pytestmark = pytest.mark.django_db


def post(client, url, user, body=None):
    return call(client, "post", url, user=user, body=body if body is not None else {})


def test_whole_flow_through_the_api(client, users):
    editor, approver = users["editor"], users["approver"]
    operator, operator2 = users["operator"], users["operator2"]
    created = post(
        client,
        "/api/v1/bulletins",
        editor,
        {
            "unit_code": "33",
            "title": "Tiêm phòng vắc-xin sởi cho trẻ em",
            "body": "<p>UBND tỉnh thông báo.</p><script>alert(1)</script>"
            '<p onclick="x()">Đưa trẻ đến trạm y tế.</p>',
            "category": "y-te",
            "priority": "priority",
            "targets": [COMMUNE_A, COMMUNE_B],
        },
    )
    assert created.status_code == 201, created.content
    data = created.json()
    bid = data["id"]
    assert data["status"] == "draft" and data["revision"] == 1
    assert "<script" not in data["body"] and "onclick" not in data["body"]
    assert data["body_text"].startswith("UBND tỉnh thông báo.")
    assert {t["code"] for t in data["targets"]} == {COMMUNE_A, COMMUNE_B}

    # The operator of a commune does not see a provincial draft.
    assert_problem(call(client, "get", f"/api/v1/bulletins/{bid}", user=operator), 404)

    submitted = post(client, f"/api/v1/bulletins/{bid}/submit", editor, {"comment": "Nhờ duyệt"})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"

    approved = post(client, f"/api/v1/bulletins/{bid}/approve", approver, {"comment": "Đồng ý"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved" and approved.json()["approved_revision"] == 1

    published = post(client, f"/api/v1/bulletins/{bid}/publish", approver)
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published" and published.json()["published_at"]

    inbox = call(client, "get", "/api/v1/bulletins/inbox", user=operator).json()
    assert [row["bulletin_id"] for row in inbox] == [bid]
    row = inbox[0]
    assert row["unit"]["code"] == COMMUNE_A and row["must_air"] is True
    assert row["title"] == "Tiêm phòng vắc-xin sởi cho trẻ em" and row["signature"]
    other = call(client, "get", "/api/v1/bulletins/inbox", user=operator2).json()
    assert [r["unit"]["code"] for r in other] == [COMMUNE_B]

    # Shared, the operator can now read the bulletin itself.
    assert call(client, "get", f"/api/v1/bulletins/{bid}", user=operator).status_code == 200

    picked = post(client, f"/api/v1/bulletins/inbox/{row['id']}/pick-up", operator)
    assert picked.status_code == 200, picked.content
    assert picked.json()["picked_up_by"] == "operator" and picked.json()["picked_up_at"]
    # operator cannot pick up for another commune
    assert_problem(post(client, f"/api/v1/bulletins/inbox/{other[0]['id']}/pick-up", operator), 404)

    # The province sees the uptake of every commune.
    uptake = call(client, "get", f"/api/v1/bulletins/{bid}/shares", user=approver).json()
    assert {(s["unit"]["code"], bool(s["picked_up_at"])) for s in uptake} == {
        (COMMUNE_A, True),
        (COMMUNE_B, False),
    }
    # ...a commune only its own row.
    mine = call(client, "get", f"/api/v1/bulletins/{bid}/shares", user=operator).json()
    assert [s["unit"]["code"] for s in mine] == [COMMUNE_A]

    history = call(client, "get", f"/api/v1/bulletins/{bid}/transitions", user=editor).json()
    assert [(t["from_status"], t["to_status"], t["user_name"]) for t in history] == [
        ("", "draft", "editor"),
        ("draft", "submitted", "editor"),
        ("submitted", "approved", "approver"),
        ("approved", "published", "approver"),
    ]
    assert history[1]["comment"] == "Nhờ duyệt" and history[2]["comment"] == "Đồng ý"
    changes = ObjectChange.objects.filter(content_type__model="bulletin", object_id=str(bid))
    assert changes.count() >= 4
    assert changes.filter(user_name="approver", unit__code="33").exists()


def test_province_target_reaches_every_commune_and_normal_is_optional(users):
    bulletin = make_bulletin("33", status=Status.PUBLISHED, targets=["33"])
    shares = BulletinShare.objects.filter(bulletin=bulletin)
    assert shares.count() == 104
    assert not shares.filter(must_air=True).exists()
    assert shares.filter(unit__code=COMMUNE_A).exists()


def test_emergency_is_must_air(users):
    bulletin = make_bulletin(
        "33", status=Status.PUBLISHED, targets=[COMMUNE_A], priority="emergency"
    )
    assert BulletinShare.objects.get(bulletin=bulletin).must_air


def test_targets_must_lie_under_the_owner(client, users):
    body = assert_problem(
        post(
            client,
            "/api/v1/bulletins",
            users["operator"],
            {"unit_code": COMMUNE_A, "title": "Tin xã", "targets": [COMMUNE_B]},
        ),
        422,
    )
    assert "không thuộc" in body["detail"]


def test_operator_cannot_write_for_another_commune(client, users):
    response = post(
        client, "/api/v1/bulletins", users["operator"], {"unit_code": COMMUNE_B, "title": "X"}
    )
    assert_problem(response, 404)


def test_operator_cannot_approve_a_provincial_bulletin(client, users):
    bulletin = make_bulletin("33", status=Status.SUBMITTED, targets=[COMMUNE_A])
    response = post(client, f"/api/v1/bulletins/{bulletin.pk}/approve", users["operator"])
    assert response.status_code in (403, 404)
    assert_problem(response, response.status_code)
    bulletin.refresh_from_db()
    assert bulletin.status == Status.SUBMITTED and bulletin.approved_revision is None
    # Nor read it, nor publish it.
    assert_problem(
        call(client, "get", f"/api/v1/bulletins/{bulletin.pk}", user=users["operator"]), 404
    )


def test_operator_cannot_approve_even_their_own_commune_bulletin(client, users):
    bulletin = make_bulletin(COMMUNE_A, status=Status.SUBMITTED, by=users["operator"])
    assert_problem(post(client, f"/api/v1/bulletins/{bulletin.pk}/approve", users["operator"]), 403)
    # The province's approver covers the commune (default chain: one `approver` step).
    ok = post(client, f"/api/v1/bulletins/{bulletin.pk}/approve", users["approver"])
    assert ok.status_code == 200 and ok.json()["status"] == "approved"


def test_operator_cannot_see_another_communes_drafts(client, users):
    draft = make_bulletin(COMMUNE_B, title="Bản nháp xã Tân Hưng", by=users["operator2"])
    mine = make_bulletin(COMMUNE_A, title="Bản nháp Phố Hiến", by=users["operator"])
    operator = users["operator"]
    assert_problem(call(client, "get", f"/api/v1/bulletins/{draft.pk}", user=operator), 404)
    listed = call(client, "get", "/api/v1/bulletins", user=operator).json()
    assert [b["id"] for b in listed] == [mine.pk]
    found = call(client, "get", "/api/v1/bulletins/search?q=ban nhap", user=operator).json()
    assert [b["id"] for b in found] == [mine.pk]
    assert_problem(
        call(client, "patch", f"/api/v1/bulletins/{draft.pk}", user=operator, body={"title": "x"}),
        404,
    )
    assert_problem(post(client, f"/api/v1/bulletins/{draft.pk}/submit", operator), 404)
    # The province sees both.
    both = call(client, "get", "/api/v1/bulletins?q=ban nhap", user=users["viewer"]).json()
    assert {b["id"] for b in both} == {draft.pk, mine.pk}


def test_edit_after_approval_needs_reapproval(client, users):
    editor, approver = users["editor"], users["approver"]
    bulletin = make_bulletin("33", status=Status.APPROVED, targets=[COMMUNE_A])
    first = bulletin.approved_revision
    assert first.number == 1 and bulletin.current_revision_id == first.pk

    edited = call(
        client,
        "patch",
        f"/api/v1/bulletins/{bulletin.pk}",
        user=editor,
        body={"body": "<p>Đổi giờ tiêm: 14h30.</p>", "comment": "Đổi giờ"},
    )
    assert edited.status_code == 200, edited.content
    data = edited.json()
    assert data["revision"] == 2 and data["approved_revision"] == 1
    assert data["status"] == "draft" and data["needs_reapproval"] is True
    # Publishing the old approval is refused; the new revision must be approved.
    assert_problem(post(client, f"/api/v1/bulletins/{bulletin.pk}/publish", approver), 409)

    assert post(client, f"/api/v1/bulletins/{bulletin.pk}/submit", editor).status_code == 200
    again = post(client, f"/api/v1/bulletins/{bulletin.pk}/approve", approver).json()
    assert again["approved_revision"] == 2 and again["needs_reapproval"] is False
    published = post(client, f"/api/v1/bulletins/{bulletin.pk}/publish", approver).json()
    assert published["status"] == "published"
    share = BulletinShare.objects.get(bulletin=bulletin)
    assert share.revision.number == 2 and "14h30" in share.revision.data["body"]
    # Both approvals stay signed: history is not rewritten.
    first.refresh_from_db()
    assert first.signature and first.data["body"] == "<p>Tiêm phòng dại cho chó mèo.</p>"

    # A published bulletin is not edited in place: withdraw first.
    assert_problem(
        call(client, "patch", f"/api/v1/bulletins/{bulletin.pk}", user=editor, body={"title": "x"}),
        409,
    )
    withdrawn = post(client, f"/api/v1/bulletins/{bulletin.pk}/withdraw", approver).json()
    assert withdrawn["status"] == "withdrawn"
    share.refresh_from_db()
    assert share.withdrawn_at is not None
    inbox = call(client, "get", "/api/v1/bulletins/inbox", user=users["operator"]).json()
    assert inbox == []


def test_unchanged_save_makes_no_revision(users):
    bulletin = make_bulletin(COMMUNE_A, by=users["operator"])
    actions.update(bulletin=bulletin, user=users["operator"], data={"title": bulletin.title})
    assert bulletin.revisions.count() == 1


def test_signature_of_the_pinned_revision_verifies(users):
    bulletin = make_bulletin("33", status=Status.APPROVED, targets=[COMMUNE_A])
    revision = BulletinRevision.objects.get(pk=bulletin.approved_revision_id)
    assert revision.kid == signing.key_id()
    assert revision.content_hash == actions.content_hash(revision.data)
    key = signing.published_keys()[0]["public_key"]
    envelope = revision.envelope()
    assert envelope["payload"]["sha256"] == revision.content_hash
    assert signing.verify(envelope, key)
    forged = {**envelope, "payload": {**envelope["payload"], "sha256": "0" * 64}}
    assert not signing.verify(forged, key)
    # An unapproved revision carries no signature.
    draft = make_bulletin("33")
    assert draft.current_revision.envelope() is None


def test_request_changes_needs_a_comment_and_goes_back_to_the_author(client, users):
    bulletin = make_bulletin("33", status=Status.SUBMITTED, targets=[COMMUNE_A])
    url = f"/api/v1/bulletins/{bulletin.pk}/request-changes"
    body = assert_problem(post(client, url, users["approver"], {"comment": "  "}), 422)
    assert "cần sửa" in body["detail"]
    ok = post(client, url, users["approver"], {"comment": "Thiếu địa điểm tiêm."})
    assert ok.status_code == 200 and ok.json()["status"] == "changes_requested"
    resubmit = post(client, f"/api/v1/bulletins/{bulletin.pk}/submit", users["editor"])
    assert resubmit.json()["status"] == "submitted"


def test_wrong_state_is_409_in_vietnamese(client, users):
    bulletin = make_bulletin("33")
    body = assert_problem(
        post(client, f"/api/v1/bulletins/{bulletin.pk}/approve", users["approver"]), 409
    )
    assert "Bản nháp" in body["detail"]


def test_multi_step_chain_per_unit(client, users):
    """Commune bulletins: the commune's approver first, then the province's; four eyes."""
    commune_approver = approver_on(COMMUNE_A)
    actions.set_chain(
        user=users["admin"],
        unit=unit(COMMUNE_A),
        steps=[
            {"role": "approver", "level": ApprovalLevel.OWNER, "name": "Lãnh đạo xã"},
            {"role": "approver", "level": ApprovalLevel.ROOT, "name": "Ban biên tập tỉnh"},
        ],
    )
    bulletin = make_bulletin(COMMUNE_A, status=Status.SUBMITTED, by=users["operator"])
    url = f"/api/v1/bulletins/{bulletin.pk}/approve"
    step1 = post(client, url, commune_approver)
    assert step1.status_code == 200, step1.content
    assert step1.json()["status"] == "submitted"
    assert [s["done"] for s in step1.json()["approval_steps"]] == [True, False]
    # The commune approver does not cover the province step.
    body = assert_problem(post(client, url, commune_approver), 403)
    assert "Ban biên tập tỉnh" in body["detail"]
    done = post(client, url, users["approver"])
    assert done.json()["status"] == "approved"
    steps = Transition.objects.filter(bulletin=bulletin, from_status=Status.SUBMITTED)
    assert list(steps.values_list("user_name", flat=True)) == [
        commune_approver.username,
        "approver",
    ]
    # Other communes keep the default one-step chain.
    other = make_bulletin(COMMUNE_B, status=Status.SUBMITTED)
    assert len(actions.chain_steps(other.unit)) == 1


def test_same_person_cannot_take_two_steps(client, users):
    actions.set_chain(
        user=users["admin"],
        unit=unit("33"),
        steps=[{"role": "approver", "level": "owner"}, {"role": "approver", "level": "root"}],
    )
    bulletin = make_bulletin("33", status=Status.SUBMITTED, targets=[COMMUNE_A])
    url = f"/api/v1/bulletins/{bulletin.pk}/approve"
    assert post(client, url, users["approver"]).json()["status"] == "submitted"
    body = assert_problem(post(client, url, users["approver"]), 403)
    assert "người khác" in body["detail"]
    second = User.objects.create_user("approver.two", password="x-test-pass-123")
    RoleAssignment.objects.create(
        user=second, role=Role.objects.get(slug="approver"), unit=unit("33")
    )
    assert post(client, url, second).json()["status"] == "approved"


def test_edit_while_submitted_restarts_the_chain(users):
    actions.set_chain(
        user=users["admin"],
        unit=unit("33"),
        steps=[{"role": "approver", "level": "owner"}, {"role": "approver", "level": "root"}],
    )
    bulletin = make_bulletin("33", status=Status.SUBMITTED, targets=[COMMUNE_A])
    bulletin = actions.approve(bulletin=bulletin, user=users["approver"])
    assert bulletin.approval_step == 1
    bulletin = actions.update(
        bulletin=bulletin, user=users["editor"], data={"title": "Tiêu đề mới"}
    )
    assert bulletin.approval_step == 0 and bulletin.status == Status.SUBMITTED


def test_expiry_is_a_system_transition(users):
    from datetime import timedelta

    from django.utils import timezone

    bulletin = make_bulletin(
        "33",
        status=Status.PUBLISHED,
        targets=[COMMUNE_A],
        expire_at=timezone.now() + timedelta(hours=1),
    )
    assert actions.expire_due() == 0
    assert actions.expire_due(now=timezone.now() + timedelta(hours=2)) == 1
    bulletin.refresh_from_db()
    assert bulletin.status == Status.EXPIRED
    assert bulletin.transitions.last().user_name == "system"


def test_validity_window_is_checked(client, users):
    body = assert_problem(
        post(
            client,
            "/api/v1/bulletins",
            users["editor"],
            {
                "unit_code": "33",
                "title": "Tin",
                "go_live_at": "2026-01-02T06:00:00+07:00",
                "expire_at": "2026-01-01T06:00:00+07:00",
            },
        ),
        422,
    )
    assert "hết hiệu lực" in body["detail"]


def test_approval_chain_api(client, users):
    url = f"/api/v1/bulletins/approval-chains/{COMMUNE_A}"
    default = call(client, "get", url, user=users["operator"]).json()
    assert default["applies_from"] is None and [s["role"] for s in default["steps"]] == ["approver"]
    steps = [
        {"role": "approver", "level": "owner", "name": "Lãnh đạo xã"},
        {"role": "approver", "level": "root", "name": "Ban biên tập tỉnh"},
    ]
    assert_problem(call(client, "put", url, user=users["operator"], body={"steps": steps}), 403)
    response = call(client, "put", url, user=users["approver"], body={"steps": steps})
    assert response.status_code == 200, response.content
    assert [s["level"] for s in response.json()["steps"]] == ["owner", "root"]
    bad = [{"role": "khong-co", "level": "owner"}]
    assert_problem(call(client, "put", url, user=users["approver"], body={"steps": bad}), 422)
    # A commune approver cannot configure another commune.
    other = f"/api/v1/bulletins/approval-chains/{COMMUNE_B}"
    assert_problem(
        call(client, "put", other, user=approver_on(COMMUNE_A), body={"steps": steps}), 404
    )
    assert ObjectChange.objects.filter(content_type__model="approvalchain").exists()


def test_approval_of_a_text_bulletin_queues_its_voice(users):
    from django_tasks_db.models import DBTaskResult

    from grassroots.content.choices import MediaStatus
    from grassroots.content.tasks import voice_revision

    bulletin = make_bulletin(
        "33",
        status=Status.APPROVED,
        targets=[COMMUNE_A],
        title="Thông báo",
        body="<p>UBND xã họp dân lúc 14h30.</p>",
    )
    queued = DBTaskResult.objects.filter(task_path__endswith="voice_revision")
    assert [q.args_kwargs["args"] for q in queued] == [[bulletin.approved_revision_id]]
    result = voice_revision.call(bulletin.approved_revision_id)
    assert result["status"] == MediaStatus.READY
    audio = bulletin.media.get(synthesized=True)
    assert audio.kind == "audio" and audio.duration_seconds > 1 and "broadcast" in audio.renditions
    assert audio.revision_id == bulletin.approved_revision_id
    # Derived audio is not part of the approved content: no re-approval needed.
    bulletin.refresh_from_db()
    assert actions.snapshot(bulletin) == bulletin.approved_revision.data
    assert not bulletin.needs_reapproval
    assert voice_revision.call(bulletin.approved_revision_id)["status"] == "skipped"

    # After an edit and a new approval, the broadcast takes the new revision's voice only.
    bulletin = actions.withdraw(bulletin=bulletin, user=users["approver"])
    bulletin = actions.update(
        bulletin=bulletin, user=users["editor"], data={"body": "<p>Đổi sang 15h00.</p>"}
    )
    bulletin = actions.submit(bulletin=bulletin, user=users["editor"])
    bulletin = actions.approve(bulletin=bulletin, user=users["approver"])
    voice_revision.call(bulletin.approved_revision_id)
    media = list(MediaAsset.objects.for_revision(bulletin.approved_revision))
    assert [m.revision_id for m in media] == [bulletin.approved_revision_id]
