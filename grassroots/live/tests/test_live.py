"""Live sessions: scope, Thông tư 39 priority (preemption, usage policy), signed live.start /
live.stop, late joiners, the source's slices, and who Icecast lets listen."""

import base64
import datetime
import json
import re
import zoneinfo

import pytest
import time_machine

from grassroots.core import icecast
from grassroots.core.gateway import discover, dispatch
from grassroots.core.models import OutboxMessage
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, assert_problem, call, device_token
from grassroots.core.testing import unit as get_unit
from grassroots.devices.models import Device
from grassroots.live import actions as live
from grassroots.live.models import LiveEndReason, LiveSession, LiveStatus
from grassroots_protocol import parse_envelope

discover()


class caplog_silent:
    """Collect what the django.request logger says inside the block."""

    def __enter__(self):
        import logging

        self.records = []
        self.logger = logging.getLogger("django.request")
        self.handler = logging.Handler()
        self.handler.emit = self.records.append
        self.logger.addHandler(self.handler)
        return self.records

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)


_serial = iter(range(300_000, 399_999))
VN = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime.datetime(2026, 12, 1, 7, 0, tzinfo=VN)


@pytest.fixture(autouse=True)
def _icecast(settings):
    settings.ICECAST_URL = settings.ICECAST_SOURCE_URL = "http://127.0.0.1:18832"


def device(code):
    return Device.objects.create(
        kind="speaker",
        unit=get_unit(code),
        name=f"Loa {code}",
        serial=f"L-{next(_serial)}",
        technology="ip_4g",
    )


def open_session(client, user, **body):
    body.setdefault("title", "Thông báo trực tiếp")
    body.setdefault("units", [COMMUNE_A])
    return call(client, "post", "/api/v1/live", user=user, body=body)


def commands(type_):
    """(topic, payload) of the signed commands of this type in the outbox, parsed as devices do."""
    out = []
    for row in OutboxMessage.objects.order_by("pk"):
        payload = parse_envelope(json.loads(row.payload)).payload
        if payload["type"] == type_:
            out.append((row.topic, payload))
    return out


@pytest.mark.django_db
def test_a_session_goes_on_air_with_signed_live_start_and_stops_with_live_stop(client, users):
    op = users["operator"]
    with time_machine.travel(MORNING, tick=False):
        response = open_session(client, op)
    assert response.status_code == 201, response.content
    session = LiveSession.objects.get(pk=response.json()["id"])
    assert session.status == LiveStatus.WAITING and session.speaker == op
    # the speaker by name, as the console's menu calls the person, not by login
    assert op.full_name and response.json()["speaker"] == op.full_name
    assert not commands("live.start")  # nothing on air before sound arrives
    live.went_on_air(session.pk)
    [(topic, payload)] = commands("live.start")
    assert topic == f"grassroots/v1/unit/{COMMUNE_A}/cmd"
    assert payload["url"] == f"http://127.0.0.1:18832{session.mount}"
    assert payload["auth"] == "device" and payload["live_id"] == session.live_id
    assert payload["priority"] == "normal"
    stopped = call(client, "post", f"/api/v1/live/{session.pk}/stop", user=op)
    assert stopped.status_code == 200 and stopped.json()["status"] == "ended"
    [(topic, payload)] = commands("live.stop")
    assert topic == f"grassroots/v1/unit/{COMMUNE_A}/cmd"
    assert payload["live_id"] == session.live_id
    assert_problem(call(client, "post", f"/api/v1/live/{session.pk}/stop", user=op), 409)


@pytest.mark.django_db
def test_scope_and_rights(client, users, settings):
    # operator2 holds the scheduling right on commune B only: commune A is not theirs
    assert_problem(open_session(client, users["operator2"]), 404)
    # an emergency live session needs the emergency right
    assert_problem(open_session(client, users["editor"], priority="emergency"), 403)
    no_area = assert_problem(open_session(client, users["operator"], units=[]), 422)
    assert "Hãy chọn vùng phát (ít nhất một xã, phường)." in no_area["detail"]
    assert not no_area["detail"].endswith("..")
    assert "không hợp lệ" not in no_area["detail"]
    assert_problem(open_session(client, users["operator"], priority="loud"), 422)
    with time_machine.travel(MORNING, tick=False):
        created = open_session(client, users["operator"]).json()
    # another commune's officer neither sees it nor stops it
    other = call(client, "post", f"/api/v1/live/{created['id']}/stop", user=users["operator2"])
    assert_problem(other, 404)
    settings.ICECAST_URL = ""
    assert_problem(open_session(client, users["admin"], units=[COMMUNE_B]), 503)


