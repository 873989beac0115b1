"""Every mutation of citizen feedback: permission check, write, timeline, audit, outbox."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from grassroots.accounts.scope import covers
from grassroots.core import audit
from grassroots.core.audit import snapshot
from grassroots.core.db import update_if_free
from grassroots.core.models import ChangeAction
from grassroots.core.text import clean_text as core_clean_text
from grassroots.units.models import Unit

from . import geo, notify
from .choices import Channel, EventKind, ReportStatus, Resolution
from .deadlines import compute_due
from .models import (
    BulletinRating,
    Category,
    Open311Key,
    Photo,
    Rating,
    Report,
    ReportEvent,
    UnitSettings,
)
from .photos import ProcessedPhoto
from .policies import HANDLE, check_handle, handlers_of

MAX_TEXT = 5000
MAX_ANSWER = 10000


def _default_categories():
    """The starting categories, read from the data migration so they are written once."""
    import importlib

    return importlib.import_module("grassroots.feedback.migrations.0002_default_data").CATEGORIES


def ensure_default_categories() -> int:
    """Create the starting categories once (admins edit them afterwards)."""
    made = 0
    for i, (code, name, desc, days) in enumerate(_default_categories()):
        _, created = Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": desc,
                "deadline_working_days": days,
                "order": i,
            },
        )
        made += created
    return made


# --- input helpers shared by the citizen form and Open311 --------------------------------------


def clean_text(text: str) -> str:
    """Trim, drop control characters and check the length; the text is stored as plain text."""
    text = core_clean_text(text or "").strip()
    if not text:
        raise ValidationError("Hãy viết nội dung phản ánh.")
    if len(text) > MAX_TEXT:
        raise ValidationError(
            f"Nội dung quá dài ({len(text)} ký tự); tối đa {MAX_TEXT} ký tự. "
            "Hãy rút gọn, hoặc gửi thành nhiều phản ánh."
        )
    return text


def resolve_unit(
    *, unit_code: str = "", latitude: float | None = None, longitude: float | None = None
) -> Unit:
    """The commune named by code, or the one nearest to the GPS position."""
    if unit_code:
        unit = geo.communes().filter(code=unit_code).first()
        if unit is None:
            raise ValidationError("Không tìm thấy xã/phường đã chọn; hãy chọn lại trong danh sách.")
        return unit
    if latitude is not None and longitude is not None:
        unit = geo.nearest_commune(latitude, longitude)
        if unit is None:
            raise ValidationError(
                "Vị trí GPS nằm ngoài địa bàn tỉnh; hãy chọn xã/phường trong danh sách."
            )
        return unit
    raise ValidationError("Hãy chọn xã/phường nơi xảy ra sự việc, hoặc bật định vị GPS.")


def _event(report, kind, *, user=None, note="", public=False, from_unit=None, to_unit=None):
    return ReportEvent.objects.create(
        report=report,
        kind=kind,
        user=user if getattr(user, "is_authenticated", False) else None,
        note=note,
        public=public,
        from_unit=from_unit,
        to_unit=to_unit,
    )


def _assert_scope(user, report: Report) -> None:
    """Re-check inside the transaction that the report is still in the actor's scope."""
    if user is not None and not Report.objects.restrict(user, HANDLE).filter(pk=report.pk).exists():
        raise PermissionDenied("Phản ánh này không còn thuộc phạm vi đơn vị của bạn.")


# --- citizen side --------------------------------------------------------------------------------


def submit_report(
    *,
    category: Category,
    text: str,
    unit: Unit,
    photos: list[ProcessedPhoto] = (),
    latitude: float | None = None,
    longitude: float | None = None,
    share_location: bool = False,
    address: str = "",
    name: str = "",
    phone: str = "",
    email: str = "",
    channel: str = Channel.WEB,
    ip: str | None = None,
    open311_key: Open311Key | None = None,
) -> Report:
    """Store a citizen report with its photos in one transaction: once this returns, it is kept."""
    now = timezone.now()
    due_at, remind_at = compute_due(now, category.deadline_working_days)
    if not share_location:
        latitude = longitude = None
    with transaction.atomic():
        report = Report.objects.create(
            category=category,
            text=text,
            unit=unit,
            origin_unit=unit,
            latitude=latitude,
            longitude=longitude,
            share_location=share_location,
            address=address[:300],
            name=name[:100],
            phone=phone[:20],
            email=email[:254],
            channel=channel,
            open311_key=open311_key,
            submitter_ip=ip,
            due_at=due_at,
            first_due_at=due_at,
            remind_at=remind_at,
        )
        for i, photo in enumerate(photos):
            p = Photo(
                report=report,
                width=photo.width,
                height=photo.height,
                has_location=photo.has_location,
                order=i,
            )
            p.image.save(f"{p.token}.jpg", ContentFile(photo.content), save=False)
            p.save()
        _event(report, EventKind.RECEIVED, public=True, to_unit=unit)
        audit.record(report, ChangeAction.CREATE, comment=f"channel={channel}")
    return report


