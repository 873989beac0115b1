"""The plan's implementation records: investments and their funding (plan section IV),
proposed e-board sites (V.2) and inspections of commune radio (V.6).

Every row has a unit (an inspection through its station) and a year or a date, so the yearly
report reads them per unit and per year.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager

from .choices import FundingSource, InspectionKind, Purpose, SiteStatus


class Investment(TimeStampedModel):
    """One investment of the plan: its year, what it is for, the source of its money, and the
    amounts planned (dự toán) and spent (giải ngân), in đồng."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("đơn vị")
    )
    year = models.PositiveSmallIntegerField(_("năm"), db_index=True)
    purpose = models.CharField(_("hạng mục"), max_length=20, choices=Purpose.choices)
    source = models.CharField(_("nguồn kinh phí"), max_length=20, choices=FundingSource.choices)
    title = models.CharField(_("nội dung"), max_length=300)
    planned_amount = models.BigIntegerField(_("kinh phí dự kiến (đồng)"))
    spent_amount = models.BigIntegerField(_("đã giải ngân (đồng)"), default=0)
    station = models.ForeignKey(
        "broadcast.Station",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("đài truyền thanh"),
    )
    board = models.ForeignKey(
        "devices.Device",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("bảng tin điện tử"),
    )
    course = models.ForeignKey(
        "training.Course",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("khóa đào tạo"),
    )
    decision = models.CharField(_("quyết định phê duyệt"), max_length=200, blank=True)
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["-year", "unit__path", "id"]
        verbose_name = _("khoản đầu tư")
        verbose_name_plural = _("khoản đầu tư")

    def __str__(self) -> str:
        return f"{self.year}: {self.title}"


class EboardSite(TimeStampedModel):
    """A proposed place for a public e-board in a commune (plan V.2): reviewed for the
    province's outdoor-advertising plan, then linked to the board installed there."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("đơn vị")
    )
    address = models.CharField(_("địa chỉ"), max_length=300)
    latitude = models.FloatField(_("vĩ độ"), null=True, blank=True)
    longitude = models.FloatField(_("kinh độ"), null=True, blank=True)
    reason = models.TextField(_("lý do chọn vị trí"))
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=SiteStatus.choices, default=SiteStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("duyệt lúc"), null=True, blank=True)
    review_note = models.CharField(_("ý kiến thẩm định"), max_length=500, blank=True)
    board = models.OneToOneField(
        "devices.Device",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("bảng tin đã lắp"),
    )
    installed_on = models.DateField(_("ngày lắp"), null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["unit__path", "id"]
        verbose_name = _("vị trí bảng tin điện tử")
        verbose_name_plural = _("vị trí bảng tin điện tử")

    def __str__(self) -> str:
        return self.address


class Inspection(TimeStampedModel):
    """A periodic or unannounced inspection of a commune station (plan V.6), with its checklist,
    findings, follow-up deadline and the as-run evidence of the inspected period (`evidence`,
    computed from the station's devices' as-run journal when the record is made)."""

    scope_field = "station__unit"

    station = models.ForeignKey(
        "broadcast.Station",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("đài truyền thanh"),
    )
    kind = models.CharField(_("hình thức"), max_length=12, choices=InspectionKind.choices)
    inspected_on = models.DateField(_("ngày kiểm tra"), db_index=True)
    inspector = models.CharField(_("người/đoàn kiểm tra"), max_length=200)
    period_start = models.DateField(_("kỳ được kiểm tra từ"))
    period_end = models.DateField(_("đến"))
    equipment_ok = models.BooleanField(_("thiết bị hoạt động tốt"), null=True)
    relay_slots_kept = models.BooleanField(_("tiếp sóng đúng khung giờ"), null=True)
    content_approved = models.BooleanField(_("nội dung phát đã được duyệt"), null=True)
    logs_kept = models.BooleanField(_("có sổ/nhật ký phát thanh"), null=True)
    findings = models.TextField(_("kết luận, tồn tại"), blank=True)
    follow_up = models.TextField(_("yêu cầu khắc phục"), blank=True)
    follow_up_deadline = models.DateField(_("hạn khắc phục"), null=True, blank=True)
    evidence = models.JSONField(_("nhật ký phát của kỳ kiểm tra"), default=dict, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["-inspected_on", "-id"]
        verbose_name = _("biên bản kiểm tra")
        verbose_name_plural = _("biên bản kiểm tra")

    def __str__(self) -> str:
        return f"{self.station} {self.inspected_on:%d/%m/%Y}"