@pytest.mark.django_db
def test_a_commune_officer_finds_their_commune_chosen_a_province_officer_chooses(client, users):
    def chosen(user) -> list[str]:
        client.force_login(users[user])
        page = client.get("/truc-tiep/").content.decode()
        area = page[page.index('id="live-area"') :]
        area = area[: area.index("unit-picker-chips")]
        return re.findall(r'type="hidden" name="units" value="([^"]+)"', area)

    assert chosen("operator") == [COMMUNE_A]
    assert chosen("admin") == []  # a whole province is never the default area


@pytest.mark.django_db
def test_normal_live_respects_the_usage_policy_and_emergency_does_not(client, users):
    from grassroots.broadcast import actions as broadcast

    broadcast.set_policy(
        user=users["admin"],
        unit=get_unit(COMMUNE_A),
        allowed_start=datetime.time(5, 0),
        allowed_end=datetime.time(21, 0),
    )
    night = datetime.datetime(2026, 12, 1, 23, 0, tzinfo=VN)
    with time_machine.travel(night, tick=False):
        refused = assert_problem(open_session(client, users["admin"]), 422)
        assert "Chỉ phiên khẩn cấp" in refused["detail"]
        assert open_session(client, users["admin"], priority="emergency").status_code == 201


@pytest.mark.django_db
def test_an_emergency_preempts_a_normal_session_and_nothing_else_overlaps(client, users):
    with time_machine.travel(MORNING, tick=False):
        normal = open_session(client, users["operator"]).json()
        live.went_on_air(normal["id"])
        # a second normal session over the same commune (or its province) is refused
        again = assert_problem(open_session(client, users["admin"], units=["33"]), 409)
        assert "Thông báo trực tiếp" in again["detail"]
        urgent = open_session(client, users["admin"], units=["33"], priority="emergency")
    assert urgent.status_code == 201
    preempted = LiveSession.objects.get(pk=normal["id"])
    assert preempted.status == LiveStatus.ENDED
    assert preempted.end_reason == LiveEndReason.PREEMPTED
    assert [p["live_id"] for _, p in commands("live.stop")] == [preempted.live_id]
    # another commune is free
    with time_machine.travel(MORNING, tick=False):
        assert_problem(open_session(client, users["operator2"], units=[COMMUNE_B]), 409)


@pytest.mark.django_db
def test_devices_back_online_get_the_running_session_on_their_own_topic(client, users):
    away, elsewhere = device(COMMUNE_A), device(COMMUNE_B)
    with time_machine.travel(MORNING, tick=False):
        session_id = open_session(client, users["operator"]).json()["id"]
    session = live.went_on_air(session_id)
    body = json.dumps({"online": True}).encode()
    dispatch([(f"grassroots/v1/dev/{d.pk}/state", body) for d in (away, elsewhere)])
    sent = [(t, p) for t, p in commands("live.start") if "/dev/" in t]
    assert [t for t, _ in sent] == [f"grassroots/v1/dev/{away.pk}/cmd"]
    assert sent[0][1]["live_id"] == session.live_id and sent[0][1]["id"] == session.command_id


@pytest.mark.django_db
def test_source_slices_are_appended_in_order_once(client, users, settings, tmp_path):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}
    op = users["operator"]
    with time_machine.travel(MORNING, tick=False):
        session_id = open_session(client, op).json()["id"]
    url = f"/api/v1/live/{session_id}/source"

    def send(offset, data, user=op):
        client.force_login(user)
        return client.post(f"{url}?offset={offset}", data=data, content_type="audio/webm")

    assert send(0, b"abcd").json() == {"received": 4}
    assert send(0, b"abcd").json() == {"received": 4}  # a retry is kept once
    assert send(4, b"ef").json() == {"received": 6}
    gap = assert_problem(send(10, b"zz"), 409)
    assert "6 byte" in gap["detail"]
    assert_problem(send(6, b"x", user=users["admin"]), 403)  # only the speaker
    assert (tmp_path / "live" / f"{session_id}.webm").read_bytes() == b"abcdef"
    with time_machine.travel(MORNING, tick=False):
        live.stop(user=op, session_id=session_id)
    # the speech's tail racing the speaker's own stop: 410, quietly, not in the recording
    with time_machine.travel(MORNING + datetime.timedelta(seconds=2), tick=False):
        with caplog_silent() as records:
            assert_problem(send(6, b"g"), 410)
        assert not [r for r in records if r.levelname == "WARNING"]
    with time_machine.travel(MORNING + datetime.timedelta(minutes=1), tick=False):
        assert_problem(send(6, b"g"), 409)  # long after: the session is over
    assert (tmp_path / "live" / f"{session_id}.webm").read_bytes() == b"abcdef"


