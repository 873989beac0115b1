"""Choices of stations and schedules (Thông tư 39/2020 priorities)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Priority(models.TextChoices):
    NORMAL = "normal", _("Thông thường")
    PRIORITY = "priority", _("Ưu tiên")
    EMERGENCY = "emergency", _("Khẩn cấp")

    @property
    def level(self) -> int:
        return {"normal": 1, "priority": 2, "emergency": 3}[self.value]


class ItemKind(models.TextChoices):
    BULLETIN = "bulletin", _("Bản tin")
    PLAYLIST = "playlist", _("Danh sách phát")
    RELAY = "relay", _("Tiếp sóng")


class RelayType(models.TextChoices):
    FM = "fm", _("Sóng FM")
    STREAM = "stream", _("Luồng Internet")


class ItemStatus(models.TextChoices):
    ACTIVE = "active", _("Đang áp dụng")
    CANCELLED = "cancelled", _("Đã huỷ")


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Chờ xếp lịch")
    PLACED = "placed", _("Đã xếp lịch")
    DECLINED = "declined", _("Không phát")


class AsRunStatus(models.TextChoices):
    PLAYED = "played", _("Đã phát")
    CUT = "cut", _("Bị cắt")
    FAILED = "failed", _("Lỗi")
