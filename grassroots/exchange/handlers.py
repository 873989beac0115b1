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


def editor_body(text: str) -> str:
    """The protocol's `text` (plain text: no markup, no entities; paragraphs separated by a
    blank line) as the bulletin's body, stored the way the platform's own editor stores what
    an officer types (`content.actions.sanitize` on the textarea's text): the text itself,
    line breaks kept, with `&`, `<` and `>` escaped so that nothing in it is read as markup."""
    return html.escape(text or "", quote=False)


def _keep_files(body: federation.BulletinBody, files: list[bytes]) -> list[str]:
    """Write the fetched (and hash-checked) files under MEDIA_ROOT/incoming; their paths."""
    incoming = Path(settings.MEDIA_ROOT) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    paths = []
    for item, content in zip(body.media, files, strict=True):
        suffix = Path(item.name or item.url).suffix.lower()[:10]
        relative = f"incoming/{uuid.uuid4().hex}{suffix if suffix.isascii() else ''}"
        (Path(settings.MEDIA_ROOT) / relative).write_bytes(content)
        paths.append(relative)
    return paths


def _store_media(bulletin, body: federation.BulletinBody, paths: list[str]) -> None:
    """The kept files become the bulletin's attachments (the old ones replaced), processed by
    the worker like an upload."""
    from grassroots.content.models import MediaAsset
    from grassroots.content.tasks import process_media

    bulletin.media.all().delete()
    for item, relative in zip(body.media, paths, strict=True):
        declared = body.kind if body.kind != "text" else (item.mime.split("/")[0] or "audio")
        asset = MediaAsset.objects.create(
            unit=bulletin.unit,
            bulletin=bulletin,
            declared_kind=declared if declared in ("audio", "video", "image") else "audio",
            original_name=(item.name or Path(item.url).name)[:255],
            upload_path=relative,
            size=(Path(settings.MEDIA_ROOT) / relative).stat().st_size,
        )
        audit.record(asset, ChangeAction.CREATE, comment="tệp của bản tin trung ương")
        process_media.enqueue(asset.pk)


def _targets(peer, body: federation.BulletinBody) -> list[Unit]:
    if not body.targets:
        return [peer.unit]
    return list(Unit.objects.current().filter(code__in=body.targets))


def take_content(bulletin, peer, body: federation.BulletinBody, paths: list[str]) -> None:
    """Put the body's content on the bulletin (saved, targets, media, a new revision when it
    differs): the one place a received bulletin's content is written."""
    from grassroots.content import actions as content
    from grassroots.content.choices import Source
    from grassroots.content.models import Category

    category = body.category
    if category and not Category.objects.filter(slug=category, active=True).exists():
        category = None  # a category the province does not use: left for the approver
    content._apply(
        bulletin,
        {
            "title": body.title,
            "body": editor_body(body.text),
            "kind": body.kind,
            "priority": body.priority,
            "source": Source.NATIONAL,
            "source_name": body.source_name or peer.name,
            "category": category,
            "go_live_at": body.valid_from,
            "expire_at": body.valid_to,
        },
    )
    new = bulletin.pk is None
    bulletin.save()
    bulletin.targets.set(_targets(peer, body))
    if paths or not new:  # a newer version's files replace the older one's (none: none)
        _store_media(bulletin, body, paths)
    content._revise(bulletin, None)