@pytest.mark.django_db
def test_who_icecast_lets_listen(client, users):
    inside, outside = device(COMMUNE_A), device(COMMUNE_B)
    with time_machine.travel(MORNING, tick=False):
        session = LiveSession.objects.get(pk=open_session(client, users["operator"]).json()["id"])
    mount = session.mount
    assert live.listener_allowed(mount=mount, device_token=device_token(inside))
    assert not live.listener_allowed(mount=mount, device_token=device_token(outside))
    assert not live.listener_allowed(mount=mount, device_token="gd_forged")
    assert not live.listener_allowed(mount="/live/guess.ogg", device_token=device_token(inside))
    # an officer who sees the session, with a listen ticket for it (from the API)
    ticket = live.listen_token(users["admin"], session)
    assert live.listener_allowed(mount=f"{mount}?listen={ticket}")
    assert not live.listener_allowed(mount=mount)
    # a ticket of someone who does not see the session (operator2: commune B)
    assert not live.listener_allowed(
        mount=f"{mount}?listen={live.listen_token(users['operator2'], session)}"
    )
    live.stop(user=users["operator"], session_id=session.pk)
    assert not live.listener_allowed(mount=f"{mount}?listen={ticket}")


@pytest.mark.django_db
def test_the_icecast_hook_answers_only_icecast(client, users, settings, tmp_path):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}
    inside = device(COMMUNE_A)
    with time_machine.travel(MORNING, tick=False):
        session = LiveSession.objects.get(pk=open_session(client, users["operator"]).json()["id"])
    form = {
        "action": "listener_add",
        "mount": session.mount,
        f"header.{icecast.TOKEN_HEADER.lower()}": device_token(inside),
    }
    url = "/api/v1/live/icecast/listener"
    assert_problem(client.post(url, form), 403)
    good = (
        "Basic "
        + base64.b64encode(
            f"{icecast.HOOK_USER}:{icecast.hook_password(tmp_path)}".encode()
        ).decode()
    )
    allowed = client.post(url, form, HTTP_AUTHORIZATION=good)
    assert allowed.status_code == 200 and allowed["icecast-auth-user"] == "1"
    denied = client.post(url, {**form, "mount": "/live/other.ogg"}, HTTP_AUTHORIZATION=good)
    assert denied.status_code == 200 and "icecast-auth-user" not in denied


@pytest.mark.django_db
def test_an_emergency_on_air_refuses_normal_and_priority_live_but_not_emergency(client, users):
    from grassroots.alerts.models import Emergency, EmergencyStatus

    with time_machine.travel(MORNING, tick=False):
        flood = Emergency.objects.create(
            unit=get_unit(COMMUNE_A),
            title="Lũ quét <khẩn>",
            status=EmergencyStatus.ACTIVE,
            expires_at=MORNING + datetime.timedelta(hours=1),
        )
        flood.area.set([get_unit(COMMUNE_A)])
        for priority in ("normal", "priority"):
            refused = assert_problem(open_session(client, users["admin"], priority=priority), 409)
            assert "Đang phát khẩn cấp 'Lũ quét <khẩn>' tại " in refused["detail"]
            assert get_unit(COMMUNE_A).name in refused["detail"]
            assert "chỉ phiên khẩn cấp mới được phát lúc này" in refused["detail"]
        # the province contains the commune: refused too; another commune is free
        assert_problem(open_session(client, users["admin"], units=["33"]), 409)
        assert open_session(client, users["operator2"], units=[COMMUNE_B]).status_code == 201
        # an emergency live session may still start, and leaves the emergency on air
        assert open_session(client, users["admin"], priority="emergency").status_code == 201
    flood.refresh_from_db()
    assert flood.status == EmergencyStatus.ACTIVE
    # a stopped emergency no longer holds the commune
    flood.status = EmergencyStatus.STOPPED
    flood.save()
    assert live._emergency_on_air([get_unit(COMMUNE_A)]) is None


@pytest.mark.django_db
def test_the_page_knows_which_units_have_devices_before_a_start(client, users):
    device(COMMUNE_A)
    client.force_login(users["admin"])
    page = client.get("/truc-tiep/")
    equipped = page.context["equipped"].split()
    assert COMMUNE_A in equipped and "33" in equipped  # the commune and the province above it
    assert COMMUNE_B not in equipped
    assert f'data-equipped="{page.context["equipped"]}"' in page.content.decode()


