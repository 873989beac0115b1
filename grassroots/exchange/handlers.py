"""What each kind of message becomes once it is checked (inside `inbound.receive`'s transaction).

- bulletin: a bulletin of the province (source: the central system) submitted to the province's
  own approval chain, or approved and published at once when the peer's setting says so; an
  `emergency` goes on air at once through the alerts app (no waiting for anyone);
- withdrawal: the bulletin withdrawn everywhere, its emergency stopped;
- statistics: the commune figures stored per month (central side), and what became of each
  bulletin sent (received, approved, placed, aired);
- citizen_report: a citizen report in the responsible commune's feedback queue (its status
  going back to the sender: exchange.reports);
- report_status: what became of a report we forwarded, mirrored onto it.
"""

from __future__ import annotations

import datetime
import html
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.units.models import Unit

from . import federation
from .choices import Kind
from .models import BulletinFate, InboundMessage, Peer, PeerMonth, UnitMonth

EMERGENCY_DEFAULT_MINUTES = 60


def apply(
    *,
    peer: Peer,
    envelope: federation.Envelope,
    body: Any,
    record: InboundMessage,
    files: list[bytes],
) -> None:
    {
        Kind.BULLETIN: _bulletin,
        Kind.WITHDRAWAL: _withdrawal,
        Kind.STATISTICS: _statistics,
        Kind.CITIZEN_REPORT: _citizen_report,
        Kind.REPORT_STATUS: _report_status,
    }[envelope.kind](peer=peer, envelope=envelope, body=body, record=record, files=files)


def _html(text: str) -> str:
    """Plain text as the bulletin editor's HTML: one paragraph per blank-line block."""
    parts = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in parts)


def _store_media(bulletin, body: federation.BulletinBody, files: list[bytes]) -> None:
    """The fetched (and hash-checked) files become the bulletin's attachments, processed by
    the worker like an upload."""
    from grassroots.content.models import MediaAsset
    from grassroots.content.tasks import process_media

    incoming = Path(settings.MEDIA_ROOT) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    for item, content in zip(body.media, files, strict=True):
        suffix = Path(item.name or item.url).suffix.lower()[:10]
        relative = f"incoming/{uuid.uuid4().hex}{suffix if suffix.isascii() else ''}"
        (Path(settings.MEDIA_ROOT) / relative).write_bytes(content)
        declared = body.kind if body.kind != "text" else (item.mime.split("/")[0] or "audio")
        asset = MediaAsset.objects.create(
            unit=bulletin.unit,
            bulletin=bulletin,
            declared_kind=declared if declared in ("audio", "video", "image") else "audio",
            original_name=(item.name or Path(item.url).name)[:255],
            upload_path=relative,
            size=len(content),
        )
        audit.record(asset, ChangeAction.CREATE, comment="tệp của bản tin trung ương")
        process_media.enqueue(asset.pk)


def _bulletin(*, peer, envelope, body: federation.BulletinBody, record, files) -> None:
    from grassroots.content import actions as content
    from grassroots.content.choices import Priority, Source, Status
    from grassroots.content.models import Bulletin, Category

    owner = peer.unit
    targets = (
        list(Unit.objects.current().filter(code__in=body.targets)) if body.targets else [owner]
    )
    bulletin = record.bulletin if record.pk else None
    new = bulletin is None
    if new:
        bulletin = Bulletin(unit=owner, created_by=None)
    elif bulletin.status in (Status.SUBMITTED, Status.APPROVED, Status.PUBLISHED):
        content._transition(
            bulletin, Status.DRAFT, user=None,
            comment=f"Trung ương gửi phiên bản {envelope.version}.",
        )  # fmt: skip
    category = body.category
    if category and not Category.objects.filter(slug=category, active=True).exists():
        category = None  # a category the province does not use: left for the approver
    content._apply(
        bulletin,
        {
            "title": body.title,
            "body": _html(body.text),
            "kind": body.kind,
            "priority": body.priority,
            "source": Source.NATIONAL,
            "source_name": body.source_name or peer.name,
            "category": category,
            "go_live_at": body.valid_from,
            "expire_at": body.valid_to,
        },
    )
    bulletin.save()
    bulletin.targets.set(targets)
    if files:
        bulletin.media.all().delete()
        _store_media(bulletin, body, files)
    content._revise(bulletin, None)
    audit.record(
        bulletin,
        ChangeAction.CREATE if new else ChangeAction.UPDATE,
        comment=f"Nhận từ {peer.name}: {envelope.id} v{envelope.version}",
    )
    note = f"{peer.name}: {envelope.id} v{envelope.version}"
    if body.priority == Priority.EMERGENCY:
        _publish(bulletin, note)
        record.emergency = _emergency(peer, body, targets, note, record)
    elif peer.bulletins_need_approval:
        bulletin.approval_step = 0
        content._transition(
            bulletin, Status.SUBMITTED, user=None, step=0, fields=("approval_step",),
            comment=f"Bản tin của {peer.name}, chờ tỉnh duyệt.",
        )  # fmt: skip
    else:
        _publish(bulletin, note)
    record.bulletin = bulletin


def _publish(bulletin, note: str) -> None:
    """Approve and publish as the system (the peer's setting trusts the centre's approval)."""
    from grassroots.content import actions as content
    from grassroots.content.choices import Status

    revision = content.sign_revision(bulletin.current_revision)
    bulletin.approved_revision = revision
    content._transition(
        bulletin, Status.APPROVED, user=None, comment=f"Duyệt bởi trung ương ({note}).",
        fields=("approved_revision",),
    )  # fmt: skip
    bulletin.published_at = timezone.now()
    content._transition(bulletin, Status.PUBLISHED, user=None, fields=("published_at",))
    content._share_down(bulletin)


