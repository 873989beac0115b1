"""States, resolutions and event kinds of citizen reports."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    """Where a report is in its life."""

    NEW = "new", _("Mới tiếp nhận")
    IN_PROGRESS = "in_progress", _("Đang xử lý")
    ANSWERED = "answered", _("Đã trả lời")
    CLOSED = "closed", _("Đã đóng")

    @classmethod
    def open_states(cls) -> list[str]:
        return [cls.NEW, cls.IN_PROGRESS]


class Resolution(models.TextChoices):
    """How a closed report ended."""

    RESOLVED = "resolved", _("Đã giải quyết")
    NOT_RESPONSIBLE = "not_responsible", _("Không thuộc thẩm quyền")
    DUPLICATE = "duplicate", _("Trùng lặp")
    CANNOT_RESOLVE = "cannot_resolve", _("Không thể giải quyết")
    HIDDEN_ABUSE = "hidden_abuse", _("Ẩn do lạm dụng")


class Channel(models.TextChoices):
    """How the report reached us."""

    WEB = "web", _("Ứng dụng phản ánh")
    OPEN311 = "open311", _("Open311")
    CONSOLE = "console", _("Cán bộ nhập")
    EXCHANGE = "exchange", _("Chuyển từ hệ thống khác (liên thông)")


class EventKind(models.TextChoices):
    """Steps of a report's timeline."""

    RECEIVED = "received", _("Tiếp nhận")
    ASSIGNED = "assigned", _("Giao xử lý")
    REROUTED = "rerouted", _("Chuyển đơn vị")
    PULLED_UP = "pulled_up", _("Cấp trên lấy lên xử lý")
    MERGED = "merged", _("Gộp phản ánh trùng")
    ANSWERED = "answered", _("Trả lời")
    CLOSED = "closed", _("Đóng")
    REOPENED = "reopened", _("Mở lại")
    RATED = "rated", _("Người dân đánh giá")
    REMINDED = "reminded", _("Nhắc hạn")
    ESCALATED = "escalated", _("Quá hạn, chuyển cấp trên")
    RESTORED = "restored", _("Khôi phục sau kiểm duyệt")


class NotificationChannel(models.TextChoices):
    """How a notification is delivered."""

    EMAIL = "email", _("Thư điện tử")
    SMS = "sms", _("Tin nhắn SMS")
