"""The inbox: signed messages taken once, newer versions replace, refusals answered and logged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from grassroots.alerts.models import Emergency
from grassroots.content.choices import Source, Status
from grassroots.content.models import Bulletin, BulletinShare
from grassroots.core.testing import COMMUNE_A, COMMUNE_B
from grassroots.exchange import federation
from grassroots.exchange.choices import Refusal
from grassroots.exchange.models import (
    BulletinFate,
    InboundMessage,
    PeerKey,
    RefusedMessage,
    UnitMonth,
)
from grassroots_protocol import schema as schema_files

from .helpers import Remote, bulletin_body

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/exchange/inbox"


def post(client, envelope):
    return client.post(
        INBOX, data=json.dumps(envelope, ensure_ascii=False), content_type="application/json"
    )


def refused(response, status: int, reason: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["reason"] == reason
    assert RefusedMessage.objects.filter(reason=reason).exists()
    return body


@pytest.fixture
def central(demo):
    remote = Remote()
    remote.declare()
    return remote


def test_bulletin_lands_for_approval_once_and_newer_version_replaces(client, central):
    envelope = central.seal("bulletin", bulletin_body(targets=[COMMUNE_A]), message_id="b-1")
    r = post(client, envelope)
    assert r.status_code == 202, r.content
    assert r.json() == {"outcome": "applied", "id": "b-1", "version": 1}
    bulletin = Bulletin.objects.get(title="Phòng chống bão số 3")
    assert bulletin.source == Source.NATIONAL and bulletin.status == Status.SUBMITTED
    assert bulletin.unit.code == "33" and bulletin.priority == "priority"
    assert list(bulletin.targets.values_list("code", flat=True)) == [COMMUNE_A]
    assert bulletin.body == "Bà con chủ động gia cố nhà cửa.\n\nKhông ra khơi."  # no markup

    # the same message again (a retried push, a pull after a push): nothing changes
    counts = (Bulletin.objects.count(), bulletin.revisions.count(), bulletin.transitions.count())
    r = post(client, envelope)
    assert r.status_code == 200 and r.json()["outcome"] == "duplicate"
    bulletin.refresh_from_db()
    assert counts == (
        Bulletin.objects.count(),
        bulletin.revisions.count(),
        bulletin.transitions.count(),
    )

    # a newer version replaces the content of the same bulletin and goes through approval again
    newer = central.seal(
        "bulletin", bulletin_body(title="Bão số 3: cập nhật"), message_id="b-1", version=2
    )
    assert post(client, newer).status_code == 202
    bulletin.refresh_from_db()
    assert bulletin.title == "Bão số 3: cập nhật" and bulletin.status == Status.SUBMITTED
    assert Bulletin.objects.filter(source=Source.NATIONAL).count() == 1
    assert InboundMessage.objects.get(message_id="b-1").version == 2

    # the older version arriving late is refused, not applied
    body = refused(post(client, envelope), 409, Refusal.OLD_VERSION)
    assert "cũ hơn" in body["detail"]
    bulletin.refresh_from_db()
    assert bulletin.title == "Bão số 3: cập nhật"


def test_without_approval_published_to_communes_and_withdrawn(client, central):
    central_peer = InboundMessage.peer.field.related_model.objects.get(code="central")
    central_peer.bulletins_need_approval = False
    central_peer.save()
    r = post(client, central.seal("bulletin", bulletin_body(targets=[COMMUNE_A]), message_id="b"))
    assert r.status_code == 202
    bulletin = Bulletin.objects.get(source=Source.NATIONAL)
    assert bulletin.status == Status.PUBLISHED and bulletin.approved_revision.signature
    share = BulletinShare.objects.get(bulletin=bulletin)
    assert share.unit.code == COMMUNE_A and share.must_air

    w = central.seal("withdrawal", {"ref": "b", "reason": "Bão đã tan"}, message_id="b:w")
    assert post(client, w).status_code == 202
    bulletin.refresh_from_db()
    share.refresh_from_db()
    assert bulletin.status == Status.WITHDRAWN and share.withdrawn_at is not None
    # the statistics going up still say it was approved and reached its communes
    from grassroots.exchange import stats

    [fate] = stats.aired(central_peer)
    assert fate["ref"] == "b" and fate["approved"] and fate["communes"] == 1


def test_emergency_goes_on_air_at_once(client, central):
    body = bulletin_body(priority="emergency", targets=[COMMUNE_A], title="Lũ quét khẩn cấp")
    assert post(client, central.seal("bulletin", body, message_id="e")).status_code == 202
    emergency = Emergency.objects.get(title="Lũ quét khẩn cấp")
    assert list(emergency.area.values_list("code", flat=True)) == [COMMUNE_A]
    assert InboundMessage.objects.get(message_id="e").emergency == emergency
    assert emergency.status != "awaiting"  # no second person: the centre is the authority


def test_refusals_are_answered_in_vietnamese_and_logged(client, central):
    good = central.seal("bulletin", bulletin_body(), message_id="x")

    tampered = copy.deepcopy(good)
    tampered["body"]["title"] = "Tin giả"
    tampered["content_hash"] = federation.content_hash(tampered["body"])
    assert "Chữ ký" in refused(post(client, tampered), 403, Refusal.BAD_SIGNATURE)["detail"]

    stranger = Remote(code="province-99")
    refused(post(client, stranger.seal("bulletin", bulletin_body())), 403, Refusal.UNKNOWN_PEER)

    out_of_scope = central.seal("bulletin", bulletin_body(targets=["00001"]), message_id="y")
    refused(post(client, out_of_scope), 403, Refusal.OUT_OF_SCOPE)

    hashed = copy.deepcopy(good)
    hashed["content_hash"] = "0" * 64
    refused(post(client, hashed), 403, Refusal.BAD_SIGNATURE)  # the hash is signed too

    malformed = central.seal("bulletin", bulletin_body(), message_id="z")
    del malformed["version"]
    assert "version" in refused(post(client, malformed), 422, Refusal.MALFORMED)["detail"]

    # nothing of it was taken
    assert not Bulletin.objects.filter(source=Source.NATIONAL).exists()
    assert not InboundMessage.objects.exists()

    # a revoked key is refused from then on; a rotated one is accepted
    key = PeerKey.objects.get(peer__code="central")
    key.revoked_at = key.added_at
    key.save()
    refused(post(client, good), 403, Refusal.UNKNOWN_KEY)


def test_kind_and_scope_of_peer(client, demo):
    # a province (here: a peer whose scope is one commune) may only send what it is allowed
    neighbour = Remote(code="province-neighbour")
    neighbour.declare(unit_code=COMMUNE_B, kinds_in=["citizen_report"])
    r = post(client, neighbour.seal("bulletin", bulletin_body()))
    refused(r, 403, Refusal.KIND_NOT_ALLOWED)
    report = {
        "unit": COMMUNE_A,
        "title": "Đèn đường hỏng",
        "description": "Đèn đường thôn 3 hỏng đã một tuần.",
        "reported_at": "2026-11-20T08:00:00+07:00",
    }
    refused(post(client, neighbour.seal("citizen_report", report)), 403, Refusal.OUT_OF_SCOPE)
    report["unit"] = COMMUNE_B
    assert post(client, neighbour.seal("citizen_report", report)).status_code == 202
    record = InboundMessage.objects.get(kind="citizen_report")
    assert record.report.unit.code == COMMUNE_B and "Đèn đường hỏng" in record.report.text


def test_statistics_are_stored_and_replaced_by_a_newer_version(client, demo):
    # the central side: Hưng Yên (unit 33) reports its communes
    province = Remote(code="province-33")
    province.declare(unit_code="33", kinds_in=["statistics"])
    body = {
        "province": "33",
        "month": "2026-11",
        "units": [
            {"unit": COMMUNE_A, "name": "Phố Hiến", "indicators": {"essential_reach": 80.0},
             "counters": {"plays": 12}, "devices": {"total": 3, "online": 2}},
        ],
        "aired": [{"ref": "central:bulletin:7", "communes": 5, "placed": 4, "plays": 9,
                   "aired_communes": 3, "approved": True}],
    }  # fmt: skip
    assert post(client, province.seal("statistics", body, message_id="s")).status_code == 202
    body["units"][0]["counters"]["plays"] = 20
    body["aired"][0]["plays"] = 15
    assert post(client, province.seal("statistics", body, message_id="s", version=2)).status_code
    row = UnitMonth.objects.get()
    assert row.counters == {"plays": 20} and row.devices_total == 3
    fate = BulletinFate.objects.get()
    assert (fate.placed, fate.aired_communes, fate.plays) == (4, 3, 15)
    body["province"] = "01"
    r = post(client, province.seal("statistics", body, message_id="s2"))
    refused(r, 403, Refusal.OUT_OF_SCOPE)


def test_published_schemas_are_the_protocols():
    folder = Path(__file__).resolve().parents[3] / "docs" / "exchange"
    for name, generated in federation.schemas().items():
        published = (folder / f"{name}.schema.json").read_text(encoding="utf-8")
        assert published == schema_files.render(generated), (
            f"docs/exchange/{name}.schema.json is stale: run "
            "`python -m grassroots.exchange.federation docs/exchange`"
        )


@pytest.fixture
def file_server(tmp_path):
    """A real HTTP server for a peer's media files."""
    import functools
    import hashlib
    import http.server
    import threading

    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def put(name: str, content: bytes) -> dict:
        (folder / name).write_bytes(content)
        return {
            "url": f"http://127.0.0.1:{server.server_port}/{name}",
            "sha256": hashlib.sha256(content).hexdigest(),
            "size": len(content),
            "mime": "audio/mpeg",
            "name": name,
        }

    yield put
    server.shutdown()


