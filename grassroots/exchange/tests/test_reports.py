"""Citizens' reports forwarded by a central citizen app: taken like a phone report, routed to
the responsible commune, refused with a reason when no commune of ours is responsible; and
what became of them goes back to the sender as `report_status` messages."""

from __future__ import annotations

import json

import pytest

from grassroots.core.testing import COMMUNE_A, COMMUNE_B
from grassroots.exchange import federation, keys, outbound, reports
from grassroots.exchange.choices import DeliveryStatus, Kind, Refusal
from grassroots.exchange.models import InboundMessage, OutboundMessage, RefusedMessage
from grassroots.feedback import actions as feedback
from grassroots.feedback.choices import Channel, EventKind, ReportStatus
from grassroots.feedback.models import Report
from grassroots.feedback.tests.helpers import jpeg_bytes, make_report

from .helpers import Remote
from .test_delivery import mirror
from .test_inbound import file_server, post, refused  # noqa: F401 - file_server: a fixture

pytestmark = pytest.mark.django_db


def report_body(**over) -> dict:
    body = {
        "unit": COMMUNE_A,
        "title": "Rác thải tràn ra đường",
        "description": "Bãi rác đầu ngõ 5 phố Bãi Sậy không được thu gom đã ba ngày.",
        "category": "moi-truong",
        "reported_at": "2026-11-28T07:30:00+07:00",
        "reporter_name": "Nguyễn Thị Hoa",
        "reporter_contact": "0912345678",
    }
    body.update(over)
    return body


def sent_status(peer_code: str = "central") -> list[dict]:
    """The report_status messages in the outbox for the peer, read by the protocol's parser
    as the receiving side reads them (shape, body, signature under our public key)."""
    out = []
    for row in OutboundMessage.objects.filter(
        peer__code=peer_code, kind=Kind.REPORT_STATUS
    ).order_by("version"):
        data = json.loads(row.envelope)
        envelope = federation.parse_envelope(data)
        assert federation.signature_valid(data, keys.public_key_b64())
        assert federation.content_hash(data["body"]) == envelope.content_hash
        out.append(
            {"version": envelope.version, "id": envelope.id,
             **federation.parse_body(envelope).model_dump(mode="json")}
        )  # fmt: skip
    return out


@pytest.fixture
def central(demo):
    remote = Remote()
    remote.declare()
    return remote


def test_report_routed_to_its_commune_and_its_answer_goes_back(client, central, users, file_server):  # noqa: F811
    photo = file_server("anh-bai-rac.jpg", jpeg_bytes(gps=True))
    body = report_body(media=[{k: photo[k] for k in ("url", "sha256", "size")}])
    envelope = central.seal("citizen_report", body, message_id="cr-7")
    r = post(client, envelope)
    assert r.status_code == 202, r.content

    report = Report.objects.get(channel=Channel.EXCHANGE)
    assert report.unit.code == COMMUNE_A and report.category.code == "moi-truong"
    assert report.text.startswith("Rác thải tràn ra đường\n\nBãi rác đầu ngõ 5")
    assert (report.name, report.phone, report.email) == ("Nguyễn Thị Hoa", "0912345678", "")
    assert report.status == ReportStatus.NEW and report.due_at > report.created_at
    assert report.events.filter(kind=EventKind.RECEIVED).exists()
    stored = report.photos.get()
    assert stored.has_location is False  # re-encoded like the phone form's, EXIF GPS dropped
    record = InboundMessage.objects.get(message_id="cr-7")
    assert record.report == report and report.tracking_code in record.note

    # taken: the sender learns the tracking code, the commune and the deadline
    [taken] = sent_status()
    assert taken["id"] == f"report-status:{report.tracking_code}" and taken["version"] == 1
    assert (taken["ref"], taken["status"], taken["open311_status"], taken["event"]) == (
        "cr-7", "new", "open", "received",
    )  # fmt: skip
    assert taken["unit"] == COMMUNE_A and taken["unit_name"] == "Phường Phố Hiến"
    assert taken["tracking_code"] == report.tracking_code and taken["due_at"]

    # the same message again: nothing changes (no second report, no second status)
    assert post(client, envelope).json()["outcome"] == "duplicate"
    assert Report.objects.count() == 1 and len(sent_status()) == 1

    # the commune answers and closes it: the answer goes back as a newer version
    feedback.answer(
        report=report, user=users["operator"], public_answer="Đã thu gom rác sáng 29/11.",
        private_answer="Cảm ơn chị Hoa đã báo.", resolution="resolved",
    )  # fmt: skip
    answered = sent_status()[-1]
    assert answered["version"] == 2 and answered["event"] == "answered"
    assert (answered["status"], answered["open311_status"], answered["resolution"]) == (
        "closed", "closed", "resolved",
    )  # fmt: skip
    assert answered["answer"] == "Đã thu gom rác sáng 29/11."
    assert answered["private_answer"] == "Cảm ơn chị Hoa đã báo." and answered["answered_at"]
    # only the newest is worth sending: the pending first version is superseded
    assert list(
        OutboundMessage.objects.filter(kind=Kind.REPORT_STATUS).values_list("version", "status")
    ) == [(1, DeliveryStatus.SUPERSEDED), (2, DeliveryStatus.PENDING)]

    # a report made on the phone sends nothing anywhere
    phone = make_report(COMMUNE_B)
    feedback.answer(report=phone, user=users["operator2"], public_answer="Đã xử lý.")
    assert len(sent_status()) == 2


