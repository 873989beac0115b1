"""Stations, schedules, proposals, policies and timelines through the API, frozen clock."""

import pytest
import time_machine

from grassroots.broadcast.models import Proposal, ScheduleItem
from grassroots.core.models import ObjectChange
from grassroots.core.testing import (
    COMMUNE_A,
    COMMUNE_B,
    EndpointContract,
    assert_problem,
    call,
    unit,
)
from grassroots.devices.tests.factories import DeviceFactory

from .factories import PolicyFactory, schedule_body, station, store_media, vn

pytestmark = pytest.mark.django_db

NOW = vn(1, 5)  # Tuesday 1 December 2026, 05:00 in Hưng Yên


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


class TestStationTimelineContract(EndpointContract):
    permission = "broadcast.view"

    def in_scope_url(self):
        return f"/api/v1/stations/{station(COMMUNE_A).pk}/timeline"

    def out_of_scope_url(self):
        return f"/api/v1/stations/{station(COMMUNE_B).pk}/timeline"


class TestStationDetailContract(EndpointContract):
    permission = "broadcast.view"

    def in_scope_url(self):
        return f"/api/v1/stations/{station(COMMUNE_A).pk}"

    def out_of_scope_url(self):
        return f"/api/v1/stations/{station(COMMUNE_B).pk}"


class TestCreateScheduleContract(EndpointContract):
    method = "post"
    permission = "broadcast.schedule"
    success = 201
    audited = True
    code = COMMUNE_A

    def in_scope_url(self):
        self.code = COMMUNE_A
        return "/api/v1/schedules"

    def out_of_scope_url(self):
        self.code = COMMUNE_B
        return "/api/v1/schedules"

    def body(self):
        return schedule_body(self.code)


class TestUsagePolicyContract(EndpointContract):
    method = "put"
    permission = "broadcast.schedule"
    audited = True

    def in_scope_url(self):
        return f"/api/v1/usage-policies/{COMMUNE_A}"

    def out_of_scope_url(self):
        return f"/api/v1/usage-policies/{COMMUNE_B}"

    def body(self):
        return {"allowed_start": "05:00", "allowed_end": "21:00", "max_sessions_per_day": 3}


def test_commune_relay_and_timeline_with_reasons(client, users):
    relay = schedule_body(
        COMMUNE_A,
        title="Tiếp sóng thời sự Đài TNVN",
        kind="relay",
        priority="priority",
        starts_at="2026-12-01T06:00:00+07:00",
        duration_seconds=1800,
        rrule="FREQ=DAILY",
        media=[],
        relay={"type": "fm", "frequency": "100.0"},
    )
    assert (
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=relay).status_code
        == 201
    )
    news = schedule_body(COMMUNE_A, starts_at="2026-12-01T06:10:00+07:00")
    assert (
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=news).status_code
        == 201
    )
    st = station(COMMUNE_A)
    body = call(client, "get", f"/api/v1/stations/{st.pk}/timeline", user=users["operator"]).json()
    spans = [(s["title"], s["start"][11:16], s["end"][11:16], s["rule"]) for s in body["segments"]]
    assert spans == [
        ("Tiếp sóng thời sự Đài TNVN", "06:00", "06:30", "on_time"),
        ("Bản tin sáng", "06:30", "06:40", "deferred"),
    ]
    assert "Dời từ 06:10 sang 06:30" in body["segments"][1]["reason"]


def test_upper_level_sees_every_station_timeline(client, users):
    st = station(COMMUNE_B)
    url = f"/api/v1/stations/{st.pk}/timeline?start=2026-12-01T00:00:00%2B07:00"
    assert call(client, "get", url, user=users["viewer"]).status_code == 200
    assert_problem(call(client, "get", url, user=users["operator"]), 404)
    stations = call(client, "get", "/api/v1/stations", user=users["viewer"]).json()
    assert st.pk in [s["id"] for s in stations]


