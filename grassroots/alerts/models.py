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
