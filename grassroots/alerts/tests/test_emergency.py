"""Emergency broadcast: scope, signed play.now to unit topics, acks, delivery, stop, TTS path."""

import json
import uuid

import pytest

from grassroots.alerts.models import Emergency, EmergencyAck, EmergencyStatus
from grassroots.core.errors import Problem
from grassroots.core.gateway import discover, dispatch
from grassroots.core.models import OutboxMessage
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, EndpointContract, assert_problem, call
from grassroots.core.testing import unit as get_unit
from grassroots.devices.models import Device

discover()
_serial = iter(range(200_000, 299_999))


def device(code, **kw):
    return Device.objects.create(
        kind="speaker",
        unit=get_unit(code),
        name=f"Loa {code}",
        serial=f"E-{next(_serial)}",
        technology="ip_4g",
        **kw,
    )


def grant_emergency(username, code):
    """The province grants a commune operator the emergency right on their commune."""
    from grassroots.accounts.models import Role, RoleAssignment, User

    RoleAssignment.objects.get_or_create(
        user=User.objects.get(username=username),
        role=Role.objects.get(slug="emergency_operator"),
        unit=get_unit(code),
    )


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def start(client, user, **body):
    body.setdefault("title", "Cảnh báo lũ")
    body.setdefault("text", "Nước sông Hồng lên nhanh, đề nghị bà con di chuyển lên chỗ cao.")
    return call(client, "post", "/api/v1/emergencies", user=user, body=body)


class TestEmergencyContract(EndpointContract):
    method = "post"
    permission = "broadcast.emergency"
    success = 201
    audited = True

    @pytest.fixture(autouse=True)
    def _tasks(self, immediate_tasks):
        pass

    def in_scope_url(self):
        return "/api/v1/emergencies"

    out_of_scope_url = in_scope_url

    def body(self):
        return {"units": [COMMUNE_A], "title": "Khẩn", "text": "Thử nghiệm."}

    def out_of_scope_body(self):
        return {"units": [COMMUNE_B], "title": "Khẩn", "text": "Thử nghiệm."}


@pytest.mark.django_db(transaction=True)
def test_text_emergency_is_read_by_tts_then_signed_to_unit_topics(
    client, live_demo, immediate_tasks
):
    from grassroots.accounts.models import User

    operator = User.objects.get(username="operator")
    mine = [device(COMMUNE_A), device(COMMUNE_A)]
    device(COMMUNE_B)
    response = start(client, operator, units=[COMMUNE_A], repeat=2)
    assert response.status_code == 201, response.content
    emergency = Emergency.objects.get(pk=response.json()["id"])
    assert emergency.status == EmergencyStatus.ACTIVE and emergency.expected_devices == 2
    row = OutboxMessage.objects.get(topic=f"grassroots/v1/unit/{COMMUNE_A}/cmd")
    payload = json.loads(row.payload)["payload"]
    assert payload["type"] == "play.now" and payload["priority"] == "emergency"
    assert payload["repeat"] == 2 and payload["target"] == {"units": [COMMUNE_A]}
    (media,) = payload["media"]
    assert len(media["sha256"]) == 64 and media["url"].endswith(".opus")

    # Acks arrive as device events (once per device, even if repeated).
    ack = {"type": "ack", "id": uuid.uuid4().hex, "cmd_seq": payload["seq"], "status": "ok"}
    ack = json.dumps(ack).encode()
    dispatch([(f"grassroots/v1/dev/{mine[0].pk}/events", ack)] * 2)
    first = EmergencyAck.objects.get(emergency=emergency).acked_at
    # a later ack of the same command by the same device (another event id) changes nothing
    again = json.dumps({"type": "ack", "id": "e2", "cmd_seq": payload["seq"], "status": "ok"})
    dispatch([(f"grassroots/v1/dev/{mine[0].pk}/events", again.encode())])
    assert list(EmergencyAck.objects.filter(emergency=emergency).values_list("acked_at")) == [
        (first,)
    ]
    detail = call(client, "get", f"/api/v1/emergencies/{emergency.pk}", user=operator).json()
    assert (detail["expected"], detail["acked"]) == (2, 1)
    assert detail["delivery"][0]["offline"] == [{"id": mine[1].pk, "name": mine[1].name}]

    stopped = call(client, "post", f"/api/v1/emergencies/{emergency.pk}/stop", user=operator)
    assert stopped.json()["status"] == "stopped"
    stop_cmd = OutboxMessage.objects.filter(topic=f"grassroots/v1/unit/{COMMUNE_A}/cmd").last()
    assert json.loads(stop_cmd.payload)["payload"]["emergency_id"] == emergency.pk
    assert_problem(
        call(client, "post", f"/api/v1/emergencies/{emergency.pk}/stop", user=operator), 409
    )


