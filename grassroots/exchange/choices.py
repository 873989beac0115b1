"""Choices of the exchange app: message kinds, delivery states, refusal reasons."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What a federation message carries (the protocol's `kind`)."""

    BULLETIN = "bulletin", _("Bản tin")
    WITHDRAWAL = "withdrawal", _("Thu hồi bản tin")
    STATISTICS = "statistics", _("Số liệu thống kê")
    CITIZEN_REPORT = "citizen_report", _("Phản ánh của người dân")
    REPORT_STATUS = "report_status", _("Kết quả xử lý phản ánh")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Chờ gửi")
    DELIVERED = "delivered", _("Đã gửi")
    FAILED = "failed", _("Gửi lỗi")
    SUPERSEDED = "superseded", _("Đã có phiên bản mới hơn")
    CANCELLED = "cancelled", _("Đã huỷ (bản tin đã thu hồi trước khi gửi được)")


class Via(models.TextChoices):
    PUSH = "push", _("Đẩy (POST)")
    PULL = "pull", _("Kéo (theo con trỏ)")


class Refusal(models.TextChoices):
    """Why an inbound message was refused (logged, answered with a 4xx)."""

    MALFORMED = "malformed", _("Sai cấu trúc")
    UNKNOWN_PEER = "unknown_peer", _("Hệ thống gửi chưa được khai báo")
    UNKNOWN_KEY = "unknown_key", _("Khoá ký không hợp lệ hoặc đã thu hồi")
    BAD_SIGNATURE = "bad_signature", _("Sai chữ ký")
    BAD_HASH = "bad_hash", _("Sai mã băm nội dung")
    WRONG_DESTINATION = "wrong_destination", _("Gửi nhầm hệ thống nhận")
    KIND_NOT_ALLOWED = "kind_not_allowed", _("Loại tin không được phép")
    OUT_OF_SCOPE = "out_of_scope", _("Ngoài phạm vi của hệ thống gửi")
    OLD_VERSION = "old_version", _("Phiên bản cũ hơn đã nhận")
    CONFLICT = "conflict", _("Cùng phiên bản, khác nội dung")
    MEDIA = "media", _("Tệp đính kèm không tải được hoặc sai mã băm")
    UNROUTABLE = "unroutable", _("Không xác định được xã/phường chịu trách nhiệm")


class FateState(models.TextChoices):
    """How far a bulletin sent down has come at one receiver (central mode): the delivery from
    our outbox, then what the receiver's statistics say (`BulletinFate`); the furthest step."""

    CANCELLED = "cancelled", _("Huỷ gửi (đã thu hồi)")
    FAILED = "failed", _("Gửi lỗi")
    PENDING = "pending", _("Chờ gửi")
    DELIVERED = "delivered", _("Đã gửi, chưa có số liệu")
    RECEIVED = "received", _("Đã nhận")
    APPROVED = "approved", _("Đã duyệt")
    PLACED = "placed", _("Đã xếp lịch")
    AIRED = "aired", _("Đã phát")
    WITHDRAWN = "withdrawn", _("Đã thu hồi")