def test_reports_no_commune_of_ours_is_responsible_for_are_refused(client, central, file_server):  # noqa: F811
    outside = central.seal("citizen_report", report_body(unit="00004"), message_id="x-1")
    body = refused(post(client, outside), 403, Refusal.OUT_OF_SCOPE)
    assert "'00004' nằm ngoài phạm vi" in body["detail"]

    # the province itself: routed by the GPS position, or refused saying what to send
    r = post(client, central.seal("citizen_report", report_body(unit="33"), message_id="x-2"))
    assert "không phải đơn vị cấp xã" in refused(r, 422, Refusal.UNROUTABLE)["detail"]
    far = report_body(unit="33", latitude=16.05, longitude=108.2)  # Đà Nẵng
    r = post(client, central.seal("citizen_report", far, message_id="x-3"))
    assert "không nằm trong" in refused(r, 422, Refusal.UNROUTABLE)["detail"]
    near = report_body(unit="33", latitude=20.6636, longitude=106.0679, category="khong-co")
    r = post(client, central.seal("citizen_report", near, message_id="x-4"))
    assert r.status_code == 202, r.content
    report = Report.objects.get()
    assert report.unit.code == COMMUNE_A and report.category.code == "khac"
    assert "'khong-co' không có ở tỉnh" in InboundMessage.objects.get(message_id="x-4").note

    # a "photo" that is not one, though its hash is right: refused before anything is kept
    fake = file_server("anh.jpg", b"<html>not a photo</html>")
    body = report_body(media=[{k: fake[k] for k in ("url", "sha256", "size")}])
    r = post(client, central.seal("citizen_report", body, message_id="x-5"))
    assert "không phải là ảnh" in refused(r, 422, Refusal.MEDIA)["detail"]
    assert Report.objects.count() == 1

    # a province's peer whose scope is one commune: reports of another commune are not its own
    neighbour = Remote(code="province-neighbour")
    neighbour.declare(unit_code=COMMUNE_B, kinds_in=["citizen_report"])
    r = post(client, neighbour.seal("citizen_report", report_body(unit=COMMUNE_A)))
    refused(r, 403, Refusal.OUT_OF_SCOPE)
    # and a status for a report we never forwarded to it is refused too
    status = {
        "ref": "citizen-report:PA-0000", "tracking_code": "PA-1", "status": "answered",
        "open311_status": "open", "unit": COMMUNE_A, "updated_at": "2026-11-29T08:00:00Z",
    }  # fmt: skip
    r = post(client, central.seal("report_status", status, message_id="rs-1"))
    assert "không được chuyển từ hệ thống này" in refused(r, 403, Refusal.OUT_OF_SCOPE)["detail"]
    assert RefusedMessage.objects.filter(reason=Refusal.OUT_OF_SCOPE).count() == 3


@pytest.mark.django_db(transaction=True)
def test_forwarded_report_answer_comes_back_over_http(live_server, demo, users):
    """Both ends over real HTTP: this system is its own peer. A report made here is
    forwarded, taken as a new report of the commune, answered there, and the answer is
    mirrored onto the report the citizen made (what their app shows)."""
    peer = mirror(live_server.url)
    mine = make_report(COMMUNE_A, text="Đèn đường thôn Bình Minh hỏng", name="Trần Văn Nam",
                       phone="0987654321")  # fmt: skip
    reports.forward_report(report=mine, peer=peer, unit_code=COMMUNE_B)
    assert outbound.push_due() == 1
    taken = Report.objects.get(channel=Channel.EXCHANGE)
    assert taken.unit.code == COMMUNE_B and "Đèn đường thôn Bình Minh hỏng" in taken.text
    assert (taken.name, taken.phone) == ("Trần Văn Nam", "0987654321")

    assert outbound.push_due() == 1  # its status: taken, with the tracking code
    mine.refresh_from_db()
    step = mine.events.filter(public=True).order_by("-pk").first()
    assert taken.tracking_code in step.note and "Xã Tân Hưng" in step.note

    feedback.answer(report=taken, user=users["operator2"], public_answer="Đã thay bóng đèn.",
                    resolution="resolved")  # fmt: skip
    assert outbound.push_due() == 1
    mine.refresh_from_db()
    assert mine.status == ReportStatus.CLOSED and mine.public_answer == "Đã thay bóng đèn."
    assert mine.events.filter(kind=EventKind.ANSWERED, public=True).exists()
    # nothing loops: the mirrored report is ours, not forwarded to us, so it sends nothing
    assert not OutboundMessage.objects.filter(status=DeliveryStatus.PENDING).exists()
