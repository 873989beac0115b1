"""The device registry: loudspeaker clusters and e-boards, each bound to a unit (and a station)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel

from .choices import Condition, DeviceKind, Technology
from .querysets import DeviceManager


class Device(TimeStampedModel):
    """A loudspeaker cluster controller or an e-board: its inventory record and manifest state.

    `manifest_dirty` is set in the same transaction as any change that may alter the device's
    future (schedule, bulletin, policy, the device itself); the worker recompiles dirty devices.
    """

    scope_field = "unit"

    kind = models.CharField(_("loại"), max_length=10, choices=DeviceKind.choices)
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="devices", verbose_name=_("đơn vị")
    )
    station = models.ForeignKey(
        "broadcast.Station",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="devices",
        verbose_name=_("đài truyền thanh"),
    )
    name = models.CharField(_("tên"), max_length=200)
    serial = models.CharField(_("số sê-ri"), max_length=100, unique=True)
    technology = models.CharField(_("công nghệ"), max_length=10, choices=Technology.choices)
    condition = models.CharField(
        _("tình trạng"), max_length=10, choices=Condition.choices, default=Condition.WORKING
    )
    latitude = models.FloatField(_("vĩ độ"), null=True, blank=True)
    longitude = models.FloatField(_("kinh độ"), null=True, blank=True)
    install_year = models.PositiveSmallIntegerField(_("năm lắp đặt"), null=True, blank=True)
    supplier = models.CharField(_("nhà cung cấp"), max_length=200, blank=True)
    sim_network = models.CharField(_("SIM/mạng"), max_length=100, blank=True)
    notes = models.TextField(_("ghi chú"), blank=True)
    volume = models.PositiveSmallIntegerField(
        _("âm lượng"), default=80, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    enabled = models.BooleanField(_("đang sử dụng"), default=True)
    manifest_dirty = models.BooleanField(default=True, db_index=True, editable=False)
    manifest_etag = models.CharField(max_length=64, blank=True, editable=False)
    compiled_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = DeviceManager()

    class Meta:
        ordering = ["unit__path", "kind", "name"]
        verbose_name = _("thiết bị")
        verbose_name_plural = _("thiết bị")
        indexes = [models.Index(fields=["station", "kind", "technology"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})"

    @property
    def is_ip(self) -> bool:
        return self.technology == Technology.IP_4G

    @property
    def receives_manifest(self) -> bool:
        """Enabled IP loudspeaker clusters play from the signed manifest (boards: signage)."""
        return self.enabled and self.is_ip and self.kind == DeviceKind.SPEAKER


# The rest of this app's models live in models_fleet.py (imported here so Django finds them).
from .models_fleet import DeviceConnectivity, DeviceCredential, DeviceEvent, DeviceStatus  # noqa: E402, F401
