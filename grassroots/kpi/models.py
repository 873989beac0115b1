"""Targets of the plan's indicators (editable data) and the daily rollups the dashboards sum.

Raw facts (as-run entries, connectivity history, bulletins, shares, reports, ratings, display
proofs, inventory) stay the source of truth; `DailyRollup` and `DeviceDay` are derived and can be
rebuilt for any date range (`grassroots kpi_rebuild`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.querysets import RestrictedManager


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