def test_usage_policy_refuses_with_rule_and_fix(client, users):
    PolicyFactory(unit=unit(COMMUNE_A), max_sessions_per_day=2, max_minutes_per_session=15)
    for hh in ("06:00", "11:00"):
        body = schedule_body(COMMUNE_A, starts_at=f"2026-12-01T{hh}:00+07:00")
        assert (
            call(client, "post", "/api/v1/schedules", user=users["operator"], body=body).status_code
            == 201
        )
    third = schedule_body(COMMUNE_A, starts_at="2026-12-01T17:00:00+07:00")
    problem = assert_problem(
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=third), 422
    )
    assert problem["rule"] == "max_sessions_per_day"
    assert "tối đa 2 buổi" in problem["detail"] and "Cách sửa" in problem["detail"]
    # Right after an existing play it joins that session: allowed.
    joined = schedule_body(COMMUNE_A, starts_at="2026-12-01T06:10:00+07:00", duration_seconds=300)
    assert (
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=joined).status_code
        == 201
    )
    too_long = schedule_body(COMMUNE_A, starts_at="2026-12-01T11:10:00+07:00", duration_seconds=600)
    problem = assert_problem(
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=too_long), 422
    )
    assert problem["rule"] == "max_minutes_per_session"
    assert ScheduleItem.objects.filter(unit__code=COMMUNE_A).count() == 3


def test_emergency_is_exempt_and_recorded(client, users):
    PolicyFactory(unit=unit("33"), allowed_start=vn(1, 5).time(), allowed_end=vn(1, 21).time())
    late = schedule_body(COMMUNE_A, starts_at="2026-12-01T22:00:00+07:00")
    problem = assert_problem(
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=late), 422
    )
    assert problem["rule"] == "allowed_hours" and "05:00 đến 21:00" in problem["detail"]
    station(COMMUNE_A), station(COMMUNE_B)
    alarm = schedule_body(
        "33", title="Cảnh báo bão số 9", priority="emergency", starts_at="2026-12-01T22:00:00+07:00"
    )
    response = call(client, "post", "/api/v1/schedules", user=users["admin"], body=alarm)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["policy_exempt"] is True and len(data["stations"]) >= 2
    change = ObjectChange.objects.filter(
        content_type__model="scheduleitem", object_id=str(data["id"])
    ).get()
    assert "miễn áp dụng quy định" in change.comment
    url = f"/api/v1/stations/{station(COMMUNE_B).pk}/timeline?start=2026-12-01T21:00:00%2B07:00"
    seg = call(client, "get", url, user=users["viewer"]).json()["segments"][0]
    assert seg["title"] == "Cảnh báo bão số 9" and seg["rule"] == "emergency"


def test_provincial_priority_becomes_proposals_the_commune_places(client, users):
    station(COMMUNE_A), station(COMMUNE_B)
    made = []
    for title in ("Tỉnh: phòng chống dịch", "Tỉnh: an toàn giao thông"):
        body = schedule_body("33", title=title, priority="priority")
        response = call(client, "post", "/api/v1/schedules", user=users["admin"], body=body)
        assert response.status_code == 201 and response.json()["stations"] == []
        made.append(response.json()["id"])
    own = schedule_body(COMMUNE_A, title="Xã: họp dân", priority="priority", rank=1)
    assert (
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=own).status_code
        == 201
    )
    pending = call(client, "get", "/api/v1/proposals", user=users["operator"]).json()
    assert {p["title"] for p in pending} == {"Tỉnh: phòng chống dịch", "Tỉnh: an toàn giao thông"}
    assert all(p["must_air"] and p["unit_code"] == COMMUNE_A for p in pending)
    # Must-air proposals cannot be declined, only placed.
    assert_problem(
        call(
            client,
            "post",
            f"/api/v1/proposals/{pending[0]['id']}/decline",
            user=users["operator"],
            body={},
        ),
        409,
    )
    ranks = {"Tỉnh: an toàn giao thông": 2, "Tỉnh: phòng chống dịch": 3}
    for p in pending:
        url = f"/api/v1/proposals/{p['id']}/place"
        response = call(
            client, "post", url, user=users["operator"], body={"rank": ranks[p["title"]]}
        )
        assert response.status_code == 201, response.content
    # operator2 cannot touch commune A's proposals.
    other = Proposal.objects.filter(station__unit__code=COMMUNE_B).first()
    assert_problem(
        call(
            client, "post", f"/api/v1/proposals/{other.pk}/place", user=users["operator"], body={}
        ),
        404,
    )
    st = station(COMMUNE_A)
    body = call(client, "get", f"/api/v1/stations/{st.pk}/timeline", user=users["operator"]).json()
    assert [s["title"] for s in body["segments"]] == [
        "Xã: họp dân",
        "Tỉnh: an toàn giao thông",
        "Tỉnh: phòng chống dịch",
    ]
    assert body["segments"][0]["rule"] == "commune_order"