def rate(*, report: Report, stars: int, comment: str = "") -> Rating:
    """The citizen rates the answer, once per answer; a low rating reopens it when the unit chose
    so (and a new answer can then be rated again)."""
    if not report.can_be_rated or report.is_hidden:
        raise ValidationError("Phản ánh này chưa có trả lời để đánh giá.")
    if not 1 <= int(stars) <= 5:
        raise ValidationError("Hãy chọn từ 1 đến 5 sao.")
    comment = core_clean_text(comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError("Nhận xét quá dài; tối đa 2000 ký tự.")
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if already_rated(report):
            raise ValidationError(
                "Bạn đã đánh giá trả lời này rồi; mỗi trả lời được đánh giá một lần."
            )
        rating = Rating.objects.create(report=report, stars=int(stars), comment=comment)
        _event(report, EventKind.RATED, note=f"{stars}/5 {comment}"[:500])
        audit.record(rating, ChangeAction.CREATE)
        cfg = unit_settings(report.unit)
        if cfg and cfg.reopen_on_low_rating and rating.stars <= cfg.low_rating_threshold:
            reopen(report=report, user=None, reason=f"Người dân đánh giá {rating.stars}/5.")
    return rating


def already_rated(report: Report) -> Rating | None:
    """The rating given to the report's current answer, if any."""
    ratings = report.ratings.order_by("-created_at", "-id")
    if report.answered_at:
        ratings = ratings.filter(created_at__gte=report.answered_at)
    return ratings.first()


def unit_settings(unit: Unit) -> UnitSettings | None:
    """The nearest settings row on the unit or an ancestor."""
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    rows = {s.unit_id: s for s in UnitSettings.objects.filter(unit_id__in=ids)}
    for uid in reversed(ids):
        if uid in rows:
            return rows[uid]
    return None


def voter_fingerprint(request) -> str:
    """Who voted, without storing who: a hash of the browser's voter cookie (or IP + UA)."""
    base = request.COOKIES.get("gr_voter") or (
        f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')}"
    )
    return hashlib.sha256(base.encode()).hexdigest()


def rate_bulletin(*, bulletin_id: int, fingerprint: str, useful: bool) -> BulletinRating:
    """One vote per bulletin and voter; voting again changes the vote."""
    with transaction.atomic():
        vote, _ = BulletinRating.objects.update_or_create(
            bulletin_id=bulletin_id, fingerprint=fingerprint, defaults={"useful": useful}
        )
    return vote


# --- officer side --------------------------------------------------------------------------------


def assign(*, report: Report, user, assignee) -> Report:
    """Give the report to one officer of the handling unit."""
    check_handle(user, report)
    if not covers(assignee, HANDLE, report.unit):
        raise ValidationError(
            f"{assignee} không có quyền xử lý phản ánh của {report.unit.name}; "
            "hãy chọn cán bộ của đơn vị này."
        )
    with transaction.atomic():
        before = snapshot(report)
        report.assignee = assignee
        if report.status == ReportStatus.NEW:
            report.status = ReportStatus.IN_PROGRESS
        report.save()
        _event(report, EventKind.ASSIGNED, user=user, note=str(assignee))
        audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="assign")
        notify.queue_officers(
            report,
            [assignee],
            f"Bạn được giao phản ánh {report.tracking_code}",
            f"Phản ánh {report.tracking_code} ({report.category}) được giao cho bạn; "
            f"hạn xử lý {timezone.localtime(report.due_at):%H:%M %d/%m/%Y}.",
        )
        _assert_scope(user, report)
    return report


def reroute(*, report: Report, user, unit: Unit, reason: str) -> Report:
    """Send the report to another unit (not ours, or an upper level pulls it up), with a reason.

    Moving up to an ancestor keeps the original commune able to follow it; moving sideways hands
    it over completely.
    """
    check_handle(user, report)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Hãy ghi lý do chuyển đơn vị.")
    if unit.valid_to is not None:
        raise ValidationError("Đơn vị nhận đã hết hiệu lực; hãy chọn đơn vị đang hoạt động.")
    if unit.pk == report.unit_id:
        raise ValidationError("Phản ánh đã thuộc đơn vị này.")
    if not report.is_open and report.status != ReportStatus.ANSWERED:
        raise ValidationError("Phản ánh đã đóng; hãy mở lại trước khi chuyển.")
    pulled_up = report.unit.is_within(unit)
    if pulled_up and not covers(user, HANDLE, unit):
        raise PermissionDenied(f"Bạn không có quyền xử lý phản ánh ở cấp {unit.name}.")
    with transaction.atomic():
        before = snapshot(report)
        old = report.unit
        report.unit = unit
        if not pulled_up:
            report.origin_unit = unit
        report.assignee = None
        report.save()
        _event(
            report,
            EventKind.PULLED_UP if pulled_up else EventKind.REROUTED,
            user=user,
            note=reason[:1000],
            public=True,
            from_unit=old,
            to_unit=unit,
        )
        audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="reroute")
        notify.queue_officers(
            report,
            handlers_of(unit),
            f"Phản ánh {report.tracking_code} được chuyển đến {unit.name}",
            f"{old.name} chuyển phản ánh {report.tracking_code} đến {unit.name}. Lý do: {reason}",
        )
    return report


