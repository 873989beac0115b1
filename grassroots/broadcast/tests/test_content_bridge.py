"""Bulletins shared down by the province become proposals; withdrawn ones leave the air."""

import pytest
import time_machine

from grassroots.broadcast.models import Proposal, ScheduleItem
from grassroots.content import actions as content_actions
from grassroots.content.models import MediaAsset
from grassroots.content.tests.conftest import make_bulletin, root
from grassroots.core.testing import (
    COMMUNE_A,
    COMMUNE_B,
    assert_problem,
    call,
    device_token,
    unit,
)

from .factories import station, vn

pytestmark = pytest.mark.django_db
SHA = "cd" * 32


def audio_for(bulletin, sha=SHA):
    """The TTS voice of the bulletin's approved revision (what the worker makes on approval)."""
    bulletin.refresh_from_db()
    return MediaAsset.objects.create(
        unit=bulletin.unit,
        bulletin=bulletin,
        synthesized=True,
        revision=bulletin.approved_revision,
        declared_kind="audio",
        kind="audio",
        status="ready",
        sha256=sha,
        size=9000,
        duration_seconds=95.0,
        file=f"ab/{sha}.opus",
        renditions={
            "broadcast": {
                "path": f"ab/{sha}.opus",
                "sha256": sha,
                "size": 9000,
                "mime": "audio/ogg; codecs=opus",
                "duration_seconds": 95.0,
            }
        },
    )


def test_shared_priority_bulletin_is_a_must_air_proposal(
    client, users, django_capture_on_commit_callbacks
):
    station(COMMUNE_A), station(COMMUNE_B)
    with time_machine.travel(vn(1, 5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            bulletin = make_bulletin(
                "33",
                status="published",
                title="Tỉnh: phòng chống rét cho gia súc",
                priority="priority",
                targets=[COMMUNE_A, COMMUNE_B],
            )
        proposals = Proposal.objects.filter(item__revision__bulletin=bulletin)
        assert {p.station.unit.code for p in proposals} == {COMMUNE_A, COMMUNE_B}
        assert all(p.must_air and p.share_id for p in proposals)
        (mine,) = call(client, "get", "/api/v1/proposals", user=users["operator"]).json()
        url = f"/api/v1/proposals/{mine['id']}/place"
        # No audio yet: a clear answer instead of a silent item.
        problem = assert_problem(call(client, "post", url, user=users["operator"], body={}), 422)
        assert "chưa có tệp âm thanh" in problem["detail"]
        audio_for(bulletin)
        body = {"starts_at": "2026-12-01T18:00:00+07:00"}
        placed = call(client, "post", url, user=users["operator"], body=body)
        assert placed.status_code == 201, placed.content
        item = placed.json()
        assert item["media"][0]["sha256"] == SHA and item["duration_seconds"] == 95
        assert item["revision"] == bulletin.approved_revision_id
        st = station(COMMUNE_A)
        tl = f"/api/v1/stations/{st.pk}/timeline?start=2026-12-01T17:00:00%2B07:00"
        segs = call(client, "get", tl, user=users["operator"]).json()["segments"]
        assert [s["title"] for s in segs] == ["Tỉnh: phòng chống rét cho gia súc"]
        # Running the bridge again changes nothing.
        from grassroots.broadcast.inbox import proposals_from_shares

        assert proposals_from_shares() == 0
        # Withdrawn: the other commune's pending proposal closes, the placed item leaves the air.
        with django_capture_on_commit_callbacks(execute=True):
            content_actions.withdraw(bulletin=bulletin, user=root())
        other = Proposal.objects.get(
            station__unit=unit(COMMUNE_B), item__revision__bulletin=bulletin
        )
        assert other.status == "declined"
        assert call(client, "get", tl, user=users["operator"]).json()["segments"] == []
        assert ScheduleItem.objects.filter(pk=item["id"]).exists()  # history stays


def test_report_per_bulletin(client, users, django_capture_on_commit_callbacks):
    import uuid

    from grassroots.devices.tests.factories import DeviceFactory

    st = station(COMMUNE_A)
    dev = DeviceFactory(unit=st.unit, station=st)
    with time_machine.travel(vn(1, 5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            bulletin = make_bulletin(
                "33", status="published", title="Tỉnh: lịch cắt điện", targets=[COMMUNE_A]
            )
        audio_for(bulletin)
        (p,) = call(client, "get", "/api/v1/proposals", user=users["operator"]).json()
        assert p["must_air"] is False  # normal: the commune decides
        item = call(
            client, "post", f"/api/v1/proposals/{p['id']}/place", user=users["operator"], body={}
        ).json()
        entry = {
            "id": str(uuid.uuid4()),
            "item": f"s{item['id']}-20261201T0505",
            "started_at": "2026-12-01T05:05:00+07:00",
            "ended_at": "2026-12-01T05:06:35+07:00",
            "status": "played",
        }
        posted = call(
            client,
            "post",
            f"/api/v1/devices/{dev.pk}/asrun",
            body={"entries": [entry]},
            HTTP_AUTHORIZATION=f"Bearer {device_token(dev)}",
        )
        assert posted.status_code == 200
        report = call(
            client, "get", f"/api/v1/asrun/report?bulletin={bulletin.pk}", user=users["viewer"]
        ).json()
    assert report["communes"] == 1 and report["rows"][0]["unit_code"] == COMMUNE_A
    assert report["rows"][0]["clusters"] == 1
    client.force_login(users["approver"])
    page = client.get(f"/dai-truyen-thanh/bao-cao-phat/?ban_tin={bulletin.pk}").content.decode()
    assert "1 xã đã phát, trên 1 cụm loa" in page and st.unit.name in page


def test_playlist_of_own_and_shared_revisions(client, users, django_capture_on_commit_callbacks):
    station(COMMUNE_A)
    with time_machine.travel(vn(1, 5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            provincial = make_bulletin(
                "33", status="published", title="Tỉnh: bản tin tuần", targets=[COMMUNE_A]
            )
            own = make_bulletin(COMMUNE_A, status="published", title="Xã: thông báo")
        audio_for(provincial)
        audio_for(own, "ef" * 32)
        body = {
            "unit": COMMUNE_A,
            "title": "Chương trình tối",
            "kind": "playlist",
            "starts_at": "2026-12-01T19:00:00+07:00",
            "duration_seconds": 190,
            "playlist": [provincial.approved_revision_id, own.approved_revision_id],
        }
        response = call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
        assert response.status_code == 201, response.content
        assert [m["sha256"] for m in response.json()["media"]] == [SHA, "ef" * 32]
        # Another commune's operator cannot air a revision not shared with it.
        body["unit"] = COMMUNE_B
        body["playlist"] = [own.approved_revision_id]
        assert_problem(
            call(client, "post", "/api/v1/schedules", user=users["operator2"], body=body), 422
        )


def test_only_the_approved_revisions_audio_goes_on_air(demo):
    from grassroots.broadcast.inbox import revision_media

    content = content_actions
    bulletin = make_bulletin(COMMUNE_A, status="approved", title="Xã: lịch họp")
    audio_for(bulletin, "aa" * 32)  # the voice of revision 1
    content.update(bulletin=bulletin, user=root(), data={"title": "Xã: lịch họp (sửa)"})
    for step in (content.submit, content.approve):
        bulletin = step(bulletin=bulletin, user=root())
    audio_for(bulletin, "bb" * 32)  # the voice of revision 2
    bulletin.refresh_from_db()
    shas = [m["sha256"] for m in revision_media(bulletin.approved_revision)]
    assert shas == ["bb" * 32]