@pytest.mark.django_db
def test_resend_goes_to_each_device_that_has_not_acked_with_the_same_command_id(
    client, users, immediate_tasks, django_capture_on_commit_callbacks
):
    op = users["operator"]
    acked, silent, offline = device(COMMUNE_A), device(COMMUNE_A), device(COMMUNE_A)
    other = device(COMMUNE_B)
    with django_capture_on_commit_callbacks(execute=True):
        created = start(client, op, units=[COMMUNE_A]).json()
    emergency = Emergency.objects.get(pk=created["id"])
    ack = {"type": "ack", "id": uuid.uuid4().hex, "cmd_seq": emergency.command_seq, "status": "ok"}
    dispatch([(f"grassroots/v1/dev/{acked.pk}/events", json.dumps(ack).encode())])

    answer = call(client, "post", f"/api/v1/emergencies/{emergency.pk}/resend", user=op)
    assert answer.status_code == 200 and answer.json() == {"sent": 2}
    topics = sorted(
        OutboxMessage.objects.filter(topic__contains="/dev/").values_list("topic", flat=True)
    )
    assert topics == sorted(f"grassroots/v1/dev/{d.pk}/cmd" for d in (silent, offline))
    resent = json.loads(OutboxMessage.objects.get(topic=topics[0]).payload)["payload"]
    assert resent["type"] == "play.now" and resent["id"] == emergency.command_id
    assert resent["seq"] > emergency.command_seq and resent["emergency"]["id"] == emergency.pk
    # the ack of a resent command (matched by the original command id) counts
    late = {"type": "ack", "id": uuid.uuid4().hex, "cmd_seq": resent["seq"], "status": "ok"}
    late["cmd_id"] = resent["id"]
    dispatch([(f"grassroots/v1/dev/{silent.pk}/events", json.dumps(late).encode())])
    detail = call(client, "get", f"/api/v1/emergencies/{emergency.pk}", user=op).json()
    assert (detail["expected"], detail["acked"]) == (3, 2)
    assert not OutboxMessage.objects.filter(topic=f"grassroots/v1/dev/{other.pk}/cmd").exists()
    # out of scope (operator2 holds the emergency right on its own commune only): 404
    grant_emergency("operator2", COMMUNE_B)
    assert_problem(
        call(client, "post", f"/api/v1/emergencies/{emergency.pk}/resend", user=users["operator2"]),
        404,
    )
    call(client, "post", f"/api/v1/emergencies/{emergency.pk}/stop", user=op)
    problem = assert_problem(
        call(client, "post", f"/api/v1/emergencies/{emergency.pk}/resend", user=op), 409
    )
    assert "đang phát" in problem["detail"]


@pytest.mark.django_db
def test_a_device_back_online_catches_up_with_the_active_emergency(
    client, users, immediate_tasks, django_capture_on_commit_callbacks
):
    """Its broker session may have expired while it was away: on coming back online it gets the
    emergency on its own topic (same command id), unless it acked it already."""
    op = users["operator"]
    away, acked, elsewhere = device(COMMUNE_A), device(COMMUNE_A), device(COMMUNE_B)
    with django_capture_on_commit_callbacks(execute=True):
        created = start(client, op, units=[COMMUNE_A]).json()
    emergency = Emergency.objects.get(pk=created["id"])
    ack = {"type": "ack", "id": uuid.uuid4().hex, "cmd_seq": emergency.command_seq, "status": "ok"}
    dispatch([(f"grassroots/v1/dev/{acked.pk}/events", json.dumps(ack).encode())])

    def online(*devices):
        body = json.dumps({"online": True}).encode()
        dispatch([(f"grassroots/v1/dev/{d.pk}/state", body) for d in devices])

    online(away, acked, elsewhere)
    rows = list(OutboxMessage.objects.filter(topic__contains="/dev/"))
    assert [r.topic for r in rows] == [f"grassroots/v1/dev/{away.pk}/cmd"]
    payload = json.loads(rows[0].payload)["payload"]
    assert payload["id"] == emergency.command_id and payload["emergency"]["id"] == emergency.pk
    online(away)  # still online: nothing new
    assert OutboxMessage.objects.filter(topic__contains="/dev/").count() == 1
    # offline then back, after the emergency stopped: nothing
    call(client, "post", f"/api/v1/emergencies/{emergency.pk}/stop", user=op)
    dispatch([(f"grassroots/v1/dev/{away.pk}/state", json.dumps({"online": False}).encode())])
    online(away)
    assert OutboxMessage.objects.filter(topic__contains="/dev/").count() == 1


