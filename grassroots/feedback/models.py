"""Citizen reports (phản ánh, kiến nghị), their photos, timeline, ratings and deadlines."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel

from .choices import Channel, EventKind, NotificationChannel, ReportStatus, Resolution
from .querysets import ReportQuerySet

TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone


def new_tracking_code() -> str:
    """A short code the citizen keeps to follow the report, e.g. PA-7KQ2-M9XD."""
    raw = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))
    return f"PA-{raw[:4]}-{raw[4:]}"


def new_token() -> str:
    """An unguessable URL-safe token (photos, Open311 tokens)."""
    return secrets.token_urlsafe(16)


class Category(TimeStampedModel):
    """A kind of report; also an Open311 service (`code` is the service_code)."""

    code = models.SlugField(_("mã"), max_length=50, unique=True)
    name = models.CharField(_("tên"), max_length=200)
    description = models.TextField(_("mô tả"), blank=True)
    group = models.CharField(_("nhóm"), max_length=100, blank=True)
    keywords = models.CharField(_("từ khoá"), max_length=200, blank=True)
    deadline_working_days = models.PositiveSmallIntegerField(_("thời hạn xử lý (ngày làm việc)"))
    escalation_working_days = models.PositiveSmallIntegerField(
        _("thời hạn thêm cho cấp trên khi quá hạn (ngày làm việc)"), default=3
    )
    is_active = models.BooleanField(_("đang dùng"), default=True)
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("lĩnh vực phản ánh")
        verbose_name_plural = _("lĩnh vực phản ánh")

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """A day off (Tết, national holidays, compensatory days): not a working day."""

    date = models.DateField(_("ngày"), unique=True)
    name = models.CharField(_("tên ngày nghỉ"), max_length=200)

    class Meta:
        ordering = ["date"]
        verbose_name = _("ngày nghỉ lễ")
        verbose_name_plural = _("ngày nghỉ lễ")

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.name}"


class UnitSettings(models.Model):
    """A unit's own choices for feedback handling."""

    scope_field = "unit"

    unit = models.OneToOneField(
        "units.Unit", on_delete=models.CASCADE, related_name="feedback_settings"
    )
    reopen_on_low_rating = models.BooleanField(
        _("tự mở lại khi người dân đánh giá thấp"), default=False
    )
    low_rating_threshold = models.PositiveSmallIntegerField(
        _("ngưỡng đánh giá thấp (sao)"), default=2
    )

    class Meta:
        verbose_name = _("cấu hình phản ánh của đơn vị")
        verbose_name_plural = _("cấu hình phản ánh của đơn vị")

    def __str__(self) -> str:
        return str(self.unit)


class Open311Key(models.Model):
    """An API key for an Open311 client (national app, partner apps); only its hash is kept."""

    name = models.CharField(_("tên ứng dụng"), max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("khoá Open311")
        verbose_name_plural = _("khoá Open311")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class Report(TimeStampedModel):
    """One citizen report: routed to a unit, due by a deadline, answered, closed and rated."""

    # Seen by the unit handling it and by the commune where it was filed (after escalation too).
    scope_field = ("unit", "origin_unit")

    tracking_code = models.CharField(
        _("mã theo dõi"), max_length=20, unique=True, default=new_tracking_code
    )
    open311_token = models.CharField(max_length=32, unique=True, default=new_token)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="reports", verbose_name=_("lĩnh vực")
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="feedback_reports",
        verbose_name=_("đơn vị xử lý"),
    )
    origin_unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("đơn vị nơi phản ánh"),
    )
    text = models.TextField(_("nội dung"))
    address = models.CharField(_("địa chỉ"), max_length=300, blank=True)
    latitude = models.FloatField(_("vĩ độ"), null=True, blank=True)
    longitude = models.FloatField(_("kinh độ"), null=True, blank=True)
    share_location = models.BooleanField(_("chia sẻ vị trí"), default=False)
    name = models.CharField(_("họ tên"), max_length=100, blank=True)
    phone = models.CharField(_("số điện thoại"), max_length=20, blank=True)
    email = models.EmailField(_("thư điện tử"), blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    open311_key = models.ForeignKey(
        Open311Key, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    submitter_ip = models.GenericIPAddressField(null=True, blank=True)

    status = models.CharField(
        _("trạng thái"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.NEW
    )
    resolution = models.CharField(
        _("kết quả"), max_length=20, choices=Resolution.choices, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_assigned",
        verbose_name=_("người xử lý"),
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    public_answer = models.TextField(_("trả lời công khai"), blank=True)
    private_answer = models.TextField(_("trả lời riêng cho người phản ánh"), blank=True)
    answered_at = models.DateTimeField(_("trả lời lúc"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("đóng lúc"), null=True, blank=True)

    due_at = models.DateTimeField(_("hạn xử lý"), db_index=True)
    first_due_at = models.DateTimeField(_("hạn xử lý ban đầu"), null=True, blank=True)
    remind_at = models.DateTimeField(_("nhắc hạn lúc"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("phản ánh")
        verbose_name_plural = _("phản ánh")
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.category}"

    @property
    def is_open(self) -> bool:
        return self.status in ReportStatus.open_states()

    @property
    def is_hidden(self) -> bool:
        return self.resolution == Resolution.HIDDEN_ABUSE

    @property
    def can_be_rated(self) -> bool:
        return self.status in (ReportStatus.ANSWERED, ReportStatus.CLOSED) and bool(
            self.public_answer or self.private_answer
        )

    def latest_rating(self):
        return self.ratings.order_by("-created_at", "-id").first()


class Photo(models.Model):
    """A photo attached to a report, re-encoded to JPEG; served by an unguessable token."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    token = models.CharField(max_length=32, unique=True, default=new_token)
    image = models.FileField(upload_to="feedback/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    has_location = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("ảnh")
        verbose_name_plural = _("ảnh")

    def __str__(self) -> str:
        return f"{self.report.tracking_code} #{self.order + 1}"


class ReportEvent(models.Model):
    """One step of a report's history, for the officers' timeline and the citizen's page."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_unit = models.ForeignKey(
        "units.Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_unit = models.ForeignKey(
        "units.Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    public = models.BooleanField(default=False)

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.kind}"


class Rating(models.Model):
    """A citizen's rating of the answer (1–5 stars and a comment)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="ratings")
    stars = models.PositiveSmallIntegerField(_("số sao"))
    comment = models.TextField(_("nhận xét"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("đánh giá")
        verbose_name_plural = _("đánh giá")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5), name="rating_stars_1_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.stars}"


class BulletinRating(models.Model):
    """A citizen's useful / not useful vote on a bulletin (a plain id: no dependency on content)."""

    bulletin_id = models.PositiveBigIntegerField(db_index=True)
    fingerprint = models.CharField(max_length=64)
    useful = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("đánh giá bản tin")
        verbose_name_plural = _("đánh giá bản tin")
        constraints = [
            models.UniqueConstraint(
                fields=["bulletin_id", "fingerprint"], name="bulletin_rating_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bulletin_id}: {'+' if self.useful else '-'}"


class RateCounter(models.Model):
    """A hit counter per key and time window, in the database so every web process shares it."""

    key = models.CharField(max_length=120)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="rate_counter_once")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window}: {self.count}"


class Notification(models.Model):
    """Outbox row for an email or SMS, committed with the change; the worker sends it."""

    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}"