def test_media_fetched_and_checked_before_anything_is_stored(client, central, file_server):
    from grassroots.content.models import MediaAsset

    good = file_server("ban-tin.mp3", b"ID3" + b"\x00" * 2000)
    bad = dict(good, sha256="f" * 64)
    body = bulletin_body(kind="audio", media=[bad])
    r = post(client, central.seal("bulletin", body, message_id="m"))
    assert refused(r, 422, Refusal.MEDIA)["detail"].startswith("Tệp ban-tin.mp3")
    assert not Bulletin.objects.filter(source=Source.NATIONAL).exists()

    gone = dict(good, url=good["url"].replace("ban-tin", "khong-co"))
    r = post(client, central.seal("bulletin", bulletin_body(media=[gone]), message_id="m"))
    refused(r, 503, Refusal.MEDIA)  # may be there later: the sender retries
    assert not MediaAsset.objects.exists()

    r = post(
        client, central.seal("bulletin", bulletin_body(kind="audio", media=[good]), message_id="m")
    )
    assert r.status_code == 202, r.content
    asset = MediaAsset.objects.get()
    assert asset.bulletin.source == Source.NATIONAL and asset.size == good["size"]
    assert asset.original_name == "ban-tin.mp3" and asset.upload_path.startswith("incoming/")
