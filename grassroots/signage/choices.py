"""Choices of the e-board app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LayoutKind(models.TextChoices):
    FULL = "full", _("Toàn màn hình")
    SPLIT = "split", _("Chia vùng: nội dung, dòng chữ chạy, đồng hồ, tên đơn vị")


class ProofKind(models.TextChoices):
    ITEM = "item", _("Bản tin")
    EMERGENCY = "emergency", _("Cảnh báo khẩn cấp")


class BoardHealth(models.TextChoices):
    ONLINE = "online", _("Đang hoạt động")
    OFFLINE = "offline", _("Mất kết nối")
    UNPAIRED = "unpaired", _("Chưa ghép nối")
