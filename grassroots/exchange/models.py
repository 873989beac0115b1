"""Peers, their keys, the exchange outbox, what was received, refusals and statistics received."""

from __future__ import annotations

import json

from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager

from .choices import DeliveryStatus, Kind, Refusal, Via
from .querysets import RefusedMessageQuerySet


def _kinds() -> list[str]:
    return list(Kind.values)


class Peer(TimeStampedModel):
    """Another system this one exchanges with (the central system, a province): its address,
    what it may send and receive, and the administrative scope its messages may concern."""

    scope_field = "unit"

    code = models.CharField(
        _("mã hệ thống"),
        max_length=64,
        unique=True,
        help_text=_("Mã định danh của hệ thống bên kia (trường `source` trong thông điệp)."),
    )
    name = models.CharField(_("tên"), max_length=200)
    url = models.URLField(_("địa chỉ"), max_length=500)
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("phạm vi hành chính"),
    )
    kinds_in = models.JSONField(_("loại tin được nhận"), default=_kinds, blank=True)
    kinds_out = models.JSONField(_("loại tin được gửi"), default=_kinds, blank=True)
    adapter = models.CharField(
        _("bộ kết nối"),
        max_length=200,
        default="federation",
        help_text=_("`federation` (giao thức của nền tảng) hoặc bộ kết nối riêng của Bộ."),
    )
    pull = models.BooleanField(_("kéo tin định kỳ"), default=True)
    active = models.BooleanField(_("đang liên thông"), default=True)
    bulletins_need_approval = models.BooleanField(
        _("bản tin nhận về phải qua quy trình duyệt của tỉnh"), default=True
    )
    pull_cursor = models.BigIntegerField(_("con trỏ kéo tin"), default=0)
    last_pull_at = models.DateTimeField(_("kéo tin lần cuối"), null=True, blank=True)
    last_error = models.CharField(_("lỗi gần nhất"), max_length=500, blank=True)
    retired_at = models.DateTimeField(
        _("ngừng hẳn lúc"),
        null=True,
        blank=True,
        help_text=_(
            "Ngừng hẳn: không nhận, không gửi, mọi khoá bị thu hồi; lịch sử thông điệp giữ nguyên."
            " Khai báo lại cùng mã sẽ dùng lại hệ thống này."
        ),
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("hệ thống liên thông")
        verbose_name_plural = _("hệ thống liên thông")

    def __str__(self) -> str:
        return self.name

    def active_keys(self):
        return self.keys.filter(revoked_at__isnull=True)

    def kinds_in_labels(self) -> list[str]:
        return [str(Kind(k).label) for k in self.kinds_in or [] if k in Kind.values]

    def kinds_out_labels(self) -> list[str]:
        return [str(Kind(k).label) for k in self.kinds_out or [] if k in Kind.values]


class PeerKey(models.Model):
    """An Ed25519 public key of a peer (exchanged out of band); rotated by adding a new key,
    revoked by setting `revoked_at` (messages signed with it are refused from then on). A key
    revoked by mistake is added again as a new row: the revoked row stays as history, and at
    most one row of a `kid` is in use."""

    scope_field = "peer__unit"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="keys")
    kid = models.CharField(_("mã khoá"), max_length=16)
    public_key = models.CharField(_("khoá công khai (base64)"), max_length=64)
    added_at = models.DateTimeField(_("thêm lúc"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["peer", "kid"],
                condition=models.Q(revoked_at__isnull=True),
                name="exchange_key_in_use_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.peer.code}/{self.kid}"


class OutboundMessage(models.Model):
    """The exchange outbox: one signed message for one peer, written with the change that
    caused it; the worker pushes it (retries with back-off) and the peer may pull it."""

    scope_field = "peer__unit"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="outbound")
    message_id = models.CharField(_("mã thông điệp"), max_length=64)
    version = models.BigIntegerField(_("phiên bản"))
    kind = models.CharField(_("loại"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("tóm tắt"), max_length=300, blank=True)
    envelope = models.TextField()
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    status = models.CharField(
        _("trạng thái"),
        max_length=12,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("số lần gửi"), default=0)
    next_attempt_at = models.DateTimeField(_("gửi lại lúc"), null=True, blank=True)
    # the last failure, as the transport said it (exchange.errors): a short Vietnamese
    # sentence, its kind, the peer's refusal reason and HTTP status, the technical detail
    last_error = models.CharField(_("lỗi"), max_length=500, blank=True)
    error_kind = models.CharField(_("loại lỗi"), max_length=20, blank=True)
    error_reason = models.CharField(_("lý do từ chối"), max_length=20, blank=True)
    error_status = models.PositiveSmallIntegerField(_("mã HTTP trả về"), null=True, blank=True)
    error_detail = models.TextField(_("chi tiết kỹ thuật của lỗi"), blank=True)
    delivered_at = models.DateTimeField(_("gửi được lúc"), null=True, blank=True)
    delivered_via = models.CharField(max_length=4, choices=Via.choices, blank=True)
    served_at = models.DateTimeField(
        _("đã trao khi kéo lúc"),
        null=True,
        blank=True,
        help_text=_("Lần đầu thông điệp nằm trong một trang bên kia kéo về (chưa xác nhận)."),
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["peer", "message_id", "version"], name="exchange_outbound_once"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["peer", "id"]),
            # outbound.next_version: the last version of a message id, to any peer
            models.Index(fields=["message_id", "version"]),
        ]
        verbose_name = _("thông điệp gửi đi")
        verbose_name_plural = _("thông điệp gửi đi")

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} v{self.version} → {self.peer_id}"

    @property
    def content_hash(self) -> str:
        """The signed `content_hash` of the envelope (SHA-256 of its body's canonical JSON)."""
        return json.loads(self.envelope).get("content_hash", "")

    @property
    def may_have_arrived(self) -> bool:
        """Whether the peer may hold this message: delivered; handed out in a page it pulled
        (acknowledged only by its next pull); or pushed with an unknown outcome (a transport
        error or a timeout after the peer took it). Not when every attempt was refused."""
        if self.status == DeliveryStatus.DELIVERED or self.served_at is not None:
            return True
        refused = self.error_kind == "refused" or 400 <= (self.error_status or 0) < 500
        return self.attempts > 0 and not refused and not self.last_error.startswith("HTTP 4")

    @property
    def error_summary(self) -> tuple[str, str]:
        """(one short line, the detail behind it) of the last error (`errors.summary`)."""
        from .errors import summary

        return summary(self.last_error, self.error_detail)