def test_timeline_window_is_validated(client, users):
    st = station(COMMUNE_A)
    url = f"/api/v1/stations/{st.pk}/timeline?start=2026-12-01T00:00:00%2B07:00"
    url += "&end=2026-12-20T00:00:00%2B07:00"
    assert_problem(call(client, "get", url, user=users["operator"]), 422)


@pytest.mark.parametrize("year", [1800, 1899, 1950])
def test_old_timeline_dates_carry_todays_offset(client, users, year):
    """Finding 14.12: a window before 1900 came back as +07:06:30 (the tz database's LMT)."""
    st = station(COMMUNE_A)
    url = f"/api/v1/stations/{st.pk}/timeline?start={year}-06-01T00:00:00%2B07:00"
    body = call(client, "get", url, user=users["operator"]).json()
    assert body["start"] == f"{year}-06-01T00:00:00+07:00", body["start"]
    assert body["end"] == f"{year}-06-02T00:00:00+07:00"


def test_invalid_rrule_is_a_vietnamese_422(client, users):
    body = schedule_body(COMMUNE_A, rrule="FREQ=SOMETIMES")
    problem = assert_problem(
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=body), 422
    )
    assert "Quy tắc lặp" in problem["detail"]


def test_cancel_marks_devices_dirty(client, users):
    st = station(COMMUNE_A)
    dev = DeviceFactory(unit=st.unit)
    created = call(
        client, "post", "/api/v1/schedules", user=users["operator"], body=schedule_body(COMMUNE_A)
    ).json()
    type(dev).objects.filter(pk=dev.pk).update(manifest_dirty=False)
    response = call(
        client, "post", f"/api/v1/schedules/{created['id']}/cancel", user=users["operator"]
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    dev.refresh_from_db()
    assert dev.manifest_dirty


class TestUpdateScheduleContract(EndpointContract):
    method = "patch"
    permission = "broadcast.schedule"
    audited = True

    def _item(self, code):
        from grassroots.accounts.models import User

        actor = User.objects.get(username="operator" if code == COMMUNE_A else "operator2")
        from grassroots.broadcast import actions

        body = schedule_body(code)
        item, _ = actions.create_item(
            user=actor,
            unit=unit(code),
            data=actions.ItemData(
                title=body["title"],
                priority="normal",
                kind="bulletin",
                starts_at=vn(1, 7),
                duration_seconds=600,
                media=body["media"],
            ),
        )
        return item

    def in_scope_url(self):
        return f"/api/v1/schedules/{self._item(COMMUNE_A).pk}"

    def out_of_scope_url(self):
        return f"/api/v1/schedules/{self._item(COMMUNE_B).pk}"

    def body(self):
        return {"starts_at": "2026-12-01T08:00:00+07:00"}


def test_moving_an_item_rechecks_the_policy(client, users):
    PolicyFactory(unit=unit(COMMUNE_A), allowed_start=vn(1, 5).time(), allowed_end=vn(1, 21).time())
    created = call(
        client, "post", "/api/v1/schedules", user=users["operator"], body=schedule_body(COMMUNE_A)
    ).json()
    url = f"/api/v1/schedules/{created['id']}"
    problem = assert_problem(
        call(
            client,
            "patch",
            url,
            user=users["operator"],
            body={"starts_at": "2026-12-01T21:55:00+07:00"},
        ),
        422,
    )
    assert problem["rule"] == "allowed_hours"
    assert ScheduleItem.objects.get(pk=created["id"]).starts_at == vn(1, 7)  # nothing saved
    moved = call(client, "patch", url, user=users["operator"], body={"rrule": "FREQ=DAILY;COUNT=3"})
    assert moved.status_code == 200 and moved.json()["rrule"] == "FREQ=DAILY;COUNT=3"
    assert ScheduleItem.objects.get(pk=created["id"]).last_end == vn(3, 7, 10)


def test_openapi_lists_broadcast_and_device_routes(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/stations/{station_id}/timeline",
        "/api/v1/schedules",
        "/api/v1/devices/{device_id}/manifest",
        "/api/v1/devices/{device_id}/asrun",
        "/api/v1/keys",
        "/api/v1/stations/conversion-plan.xlsx",
    ):
        assert path in paths, path


def test_a_finished_item_still_delays_the_next_one(client, users):
    long = schedule_body(
        COMMUNE_A, title="Phóng sự", starts_at="2026-12-01T04:00:00+07:00", duration_seconds=3000
    )
    short = schedule_body(COMMUNE_A, title="Tin ngắn", starts_at="2026-12-01T04:45:00+07:00")
    for body in (long, short):
        assert (
            call(client, "post", "/api/v1/schedules", user=users["operator"], body=body).status_code
            == 201
        )
    st = station(COMMUNE_A)
    # At 04:55 the long item (04:00–04:50) is over, but it pushed "Tin ngắn" to 04:50–05:00.
    url = f"/api/v1/stations/{st.pk}/timeline?start=2026-12-01T04:55:00%2B07:00"
    (seg,) = call(client, "get", url, user=users["operator"]).json()["segments"][:1]
    assert seg["title"] == "Tin ngắn" and seg["end"].startswith("2026-12-01T05:00")
    assert seg["rule"] == "deferred"


def test_schedules_take_media_from_the_store_only(client, users):
    """Finding 14.5: an operator aired any audio by URL (201), bypassing approval."""
    station(COMMUNE_A)
    foreign = {"url": "http://evil.example/x.opus", "sha256": "cd" * 32, "size": 1}
    body = schedule_body(COMMUNE_A, media=[foreign])
    res = call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
    assert "bản tin đã duyệt" in assert_problem(res, 422)["detail"]
    # A file of the other commune's approved bulletin is not the operator's to air either.
    other = store_media(COMMUNE_B)
    body = schedule_body(COMMUNE_A, media=other)
    assert_problem(
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=body), 422
    )
    # A file of an approved bulletin in scope airs, from the store's URL whatever was sent.
    (own,) = store_media(COMMUNE_A)
    body = schedule_body(COMMUNE_A, media=[{**own, "url": "http://evil.example/x.opus"}])
    res = call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
    assert res.status_code == 201, res.content
    (stored,) = res.json()["media"]
    assert stored["sha256"] == own["sha256"] and stored["url"].startswith("/media/assets/")
    assert not ScheduleItem.objects.filter(media__icontains="evil.example").exists()