def merge(*, report: Report, into: Report, user) -> Report:
    """Close `report` as a duplicate of `into`; the citizen is pointed at the other one."""
    check_handle(user, report)
    check_handle(user, into)
    if report.pk == into.pk:
        raise ValidationError("Không thể gộp một phản ánh vào chính nó.")
    if into.merged_into_id:
        raise ValidationError("Phản ánh đích cũng là bản trùng; hãy gộp vào phản ánh gốc.")
    with transaction.atomic():
        before = snapshot(report)
        report.merged_into = into
        report.status = ReportStatus.CLOSED
        report.resolution = Resolution.DUPLICATE
        report.closed_at = timezone.now()
        report.save()
        _event(report, EventKind.MERGED, user=user, note=into.tracking_code, public=True)
        _event(into, EventKind.MERGED, user=user, note=f"+ {report.tracking_code}")
        audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="merge")
    return report


def answer(
    *,
    report: Report,
    user,
    public_answer: str = "",
    private_answer: str = "",
    resolution: str = "",
) -> Report:
    """Answer publicly and/or privately; with a resolution the report is also closed."""
    check_handle(user, report)
    public_answer = (public_answer or "").strip()
    private_answer = (private_answer or "").strip()
    if not public_answer and not private_answer:
        raise ValidationError("Hãy viết nội dung trả lời (công khai hoặc riêng).")
    if len(public_answer) > MAX_ANSWER or len(private_answer) > MAX_ANSWER:
        raise ValidationError(f"Trả lời quá dài; tối đa {MAX_ANSWER} ký tự.")
    if resolution and resolution not in Resolution.values:
        raise ValidationError("Kết quả xử lý không hợp lệ.")
    if resolution in (Resolution.DUPLICATE, Resolution.HIDDEN_ABUSE):
        raise ValidationError(
            "Không trả lời kèm kết quả này; hãy dùng chức năng gộp phản ánh hoặc ẩn do lạm dụng."
        )
    if report.is_hidden:
        raise ValidationError("Phản ánh đang bị ẩn do lạm dụng; hãy khôi phục trước.")
    with transaction.atomic():
        before = snapshot(report)
        now = timezone.now()
        report.public_answer = public_answer
        report.private_answer = private_answer
        report.answered_at = now
        report.answered_by = user
        if resolution:
            report.status = ReportStatus.CLOSED
            report.resolution = resolution
            report.closed_at = now
        else:
            report.status = ReportStatus.ANSWERED
        report.save()
        _event(report, EventKind.ANSWERED, user=user, public=True)
        audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="answer")
        notify.queue_citizen_answered(report)
        _assert_scope(user, report)
    return report


def close(*, report: Report, user, resolution: str, note: str = "") -> Report:
    """Close with a resolution state; `hidden_abuse` takes it out of every public view."""
    check_handle(user, report)
    if resolution not in Resolution.values:
        raise ValidationError("Hãy chọn kết quả xử lý.")
    if resolution == Resolution.DUPLICATE and not report.merged_into_id:
        raise ValidationError("Để đóng vì trùng lặp, hãy dùng chức năng gộp phản ánh.")
    with transaction.atomic():
        before = snapshot(report)
        report.status = ReportStatus.CLOSED
        report.resolution = resolution
        report.closed_at = timezone.now()
        report.save()
        _event(
            report,
            EventKind.CLOSED,
            user=user,
            note=note[:1000],
            public=resolution != Resolution.HIDDEN_ABUSE,
        )
        audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="close")
        _assert_scope(user, report)
    return report


def restore(*, report: Report, user) -> Report:
    """Moderation: bring a report hidden for abuse back into the workflow."""
    check_handle(user, report)
    if not report.is_hidden:
        raise ValidationError("Phản ánh này không bị ẩn.")
    with transaction.atomic():
        before = snapshot(report)
        report.status = ReportStatus.IN_PROGRESS
        report.resolution = ""
        report.closed_at = None
        report.save()
        _event(report, EventKind.RESTORED, user=user)
        audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="restore")
    return report


