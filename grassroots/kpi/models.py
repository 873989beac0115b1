"""Targets of the plan's indicators (editable data) and the daily rollups the dashboards sum.

Raw facts (as-run entries, connectivity history, bulletins, shares, reports, ratings, display
proofs, inventory) stay the source of truth; `DailyRollup` and `DeviceDay` are derived and can be
rebuilt for any date range (`grassroots kpi_rebuild`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager

from .choices import ExportFormat, JobKind, JobStatus, ReportKind, ReportState


class Comparison(models.TextChoices):
    AT_LEAST = "gte", "≥"
    MORE_THAN = "gt", ">"
    AT_MOST = "lte", "≤"


class Target(models.Model):
    """The plan's target for one indicator in one year (e.g. e-boards in > 70 % of xã by 2025).

    Seeded from the provincial plan (section I.2); an administrator edits them and adds years.
    A target applies to its year and to later years until another target is set.
    """

    indicator = models.CharField(_("chỉ số"), max_length=40)
    year = models.PositiveSmallIntegerField(_("năm"))
    value = models.FloatField(_("giá trị mục tiêu"))
    comparison = models.CharField(
        _("so sánh"), max_length=3, choices=Comparison.choices, default=Comparison.AT_LEAST
    )
    source = models.CharField(_("căn cứ"), max_length=300, blank=True)

    class Meta:
        ordering = ["indicator", "year"]
        verbose_name = _("mục tiêu chỉ số")
        verbose_name_plural = _("mục tiêu chỉ số")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "year"], name="kpi_target_once_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}: {self.get_comparison_display()} {self.value:g}"

    def met_by(self, value: float) -> bool:
        if self.comparison == Comparison.MORE_THAN:
            return value > self.value
        if self.comparison == Comparison.AT_MOST:
            return value <= self.value
        return value >= self.value


# Counters of one unit's day; indicators are ratios of their sums (see indicators.py).
FLOW_FIELDS = (
    "plays",
    "plays_failed",
    "plays_scheduled",
    "plays_on_time",
    "device_expected_s",
    "device_online_s",
    "relay_due",
    "relay_full",
    "relay_partial",
    "relay_missed",
    "essential_due",
    "essential_aired",
    "essential_delay_s",
    "reports_received",
    "reports_handled",
    "reports_in_time",
    "report_handle_s",
    "ratings",
    "rating_stars",
    "bulletins_own",
    "bulletins_provincial",
    "bulletins_national",
    "approvals",
    "approval_lead_s",
)
# Inventory at the end of the day: a period takes its last day's value, never a sum.
STOCK_FIELDS = ("stations", "stations_ip", "speakers_ip", "speakers_ip_seen", "boards_working")


class DailyRollup(models.Model):
    """What happened in one unit on one local (Vietnam) day: sums of facts, inventory at its end.

    Facts are counted at the unit they belong to (a device's unit, a report's handling unit, a
    bulletin's owner, a share's receiving commune); a province figure is the sum of its rows.
    """

    scope_field = "unit"

    unit = models.ForeignKey("units.Unit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("ngày"))
    computed_at = models.DateTimeField(auto_now=True)
    locals().update({name: models.BigIntegerField(default=0) for name in FLOW_FIELDS})
    locals().update({name: models.IntegerField(default=0) for name in STOCK_FIELDS})

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("tổng hợp ngày")
        verbose_name_plural = _("tổng hợp ngày")
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="kpi_rollup_once")]
        indexes = [models.Index(fields=["day", "unit"])]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"


class DeviceDay(models.Model):
    """One loudspeaker cluster's day: plays, punctuality, online time, state at midnight."""

    scope_field = "unit"

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("units.Unit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    plays = models.IntegerField(default=0)
    plays_failed = models.IntegerField(default=0)
    plays_scheduled = models.IntegerField(default=0)
    plays_on_time = models.IntegerField(default=0)
    online_s = models.IntegerField(default=0)
    expected_s = models.IntegerField(default=0)
    online_at_end = models.BooleanField(default=False)

    objects = RestrictedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "day"], name="kpi_device_day")]
        indexes = [
            models.Index(fields=["day", "unit"]),
            # a commune's clusters over a year: its own rows, not every cluster's days
            models.Index(fields=["unit", "day"], name="kpi_deviceday_unit_day"),
        ]

    def __str__(self) -> str:
        return f"dev-{self.device_id} {self.day}"


class MonthRollup(models.Model):
    """The sums of one unit's `DailyRollup` rows of one month (flows), and its inventory on the
    last of those days (`last_day`): a year of a province is 12 rows per unit, not 365.

    Derived from the daily rows whenever they are written (`rollup.roll_months`).
    """

    scope_field = "unit"

    unit = models.ForeignKey("units.Unit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("tháng"))  # its first day
    last_day = models.DateField()
    locals().update({name: models.BigIntegerField(default=0) for name in FLOW_FIELDS})
    locals().update({name: models.IntegerField(default=0) for name in STOCK_FIELDS})

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("tổng hợp tháng")
        verbose_name_plural = _("tổng hợp tháng")
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="kpi_month_once")]
        indexes = [models.Index(fields=["month", "unit"])]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%Y-%m}"


