"""Choices of the training records (plan section III.4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Topic(models.TextChoices):
    """The subjects plan III.4.a lists for training grassroots-information staff."""

    CONTENT = "content_production", _("Khai thác, sản xuất nội dung chương trình")
    EDITING = "editing", _("Biên tập")
    WRITING = "news_writing", _("Viết tin, bài (trang tin điện tử, bảng tin điện tử)")
    DIGITAL = "digital_skills", _("Ứng dụng CNTT, công nghệ số")
    EQUIPMENT = "equipment", _("Quản lý, vận hành thiết bị kỹ thuật")
    SECURITY = "security", _("An toàn, an ninh thông tin")


class Position(models.TextChoices):
    """Who plan III.4.b names as trainees (after 2025 there is no district level)."""

    CULTURE_OFFICER = "culture_officer", _("Cán bộ văn hóa - xã hội cấp xã")
    STATION_STAFF = "station_staff", _("Cán bộ đài truyền thanh cấp xã")
    PROVINCIAL = "provincial", _("Cán bộ cấp tỉnh phụ trách thông tin cơ sở")
    IT_OFFICER = "it_officer", _("Cán bộ phụ trách công nghệ thông tin")
    OTHER = "other", _("Khác")

    @classmethod
    def requires_training(cls, value: str) -> bool:
        """Every position the plan names must be trained; "other" only if the unit says so."""
        return value != cls.OTHER


class Result(models.TextChoices):
    PASSED = "passed", _("Đạt")
    FAILED = "failed", _("Không đạt")
    ABSENT = "absent", _("Vắng")
