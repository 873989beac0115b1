"""Training records (plan section III.4): the staff roster, courses, sessions, attendance.

Every row hangs on a unit, so a report reads them per unit and per year: a staff member's
`unit`, a course's organising `unit`, a session's dates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager
from grassroots.units.text import fold

from .choices import Position, Result, Topic


class StaffMember(TimeStampedModel):
    """A person doing grassroots information in a unit, and whether their position must be
    trained (plan III.4.b: commune culture-society officers, station staff, provincial staff)."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("đơn vị")
    )
    full_name = models.CharField(_("họ và tên"), max_length=200)
    name_folded = models.CharField(max_length=200, db_index=True, editable=False)
    position = models.CharField(_("vị trí"), max_length=20, choices=Position.choices)
    job_title = models.CharField(_("chức danh"), max_length=200, blank=True)
    requires_training = models.BooleanField(_("vị trí phải được đào tạo"), default=True)
    start_date = models.DateField(_("ngày bắt đầu đảm nhiệm"), null=True, blank=True)
    end_date = models.DateField(_("ngày thôi đảm nhiệm"), null=True, blank=True)
    phone = models.CharField(_("số điện thoại"), max_length=20, blank=True)
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["unit__path", "name_folded"]
        verbose_name = _("cán bộ")
        verbose_name_plural = _("cán bộ")
        indexes = [models.Index(fields=["unit", "name_folded"])]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.name_folded = fold(self.full_name)
        super().save(*args, **kwargs)


class Course(TimeStampedModel):
    """A training course on the plan's topics, organised by a unit (usually the province)."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("đơn vị tổ chức")
    )
    title = models.CharField(_("tên khóa học"), max_length=300)
    topics = models.JSONField(_("nội dung"), default=list, blank=True)
    description = models.TextField(_("mô tả"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("khóa học")
        verbose_name_plural = _("khóa học")

    def __str__(self) -> str:
        return self.title

    def topic_labels(self) -> list[str]:
        labels = dict(Topic.choices)
        return [str(labels.get(t, t)) for t in self.topics]


class Session(TimeStampedModel):
    """One class of a course: dates, place, trainer, hours."""

    scope_field = "course__unit"

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("khóa học")
    )
    starts_on = models.DateField(_("từ ngày"), db_index=True)
    ends_on = models.DateField(_("đến ngày"))
    place = models.CharField(_("địa điểm"), max_length=300)
    trainer = models.CharField(_("giảng viên"), max_length=200)
    hours = models.DecimalField(_("số giờ"), max_digits=5, decimal_places=1)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("lớp học")
        verbose_name_plural = _("lớp học")

    def __str__(self) -> str:
        return f"{self.course.title} ({self.starts_on:%d/%m/%Y})"


class Attendance(TimeStampedModel):
    """A staff member at a session, with the result; `passed` counts as trained."""

    # The commune sees its own people's results; the organiser sees the whole class.
    scope_field = ("staff__unit", "session__course__unit")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="attendance")
    result = models.CharField(_("kết quả"), max_length=10, choices=Result.choices)
    score = models.DecimalField(_("điểm"), max_digits=4, decimal_places=1, null=True, blank=True)
    attended_on = models.DateField(_("ngày dự"), null=True, blank=True)
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["staff__unit__path", "staff__name_folded"]
        verbose_name = _("kết quả học")
        verbose_name_plural = _("kết quả học")
        constraints = [models.UniqueConstraint(fields=["session", "staff"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.staff} @ {self.session_id}: {self.result}"