def test_draft_media_cannot_be_scheduled(client, users):
    from grassroots.content.models import Bulletin, MediaAsset

    (own,) = store_media(COMMUNE_A)
    bulletin = Bulletin.objects.get(media__sha256=own["sha256"])
    bulletin.approved_revision = None
    bulletin.save(update_fields=["approved_revision"])
    assert MediaAsset.objects.filter(sha256=own["sha256"]).exists()
    body = schedule_body(COMMUNE_A, media=[own])
    assert_problem(
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=body), 422
    )


def test_stream_relays_only_from_the_provinces_list(client, users):
    """Finding 14.5: stream relays come only from the province's list of allowed sources."""
    station(COMMUNE_A)
    url = "https://stream.example/vov1.ogg"
    body = schedule_body(
        COMMUNE_A, kind="relay", media=[], relay={"type": "stream", "url": url}, title="VOV1"
    )
    res = call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
    assert "nguồn tiếp sóng" in assert_problem(res, 422)["detail"]
    # Operators cannot add sources; the province admin can, for the whole province.
    src = {"unit": "33", "name": "VOV1", "url": url}
    res = call(client, "post", "/api/v1/relay-sources", user=users["operator"], body=src)
    assert res.status_code in (403, 404)
    too_long = {**src, "name": "V" * 101}
    res = call(client, "post", "/api/v1/relay-sources", user=users["admin"], body=too_long)
    assert "dài 101 ký tự, tối đa 100 ký tự" in assert_problem(res, 422)["detail"]
    res = call(client, "post", "/api/v1/relay-sources", user=users["admin"], body=src)
    assert res.status_code == 201, res.content
    listed = call(client, "get", f"/api/v1/relay-sources?unit={COMMUNE_A}", user=users["operator"])
    assert [s["url"] for s in listed.json()] == [url]
    res = call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
    assert res.status_code == 201, res.content
    other = {**body, "relay": {"type": "stream", "url": url + "?x=1"}}
    assert_problem(
        call(client, "post", "/api/v1/schedules", user=users["operator"], body=other), 422
    )
    source_id = listed.json()[0]["id"]
    gone = call(client, "delete", f"/api/v1/relay-sources/{source_id}", user=users["admin"])
    assert gone.status_code == 204