@pytest.mark.django_db
def test_bad_emergency_requests(client, users, immediate_tasks):
    op = users["operator"]
    assert (
        "tiêu đề" in assert_problem(start(client, op, units=[COMMUNE_A], title=" "), 422)["detail"]
    )
    assert_problem(start(client, op, units=[COMMUNE_A], text=""), 422)
    assert_problem(start(client, op, units=[COMMUNE_A], repeat=50), 422)
    assert_problem(start(client, op, units=["99999"]), 404)
    assert_problem(start(client, users["viewer"], units=[COMMUNE_A]), 403)


@pytest.mark.django_db
def test_province_wide_emergency_goes_once_to_the_province_topic(
    client, users, immediate_tasks, django_capture_on_commit_callbacks
):
    device(COMMUNE_A)
    device(COMMUNE_B)
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, users["admin"], units=["33"])
    assert response.status_code == 201
    assert response.json()["expected"] == 2
    topics = list(OutboxMessage.objects.values_list("topic", flat=True))
    assert topics == ["grassroots/v1/unit/33/cmd"]


@pytest.mark.django_db
def test_console_emergency_pages(
    client, users, immediate_tasks, django_capture_on_commit_callbacks
):
    device(COMMUNE_A)
    client.force_login(users["operator"])
    page = client.get("/khan-cap/").content.decode()
    assert "Phường Phố Hiến" in page and "Xã Tân Hưng" not in page
    body = {
        "title": "Bão số 3",
        "text": "Gió giật cấp 10.",
        "repeat": "1",
        "expires": "20",
        "units": [COMMUNE_A],
    }
    # the first click only shows what would happen: area by name, devices, text to be read
    review = client.post("/khan-cap/", {**body, "step": "review"})
    assert review.status_code == 200
    html = review.content.decode()
    assert "Xác nhận phát khẩn cấp" in html and "Phường Phố Hiến" in html
    assert '<dd class="col-sm-9" id="c-devices"><strong>1</strong>' in html
    assert "Gió giật cấp 10." in html and 'id="c-preview"' in html
    assert not Emergency.objects.exists() and not OutboxMessage.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/khan-cap/", {**body, "step": "send"})
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "Bão số 3" in detail and 'id="expected">1<' in detail
    assert 'id="e-resend"' in detail
    resent = client.post(response["Location"], {"action": "resend"}, follow=True)
    assert "Đã gửi lại cho 1 thiết bị chưa xác nhận." in resent.content.decode()
    bad = client.post(
        "/khan-cap/", {"title": "X", "text": "Y", "units": [COMMUNE_B], "step": "review"}
    )
    assert "ngoài phạm vi" in bad.content.decode()
    fleet = client.get("/thiet-bi/giam-sat/").content.decode()
    assert "Loa 11953" in fleet


@pytest.mark.django_db
def test_an_unknown_bulletin_is_reported_as_a_bulletin_not_as_a_unit(client, users):
    client.force_login(users["operator"])
    body = {"title": "X", "units": [COMMUNE_A], "bulletin_id": "99999", "step": "review"}
    html = client.post("/khan-cap/", body).content.decode()
    assert "Không tìm thấy bản tin đã chọn" in html
    assert "Có đơn vị không tồn tại" not in html


@pytest.mark.django_db
def test_bulletins_are_found_by_title_without_diacritics(client, users):
    from grassroots.signage.tests.helpers import approved_bulletin

    b = approved_bulletin(COMMUNE_A, "Cảnh báo lũ quét khẩn")
    client.force_login(users["operator"])
    html = client.get("/khan-cap/ban-tin/", {"q": "canh bao lu"}).content.decode()
    assert f'value="{b.pk}"' in html and "Cảnh báo lũ quét khẩn" in html
    assert "Không có bản tin" in client.get("/khan-cap/ban-tin/", {"q": "zzzz"}).content.decode()


