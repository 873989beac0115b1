"""Choices of the device registry, with the Vietnamese labels a commune uses in its inventory."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    SPEAKER = "speaker", _("Cụm loa")
    BOARD = "board", _("Bảng tin điện tử")


class Technology(models.TextChoices):
    IP_4G = "ip_4g", _("IP/4G")
    WIRED = "wired", _("Có dây")
    FM = "fm", _("FM")
    OTHER = "other", _("Khác")


class Condition(models.TextChoices):
    WORKING = "working", _("Hoạt động tốt")
    DEGRADED = "degraded", _("Xuống cấp")
    BROKEN = "broken", _("Hỏng")
