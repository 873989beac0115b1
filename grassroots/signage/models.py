"""E-boards: layouts, playlists, the paired board (credential, state), pairing codes, proofs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager

from .choices import LayoutKind, ProofKind

ALL_WEEKDAYS = [0, 1, 2, 3, 4, 5, 6]


def all_weekdays() -> list[int]:
    return list(ALL_WEEKDAYS)


class Layout(TimeStampedModel):
    """How a board arranges its screen: full-screen content, or split with ticker and clock."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.CASCADE, related_name="+", verbose_name=_("đơn vị")
    )
    name = models.CharField(_("tên"), max_length=100)
    kind = models.CharField(
        _("kiểu bố cục"), max_length=10, choices=LayoutKind.choices, default=LayoutKind.SPLIT
    )
    show_clock = models.BooleanField(_("hiện đồng hồ, ngày"), default=True)
    show_unit_name = models.BooleanField(_("hiện tên đơn vị"), default=True)
    ticker_text = models.CharField(_("dòng chữ chạy thêm"), max_length=500, blank=True)
    text_scale = models.PositiveSmallIntegerField(
        _("cỡ chữ (%)"), default=100, validators=[MinValueValidator(60), MaxValueValidator(250)]
    )
    default_duration = models.PositiveSmallIntegerField(
        _("thời lượng mặc định mỗi mục (giây)"),
        default=20,
        validators=[MinValueValidator(2), MaxValueValidator(600)],
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["unit__path", "name"]
        verbose_name = _("bố cục bảng tin")
        verbose_name_plural = _("bố cục bảng tin")

    def __str__(self) -> str:
        return self.name


class Playlist(TimeStampedModel):
    """Bulletins shown in turn on the boards of a unit (or on chosen boards), in a daypart."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.CASCADE, related_name="+", verbose_name=_("đơn vị")
    )
    name = models.CharField(_("tên"), max_length=200)
    active = models.BooleanField(_("đang dùng"), default=True)
    boards = models.ManyToManyField(
        "devices.Device",
        blank=True,
        related_name="+",
        verbose_name=_("chỉ các bảng tin"),
        help_text=_("Để trống: mọi bảng tin của đơn vị và các đơn vị trực thuộc."),
    )
    weekdays = models.JSONField(
        _("ngày trong tuần (0 = thứ Hai … 6 = Chủ nhật)"), default=all_weekdays, blank=True
    )
    start_time = models.TimeField(_("hiện từ giờ"), null=True, blank=True)
    end_time = models.TimeField(_("hiện đến giờ"), null=True, blank=True)
    valid_from = models.DateTimeField(_("hiệu lực từ"), null=True, blank=True)
    valid_until = models.DateTimeField(_("hiệu lực đến"), null=True, blank=True)
    order = models.SmallIntegerField(_("thứ tự"), default=0)

    objects = RestrictedManager()

    class Meta:
        ordering = ["unit__path", "order", "id"]
        verbose_name = _("danh sách hiển thị")
        verbose_name_plural = _("danh sách hiển thị")

    def __str__(self) -> str:
        return self.name


class PlaylistItem(models.Model):
    """One approved bulletin in a playlist, with its own duration and sound setting."""

    scope_field = "playlist__unit"

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    bulletin = models.ForeignKey(
        "content.Bulletin", on_delete=models.CASCADE, related_name="+", verbose_name=_("bản tin")
    )
    position = models.PositiveSmallIntegerField(_("vị trí"), default=0)
    duration = models.PositiveSmallIntegerField(
        _("thời lượng (giây)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2), MaxValueValidator(600)],
    )
    allow_sound = models.BooleanField(_("cho phép phát tiếng video"), default=False)

    objects = RestrictedManager()

    class Meta:
        ordering = ["playlist", "position", "id"]
        verbose_name = _("mục hiển thị")
        verbose_name_plural = _("mục hiển thị")

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}: {self.bulletin_id}"


class Board(models.Model):
    """The e-board side of a board Device: credential, layout, last state, stored manifest."""

    scope_field = "device__unit"

    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, related_name="board", primary_key=True
    )
    layout = models.ForeignKey(
        Layout, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("bố cục")
    )
    auto_unit_bulletins = models.BooleanField(
        _("tự hiện bản tin đã duyệt của đơn vị"), default=True
    )
    # SHA-256 of the board's bearer token; the token itself is shown to the board once.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    mqtt_password_hash = models.CharField(max_length=200, blank=True)
    paired_at = models.DateTimeField(_("ghép nối lúc"), null=True, blank=True)
    paired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("liên lạc lần cuối"), null=True, blank=True)
    reported_online = models.BooleanField(default=False)
    state = models.JSONField(default=dict, blank=True)
    current_item = models.CharField(_("đang hiện"), max_length=300, blank=True)
    manifest_body = models.TextField(blank=True, editable=False)
    manifest_etag = models.CharField(max_length=64, blank=True, editable=False)
    manifest_hash = models.CharField(max_length=64, blank=True, editable=False)
    manifest_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    screenshot = models.CharField(max_length=300, blank=True, editable=False)
    screenshot_at = models.DateTimeField(_("ảnh chụp lúc"), null=True, blank=True)
    screenshot_requested_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("bảng tin điện tử")
        verbose_name_plural = _("bảng tin điện tử")

    def __str__(self) -> str:
        return str(self.device)

    @property
    def is_paired(self) -> bool:
        return bool(self.token_hash) and self.revoked_at is None

    @property
    def mqtt_username(self) -> str:
        return f"board-{self.device_id}"


class PairingCode(models.Model):
    """A short one-time code a new board shows; an operator enters it to bind it to a board."""

    code = models.CharField(max_length=8, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mã ghép nối")
        verbose_name_plural = _("mã ghép nối")

    def __str__(self) -> str:
        return self.code


class DisplayProof(models.Model):
    """Proof of display: what a board showed, from when, for how long (counted like as-run)."""

    scope_field = "device__unit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    bulletin = models.ForeignKey(
        "content.Bulletin", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = models.ForeignKey(
        "content.BulletinRevision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    item = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10, choices=ProofKind.choices, default=ProofKind.ITEM)
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField()
    seconds = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("nhật ký hiển thị")
        verbose_name_plural = _("nhật ký hiển thị")
        indexes = [models.Index(fields=["bulletin", "started_at"])]

    def __str__(self) -> str:
        return f"{self.device_id} {self.item} {self.started_at:%Y-%m-%d %H:%M}"