def _emergency(peer, body, targets, note: str, record):
    """An emergency from the centre goes on air at once (alerts app), replacing an earlier
    version's emergency."""
    from grassroots.alerts import actions as alerts

    if record.pk and record.emergency_id:
        alerts.stop_system(emergency=record.emergency, comment=f"Thay bằng bản mới ({note})")
    expires = body.valid_to or timezone.now() + datetime.timedelta(
        minutes=EMERGENCY_DEFAULT_MINUTES
    )
    return alerts.start_system(
        units=targets,
        title=body.title,
        text=body.text or body.title,
        repeat=1,
        expires_at=expires,
        comment=f"Khẩn cấp từ {note}",
    )


def _withdrawal(*, peer, envelope, body: federation.WithdrawalBody, record, files) -> None:
    from grassroots.alerts import actions as alerts
    from grassroots.content import actions as content
    from grassroots.content.choices import Status

    target = InboundMessage.objects.filter(peer=peer, message_id=body.ref).first()
    if target is None or target.bulletin is None:
        record.note = f"Không có bản tin {body.ref} để thu hồi."
        return
    bulletin = target.bulletin
    comment = f"{peer.name} thu hồi: {body.reason}"[:500]
    if bulletin.status in (Status.SUBMITTED, Status.APPROVED, Status.PUBLISHED):
        content._transition(bulletin, Status.WITHDRAWN, user=None, comment=comment)
        bulletin.shares.filter(withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    if target.emergency_id:
        alerts.stop_system(emergency=target.emergency, comment=comment)
    record.bulletin = bulletin
    record.note = comment


def _month(value: str) -> datetime.date:
    year, month = value.split("-")
    return datetime.date(int(year), int(month), 1)


def _statistics(*, peer, envelope, body: federation.StatisticsBody, record, files) -> None:
    month = _month(body.month)
    rows = [
        UnitMonth(
            peer=peer,
            unit_code=u.unit,
            unit_name=u.name,
            month=month,
            indicators=u.indicators,
            counters=u.counters,
            devices_total=u.devices.total,
            devices_online=u.devices.online,
            availability=u.devices.availability,
        )
        for u in body.units
    ]
    UnitMonth.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["peer", "unit_code", "month"],
        update_fields=[
            "unit_name", "indicators", "counters", "devices_total", "devices_online",
            "availability",
        ],
    )  # fmt: skip
    PeerMonth.objects.update_or_create(
        peer=peer,
        month=month,
        defaults={
            "feedback_received": body.feedback_received,
            "feedback_handled": body.feedback_handled,
            "version": envelope.version,
        },
    )
    fates = [
        BulletinFate(
            peer=peer,
            message_id=a.ref,
            received=a.received,
            approved=a.approved,
            communes=a.communes,
            placed=a.placed,
            aired_communes=a.aired_communes,
            plays=a.plays,
        )
        for a in body.aired
    ]
    BulletinFate.objects.bulk_create(
        fates,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["peer", "message_id"],
        update_fields=[
            "received", "approved", "communes", "placed", "aired_communes", "plays", "updated_at",
        ],
    )  # fmt: skip
    record.note = f"{len(rows)} đơn vị, {len(fates)} bản tin"
    from .stats import title

    record.title = title(body.province, body.month)


def _citizen_report(*, peer, envelope, body: federation.CitizenReportBody, record, files):
    """Taken like a report made on the phone: the responsible commune (checked before, in
    inbound.receive), the category's deadline, a tracking code; the photos were fetched,
    hash-checked and re-encoded before. What became of it goes back to the sender."""
    from grassroots.feedback import actions as feedback
    from grassroots.feedback.choices import Channel
    from grassroots.feedback.models import Category

    from . import reports

    if record.pk and record.report_id:
        record.note = "Phiên bản mới của phản ánh đã nhận: giữ phản ánh đang xử lý."
        return
    unit = reports.responsible_unit(peer, body)
    feedback.ensure_default_categories()
    category = (
        Category.objects.filter(code=body.category, is_active=True).first()
        if body.category
        else None
    )
    note = ""
    if category is None:  # a service the province does not have: its "other" category
        category = (
            Category.objects.filter(code="khac", is_active=True).first()
            or Category.objects.filter(is_active=True).order_by("order", "pk").first()
        )
        if body.category:
            note = f"Lĩnh vực '{body.category}' không có ở tỉnh: xếp vào '{category.name}'. "
    contact = body.reporter_contact
    text = feedback.clean_text(f"{body.title}\n\n{body.description}")
    report = feedback.submit_report(
        category=category,
        text=text,
        unit=unit,
        photos=files,
        latitude=body.latitude,
        longitude=body.longitude,
        share_location=body.latitude is not None and body.longitude is not None,
        address=body.address,
        name=body.reporter_name,
        email=contact if "@" in contact else "",
        phone=contact[:20] if contact and "@" not in contact else "",
        channel=Channel.EXCHANGE,
    )
    record.report = report
    record.note = f"{note}Mã phản ánh {report.tracking_code}, giao {unit.name}."[:500]
    reports.send_status(report, event="received", origin=record)


def _report_status(*, peer, envelope, body: federation.ReportStatusBody, record, files):
    """What became of a report we forwarded: kept as received, and mirrored onto our own
    report when it was one of ours (reports.mirror_status)."""
    from . import reports

    record.title = f"{body.tracking_code}: {body.status}"[:300]
    record.note = reports.mirror_status(peer, body, envelope.version)[:500]