@pytest.mark.django_db
def test_relays_started_live_are_checked_and_signed_like_any_session(client, users):
    from grassroots.broadcast.models import RelaySource
    from grassroots_protocol import parse_command

    op = users["operator"]
    mine = RelaySource.objects.create(
        unit=get_unit(COMMUNE_A), name="Đài xã", url="http://radio.example/xa.mp3"
    )
    # a stream listed only for commune A cannot be relayed over commune B
    with time_machine.travel(MORNING, tick=False):
        refused = open_session(
            client,
            users["admin"],
            units=[COMMUNE_A, COMMUNE_B],
            source="stream",
            relay_source=mine.pk,
        )
        assert "không có trong danh sách được phép" in assert_problem(refused, 422)["detail"]
        assert_problem(open_session(client, op, source="fm", frequency=120), 422)
        assert_problem(open_session(client, op, source="fm"), 422)
        assert_problem(open_session(client, op, source="tape"), 422)
        stream = open_session(client, op, source="stream", relay_source=mine.pk)
        assert stream.status_code == 201, stream.content
        assert stream.json()["relay"] == "Đài xã" and stream.json()["status"] == "waiting"
        session = LiveSession.objects.get(pk=stream.json()["id"])
        assert session.relay_url == "http://radio.example/xa.mp3"
        live.stop(user=op, session_id=session.pk)
        # FM goes on air at once: every cluster tunes its own receiver; the usage policy holds
        fm = open_session(client, op, source="fm", frequency=99.5)
        assert fm.status_code == 201, fm.content
        assert fm.json()["status"] == "on_air" and fm.json()["listen_url"] == ""
    [(topic, payload)] = commands("live.start")[-1:]
    assert topic == f"grassroots/v1/unit/{COMMUNE_A}/cmd"
    command = parse_command(payload)  # what the agent reads
    assert command.url is None and command.relay.frequency == 99.5
    # a second normal session over the same area is refused as for any live session
    with time_machine.travel(MORNING, tick=False):
        assert_problem(open_session(client, op), 409)


@pytest.mark.django_db
def test_the_speaker_is_told_while_an_emergency_airs_over_the_session(client, users):
    """A scheduled/CAP emergency sounds before the live stream on each device of its area: the
    session's status says so (LiveRead.emergency), and stops saying it when it is over."""
    from grassroots.alerts.models import Emergency, EmergencyStatus

    op = users["operator"]
    with time_machine.travel(MORNING, tick=False):
        session_id = open_session(client, op).json()["id"]
        live.went_on_air(session_id)
        quiet = call(client, "get", f"/api/v1/live/{session_id}", user=op).json()
        assert quiet["emergency"] is None
        flood = Emergency.objects.create(
            unit=get_unit("33"),
            title="Lũ quét <khẩn>",
            status=EmergencyStatus.ACTIVE,
            repeat_every_minutes=15,
            expires_at=MORNING + datetime.timedelta(hours=1),
        )
        flood.area.set([get_unit("33")])  # the province contains the commune
        told = call(client, "get", f"/api/v1/live/{session_id}", user=op).json()
    assert told["status"] == "on_air"
    emergency = told["emergency"]
    assert emergency["id"] == flood.pk and emergency["title"] == "Lũ quét <khẩn>"
    assert emergency["units"] == ["33"]
    assert emergency["message"].startswith(
        f"Loa tại {get_unit('33').name} đang phát khẩn cấp 'Lũ quét <khẩn>' — lời bạn nói lúc "
        "này không ra các loa đó. Phát xong bản tin khẩn cấp, loa tự quay lại phiên của bạn"
    )
    assert "nhắc lại mỗi 15 phút đến 08:00" in emergency["message"]
    # the list the panels use carries it too (one schema)
    listed = call(client, "get", "/api/v1/live?running=true", user=op).json()
    assert listed[0]["emergency"]["id"] == flood.pk
    flood.status = EmergencyStatus.STOPPED
    flood.save()
    with time_machine.travel(MORNING, tick=False):
        after = call(client, "get", f"/api/v1/live/{session_id}", user=op).json()
    assert after["emergency"] is None