class DirtyDay(models.Model):
    """A (unit, day) whose facts changed since its row was computed: written in the transaction
    that stores the facts (as-run uploads, however late), consumed by the worker."""

    unit = models.ForeignKey("units.Unit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="kpi_dirty_once")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"


class Cursor(models.Model):
    """How far the worker has read each source of facts (a time or an id), for incremental runs."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField(null=True, blank=True)
    last_id = models.BigIntegerField(default=0)
    day = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


# --- the yearly report (plan: "báo cáo kết quả ... trước ngày 10/12 hằng năm") --------------


class ReportingBody(TimeStampedModel):
    """A provincial agency (sở, ban, ngành, đoàn thể) that reports to the province each year.

    Names of bodies are data: the province adds them in the back office. `compiles` marks the
    agency that receives the reports and compiles the provincial one (Sở VHTTDL since 2025);
    its name heads the provincial report. `unit` is the province the agency belongs to: its
    report is scoped there."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("tỉnh")
    )
    name = models.CharField(_("tên cơ quan"), max_length=200)
    email = models.EmailField(_("thư điện tử nhận nhắc hạn"), blank=True)
    compiles = models.BooleanField(_("cơ quan tổng hợp báo cáo của tỉnh"), default=False)
    active = models.BooleanField(_("phải báo cáo"), default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-compiles", "name"]
        verbose_name = _("cơ quan báo cáo")
        verbose_name_plural = _("cơ quan báo cáo")

    def __str__(self) -> str:
        return self.name


class ReportCalendar(models.Model):
    """The deadline of one year's reports and the days reminders go out (the plan says 10/12;
    the province may set another day). `reminded` lists the reminder days already sent."""

    year = models.PositiveSmallIntegerField(_("năm"), unique=True)
    deadline = models.DateField(_("hạn gửi báo cáo"))
    reminders = models.JSONField(_("ngày nhắc hạn"), default=list, blank=True)
    reminded = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("hạn báo cáo năm")
        verbose_name_plural = _("hạn báo cáo năm")

    def __str__(self) -> str:
        return f"{self.year}: {self.deadline:%d/%m/%Y}"


class YearlyReport(TimeStampedModel):
    """One reporting unit's report for one year: figures pre-filled from the platform
    (`figures`, frozen when it is sent), the officer's own text per section of the plan
    (`texts`), the heading a signed document needs, and where it stands."""

    scope_field = "unit"

    kind = models.CharField(_("loại"), max_length=12, choices=ReportKind.choices)
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("đơn vị")
    )
    body = models.ForeignKey(
        ReportingBody,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("cơ quan"),
    )
    year = models.PositiveSmallIntegerField(_("năm"), db_index=True)
    state = models.CharField(
        _("trạng thái"), max_length=10, choices=ReportState.choices, default=ReportState.DRAFT
    )
    texts = models.JSONField(_("nội dung"), default=dict, blank=True)
    figures = models.JSONField(_("số liệu"), default=dict, blank=True)
    figures_at = models.DateTimeField(_("số liệu lấy lúc"), null=True, blank=True)
    # the heading and the signature block (Nghị định 30/2020/NĐ-CP)
    issuer_parent = models.CharField(_("cơ quan chủ quản"), max_length=200, blank=True)
    issuer = models.CharField(_("cơ quan ban hành"), max_length=200, blank=True)
    number = models.CharField(_("số, ký hiệu"), max_length=60, blank=True)
    place = models.CharField(_("địa danh"), max_length=100, blank=True)
    signed_on = models.DateField(_("ngày ký"), null=True, blank=True)
    signer_title = models.CharField(_("chức vụ người ký"), max_length=200, blank=True)
    signer_name = models.CharField(_("người ký"), max_length=100, blank=True)
    recipients = models.TextField(_("nơi nhận"), blank=True)
    submitted_at = models.DateTimeField(_("gửi lúc"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("xem xét lúc"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_comment = models.TextField(_("ý kiến của tỉnh"), blank=True)
    times_returned = models.PositiveSmallIntegerField(_("số lần bị trả lại"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["-year", "kind", "unit__path", "body__name"]
        verbose_name = _("báo cáo năm")
        verbose_name_plural = _("báo cáo năm")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year", "kind"],
                condition=models.Q(body__isnull=True),
                name="kpi_report_once_a_year",
            ),
            models.UniqueConstraint(
                fields=["body", "year"],
                condition=models.Q(body__isnull=False),
                name="kpi_agency_report_once_a_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reporter} — {self.year}"

    @property
    def reporter(self) -> str:
        """Who reports: the agency's name, or the unit's."""
        return self.body.name if self.body_id else self.unit.name

    @property
    def editable(self) -> bool:
        return self.state in ReportState.editable()


class ReportEvent(models.Model):
    """One step of a report's history: who moved it from which state to which, and why."""

    report = models.ForeignKey(YearlyReport, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=10, choices=ReportState.choices)
    to_state = models.CharField(max_length=10, choices=ReportState.choices)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.from_state} → {self.to_state}"


class ReportJob(models.Model):
    """Work the worker does for a report (compiling the province's, writing a file), with its
    progress for the console's progress bar and, once done, the file it wrote."""

    report = models.ForeignKey(YearlyReport, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=10, choices=JobKind.choices)
    fmt = models.CharField(max_length=5, choices=ExportFormat.choices, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    file = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.fmt} #{self.report_id}: {self.status} {self.progress}%"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
