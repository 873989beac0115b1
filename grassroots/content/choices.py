"""Choices of the content app: bulletin kinds, priorities (Thông tư 39/2020), sources, states."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BulletinKind(models.TextChoices):
    TEXT = "text", _("Văn bản")
    AUDIO = "audio", _("Âm thanh")
    VIDEO = "video", _("Video")
    IMAGE = "image", _("Hình ảnh")


class Priority(models.TextChoices):
    """Thông tư 39/2020: normal is optional for the commune, priority and emergency must air."""

    NORMAL = "normal", _("Thông thường")
    PRIORITY = "priority", _("Ưu tiên")
    EMERGENCY = "emergency", _("Khẩn cấp")

    @classmethod
    def must_air(cls, value: str) -> bool:
        return value in (cls.PRIORITY, cls.EMERGENCY)


class Source(models.TextChoices):
    OWN = "own", _("Tự soạn")
    PROVINCIAL_BODY = "provincial_body", _("Cơ quan, đơn vị cấp tỉnh")
    NATIONAL = "national", _("Hệ thống thông tin nguồn trung ương")


class Status(models.TextChoices):
    DRAFT = "draft", _("Bản nháp")
    SUBMITTED = "submitted", _("Chờ duyệt")
    CHANGES_REQUESTED = "changes_requested", _("Cần sửa")
    APPROVED = "approved", _("Đã duyệt")
    PUBLISHED = "published", _("Đã xuất bản")
    WITHDRAWN = "withdrawn", _("Đã thu hồi")
    EXPIRED = "expired", _("Hết hiệu lực")
    ARCHIVED = "archived", _("Lưu trữ")

    @classmethod
    def editable(cls) -> set[str]:
        """States in which an edit is allowed; an edit after approval sends it back to draft."""
        return {cls.DRAFT, cls.CHANGES_REQUESTED, cls.SUBMITTED, cls.APPROVED, cls.WITHDRAWN}


class ApprovalLevel(models.TextChoices):
    """Where an approval step is taken, relative to the bulletin's owning unit."""

    OWNER = "owner", _("Đơn vị soạn bản tin")
    PARENT = "parent", _("Đơn vị cấp trên trực tiếp")
    ROOT = "root", _("Cấp tỉnh")


class MediaStatus(models.TextChoices):
    PENDING = "pending", _("Đang xử lý")
    READY = "ready", _("Sẵn sàng")
    REJECTED = "rejected", _("Bị từ chối")