@pytest.mark.django_db
def test_a_session_stopped_by_another_officer_or_preempted_says_by_whom(client, users):
    op, admin = users["operator"], users["admin"]
    with time_machine.travel(MORNING, tick=False):
        first = open_session(client, op).json()
        assert first["can_stop"] is True
        seen_by_admin = call(client, "get", f"/api/v1/live/{first['id']}", user=admin).json()
        assert seen_by_admin["can_stop"] is True
        stopped = call(client, "post", f"/api/v1/live/{first['id']}/stop", user=admin).json()
    session = LiveSession.objects.get(pk=first["id"])
    assert session.stopped_by == admin and session.end_reason == LiveEndReason.STOPPED
    name = admin.get_full_name() or admin.username
    assert stopped["stopped_by"].startswith(f"{name} (")
    assert stopped["end_detail"] == f"Phiên đã bị {stopped['stopped_by']} dừng lúc 07:00."
    assert stopped["end_reason_label"] == "Cán bộ khác dừng"
    # the speaker's own stop names nobody
    with time_machine.travel(MORNING, tick=False):
        own = open_session(client, op).json()
        own = call(client, "post", f"/api/v1/live/{own['id']}/stop", user=op).json()
    assert own["end_detail"] == "" and own["end_reason_label"] == "Người phát dừng"
    # an emergency live session takes the area over: the sentence names it and its speaker
    with time_machine.travel(MORNING, tick=False):
        normal = open_session(client, op).json()
        urgent = open_session(client, admin, title="Sơ tán khẩn", priority="emergency").json()
        told = call(client, "get", f"/api/v1/live/{normal['id']}", user=op).json()
    assert LiveSession.objects.get(pk=normal["id"]).preempted_by_id == urgent["id"]
    assert told["end_detail"].startswith(
        "Phiên đã nhường loa lúc 07:00 cho phiên phát trực tiếp khẩn cấp 'Sơ tán khẩn' của "
        f"{name} ("
    )
    # the page's "Gần đây" says it too
    client.force_login(op)
    page = client.get("/truc-tiep/").content.decode()
    assert "Phiên đã bị " in page and "Sơ tán khẩn" in page


@pytest.mark.django_db
def test_a_commune_officer_may_not_stop_the_provinces_emergency_session(client, users):
    # operator2 schedules in commune B but holds no emergency right
    op, admin = users["operator2"], users["admin"]
    with time_machine.travel(MORNING, tick=False):
        urgent = open_session(client, admin, priority="emergency", units=[COMMUNE_B]).json()
        seen = call(client, "get", f"/api/v1/live/{urgent['id']}", user=op).json()
        assert seen["can_stop"] is False
        refused = assert_problem(
            call(client, "post", f"/api/v1/live/{urgent['id']}/stop", user=op), 403
        )
    assert "broadcast.emergency" not in refused["detail"]
    assert refused["detail"].startswith("Bạn không có quyền dừng phiên khẩn cấp này")
    assert LiveSession.objects.get(pk=urgent["id"]).is_running
    # the page offers no button for it
    client.force_login(op)
    page = client.get("/truc-tiep/").content.decode()
    running = page[page.index('id="live-running"') : page.index('id="live-recent"')]
    assert "Dừng phiên này" not in running


@pytest.mark.django_db
def test_the_titles_own_open_session_and_a_relay_connecting(client, users):
    from grassroots.broadcast.models import RelaySource

    op = users["operator"]
    with time_machine.travel(MORNING, tick=False):
        blank = assert_problem(open_session(client, op, title="   \u200b  "), 422)
        assert "Cần nhập tiêu đề" in blank["detail"]
        long = assert_problem(open_session(client, op, title="Bão " + "x" * 1196), 422)
        assert "Tiêu đề dài 1200 ký tự, tối đa 200 ký tự" in long["detail"]
        assert not LiveSession.objects.exists()
        ok = open_session(client, op, title="\u200b Họp dân \u200b").json()
        assert ok["title"] == "Họp dân"
        # the officer's own session still open: the clash names it as theirs
        mine = assert_problem(open_session(client, op), 409)
        assert mine["detail"].startswith("Phiên 'Họp dân' của chính bạn vẫn đang mở")
        client.force_login(op)
        page = client.get("/truc-tiep/").content.decode()
        assert 'id="live-mine"' in page and "Phiên của bạn vẫn đang mở" in page
        call(client, "post", f"/api/v1/live/{ok['id']}/stop", user=op)
        radio = RelaySource.objects.create(
            unit=get_unit("33"), name="VOV1", url="http://127.0.0.1:9/vov1.mp3"
        )
        relay = open_session(client, op, source="stream", relay_source=radio.pk).json()
    assert relay["status"] == "waiting"
    assert relay["status_label"] == "Đang kết nối tới đài tiếp sóng"
    page = client.get("/truc-tiep/").content.decode()
    assert "Đang kết nối tới đài tiếp sóng</span>" in page
