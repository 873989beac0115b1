"""Citizens' reports across systems: forwarded from a central citizen app to the responsible
province, and what became of them going back (the `citizen_report` and `report_status` kinds).

The province takes a forwarded report like one made on the phone (feedback.actions.submit_report:
the responsible commune, the category's deadline, the tracking code); every step the citizen
would see (taken, rerouted, answered, closed, reopened) goes back to the sender as a newer
version of the message `report-status:<tracking code>`. The sender, when it forwarded one of
its own reports (`forward_report`), mirrors the answer onto it, so its citizen app shows it.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from django.utils import timezone

from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit
from grassroots_protocol import format_time

from . import federation, outbound
from .choices import Kind
from .models import InboundMessage, OutboundMessage, Peer

log = logging.getLogger("grassroots.exchange")

STATUS_EVENTS = frozenset(
    {"received", "rerouted", "pulled_up", "escalated", "merged", "answered", "closed",
     "reopened", "restored"}
)  # fmt: skip
"""Report events that change what the citizen sees (not assignment, reminders, ratings)."""

FORWARDED_PREFIX = "citizen-report:"


class Unroutable(ValueError):
    """No commune of ours can be made responsible for the report (the reason in Vietnamese)."""


def responsible_unit(peer: Peer, body: federation.CitizenReportBody) -> Unit:
    """The commune-level unit that handles the report: `unit` itself when it is a commune,
    else the commune nearest to the GPS position, which must lie within `unit`. Unroutable
    otherwise. (The unit is already known to be in the peer's scope: inbound.check_scope.)"""
    from grassroots.feedback import geo

    unit = Unit.objects.current().get(code=body.unit, path__startswith=peer.unit.path)
    if unit.kind in UnitKind.commune_level():
        return unit
    if body.latitude is None or body.longitude is None:
        raise Unroutable(
            f"'{unit.name}' không phải đơn vị cấp xã và phản ánh không có vị trí GPS: hãy gửi "
            "mã xã/phường nơi xảy ra sự việc, hoặc kèm vĩ độ, kinh độ."
        )
    commune = geo.nearest_commune(body.latitude, body.longitude)
    if commune is None or not commune.path.startswith(unit.path):
        raise Unroutable(
            f"Vị trí GPS ({body.latitude}, {body.longitude}) không nằm trong '{unit.name}': hãy "
            "kiểm tra lại vị trí hoặc gửi mã xã/phường nơi xảy ra sự việc."
        )
    return commune


def photos_of(media: list[federation.ReportMedia], files: list[bytes]) -> list[Any]:
    """The fetched (hash-checked) photos checked and re-encoded like the phone form's
    (feedback.photos.process; its location dropped): ValidationError in Vietnamese."""
    from grassroots.feedback import photos

    out = []
    for item, content in zip(media, files, strict=True):
        upload = io.BytesIO(content)
        upload.name = item.url.rsplit("/", 1)[-1][:100] or "ảnh"
        upload.size = len(content)
        out.append(photos.process(upload, keep_location=False))
    return out


def status_body(report, *, ref: str, event: str) -> dict[str, Any]:
    """A `report_status` body (federation.ReportStatusBody) for the report as it is now."""
    from grassroots.feedback.choices import ReportStatus

    def when(value):
        return format_time(value) if value else None

    return {
        "ref": ref,
        "tracking_code": report.tracking_code,
        "status": report.status,
        "open311_status": "open" if report.status in ReportStatus.open_states() else "closed",
        "resolution": report.resolution or "",
        "unit": report.unit.code,
        "unit_name": report.unit.name,
        "due_at": when(report.due_at),
        "answer": report.public_answer or "",
        "private_answer": report.private_answer or "",
        "answered_at": when(report.answered_at),
        "updated_at": format_time(timezone.now()),
        "event": event,
    }


def send_status(report, *, event: str, origin: InboundMessage | None = None) -> list:
    """Tell the system that forwarded the report what became of it (inside the caller's
    transaction: the message leaves only if the change commits). Nothing for a report made
    here. `origin`: the citizen_report message, when it is not saved yet."""
    if origin is None:
        origin = (
            InboundMessage.objects.filter(report=report, kind=Kind.CITIZEN_REPORT)
            .select_related("peer")
            .first()
        )
    if origin is None:
        return []
    return outbound.emit(
        peers=[origin.peer],
        kind=Kind.REPORT_STATUS,
        message_id=f"report-status:{report.tracking_code}",
        body=status_body(report, ref=origin.message_id, event=event),
        title=f"{report.tracking_code}: {report.get_status_display()}",
    )


def report_event(sender, instance, created: bool = False, **kwargs) -> None:
    """post_save of feedback.ReportEvent: a step the citizen sees goes back to the sender."""
    if created and instance.kind in STATUS_EVENTS:
        send_status(instance.report, event=instance.kind)


def forward_report(*, report, peer: Peer, unit_code: str = "") -> list[OutboundMessage]:
    """Forward one of our citizen reports to the system responsible for it (e.g. the central
    citizen app's report to a province): a signed `citizen_report` in the outbox, message id
    `citizen-report:<tracking code>`. `unit_code`: the receiver's unit, else the report's."""
    contact = report.email or report.phone
    body = {
        "unit": unit_code or report.unit.code,
        "title": report.category.name[:200],
        "description": report.text[:5000],
        "category": report.category.code,
        "reported_at": format_time(report.created_at),
        "latitude": report.latitude if report.share_location else None,
        "longitude": report.longitude if report.share_location else None,
        "address": report.address,
        "reporter_name": report.name,
        "reporter_contact": contact,
    }
    return outbound.emit(
        peers=[peer],
        kind=Kind.CITIZEN_REPORT,
        message_id=f"{FORWARDED_PREFIX}{report.tracking_code}",
        body=body,
        title=report.tracking_code,
    )


def mirror_status(peer: Peer, body: federation.ReportStatusBody, version: int) -> str:
    """On the sending side: the status received mirrored onto the report we forwarded (its
    answer, state and a public step of its timeline), so the citizen sees it where they
    reported. Returns a note for the console."""
    from grassroots.feedback.choices import EventKind, ReportStatus
    from grassroots.feedback.models import Report, ReportEvent

    label = dict(ReportStatus.choices).get(body.status, body.status)
    note = f"{body.tracking_code} ({body.unit_name or body.unit}): {label}"
    if not body.ref.startswith(FORWARDED_PREFIX):
        return note
    sent = OutboundMessage.objects.filter(
        peer=peer, kind=Kind.CITIZEN_REPORT, message_id=body.ref
    ).exists()
    report = Report.objects.filter(tracking_code=body.ref[len(FORWARDED_PREFIX) :]).first()
    if not sent or report is None:
        return note + " (không có phản ánh tương ứng ở hệ thống này)"
    report.status = body.status
    report.resolution = body.resolution if body.status == ReportStatus.CLOSED else ""
    report.public_answer = body.answer
    report.private_answer = body.private_answer
    report.answered_at = body.answered_at
    if body.status == ReportStatus.CLOSED and report.closed_at is None:
        report.closed_at = timezone.now()
    elif body.status != ReportStatus.CLOSED:
        report.closed_at = None
    report.save()
    kind = {
        "answered": EventKind.ANSWERED,
        "closed": EventKind.CLOSED,
        "reopened": EventKind.REOPENED,
    }.get(body.event, EventKind.REROUTED)
    ReportEvent.objects.create(
        report=report,
        kind=kind,
        public=True,
        note=(f"{peer.name}: {body.unit_name or body.unit}, mã phản ánh {body.tracking_code}"
              f" — {label} (cập nhật {version})")[:1000],
    )  # fmt: skip
    return note