def _bulletin(*, peer, envelope, body: federation.BulletinBody, record, files) -> None:
    """A new bulletin lands in the approval queue (or is published at once: the peer's
    setting; an emergency goes on air at once). A newer version (docs/exchange.md, "A newer
    version of a bulletin"):
    - the same content as the province's bulletin carries: nothing changes;
    - an emergency: replaced and on air at once;
    - a bulletin approved or published here, the peer's bulletins needing approval: what is on
      air stays; the new content waits for the province's approver (`pending_*`), who sees
      the change and takes it (`actions.accept_update`) or keeps the current one;
    - approved or published, the peer trusted: the new content is approved and re-shared;
    - not approved here yet (waiting, sent back, withdrawn…): the new content replaces it and
      goes through the approval chain again from its first step."""
    from grassroots.content.choices import Priority, Status
    from grassroots.content.models import Bulletin

    note = f"{peer.name}: {envelope.id} v{envelope.version}"
    bulletin = record.bulletin if record.pk else None
    if bulletin is not None and envelope.content_hash == record.applied_hash:
        if record.pending_version:
            _drop_pending(record)
        record.note = f"Phiên bản {envelope.version}: nội dung không đổi, giữ nguyên bản tin."
        return
    emergency = body.priority == Priority.EMERGENCY
    if bulletin is None:
        bulletin = Bulletin(unit=peer.unit, created_by=None)
        take_content(bulletin, peer, body, _keep_files(body, files))
        audit.record(bulletin, ChangeAction.CREATE, comment=f"Nhận từ {note}")
        if emergency:
            _publish(bulletin, note)
            record.emergency = _emergency(peer, body, _targets(peer, body), note, record)
        elif peer.bulletins_need_approval:
            _submit(bulletin, f"Bản tin của {peer.name}, chờ tỉnh duyệt.")
        else:
            _publish(bulletin, note)
    elif (
        not emergency
        and peer.bulletins_need_approval
        and bulletin.status in (Status.APPROVED, Status.PUBLISHED)
    ):
        _drop_pending(record)
        record.pending_version = envelope.version
        record.pending_body = body.model_dump(mode="json")
        record.pending_files = _keep_files(body, files)
        record.pending_at = timezone.now()
        record.bulletin = bulletin
        record.note = (
            f"Phiên bản {envelope.version}: trung ương đã sửa nội dung; bản đang phát giữ "
            "nguyên, chờ tỉnh duyệt bản sửa."
        )
        audit.record(bulletin, ChangeAction.UPDATE, comment=f"{note}: bản sửa chờ tỉnh duyệt")
        return
    else:
        was = bulletin.status
        _drop_pending(record)
        take_content(bulletin, peer, body, _keep_files(body, files))
        audit.record(bulletin, ChangeAction.UPDATE, comment=f"Nhận từ {note}")
        if emergency or (
            not peer.bulletins_need_approval and was in (Status.APPROVED, Status.PUBLISHED)
        ):
            _publish(bulletin, note)
            if emergency:
                record.emergency = _emergency(peer, body, _targets(peer, body), note, record)
        elif peer.bulletins_need_approval:
            _submit(
                bulletin,
                f"Trung ương gửi phiên bản {envelope.version} (nội dung đã sửa): duyệt lại từ "
                "bước đầu.",
            )
        else:
            _publish(bulletin, note)
    record.bulletin = bulletin
    record.applied_hash = envelope.content_hash


def _submit(bulletin, comment: str) -> None:
    from grassroots.content import actions as content
    from grassroots.content.choices import Status

    bulletin.approval_step = 0
    content._transition(
        bulletin, Status.SUBMITTED, user=None, step=0, fields=("approval_step",), comment=comment
    )


def _drop_pending(record) -> None:
    """Forget an update waiting for the province (its kept files removed)."""
    for relative in record.pending_files or []:
        (Path(settings.MEDIA_ROOT) / relative).unlink(missing_ok=True)
    record.pending_version = None
    record.pending_body = None
    record.pending_files = []
    record.pending_at = None


def _publish(bulletin, note: str, *, user=None) -> None:
    """Approve (sign) the current revision and publish it, re-sharing it to the communes (a
    bulletin already published gets the new revision in every commune's inbox). `user` None:
    as the system (the peer's setting trusts the centre's approval)."""
    from grassroots.content import actions as content
    from grassroots.content.choices import BulletinKind, Status

    revision = content.sign_revision(bulletin.current_revision)
    bulletin.approved_revision = revision
    by = f"Duyệt bởi trung ương ({note})." if user is None else note
    if bulletin.status != Status.PUBLISHED:
        content._transition(
            bulletin, Status.APPROVED, user=user, comment=by, fields=("approved_revision",)
        )
        bulletin.published_at = timezone.now()
        content._transition(bulletin, Status.PUBLISHED, user=user, fields=("published_at",))
    else:
        content._transition(
            bulletin, Status.PUBLISHED, user=user, comment=f"Cập nhật bản đang phát. {by}",
            fields=("approved_revision",),
        )  # fmt: skip
    content._share_down(bulletin)
    if bulletin.kind == BulletinKind.TEXT and content.tts_module() is not None:
        from grassroots.content.tasks import voice_revision

        voice_revision.enqueue(revision.pk)


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
            unit_kind=u.kind,
            staff_trained=u.staff.trained if u.staff else None,
            staff_required=u.staff.required if u.staff else None,
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
            "availability", "unit_kind", "staff_trained", "staff_required",
        ],
    )  # fmt: skip
    PeerMonth.objects.update_or_create(
        peer=peer,
        month=month,
        defaults={
            "feedback_received": body.feedback_received,
            "feedback_handled": body.feedback_handled,
            "emergencies": body.emergencies.model_dump() if body.emergencies else None,
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