class InboundMessage(models.Model):
    """The last version taken of each message a peer sent (idempotency) and what it became.

    For a bulletin: `applied_hash` is the content the province's bulletin carries; a newer
    version with other content for a bulletin already approved here waits in `pending_*` (the
    body, its fetched files under MEDIA_ROOT) until the province's approver takes it
    (`exchange.actions.accept_update`) or keeps what is on air (`keep_current`)."""

    scope_field = "peer__unit"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="inbound")
    message_id = models.CharField(_("mã thông điệp"), max_length=64)
    version = models.BigIntegerField(_("phiên bản"))
    kind = models.CharField(_("loại"), max_length=20, choices=Kind.choices)
    content_hash = models.CharField(max_length=64)
    title = models.CharField(_("tóm tắt"), max_length=300, blank=True)
    via = models.CharField(max_length=4, choices=Via.choices)
    received_at = models.DateTimeField(_("nhận lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)
    bulletin = models.ForeignKey(
        "content.Bulletin", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    report = models.ForeignKey(
        "feedback.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emergency = models.ForeignKey(
        "alerts.Emergency", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)
    applied_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("Mã băm nội dung của phiên bản mà bản tin của tỉnh đang mang."),
    )
    pending_version = models.BigIntegerField(_("phiên bản chờ tỉnh duyệt"), null=True, blank=True)
    pending_body = models.JSONField(null=True, blank=True)
    pending_files = models.JSONField(default=list, blank=True)
    pending_at = models.DateTimeField(_("nhận bản sửa lúc"), null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["peer", "message_id"], name="exchange_inbound_once")
        ]
        verbose_name = _("thông điệp nhận về")
        verbose_name_plural = _("thông điệp nhận về")

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} v{self.version}"