def reopen(*, report: Report, user, reason: str) -> Report:
    """Back to work with a fresh deadline (by an officer, or by a low rating when allowed)."""
    if user is not None:
        check_handle(user, report)
    if report.is_open:
        raise ValidationError("Phản ánh đang được xử lý, không cần mở lại.")
    if report.is_hidden:
        raise ValidationError("Phản ánh bị ẩn do lạm dụng; hãy dùng chức năng khôi phục.")
    with transaction.atomic():
        before = snapshot(report)
        report.status = ReportStatus.IN_PROGRESS
        report.resolution = ""
        report.closed_at = None
        report.merged_into = None
        report.due_at, report.remind_at = compute_due(
            timezone.now(), report.category.deadline_working_days
        )
        report.reminded_at = None
        report.save()
        _event(report, EventKind.REOPENED, user=user, note=reason[:1000], public=True)
        audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="reopen")
        notify.queue_officers(
            report,
            [report.assignee] if report.assignee else handlers_of(report.unit),
            f"Phản ánh {report.tracking_code} được mở lại",
            f"Phản ánh {report.tracking_code} được mở lại. Lý do: {reason}",
        )
    return report


# --- timers --------------------------------------------------------------------------------------


def send_reminders(now=None) -> int:
    """Remind the officers of open reports whose last working day has begun."""
    now = now or timezone.now()
    due = Report.objects.open().filter(remind_at__lte=now, reminded_at__isnull=True)
    count = 0
    for report in due.select_related("unit", "assignee"):
        with transaction.atomic():
            if not Report.objects.filter(pk=report.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue  # another worker took it
            _event(report, EventKind.REMINDED)
            notify.queue_officers(
                report,
                [report.assignee] if report.assignee else handlers_of(report.unit),
                f"Sắp hết hạn: phản ánh {report.tracking_code}",
                f"Phản ánh {report.tracking_code} hết hạn xử lý lúc "
                f"{timezone.localtime(report.due_at):%H:%M %d/%m/%Y}.",
            )
        count += 1
    return count


def escalate_overdue(now=None) -> int:
    """Move every overdue open report up to the parent unit, with a fresh deadline there."""
    now = now or timezone.now()
    overdue = Report.objects.overdue(now).filter(unit__parent__isnull=False)
    count = 0
    for report in overdue.select_related("unit__parent", "category"):
        with transaction.atomic():
            report = (
                Report.objects.select_for_update(of=("self",))
                .select_related("unit__parent")
                .get(pk=report.pk)
            )
            if not report.is_open or report.due_at >= now or report.unit.parent is None:
                continue
            before = snapshot(report)
            old, parent = report.unit, report.unit.parent
            report.unit = parent
            report.escalation_level += 1
            report.escalated_at = now
            report.assignee = None
            report.due_at, report.remind_at = compute_due(
                now, report.category.escalation_working_days
            )
            report.reminded_at = None
            report.save()
            _event(report, EventKind.ESCALATED, from_unit=old, to_unit=parent, public=True)
            audit.record(report, ChangeAction.UPDATE, before=before, comment="escalate")
            notify.queue_officers(
                report,
                handlers_of(parent),
                f"Quá hạn: phản ánh {report.tracking_code} chuyển lên {parent.name}",
                f"{old.name} chưa xử lý xong phản ánh {report.tracking_code} trong thời hạn; "
                f"phản ánh được chuyển lên {parent.name}.",
            )
        count += 1
    return count


# --- Open311 keys --------------------------------------------------------------------------------


def issue_open311_key(*, name: str, user=None) -> tuple[Open311Key, str]:
    """A new Open311 api_key; the raw value is returned once and stored only as a hash."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Hãy đặt tên cho ứng dụng dùng khoá.")
    raw = "o311_" + secrets.token_urlsafe(24)
    with transaction.atomic():
        key = Open311Key.objects.create(
            name=name[:100],
            prefix=raw[:10],
            key_hash=Open311Key.hash(raw),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit.record(key, ChangeAction.CREATE, user=user)
    return key, raw


def revoke_open311_key(*, key: Open311Key, user=None) -> Open311Key:
    """Stop a key from working; reports it filed stay."""
    with transaction.atomic():
        before = snapshot(key)
        key.revoked_at = timezone.now()
        key.save()
        audit.record(key, ChangeAction.UPDATE, user=user, before=before, comment="revoke")
    return key


def authenticate_open311(raw: str) -> Open311Key | None:
    """The active key for this raw api_key, or None; notes when it was last used."""
    if not raw or len(raw) > 200:
        return None
    key = Open311Key.objects.filter(key_hash=Open311Key.hash(raw), revoked_at__isnull=True).first()
    if key and (not key.last_used_at or (timezone.now() - key.last_used_at).total_seconds() > 60):
        update_if_free(Open311Key.objects.filter(pk=key.pk), last_used_at=timezone.now())
    return key
