"""Live broadcast (phát trực tiếp): a session speaks to an area, from the console's microphone,
a relayed radio stream, the FM tuner of each cluster, or a station controller's own microphone
(docs/live.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager


class LiveStatus(models.TextChoices):
    WAITING = "waiting", _("Chờ tín hiệu micro")
    ON_AIR = "on_air", _("Đang phát trực tiếp")
    ENDED = "ended", _("Đã kết thúc")


class LiveEndReason(models.TextChoices):
    STOPPED = "stopped", _("Người phát dừng")
    SOURCE_LOST = "source_lost", _("Mất tín hiệu micro")
    TIME_LIMIT = "time_limit", _("Hết thời lượng tối đa")
    PREEMPTED = "preempted", _("Nhường phiên khẩn cấp")


class LiveSource(models.TextChoices):
    """Where a live session's sound comes from (docs/live.md)."""

    CONSOLE = "console", _("Micro trên máy tính, điện thoại")
    STREAM = "stream", _("Tiếp sóng đài phát thanh")
    FM = "fm", _("Tiếp sóng FM tại cụm loa")
    DEVICE = "device", _("Micro tại đài truyền thanh")


class LiveSession(TimeStampedModel):
    """One live broadcast (phát trực tiếp): who speaks to which area, at which Thông tư 39
    priority, from when to when, on which Icecast mount.

    `unit` is the lowest unit covering the whole area (for scope); `area` lists the units chosen.
    The mount name is random (`/live/<token>.ogg`): Icecast asks the platform about every
    listener anyway (alerts.live.listener_allowed). The recording becomes `bulletin` (archive).

    `source` says where the sound comes from: the console's microphone, a configured radio
    stream (`relay_source`, re-encoded by the live relay onto the mount), the FM tuner of each
    cluster of the area (`relay_frequency`, MHz; no mount: devices tune their own receiver), or
    a station controller's own microphone (`source_device`, which plays it locally already and
    is left out of the `live.start`).
    """

    scope_field = "unit"

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    area = models.ManyToManyField("units.Unit", related_name="live_sessions")
    title = models.CharField(_("tiêu đề"), max_length=200)
    priority = models.CharField(_("mức ưu tiên"), max_length=10, default="normal")
    speaker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("người nói"),
    )
    status = models.CharField(
        max_length=10, choices=LiveStatus.choices, default=LiveStatus.WAITING, db_index=True
    )
    mount = models.CharField(max_length=100, unique=True)
    started_at = models.DateTimeField(_("bắt đầu lúc"), null=True, blank=True)
    ended_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    until = models.DateTimeField(_("tối đa đến"))
    end_reason = models.CharField(
        _("lý do kết thúc"), max_length=20, choices=LiveEndReason.choices, blank=True
    )
    command_id = models.CharField(max_length=64, blank=True)
    expected_devices = models.PositiveIntegerField(default=0)
    bulletin = models.ForeignKey(
        "content.Bulletin", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(
        _("nguồn"), max_length=10, choices=LiveSource.choices, default=LiveSource.CONSOLE
    )
    relay_source = models.ForeignKey(
        "broadcast.RelaySource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("nguồn tiếp sóng"),
    )
    relay_url = models.URLField(max_length=500, blank=True)
    relay_frequency = models.DecimalField(
        _("tần số FM (MHz)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    source_device = models.ForeignKey(
        "devices.Device",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("cụm loa phát micro"),
    )
    # who ended it (`stopped`: the speaker or another officer over the area) and, when an
    # emergency live session took the area over (`preempted`), which one
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("người dừng phiên"),
    )
    preempted_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("phiên khẩn cấp chen ngang"),
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("phiên phát trực tiếp")
        verbose_name_plural = _("phiên phát trực tiếp")

    def __str__(self) -> str:
        return self.title

    @property
    def live_id(self) -> str:
        """The id devices know the session by (`live_id` of live.start/live.stop, as-run)."""
        return f"live-{self.pk}"

    @property
    def is_running(self) -> bool:
        return self.status in (LiveStatus.WAITING, LiveStatus.ON_AIR)

    @property
    def status_text(self) -> str:
        """The state for a person: a relay connecting waits for its radio, not a microphone."""
        if self.status == LiveStatus.WAITING and self.source == LiveSource.STREAM:
            return str(_("Đang kết nối tới đài tiếp sóng"))
        return str(self.get_status_display())

    @property
    def stopped_by_other(self) -> bool:
        """Ended by an officer who is not its speaker (the province stopping a commune's)."""
        return (
            self.end_reason == LiveEndReason.STOPPED
            and self.stopped_by_id is not None
            and self.stopped_by_id != self.speaker_id
        )

    @property
    def end_reason_text(self) -> str:
        """Why it ended, in the words of its source: a relay that lost its radio did not lose
        a microphone; a session another officer stopped was not stopped by its speaker
        ("" while it runs)."""
        if self.end_reason == LiveEndReason.SOURCE_LOST and self.source == LiveSource.STREAM:
            return str(_("Mất tín hiệu đài tiếp sóng (không kết nối được hoặc đài ngừng phát)"))
        if self.stopped_by_other:
            return str(_("Cán bộ khác dừng"))
        return str(self.get_end_reason_display()) if self.end_reason else ""

    @property
    def end_detail(self) -> str:
        """One sentence saying who ended it and when, when that was not its speaker: "Phiên đã
        bị <full name> (<unit>) dừng lúc HH:MM." or the emergency live session that took the
        area over ("" otherwise)."""
        at = timezone.localtime(self.ended_at).strftime("%H:%M") if self.ended_at else ""
        if self.stopped_by_other:
            return str(_("Phiên đã bị %(who)s dừng lúc %(at)s.")) % {
                "who": officer_label(self.stopped_by),
                "at": at,
            }
        if self.end_reason == LiveEndReason.PREEMPTED and self.preempted_by_id:
            other = self.preempted_by
            return str(
                _(
                    "Phiên đã nhường loa lúc %(at)s cho phiên phát trực tiếp khẩn cấp "
                    "'%(title)s' của %(who)s."
                )
            ) % {"at": at, "title": other.title, "who": officer_label(other.speaker)}
        return ""


def officer_label(user) -> str:
    """ "<full name> (<unit>)": the person and the unit of their widest role (a province
    officer is named with the province), for telling one officer what another did."""
    if user is None:
        return str(_("một cán bộ"))
    name = user.get_full_name() or user.username
    assignment = (
        user.assignments.select_related("unit").order_by("unit__depth", "unit__name").first()
    )
    return f"{name} ({assignment.unit.name})" if assignment else name
