"""Stations, usage policies, schedule items, provincial proposals, manifests and as-run logs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager

from .choices import AsRunStatus, ItemKind, ItemStatus, Priority, ProposalStatus, RelayType
from .querysets import ScheduleItemManager, StationManager


class Station(TimeStampedModel):
    """The radio station of one commune-level unit; its clusters are the devices bound to it."""

    scope_field = "unit"

    unit = models.OneToOneField(
        "units.Unit", on_delete=models.PROTECT, related_name="station", verbose_name=_("đơn vị")
    )
    name = models.CharField(_("tên"), max_length=200)
    notes = models.TextField(_("ghi chú"), blank=True)
    auto_boards = models.BooleanField(
        _("tự đưa bản tin bắt buộc phát của cấp trên lên bảng tin của xã"), default=False
    )

    objects = StationManager()

    class Meta:
        ordering = ["unit__path"]
        verbose_name = _("đài truyền thanh")
        verbose_name_plural = _("đài truyền thanh")

    def __str__(self) -> str:
        return self.name


class UsagePolicy(TimeStampedModel):
    """Loudspeaker usage rules of a unit (and of every unit below it that has none of its own)."""

    scope_field = "unit"

    unit = models.OneToOneField(
        "units.Unit",
        on_delete=models.CASCADE,
        related_name="usage_policy",
        verbose_name=_("đơn vị"),
    )
    allowed_start = models.TimeField(_("được phát từ"), null=True, blank=True)
    allowed_end = models.TimeField(_("được phát đến"), null=True, blank=True)
    max_sessions_per_day = models.PositiveSmallIntegerField(
        _("số buổi phát tối đa mỗi ngày"), null=True, blank=True
    )
    max_minutes_per_session = models.PositiveSmallIntegerField(
        _("số phút tối đa mỗi buổi"), null=True, blank=True
    )
    quiet_weekdays = models.JSONField(
        _("ngày trong tuần không phát (0 = thứ Hai … 6 = Chủ nhật)"), default=list, blank=True
    )
    quiet_dates = models.JSONField(_("ngày không phát (YYYY-MM-DD)"), default=list, blank=True)
    relay_slots = models.JSONField(_("khung giờ tiếp sóng (HH:MM-HH:MM)"), default=list, blank=True)
    note = models.CharField(_("căn cứ, ghi chú"), max_length=300, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("quy định sử dụng loa")
        verbose_name_plural = _("quy định sử dụng loa")

    def __str__(self) -> str:
        return f"Quy định sử dụng loa — {self.unit}"


class ScheduleItem(TimeStampedModel):
    """One-off or recurring airing of a bulletin, a playlist or a relay, owned by a unit.

    An item owned by a commune plays on that commune's station. An item owned by an upper level
    plays directly only when it is an emergency; otherwise each targeted station receives a
    `Proposal` that its commune places (or declines). `stations` holds the resolved stations an
    item plays on, so compiling a station's future is one indexed join.
    """

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="schedule_items",
        verbose_name=_("đơn vị lập lịch"),
    )
    title = models.CharField(_("tiêu đề"), max_length=300)
    priority = models.CharField(
        _("mức ưu tiên"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    kind = models.CharField(_("loại"), max_length=10, choices=ItemKind.choices)
    revision = models.ForeignKey(
        "content.BulletinRevision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="schedule_items",
        verbose_name=_("phiên bản bản tin đã duyệt"),
    )
    playlist = models.JSONField(
        _("danh sách phiên bản bản tin"), default=list, blank=True, help_text="[revision id]"
    )
    media = models.JSONField(
        _("tệp phát"), default=list, blank=True, help_text="[{url, sha256, size, duration}]"
    )
    relay_type = models.CharField(
        _("kiểu tiếp sóng"), max_length=10, choices=RelayType.choices, blank=True
    )
    relay_frequency = models.DecimalField(
        _("tần số FM (MHz)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    relay_url = models.URLField(_("địa chỉ luồng"), blank=True)
    starts_at = models.DateTimeField(_("bắt đầu"), db_index=True)
    duration_seconds = models.PositiveIntegerField(_("thời lượng (giây)"))
    rrule = models.CharField(_("lặp lại (RRULE)"), max_length=500, blank=True)
    exdates = models.JSONField(_("các lần bỏ"), default=list, blank=True)
    last_end = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    rank = models.PositiveSmallIntegerField(_("thứ tự xã chọn"), null=True, blank=True)
    volume = models.PositiveSmallIntegerField(_("âm lượng riêng"), null=True, blank=True)
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.ACTIVE
    )
    source = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="placements",
        verbose_name=_("lịch đề xuất của cấp trên"),
    )
    policy_exempt = models.BooleanField(_("miễn quy định sử dụng loa"), default=False)
    target_units = models.ManyToManyField(
        "units.Unit", related_name="+", blank=True, verbose_name=_("đơn vị nhận")
    )
    stations = models.ManyToManyField(
        Station, related_name="items", blank=True, verbose_name=_("đài phát")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScheduleItemManager()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("mục lịch phát")
        verbose_name_plural = _("lịch phát")

    def __str__(self) -> str:
        return self.title

    @property
    def from_upper(self) -> bool:
        return self.source_id is not None


class Proposal(TimeStampedModel):
    """An upper level's item offered to one station; the commune places it or declines it."""

    scope_field = "station__unit"

    item = models.ForeignKey(ScheduleItem, on_delete=models.CASCADE, related_name="proposals")
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="proposals")
    must_air = models.BooleanField(_("bắt buộc phát"), default=False)
    status = models.CharField(
        _("trạng thái"),
        max_length=10,
        choices=ProposalStatus.choices,
        default=ProposalStatus.PENDING,
        db_index=True,
    )
    placed_item = models.ForeignKey(
        ScheduleItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    share_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("ghi chú"), max_length=300, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("đề xuất lịch phát")
        verbose_name_plural = _("đề xuất lịch phát")
        constraints = [
            models.UniqueConstraint(fields=["item", "station"], name="proposal_item_station")
        ]

    def __str__(self) -> str:
        return f"{self.item} → {self.station}"


class Manifest(models.Model):
    """The last compiled, signed look-ahead manifest of one device, served as it is stored."""

    scope_field = "device__unit"

    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, primary_key=True, related_name="manifest"
    )
    body = models.TextField()
    etag = models.CharField(max_length=64)
    items_hash = models.CharField(max_length=64)
    generated_at = models.DateTimeField()
    valid_until = models.DateTimeField(db_index=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("lịch phát đã ký")
        verbose_name_plural = _("lịch phát đã ký")

    def __str__(self) -> str:
        return f"manifest {self.device_id} {self.etag[:8]}"


class AsRunEntry(models.Model):
    """One entry of a device's as-run journal (proof of play), idempotent by the device's id."""

    scope_field = "device__unit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="asrun")
    station = models.ForeignKey(
        Station, null=True, blank=True, on_delete=models.SET_NULL, related_name="asrun"
    )
    item = models.ForeignKey(
        ScheduleItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="asrun"
    )
    manifest_item = models.CharField(_("mục trong lịch"), max_length=100, blank=True)
    kind = models.CharField(_("loại"), max_length=10, default="media")
    scheduled_start = models.DateTimeField(_("giờ trong lịch"), null=True, blank=True)
    started_at = models.DateTimeField(_("bắt đầu"))
    ended_at = models.DateTimeField(_("kết thúc"), null=True, blank=True)
    status = models.CharField(_("kết quả"), max_length=10, choices=AsRunStatus.choices)
    cut_by = models.CharField(_("bị cắt bởi"), max_length=100, blank=True)
    reason = models.CharField(_("lý do lỗi"), max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["item", "started_at"]),
            # a day's plays of the whole province (KPI rollups, the airplay report)
            models.Index(fields=["started_at"], name="broadcast_asrun_started"),
            # one device's (or a commune's devices') journal over a few days: relay compliance
            models.Index(fields=["device", "started_at"], name="broadcast_asrun_device_start"),
        ]
        verbose_name = _("nhật ký phát")
        verbose_name_plural = _("nhật ký phát")

    def __str__(self) -> str:
        return f"{self.device_id} {self.manifest_item} {self.status}"


__all__ = [
    "AsRunEntry",
    "AsRunStatus",
    "ItemKind",
    "ItemStatus",
    "Manifest",
    "Priority",
    "Proposal",
    "ProposalStatus",
    "RelayType",
    "ScheduleItem",
    "Station",
    "UsagePolicy",
]


class RelaySource(TimeStampedModel):
    """A stream a unit's stations may relay (e.g. VOV1); set by the province's administrators.

    A relay item may only carry a URL listed for its unit or an ancestor: an operator cannot
    put any stream on the air.
    """

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="relay_sources",
        verbose_name=_("đơn vị"),
    )
    name = models.CharField(_("tên"), max_length=200)
    url = models.URLField(_("địa chỉ luồng"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["unit__path", "name"]
        verbose_name = _("nguồn tiếp sóng")
        verbose_name_plural = _("nguồn tiếp sóng")
        constraints = [
            models.UniqueConstraint(fields=["unit", "url"], name="relay_source_once_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"