@pytest.mark.django_db
def test_operators_hold_the_emergency_right_only_where_the_province_grants_it(client, users):
    from grassroots.accounts.models import Role

    assert "broadcast.emergency" not in Role.objects.get(slug="operator").permissions
    # the demo grants Phố Hiến (operator) and not Tân Hưng (operator2)
    assert_problem(start(client, users["operator2"], units=[COMMUNE_B]), 403)
    client.force_login(users["operator2"])
    page = client.get("/khan-cap/").content.decode()
    assert 'id="emergency-form"' not in page and "do cấp tỉnh cấp" in page
    grant_emergency("operator2", COMMUNE_B)
    client.force_login(users["operator2"])
    assert 'id="emergency-form"' in client.get("/khan-cap/").content.decode()


@pytest.mark.django_db
def test_two_person_rule_a_second_officer_confirms_within_the_deadline(
    client, users, immediate_tasks, django_capture_on_commit_callbacks
):
    import datetime

    import time_machine
    from django.utils import timezone

    from grassroots.alerts import actions
    from grassroots.core.models import ObjectChange

    policy = actions.set_policy(
        user=users["admin"], unit_code=COMMUNE_A, two_person=True, confirm_minutes=5
    )
    assert ObjectChange.objects.filter(object_id=str(policy.pk)).exists()
    device(COMMUNE_A)
    response = start(client, users["operator"], units=[COMMUNE_A])
    assert response.status_code == 201, response.content
    e = Emergency.objects.get(pk=response.json()["id"])
    assert e.status == EmergencyStatus.AWAITING and not OutboxMessage.objects.exists()
    # the one who started it cannot be the second person
    client.force_login(users["operator"])
    own = client.post(f"/khan-cap/{e.pk}/", {"action": "confirm"}, follow=True)
    assert "cán bộ thứ hai" in own.content.decode()
    e.refresh_from_db()
    assert e.status == EmergencyStatus.AWAITING
    # a second officer with the right over the area confirms: now it goes on air
    client.force_login(users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(f"/khan-cap/{e.pk}/", {"action": "confirm"}, follow=True)
    assert "Đã xác nhận" in ok.content.decode()
    e.refresh_from_db()
    assert e.status == EmergencyStatus.ACTIVE and e.confirmed_by == users["admin"]
    assert OutboxMessage.objects.filter(topic=f"grassroots/v1/unit/{COMMUNE_A}/cmd").exists()
    assert ObjectChange.objects.filter(object_id=str(e.pk), comment="confirm").exists()
    # the API confirms through the same action (and refuses the one who started it)
    by_api = start(client, users["operator"], units=[COMMUNE_A]).json()["id"]
    assert_problem(
        call(client, "post", f"/api/v1/emergencies/{by_api}/confirm", user=users["operator"]),
        403,
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = call(client, "post", f"/api/v1/emergencies/{by_api}/confirm", user=users["admin"])
    assert done.status_code == 200, done.content
    assert Emergency.objects.get(pk=by_api).status == EmergencyStatus.ACTIVE
    # too late: the deadline passes, the confirmation is refused and the order expires
    late = start(client, users["operator"], units=[COMMUNE_A]).json()["id"]
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6), tick=False):
        with pytest.raises(Problem) as exc:
            actions.confirm(user=users["admin"], emergency_id=late)
        assert exc.value.status == 409
        actions.expire_due()
    assert Emergency.objects.get(pk=late).status == EmergencyStatus.EXPIRED


@pytest.mark.django_db
def test_a_text_emergency_whose_tts_fails_is_failed_with_the_reason_not_stuck(
    client, users, immediate_tasks, django_capture_on_commit_callbacks, settings
):
    """`play.now` needs a file: with no audio the emergency says why at once, and nothing is
    signed to the devices (it used to stay "preparing" while the send was refused). The TTS
    engine really fails here: its program is missing."""
    settings.GRASSROOTS_ESPEAK_BINARY = "espeak-ng-not-installed"
    device(COMMUNE_A)
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, users["admin"], units=[COMMUNE_A])
    assert response.status_code == 201, response.content
    emergency = Emergency.objects.get(pk=response.json()["id"])
    assert emergency.status == EmergencyStatus.FAILED
    assert "TTS" in emergency.error and "chưa cài espeak-ng" in emergency.error
    assert "tệp âm thanh" in emergency.error
    assert not OutboxMessage.objects.filter(topic__endswith="/cmd").exists()
