"""Choices of the plan's implementation records (sections IV, V.2, V.6)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FundingSource(models.TextChoices):
    """Plan section IV.1: where the money comes from."""

    PROVINCIAL = "provincial_budget", _("Ngân sách tỉnh")
    COMMUNE = "commune_budget", _("Ngân sách cấp xã")
    NATIONAL_PROGRAMME = "national_programme", _("Chương trình mục tiêu quốc gia")
    SOCIALISED = "socialised", _("Xã hội hóa")
    SERVICE_RENTAL = "service_rental", _("Thuê dịch vụ")


class Purpose(models.TextChoices):
    """What an investment is for (plan sections III.1–III.4 and V.6)."""

    STATION = "station_conversion", _("Chuyển đổi đài truyền thanh sang CNTT-VT")
    EBOARD = "eboard", _("Bảng tin điện tử công cộng")
    SYSTEM = "source_system", _("Hệ thống thông tin nguồn")
    TRAINING = "training", _("Đào tạo, bồi dưỡng")
    MAINTENANCE = "maintenance", _("Bảo dưỡng, sửa chữa")


class SiteStatus(models.TextChoices):
    PROPOSED = "proposed", _("Đề xuất")
    APPROVED = "approved", _("Đã duyệt")
    REJECTED = "rejected", _("Không duyệt")
    INSTALLED = "installed", _("Đã lắp bảng tin")


class InspectionKind(models.TextChoices):
    """Plan V.6: "kiểm tra, giám sát định kỳ hoặc đột xuất"."""

    PERIODIC = "periodic", _("Định kỳ")
    UNANNOUNCED = "unannounced", _("Đột xuất")


# The checklist of an inspection: field name, what the inspector checks.
CHECKLIST = (
    ("equipment_ok", _("Thiết bị hoạt động tốt")),
    ("relay_slots_kept", _("Tiếp sóng đúng khung giờ")),
    ("content_approved", _("Nội dung phát đã được duyệt")),
    ("logs_kept", _("Có sổ/nhật ký phát thanh")),
)
