"""Choices of the yearly report (báo cáo năm): who reports, its states, generation jobs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    """Who the report is from: a commune-level unit, a provincial agency, or the province's
    compiled report (to the ministry)."""

    UNIT = "unit", _("Báo cáo của xã, phường")
    AGENCY = "agency", _("Báo cáo của cơ quan cấp tỉnh")
    PROVINCIAL = "provincial", _("Báo cáo tổng hợp của tỉnh")


class ReportState(models.TextChoices):
    """draft → submitted → accepted, or → returned (with a comment) → submitted again."""

    DRAFT = "draft", _("Đang soạn")
    SUBMITTED = "submitted", _("Đã gửi")
    RETURNED = "returned", _("Bị trả lại")
    ACCEPTED = "accepted", _("Đã tiếp nhận")

    @classmethod
    def editable(cls) -> set[str]:
        return {cls.DRAFT, cls.RETURNED}

    @classmethod
    def sent(cls) -> set[str]:
        """States in which the province has the unit's report in hand."""
        return {cls.SUBMITTED, cls.ACCEPTED}


class JobKind(models.TextChoices):
    COMPILE = "compile", _("Tổng hợp báo cáo của tỉnh")
    EXPORT = "export", _("Xuất tệp")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang chạy")
    DONE = "done", _("Xong")
    FAILED = "failed", _("Lỗi")


class ExportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word (DOCX)"
    XLSX = "xlsx", "Excel (XLSX)"
