"""Bulletins with revisions, categories, approval chains, transitions, media and sharing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager

from .choices import (
    ApprovalLevel,
    BulletinKind,
    MediaStatus,
    Priority,
    Source,
    Status,
)
from .querysets import BulletinQuerySet, MediaQuerySet, ShareQuerySet


class Category(TimeStampedModel):
    """A configurable bulletin category; `essential` marks "thiết yếu" information (KPI target)."""

    name = models.CharField(_("tên"), max_length=100, unique=True)
    slug = models.SlugField(_("mã"), max_length=50, unique=True)
    essential = models.BooleanField(_("thiết yếu"), default=False)
    active = models.BooleanField(_("đang dùng"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("chuyên mục")
        verbose_name_plural = _("chuyên mục")

    def __str__(self) -> str:
        return self.name


class Bulletin(TimeStampedModel):
    """A bulletin (bản tin) owned by a unit; its content lives in revisions, approval pins one."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="bulletins", verbose_name=_("đơn vị")
    )
    title = models.CharField(_("tiêu đề"), max_length=300)
    body = models.TextField(_("nội dung"), blank=True)
    body_text = models.TextField(_("nội dung (văn bản thuần)"), blank=True, editable=False)
    kind = models.CharField(
        _("loại"), max_length=10, choices=BulletinKind.choices, default=BulletinKind.TEXT
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bulletins",
        verbose_name=_("chuyên mục"),
    )
    priority = models.CharField(
        _("mức ưu tiên"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    source = models.CharField(_("nguồn"), max_length=20, choices=Source.choices, default=Source.OWN)
    source_name = models.CharField(_("tên cơ quan nguồn"), max_length=200, blank=True)
    targets = models.ManyToManyField(
        "units.Unit", related_name="+", blank=True, verbose_name=_("đơn vị nhận")
    )
    go_live_at = models.DateTimeField(_("hiệu lực từ"), null=True, blank=True)
    expire_at = models.DateTimeField(_("hết hiệu lực lúc"), null=True, blank=True)
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    approval_step = models.PositiveSmallIntegerField(_("bước duyệt hiện tại"), default=0)
    current_revision = models.ForeignKey(
        "BulletinRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_revision = models.ForeignKey(
        "BulletinRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("xuất bản lúc"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Title and body folded (no diacritics, lower case): the portable search column.
    search_text = models.TextField(blank=True, editable=False)

    objects = RestrictedManager.from_queryset(BulletinQuerySet)()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("bản tin")
        verbose_name_plural = _("bản tin")
        indexes = [models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        if fields is None or "search_text" in fields:
            from .querysets import index_for_search

            index_for_search(self, using=kwargs.get("using") or self._state.db)

    def delete(self, *args, **kwargs):
        from .querysets import unindex

        pk, db = self.pk, self._state.db
        result = super().delete(*args, **kwargs)
        unindex(pk, using=db)
        return result

    @property
    def is_essential(self) -> bool:
        return bool(self.category and self.category.essential)

    @property
    def must_air(self) -> bool:
        return Priority.must_air(self.priority)

    @property
    def needs_reapproval(self) -> bool:
        """Edited since its last approval: the pinned revision is no longer the current one."""
        return bool(self.approved_revision_id) and (
            self.approved_revision_id != self.current_revision_id
        )


class BulletinRevision(models.Model):
    """One saved state of a bulletin; `content_hash` is SHA-256 of its canonical `data`."""

    scope_field = "bulletin__unit"

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("số phiên bản"))
    data = models.JSONField(_("nội dung"))
    content_hash = models.CharField(_("mã băm SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    signature = models.CharField(_("chữ ký Ed25519"), max_length=200, blank=True)
    kid = models.CharField(_("mã khoá ký"), max_length=32, blank=True)
    signed_at = models.DateTimeField(_("ký lúc"), null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["bulletin", "-number"]
        verbose_name = _("phiên bản bản tin")
        verbose_name_plural = _("phiên bản bản tin")
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "number"], name="revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bulletin_id} v{self.number}"

    def signed_payload(self) -> dict:
        """What is signed on approval: devices check it against the content they received."""
        return {
            "type": "bulletin.revision",
            "bulletin": self.bulletin_id,
            "revision": self.number,
            "sha256": self.content_hash,
        }

    def envelope(self) -> dict | None:
        """The signed envelope {"payload", "sig", "kid"}, or None while not approved."""
        if not self.signature:
            return None
        return {"payload": self.signed_payload(), "sig": self.signature, "kid": self.kid}


class Transition(models.Model):
    """One step of the editorial workflow: who moved the bulletin from what to what, and why."""

    scope_field = "bulletin__unit"

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="transitions")
    revision = models.ForeignKey(
        BulletinRevision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(_("từ"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("sang"), max_length=20, choices=Status.choices)
    step = models.PositiveSmallIntegerField(_("bước duyệt"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_name = models.CharField(_("người thực hiện"), max_length=150, blank=True)
    at = models.DateTimeField(_("thời điểm"), auto_now_add=True, db_index=True)
    comment = models.TextField(_("ý kiến"), blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("chuyển trạng thái")
        verbose_name_plural = _("chuyển trạng thái")

    def __str__(self) -> str:
        return f"{self.bulletin_id}: {self.from_status or '-'} → {self.to_status}"


class ApprovalChain(TimeStampedModel):
    """Ordered approval steps for bulletins of a unit and its subtree (unless overridden below)."""

    scope_field = "unit"

    unit = models.OneToOneField(
        "units.Unit",
        on_delete=models.CASCADE,
        related_name="approval_chain",
        verbose_name=_("đơn vị"),
    )
    name = models.CharField(_("tên"), max_length=200, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("quy trình duyệt")
        verbose_name_plural = _("quy trình duyệt")

    def __str__(self) -> str:
        return self.name or f"Quy trình duyệt {self.unit}"


class ApprovalStep(models.Model):
    """One step: a holder of `role` on (an ancestor of) the unit at `level` must approve."""

    chain = models.ForeignKey(ApprovalChain, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("thứ tự"))
    role = models.SlugField(_("vai trò"), max_length=50, default="approver")
    level = models.CharField(
        _("cấp duyệt"), max_length=10, choices=ApprovalLevel.choices, default=ApprovalLevel.OWNER
    )
    name = models.CharField(_("tên bước"), max_length=200, blank=True)

    class Meta:
        ordering = ["chain", "order"]
        verbose_name = _("bước duyệt")
        verbose_name_plural = _("bước duyệt")
        constraints = [
            models.UniqueConstraint(fields=["chain", "order"], name="approval_step_order_unique")
        ]

    def __str__(self) -> str:
        return self.name or f"{self.order}. {self.role} ({self.get_level_display()})"


class MediaAsset(TimeStampedModel):
    """An uploaded or synthesised file, stored content-addressed; processed by a worker task."""

    scope_field = "unit"

    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="media_assets",
        verbose_name=_("đơn vị"),
    )
    bulletin = models.ForeignKey(
        Bulletin, null=True, blank=True, on_delete=models.SET_NULL, related_name="media"
    )
    # Unique once known; a second upload of the same bytes points at the first (`duplicate_of`).
    sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    declared_kind = models.CharField(
        _("loại khai báo"), max_length=10, choices=BulletinKind.choices
    )
    kind = models.CharField(_("loại"), max_length=10, choices=BulletinKind.choices, blank=True)
    mime = models.CharField(_("kiểu MIME"), max_length=100, blank=True)
    size = models.BigIntegerField(_("kích thước (byte)"), null=True, blank=True)
    duration_seconds = models.FloatField(_("thời lượng (giây)"), null=True, blank=True)
    file = models.CharField(_("tệp (tương đối MEDIA_ROOT)"), max_length=500, blank=True)
    renditions = models.JSONField(_("các bản chuyển đổi"), default=dict, blank=True)
    original_name = models.CharField(_("tên tệp gốc"), max_length=255, blank=True)
    upload_path = models.CharField(max_length=500, blank=True, editable=False)
    synthesized = models.BooleanField(_("đọc bằng TTS"), default=False)
    # For synthesised audio: the approved revision whose text it speaks.
    revision = models.ForeignKey(
        BulletinRevision, null=True, blank=True, on_delete=models.SET_NULL, related_name="voices"
    )
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=MediaStatus.choices, default=MediaStatus.PENDING
    )
    error = models.TextField(_("lỗi"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager.from_queryset(MediaQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("tệp đa phương tiện")
        verbose_name_plural = _("tệp đa phương tiện")

    def __str__(self) -> str:
        return self.original_name or self.sha256 or f"media {self.pk}"

    @property
    def content_sha256(self) -> str | None:
        return self.sha256 or (self.duplicate_of.sha256 if self.duplicate_of_id else None)


class BulletinShare(models.Model):
    """A published bulletin in a commune's inbox; `must_air` for priority and emergency ones."""

    scope_field = "unit"

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="shares")
    revision = models.ForeignKey(BulletinRevision, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="inbox")
    must_air = models.BooleanField(_("bắt buộc phát"), default=False)
    shared_at = models.DateTimeField(_("chia sẻ lúc"), auto_now_add=True)
    picked_up_at = models.DateTimeField(_("nhận lúc"), null=True, blank=True)
    picked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)

    objects = RestrictedManager.from_queryset(ShareQuerySet)()

    class Meta:
        ordering = ["-shared_at", "-id"]
        verbose_name = _("bản tin chia sẻ xuống")
        verbose_name_plural = _("bản tin chia sẻ xuống")
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "unit"], name="share_bulletin_unit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bulletin_id} → {self.unit_id}"
