"""Emergency broadcasts (khẩn cấp): an area, what to play, and who acknowledged it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager


class EmergencyStatus(models.TextChoices):
    AWAITING = "awaiting", _("Chờ người thứ hai xác nhận")
    PREPARING = "preparing", _("Đang chuẩn bị")
    ACTIVE = "active", _("Đang phát")
    STOPPED = "stopped", _("Đã dừng")
    EXPIRED = "expired", _("Đã hết hạn")
    FAILED = "failed", _("Lỗi")


class Emergency(TimeStampedModel):
    """One emergency broadcast: `play.now` signed to the unit topics of its area.

    `unit` is the lowest unit covering the whole area (for scope); `area` lists the units chosen.
    """

    scope_field = "unit"

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    area = models.ManyToManyField("units.Unit", related_name="emergencies")
    title = models.CharField(_("tiêu đề"), max_length=200)
    text = models.TextField(_("nội dung"), blank=True)
    bulletin = models.ForeignKey(
        "content.Bulletin", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    media = models.JSONField(default=list, blank=True)
    repeat = models.PositiveSmallIntegerField(_("số lần lặp"), default=1)
    # On air again every this many minutes until `expires_at` (0: once); a new signed
    # `play.now` each time, so devices play it again and boards keep the overlay.
    repeat_every_minutes = models.PositiveSmallIntegerField(_("nhắc lại sau mỗi (phút)"), default=0)
    next_repeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    repeats_sent = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    status = models.CharField(
        max_length=10, choices=EmergencyStatus.choices, default=EmergencyStatus.PREPARING
    )
    error = models.CharField(max_length=500, blank=True)
    command_seq = models.BigIntegerField(null=True, blank=True, db_index=True)
    command_id = models.CharField(max_length=64, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expected_devices = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirm_by = models.DateTimeField(_("phải xác nhận trước"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("người thứ hai xác nhận"),
    )
    confirmed_at = models.DateTimeField(_("xác nhận lúc"), null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # the emergency this one replaced (a CAP `Update`); published as CAP `Update` referencing it
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("phát khẩn cấp")
        verbose_name_plural = _("phát khẩn cấp")

    def __str__(self) -> str:
        return self.title


class EmergencyPolicy(TimeStampedModel):
    """A unit's emergency rule: with `two_person`, an emergency over this unit (or a unit under
    it) goes on air only when a second officer confirms it within `confirm_minutes`."""

    scope_field = "unit"

    unit = models.OneToOneField(
        "units.Unit",
        on_delete=models.CASCADE,
        related_name="emergency_policy",
        verbose_name=_("đơn vị"),
    )
    two_person = models.BooleanField(_("cần người thứ hai xác nhận"), default=False)
    confirm_minutes = models.PositiveSmallIntegerField(_("thời hạn xác nhận (phút)"), default=10)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("quy tắc phát khẩn cấp")
        verbose_name_plural = _("quy tắc phát khẩn cấp")

    def __str__(self) -> str:
        return f"{self.unit}: {'2 người' if self.two_person else '1 người'}"


class EmergencyAck(models.Model):
    """A device's answer to an emergency command, one row per device: `ok` (it took the
    command and plays it) or `refused` with the device's reason. A later `ok` (after a resend)
    replaces a refusal; a refusal never replaces an `ok`."""

    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="acks")
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, default="ok")
    reason = models.CharField(max_length=64, blank=True, default="")
    acked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["emergency", "device"], name="emergency_ack_once")
        ]

    def __str__(self) -> str:
        return f"{self.emergency_id} ← dev-{self.device_id}"


# --- CAP 1.2 in ------------------------------------------------------------------------------

# CAP 1.2 §3.2.2 value lists, most serious first (index = rank; lower is more serious).
SEVERITIES = ["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
URGENCIES = ["Immediate", "Expected", "Future", "Past", "Unknown"]
CERTAINTIES = ["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
# What a person reads for the CAP values (the XML keeps the CAP words)
CAP_LABELS = {
    "Extreme": _("Cực kỳ nghiêm trọng"),
    "Severe": _("Nghiêm trọng"),
    "Moderate": _("Trung bình"),
    "Minor": _("Nhẹ"),
    "Unknown": _("Chưa rõ"),
    "Immediate": _("Ngay lập tức"),
    "Expected": _("Sắp xảy ra"),
    "Future": _("Trong tương lai"),
    "Past": _("Đã qua"),
    "Observed": _("Đã quan sát thấy"),
    "Likely": _("Có khả năng cao"),
    "Possible": _("Có thể"),
    "Unlikely": _("Ít khả năng"),
}


def cap_label(value: str) -> str:
    """The Vietnamese (or English) label of a CAP severity, urgency or certainty value."""
    label = CAP_LABELS.get(value or "")
    return str(label) if label is not None else (value or "")


def cap_levels(severity: str, urgency: str, certainty: str) -> str:
    """'Nghiêm trọng / Sắp xảy ra / Có khả năng cao' for a sentence."""
    return " / ".join(cap_label(v) or "—" for v in (severity, urgency, certainty))


class CapSender(TimeStampedModel):
    """What to do with CAP alerts from one `sender` (CAP 1.2 §3.2.1): the province's rule.

    An alert at least as serious as the `live_*` thresholds on all three axes (severity,
    urgency, certainty, §3.2.2) goes on air at once as a Thông tư 39 `emergency` — only when
    the sender is `trusted`. One at least as serious as the `priority_*` thresholds becomes a
    `priority` bulletin waiting for an approver. Anything else is archived.
    """

    scope_field = "unit"

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    sender = models.CharField(_("mã người gửi (sender)"), max_length=200, unique=True)
    name = models.CharField(_("tên cơ quan"), max_length=200)
    trusted = models.BooleanField(_("tin cậy (được phát ngay)"), default=False)
    live_severity = models.CharField(max_length=10, default="Severe")
    live_urgency = models.CharField(max_length=10, default="Expected")
    live_certainty = models.CharField(max_length=10, default="Likely")
    priority_severity = models.CharField(max_length=10, default="Moderate")
    priority_urgency = models.CharField(max_length=10, default="Future")
    priority_certainty = models.CharField(max_length=10, default="Possible")
    repeat = models.PositiveSmallIntegerField(_("số lần lặp"), default=3)
    # an alert on air is played again every this many minutes until its `expires` (0: once)
    repeat_every_minutes = models.PositiveSmallIntegerField(
        _("nhắc lại sau mỗi (phút)"), default=15
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("nguồn cảnh báo CAP")
        verbose_name_plural = _("nguồn cảnh báo CAP")

    def __str__(self) -> str:
        return f"{self.name} ({self.sender})"


class CapFeed(TimeStampedModel):
    """An Atom or RSS feed of CAP alerts polled by the worker (conditional GET, own interval)."""

    scope_field = "unit"

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("tên"), max_length=200)
    url = models.URLField(_("địa chỉ"), max_length=500, unique=True)
    interval_seconds = models.PositiveIntegerField(_("chu kỳ (giây)"), default=120)
    enabled = models.BooleanField(_("đang dùng"), default=True)
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=200, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("luồng cảnh báo CAP")
        verbose_name_plural = _("luồng cảnh báo CAP")

    def __str__(self) -> str:
        return self.name


class CapState(models.TextChoices):
    ON_AIR = "on_air", _("Đang phát")
    AWAITING_APPROVAL = "awaiting", _("Chờ phê duyệt")
    ARCHIVED = "archived", _("Lưu trữ")
    REFUSED = "refused", _("Từ chối")
    EXPIRED = "expired", _("Đã hết hạn")
    CANCELLED = "cancelled", _("Đã hủy")
    REPLACED = "replaced", _("Đã được cập nhật")


class CapAlert(TimeStampedModel):
    """One CAP 1.2 message received (POST or feed), what it became, and why.

    Recognised by (sender, identifier, sent) (CAP 1.2 §3.2.1: `references` name messages so).
    `unit` is the province (scope); `units` are the communes its area resolved to.
    """

    scope_field = "unit"

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    sender = models.CharField(max_length=200)
    identifier = models.CharField(max_length=200)
    sent = models.DateTimeField()
    msg_type = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    references = models.TextField(blank=True)
    event = models.CharField(max_length=200, blank=True)
    headline = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    instruction = models.TextField(blank=True)
    severity = models.CharField(max_length=10, blank=True)
    urgency = models.CharField(max_length=10, blank=True)
    certainty = models.CharField(max_length=10, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    area_desc = models.CharField(max_length=500, blank=True)
    xml = models.TextField()
    state = models.CharField(max_length=10, choices=CapState.choices)
    reason = models.CharField(_("lý do"), max_length=500, blank=True)
    units = models.ManyToManyField("units.Unit", related_name="cap_alerts", blank=True)
    emergency = models.ForeignKey(
        Emergency, null=True, blank=True, on_delete=models.SET_NULL, related_name="cap_alerts"
    )
    bulletin = models.ForeignKey(
        "content.Bulletin", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    feed = models.ForeignKey(
        CapFeed, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    source_url = models.URLField(max_length=500, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["sender", "identifier", "sent"], name="cap_alert_once")
        ]
        verbose_name = _("cảnh báo CAP nhận được")
        verbose_name_plural = _("cảnh báo CAP nhận được")

    def __str__(self) -> str:
        return self.headline or self.identifier
