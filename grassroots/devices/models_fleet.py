"""Fleet models: device credentials, live status, online history and ingested events.

Kept beside the registry models (models.py) and imported with them; together they are the
`devices` app's models.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.querysets import RestrictedManager


class DeviceCredential(models.Model):
    """A device's own logins: MQTT (username `dev-<id>`) and an HTTP bearer token.

    Only hashes are stored. An admin authorises the device, which yields a one-time enrolment
    code; the device exchanges it for its credentials. Revoking cuts both logins at once.
    """

    scope_field = "device__unit"

    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, primary_key=True, related_name="credential"
    )
    mqtt_password_hash = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    enrolment_code_hash = models.CharField(max_length=64, blank=True, db_index=True)
    enrolment_expires_at = models.DateTimeField(null=True, blank=True)
    authorised_at = models.DateTimeField(null=True, blank=True)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    enrolled_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("thông tin xác thực thiết bị")
        verbose_name_plural = _("thông tin xác thực thiết bị")

    def __str__(self) -> str:
        return f"credential dev-{self.device_id}"

    @property
    def mqtt_username(self) -> str:
        return f"dev-{self.device_id}"

    @property
    def active(self) -> bool:
        return bool(self.enrolled_at and not self.revoked_at and self.mqtt_password_hash)


class DeviceStatus(models.Model):
    """What a device last told us: online, what plays, volume, power, cache; one row per device."""

    scope_field = "device__unit"

    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, primary_key=True, related_name="status"
    )
    online = models.BooleanField(_("trực tuyến"), default=False)
    last_seen = models.DateTimeField(_("lần cuối liên lạc"), null=True, blank=True)
    state = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("trạng thái thiết bị")
        verbose_name_plural = _("trạng thái thiết bị")

    def __str__(self) -> str:
        return f"dev-{self.device_id} {'online' if self.online else 'offline'}"


class DeviceConnectivity(models.Model):
    """Online/offline history: one row per change."""

    scope_field = "device__unit"

    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="connectivity"
    )
    online = models.BooleanField()
    at = models.DateTimeField(db_index=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"dev-{self.device_id} {'online' if self.online else 'offline'} {self.at}"


class DeviceEvent(models.Model):
    """One event a device published (ack, fault, telemetry...), stored once by its id."""

    scope_field = "device__unit"

    event_id = models.CharField(max_length=64, unique=True)
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30, db_index=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # A fault stays open until an officer marks it cleared (fixed on site, or nothing to do);
    # the fleet page counts the open ones. Other event types leave these empty.
    cleared_at = models.DateTimeField(_("đã khắc phục lúc"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("người xác nhận khắc phục"),
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["device", "type", "received_at"])]

    def __str__(self) -> str:
        return f"dev-{self.device_id} {self.type}"
