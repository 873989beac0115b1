"""Pairing, signed scoped manifests, proofs, heartbeat, screenshots, coverage (API level)."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.utils import timezone

from grassroots.core import signing
from grassroots.core.models import ObjectChange, OutboxMessage
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, EndpointContract, assert_problem, unit
from grassroots.devices.models import Device
from grassroots.signage import actions, broker_accounts
from grassroots.signage.coverage import coverage
from grassroots.signage.models import Board, DisplayProof, PairingCode

from .helpers import (
    approved_bulletin,
    board_get,
    board_post,
    manifest_payload,
    paired_board,
    user,
)

pytestmark = pytest.mark.django_db


def test_pairing_by_code_gives_a_hashed_token(client, demo):
    start = client.post("/api/v1/boards/pairing")
    assert start.status_code == 201
    code, secret = start.json()["code"], start.json()["secret"]
    assert len(code) == 6 and set(code) <= set(actions.CODE_ALPHABET)
    claim = {"code": code, "secret": secret}
    waiting = client.post("/api/v1/boards/pairing/claim", claim, content_type="application/json")
    assert waiting.status_code == 202

    # The operator types the code as people do: lower case, with a dash.
    from grassroots.core.testing import call

    typed = f"{code[:3].lower()}-{code[3:]}"
    body = {"code": typed, "unit": COMMUNE_A, "name": "Bảng tin nhà văn hoá"}
    answer = call(client, "post", "/api/v1/boards/pair", user=user("operator"), body=body)
    assert answer.status_code == 201, answer.content
    device = Device.objects.get(pk=answer.json()["device"])
    assert device.kind == "board" and device.unit.code == COMMUNE_A

    got = client.post("/api/v1/boards/pairing/claim", claim, content_type="application/json")
    assert got.status_code == 200
    cred = got.json()
    assert cred["token"].startswith("gbt_") and cred["mqtt"]["username"] == f"board-{device.pk}"
    board = Board.objects.get(pk=device.pk)
    assert board.token_hash == actions.hash_secret(cred["token"])
    assert cred["token"] not in json.dumps(list(ObjectChange.objects.values("after")), default=str)
    # One-time: a second claim is refused, and so is the code.
    again = client.post("/api/v1/boards/pairing/claim", claim, content_type="application/json")
    assert_problem(again, 410)
    assert board_get(client, cred, "/config").json()["chain"] == ["33", COMMUNE_A]


def test_pairing_answers_carry_server_time(client, demo):
    """Boards judge a code by `expires_at − server_time`, not by their own clock (issue 12)."""
    from grassroots_protocol import parse_time

    before = timezone.now()
    start = client.post("/api/v1/boards/pairing").json()
    server_time, expires = parse_time(start["server_time"]), parse_time(start["expires_at"])
    assert before <= server_time <= timezone.now()
    assert abs(expires - server_time - actions.PAIRING_TTL) < datetime.timedelta(seconds=1)
    claim = {"code": start["code"], "secret": start["secret"]}
    waiting = client.post("/api/v1/boards/pairing/claim", claim, content_type="application/json")
    assert waiting.status_code == 202 and parse_time(waiting.json()["server_time"]) >= server_time
    actions.approve_pairing(user=user("operator"), code=start["code"], unit=unit(COMMUNE_A))
    got = client.post("/api/v1/boards/pairing/claim", claim, content_type="application/json")
    assert got.status_code == 200 and parse_time(got.json()["server_time"]) >= server_time


def test_too_many_codes_says_when_to_retry(client, demo):
    """The 429 of an address holding too many open codes says, in seconds, when one expires."""
    oldest = None
    for _ in range(actions.MAX_OPEN_CODES_PER_IP):
        pairing, _secret = actions.start_pairing(client_ip="127.0.0.1")
        oldest = oldest or pairing
    PairingCode.objects.filter(pk=oldest.pk).update(
        expires_at=timezone.now() + datetime.timedelta(seconds=100)
    )
    refused = client.post("/api/v1/boards/pairing", REMOTE_ADDR="127.0.0.1")
    assert_problem(refused, 429)
    assert 95 <= int(refused["Retry-After"]) <= 101 and refused.json()["retry_after"] == int(
        refused["Retry-After"]
    )
    assert "2 phút" in refused.json()["detail"]
    assert client.post("/api/v1/boards/pairing", REMOTE_ADDR="10.0.0.9").status_code == 201


def test_state_keeps_the_board_clock(client, demo):
    a = paired_board(COMMUNE_A)
    clock = {"offset_s": -1200.4, "source": "http", "synced_at": "2026-11-29T17:00:00.000Z"}
    assert board_post(client, a, "/state", {"status": "online", "clock": clock}).status_code == 200
    assert Board.objects.get(pk=a["device"]).state["clock"] == clock
    # A state that does not follow the protocol is refused, naming the field.
    client.force_login(user("operator"))
    page = client.get(f"/bang-tin-dien-tu/{a['device']}/").content.decode()
    assert "nhanh 1200 giây so với máy chủ" in page
    bad = board_post(client, a, "/state", {"status": "online", "clock": {"offset_s": "a lot"}})
    assert bad.status_code == 422 and "offset_s" in bad.content.decode()
    assert Board.objects.get(pk=a["device"]).state["clock"] == clock  # nothing taken from it


def test_operator_may_pair_only_in_own_unit(client, demo):
    from grassroots.core.testing import call

    pairing, _ = actions.start_pairing()
    body = {"code": pairing.code, "unit": COMMUNE_A}
    assert_problem(
        call(client, "post", "/api/v1/boards/pair", user=user("operator2"), body=body), 404
    )
    other = paired_board(COMMUNE_A)
    body = {"code": pairing.code, "device": other["device"]}
    assert_problem(
        call(client, "post", "/api/v1/boards/pair", user=user("operator2"), body=body), 404
    )
    assert PairingCode.objects.get(pk=pairing.pk).approved_at is None


def test_expired_code_is_refused(client, demo):
    pairing, secret = actions.start_pairing()
    PairingCode.objects.filter(pk=pairing.pk).update(expires_at=timezone.now())
    with pytest.raises(Exception, match="hết hạn"):
        actions.approve_pairing(user=user("operator"), code=pairing.code, unit=unit(COMMUNE_A))
    response = client.post(
        "/api/v1/boards/pairing/claim",
        {"code": pairing.code, "secret": secret},
        content_type="application/json",
    )
    assert_problem(response, 410)


def test_manifest_is_signed_scoped_and_cached(client, demo):
    a = paired_board(COMMUNE_A)
    b = paired_board(COMMUNE_B, operator="operator2")
    approved_bulletin(COMMUNE_A, "Lịch tiêm phòng dại", "<p>Sáng thứ Bảy tại nhà văn hoá.</p>")
    theirs = approved_bulletin(COMMUNE_B, "Tin riêng xã Tân Hưng", author="operator2")
    # Even a playlist row written behind the actions' back cannot leak it onto A's board.
    from grassroots.signage.models import Playlist, PlaylistItem

    sneaky = Playlist.objects.create(unit=unit(COMMUNE_A), name="x")
    PlaylistItem.objects.create(playlist=sneaky, bulletin=theirs)

    response = board_get(client, a, "/manifest")
    envelope = json.loads(response.content)
    key = signing.published_keys()[0]
    assert envelope["kid"] == key["kid"] and signing.verify(envelope, key["public_key"])
    titles = [i["title"] for i in envelope["payload"]["items"]]
    assert titles == ["Lịch tiêm phòng dại"]
    assert envelope["payload"]["items"][0]["paragraphs"] == ["Sáng thứ Bảy tại nhà văn hoá."]
    assert [i["title"] for i in manifest_payload(client, b)["items"]] == ["Tin riêng xã Tân Hưng"]

    etag = response["ETag"]
    assert board_get(client, a, "/manifest", HTTP_IF_NONE_MATCH=etag).status_code == 304
    # Another board's manifest, media or reports: 404, never this unit's items.
    foreign = client.get(
        f"/api/v1/boards/{a['device']}/manifest", HTTP_AUTHORIZATION=f"Bearer {b['token']}"
    )
    assert_problem(foreign, 404)
    assert client.get(f"/api/v1/boards/{a['device']}/manifest").status_code == 401


def test_new_approval_changes_manifest_and_pushes(client, demo):
    a = paired_board(COMMUNE_A)
    first = board_get(client, a, "/manifest")
    before = OutboxMessage.objects.count()
    approved_bulletin(COMMUNE_A, "Thông báo mới")
    pushed = OutboxMessage.objects.filter(pk__gt=0).order_by("-pk")[
        : OutboxMessage.objects.count() - before
    ]
    topics = {m.topic for m in pushed}
    assert f"grassroots/v1/unit/{COMMUNE_A}/cmd" in topics
    command = json.loads(next(m for m in pushed if m.topic.endswith(f"/{COMMUNE_A}/cmd")).payload)
    assert command["payload"]["type"] == "manifest.updated"
    second = board_get(client, a, "/manifest", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200 and second["ETag"] != first["ETag"]


def test_provincial_must_show_reaches_every_commune_first(client, demo):
    from grassroots.content import actions as content

    a = paired_board(COMMUNE_A)
    b = paired_board(COMMUNE_B, operator="operator2")
    approved_bulletin(COMMUNE_A, "Tin của phường")
    bulletin = approved_bulletin("33", "Khuyến cáo phòng chống bão", author="editor",
                                 priority="priority")  # fmt: skip
    content.publish(bulletin=bulletin, user=user("approver"))
    items_a = manifest_payload(client, a)["items"]
    assert items_a[0]["title"] == "Khuyến cáo phòng chống bão" and items_a[0]["must_show"]
    assert [i["title"] for i in items_a][1:] == ["Tin của phường"]
    items_b = manifest_payload(client, b)["items"]
    assert [i["title"] for i in items_b] == ["Khuyến cáo phòng chống bão"]
    content.withdraw(bulletin=bulletin, user=user("approver"))
    assert [i["title"] for i in manifest_payload(client, b)["items"]] == []


def test_playlist_daypart_targeting_and_duration(client, demo):
    from grassroots.core.testing import call

    a = paired_board(COMMUNE_A)
    a2 = paired_board(COMMUNE_A, name="Bảng tin chợ")
    bulletin = approved_bulletin(COMMUNE_A, "Giờ mở cửa chợ")
    Board.objects.filter(pk__in=[a["device"], a2["device"]]).update(auto_unit_bulletins=False)
    body = {
        "unit": COMMUNE_A,
        "name": "Buổi sáng ở chợ",
        "weekdays": [0, 1, 2, 3, 4],
        "start_time": "06:00",
        "end_time": "11:00",
        "boards": [a2["device"]],
        "items": [{"bulletin": bulletin.pk, "duration": 15}],
    }
    made = call(client, "post", "/api/v1/signage/playlists", user=user("operator"), body=body)
    assert made.status_code == 201, made.content
    assert manifest_payload(client, a)["items"] == []
    (item,) = manifest_payload(client, a2)["items"]
    assert item["duration"] == 15
    assert item["window"]["start"] == "06:00" and item["window"]["weekdays"] == [0, 1, 2, 3, 4]
    # A draft bulletin cannot be put on a board.
    from grassroots.content import actions as content

    draft = content.create(user=user("operator"), unit=unit(COMMUNE_A), data={"title": "Nháp"})
    body["items"] = [{"bulletin": draft.pk}]
    refused = call(client, "post", "/api/v1/signage/playlists", user=user("operator"), body=body)
    assert_problem(refused, 422)
    # Even the province cannot put another commune's bulletin on this commune's boards.
    other = approved_bulletin(COMMUNE_B, "Tin xã khác", author="operator2")
    body["items"] = [{"bulletin": other.pk}]
    refused = call(client, "post", "/api/v1/signage/playlists", user=user("admin"), body=body)
    assert_problem(refused, 422)


def test_script_in_bulletin_is_text_in_manifest(client, demo):
    a = paired_board(COMMUNE_A)
    approved_bulletin(
        COMMUNE_A,
        '<img src=x onerror="window.__pwned=1">Tiêu đề',
        "<p>An toàn</p><script>window.__pwned=1</script>&lt;script&gt;x&lt;/script&gt;",
    )
    (item,) = manifest_payload(client, a)["items"]
    assert item["title"] == '<img src=x onerror="window.__pwned=1">Tiêu đề'
    assert "window.__pwned" not in " ".join(item["paragraphs"])  # the sanitiser dropped it
    assert item["paragraphs"] == ["An toàn", "<script>x</script>"]


def test_proofs_heartbeat_and_report(client, demo):
    a = paired_board(COMMUNE_A)
    bulletin = approved_bulletin(COMMUNE_A, "Tin A")
    (item,) = manifest_payload(client, a)["items"]
    start = timezone.now().replace(microsecond=0)
    entries = [
        {
            "id": "6b7c1a34-2f7e-4b8e-9a55-000000000001",
            "item": item["id"],
            "bulletin": bulletin.pk,
            "revision_id": item["revision_id"],
            "started_at": start.isoformat(),
            "ended_at": (start + datetime.timedelta(seconds=20)).isoformat(),
        },
        {"id": "not-a-uuid", "started_at": start.isoformat(), "ended_at": start.isoformat()},
    ]
    got = board_post(client, a, "/proofs", {"entries": entries})
    assert got.status_code == 200, got.content
    assert got.json()["accepted"] == [entries[0]["id"]] and len(got.json()["rejected"]) == 1
    again = board_post(client, a, "/proofs", {"entries": entries[:1]})
    assert again.json()["accepted"] == [entries[0]["id"]]
    assert DisplayProof.objects.count() == 1
    proof = DisplayProof.objects.get()
    assert proof.bulletin_id == bulletin.pk and proof.seconds == 20

    beat = board_post(client, a, "/state", {"status": "online", "current": {"title": "Tin A"}})
    assert beat.status_code == 200
    board = Board.objects.get(pk=a["device"])
    assert board.current_item == "Tin A" and board.reported_online

    from grassroots.core.testing import call

    report = call(
        client, "get", f"/api/v1/signage/display-report?bulletin={bulletin.pk}",
        user=user("viewer"),
    )  # fmt: skip
    assert report.json()[0]["shows"] == 1 and report.json()[0]["seconds"] == 20


def test_screenshot_upload_validated(client, demo, settings):
    from PIL import Image

    a = paired_board(COMMUNE_A)
    assert_problem(
        board_post(client, a, "/screenshot", b"GIF89a...", content_type="image/png"), 415
    )
    buf = io.BytesIO()
    Image.new("RGB", (64, 36), (200, 0, 0)).save(buf, "PNG")
    ok = board_post(client, a, "/screenshot", buf.getvalue(), content_type="image/png")
    assert ok.status_code == 200
    from grassroots.core.testing import call

    shot = call(client, "get", f"/api/v1/boards/{a['device']}/screenshot", user=user("operator"))
    assert shot.status_code == 200 and b"".join(shot.streaming_content) == buf.getvalue()


def test_revoked_board_loses_access_and_broker_login(client, demo):
    a = paired_board(COMMUNE_A)
    accounts = {acc.username: acc for acc in broker_accounts.accounts()}
    acc = accounts[f"board-{a['device']}"]
    assert acc.read == [
        f"grassroots/v1/dev/{a['device']}/cmd",
        f"grassroots/v1/unit/{COMMUNE_A}/cmd",
        "grassroots/v1/unit/33/cmd",
    ] or sorted(acc.read[1:]) == sorted(
        [f"grassroots/v1/unit/{COMMUNE_A}/cmd", "grassroots/v1/unit/33/cmd"]
    )
    assert acc.write == [
        f"grassroots/v1/dev/{a['device']}/state",
        f"grassroots/v1/dev/{a['device']}/events",
    ]
    actions.revoke(user=user("operator"), board=Board.objects.get(pk=a["device"]))
    assert board_get(client, a, "/manifest").status_code == 401
    assert f"board-{a['device']}" not in {x.username for x in broker_accounts.accounts()}


def test_coverage_counts_working_boards(demo):
    before = coverage(unit("33"))
    assert before.urban.total + before.rural.total == 104 and before.urban.covered == 0
    a = paired_board(COMMUNE_A)  # Phường Phố Hiến
    Board.objects.filter(pk=a["device"]).update(last_seen_at=timezone.now())
    after = coverage(unit("33"))
    assert after.urban.covered == 1 and not after.meets_plan
    row = next(u for u in after.units if u["code"] == COMMUNE_A)
    assert row["covered"] and row["working_boards"] == 1
    Device.objects.filter(pk=a["device"]).update(condition="broken")
    assert coverage(unit("33")).urban.covered == 0


def test_console_pages_render(client, demo):
    a = paired_board(COMMUNE_A)
    client.force_login(user("operator"))
    page = client.get("/bang-tin-dien-tu/")
    assert page.status_code == 200 and "Độ phủ" in page.content.decode()
    assert client.get(f"/bang-tin-dien-tu/{a['device']}/").status_code == 200
    preview = client.get(f"/bang-tin-dien-tu/{a['device']}/xem-truoc/")
    assert "script-src 'self'" in preview["Content-Security-Policy"]
    assert preview["X-Frame-Options"] == "SAMEORIGIN"  # shown in the board page's iframe
    assert client.get("/bang-tin-dien-tu/bo-cuc/").status_code == 200
    client.force_login(user("operator2"))
    assert client.get(f"/bang-tin-dien-tu/{a['device']}/").status_code == 404


def test_player_page_has_strict_csp(client, settings):
    settings.MQTT_WS_URL = "ws://127.0.0.1:18831/"
    page = client.get("/board/")
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "ws://127.0.0.1:18831" in csp
    assert "<script>" not in page.content.decode()
    sw = client.get("/board/sw.js")
    assert sw["Service-Worker-Allowed"] == "/board/" and "/board/" in sw.content.decode()


# --- endpoint contracts ----------------------------------------------------------------------


def _board_in(code: str, operator: str) -> int:
    return paired_board(code, operator=operator)["device"]


class TestManifestContract(EndpointContract):
    permission = "signage.view"

    def in_scope_url(self):
        return f"/api/v1/boards/{_board_in(COMMUNE_A, 'operator')}/manifest"

    def out_of_scope_url(self):
        return f"/api/v1/boards/{_board_in(COMMUNE_B, 'operator2')}/manifest"


class TestScreenshotRequestContract(EndpointContract):
    method = "post"
    permission = "signage.manage"
    success = 202
    audited = True

    def in_scope_url(self):
        return f"/api/v1/boards/{_board_in(COMMUNE_A, 'operator')}/screenshot-request"

    def out_of_scope_url(self):
        return f"/api/v1/boards/{_board_in(COMMUNE_B, 'operator2')}/screenshot-request"


class TestLayoutCreateContract(EndpointContract):
    method = "post"
    permission = "signage.manage"
    success = 201
    audited = True

    def in_scope_url(self):
        return "/api/v1/signage/layouts"

    out_of_scope_url = in_scope_url

    def body(self):
        return {"unit": COMMUNE_A, "name": "Chia vùng", "kind": "split"}

    def out_of_scope_body(self):
        return {"unit": COMMUNE_B, "name": "Chia vùng", "kind": "split"}


class TestPairContract(EndpointContract):
    method = "post"
    permission = "signage.manage"
    success = 201
    audited = True

    def in_scope_url(self):
        return "/api/v1/boards/pair"

    out_of_scope_url = in_scope_url

    def body(self):
        return {"code": actions.start_pairing()[0].code, "unit": COMMUNE_A}

    def out_of_scope_body(self):
        return {"code": actions.start_pairing()[0].code, "unit": COMMUNE_B}


def test_playlist_console_form(client, demo):
    from grassroots.signage.models import Playlist

    a = paired_board(COMMUNE_A)
    bulletin = approved_bulletin(COMMUNE_A, "Lịch trực bão")
    client.force_login(user("operator"))
    assert client.get("/bang-tin-dien-tu/danh-sach/moi/").status_code == 200
    response = client.post(
        "/bang-tin-dien-tu/danh-sach/moi/",
        {
            "unit": COMMUNE_A,
            "name": "Giờ cao điểm",
            "active": "on",
            "weekdays": ["5", "6"],
            "start_time": "17:00",
            "end_time": "21:00",
            "boards": [str(a["device"])],
            f"item_{bulletin.pk}": "on",
            f"pos_{bulletin.pk}": "0",
            f"dur_{bulletin.pk}": "30",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    playlist = Playlist.objects.get(name="Giờ cao điểm")
    assert playlist.weekdays == [5, 6] and playlist.start_time.hour == 17
    assert list(playlist.items.values_list("bulletin_id", "duration")) == [(bulletin.pk, 30)]
    assert list(playlist.boards.values_list("pk", flat=True)) == [a["device"]]
    # Clearing the daypart on edit.
    client.post(
        f"/bang-tin-dien-tu/danh-sach/{playlist.pk}/",
        {"name": "Giờ cao điểm", "active": "on", "weekdays": ["5"], f"item_{bulletin.pk}": "on"},
    )
    playlist.refresh_from_db()
    assert playlist.start_time is None and playlist.weekdays == [5]
    assert list(playlist.boards.all()) == []
    client.force_login(user("operator2"))
    assert client.get(f"/bang-tin-dien-tu/danh-sach/{playlist.pk}/").status_code == 404


def test_proofs_sent_over_mqtt_are_read_with_the_protocol(demo):
    """A `display` event (grassroots_protocol.Display) stores its proofs; one that breaks the
    protocol stores none and is kept as a `protocol` fault of the board."""
    import uuid

    from grassroots.core.gateway import discover, dispatch
    from grassroots.devices.models_fleet import DeviceEvent

    discover()
    cred = paired_board(COMMUNE_A)
    topic = f"grassroots/v1/dev/{cred['device']}/events"
    proof = {
        "id": str(uuid.uuid4()),
        "item": "u-b1-r1",
        "kind": "item",
        "started_at": "2026-12-01T07:00:00+07:00",
        "ended_at": "2026-12-01T07:00:20+07:00",
    }
    good = {"type": "display", "id": "d-1", "device": str(cred["device"]), "entries": [proof]}
    bad = {**good, "id": "d-2", "entries": [{**proof, "id": "not-a-uuid"}]}
    dispatch([(topic, json.dumps(good).encode()), (topic, json.dumps(bad).encode())])
    assert list(DisplayProof.objects.values_list("id", flat=True)) == [uuid.UUID(proof["id"])]
    fault = DeviceEvent.objects.get(event_id="d-2")
    assert fault.type == "fault" and fault.payload["code"] == "protocol"