class RefusedMessage(models.Model):
    """An inbound message refused, with the reason (the answer was a 4xx problem+json)."""

    peer = models.ForeignKey(
        Peer, null=True, blank=True, on_delete=models.SET_NULL, related_name="refused"
    )
    source = models.CharField(_("hệ thống gửi"), max_length=64, blank=True)
    message_id = models.CharField(_("mã thông điệp"), max_length=64, blank=True)
    version = models.BigIntegerField(_("phiên bản"), null=True, blank=True)
    kind = models.CharField(_("loại"), max_length=20, blank=True)
    reason = models.CharField(_("lý do"), max_length=20, choices=Refusal.choices)
    detail = models.CharField(_("chi tiết"), max_length=500)
    via = models.CharField(max_length=4, choices=Via.choices)
    at = models.DateTimeField(_("lúc"), auto_now_add=True, db_index=True)

    objects = RefusedMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("thông điệp bị từ chối")
        verbose_name_plural = _("thông điệp bị từ chối")

    def __str__(self) -> str:
        return f"{self.source} {self.message_id}: {self.reason}"


class UnitMonth(models.Model):
    """Statistics a peer reported for one of its communes in one month (central side)."""

    scope_field = "peer__unit"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="unit_months")
    unit_code = models.CharField(_("mã đơn vị"), max_length=16)
    unit_name = models.CharField(_("tên đơn vị"), max_length=200, blank=True)
    # xã, phường, thị trấn, đặc khu (UnitKind); empty for the province's own row or when the
    # sender did not say (then the e-board indicators do not count the row)
    unit_kind = models.CharField(_("loại đơn vị"), max_length=16, blank=True)
    month = models.DateField(_("tháng"))
    indicators = models.JSONField(default=dict)
    counters = models.JSONField(default=dict)
    devices_total = models.IntegerField(default=0)
    devices_online = models.IntegerField(default=0)
    availability = models.FloatField(null=True, blank=True)
    # staff who must be trained and those trained in the month; null: none on record
    staff_trained = models.IntegerField(null=True, blank=True)
    staff_required = models.IntegerField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["peer", "unit_code", "month"], name="exchange_unit_month_once"
            )
        ]
        indexes = [models.Index(fields=["month", "peer"])]

    def __str__(self) -> str:
        return f"{self.unit_code} {self.month:%Y-%m}"


class PeerMonth(models.Model):
    """A peer's province-wide figures of one month (feedback, emergencies), from its
    statistics."""

    scope_field = "peer__unit"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="months")
    month = models.DateField(_("tháng"))
    feedback_received = models.IntegerField(default=0)
    feedback_handled = models.IntegerField(default=0)
    # the month's emergencies (federation.EmergencyFigures: expected, delivered, t95_s);
    # null when the sender did not count them
    emergencies = models.JSONField(null=True, blank=True)
    version = models.BigIntegerField(default=0)

    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["peer", "month"], name="exchange_peer_month_once")
        ]

    def __str__(self) -> str:
        return f"{self.peer_id} {self.month:%Y-%m}"


class BulletinFate(models.Model):
    """What became of a bulletin sent to a peer: received, approved, placed, aired (from the
    peer's statistics)."""

    scope_field = "peer__unit"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="fates")
    message_id = models.CharField(_("mã thông điệp"), max_length=64)
    received = models.BooleanField(default=False)
    approved = models.BooleanField(default=False)
    communes = models.IntegerField(default=0)
    placed = models.IntegerField(default=0)
    aired_communes = models.IntegerField(default=0)
    plays = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["peer", "message_id"], name="exchange_fate_once")
        ]

    def __str__(self) -> str:
        return f"{self.peer_id} {self.message_id}"
