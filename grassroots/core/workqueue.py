"""What is waiting for a user, by kind of work: the home page lists it, the navigation counts it.

Every entry is scoped by the permission that lets the user do the work, so a number never
points at something the user cannot open.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grassroots.accounts.scope import has_perm_anywhere

NEAR_DEADLINE = datetime.timedelta(days=1)
SHOWN = 5


@dataclass
class Work:
    """One kind of waiting work: how many, where to do it, and the first few items."""

    key: str
    label: str
    url: str
    count: int
    items: list[dict] = field(default_factory=list)
    tone: str = "primary"
    empty: str = ""


def _approvals(user) -> tuple[int, list[dict]]:
    from grassroots.content import actions
    from grassroots.content.choices import Status
    from grassroots.content.models import Bulletin

    waiting = (
        Bulletin.objects.restrict(user, "content.approve")
        .filter(status=Status.SUBMITTED)
        .select_related("unit")
        .order_by("updated_at")[:200]
    )
    # whether the user may take the current step depends only on the bulletin's unit and step
    # number: asked once per (unit, step), not once per bulletin (this counts on every page)
    steps_of: dict[int, list] = {}
    may: dict[tuple[int, int], bool] = {}
    rows = []
    for b in waiting:
        if b.unit_id not in steps_of:
            steps_of[b.unit_id] = actions.chain_steps(b.unit)
        steps = steps_of[b.unit_id]
        index = min(b.approval_step, len(steps) - 1)
        if (b.unit_id, index) not in may:
            may[(b.unit_id, index)] = actions.can_take_step(user, b, steps[index])
        if may[(b.unit_id, index)]:
            rows.append(b)
    items = [
        {"title": b.title, "url": reverse("bulletin-edit", args=[b.pk]), "note": b.unit.name}
        for b in rows
    ]
    # a bulletin on air that its source (the centre) changed waits for the approver of the
    # chain's last step (exchange.actions.accept_update): it is work waiting for this user too
    from grassroots.exchange.models import InboundMessage

    updated = (
        Bulletin.objects.restrict(user, "content.approve")
        .filter(
            pk__in=InboundMessage.objects.filter(pending_version__isnull=False).values("bulletin")
        )
        .select_related("unit")
        .order_by("updated_at")[:200]
    )
    for b in updated:
        if b.unit_id not in steps_of:
            steps_of[b.unit_id] = actions.chain_steps(b.unit)
        last = len(steps_of[b.unit_id]) - 1
        if (b.unit_id, last) not in may:
            may[(b.unit_id, last)] = actions.can_take_step(user, b, steps_of[b.unit_id][last])
        if may[(b.unit_id, last)]:
            items.append(
                {
                    "title": b.title,
                    "url": reverse("exchange-bulletin-update", args=[b.pk]),
                    "note": str(_("Bản sửa của trung ương")),
                }
            )
    return len(items), items[:SHOWN]


def _returned(user) -> tuple[int, list[dict]]:
    from grassroots.content.choices import Status
    from grassroots.content.models import Bulletin

    qs = (
        Bulletin.objects.restrict(user, "content.change")
        .filter(status=Status.CHANGES_REQUESTED, created_by=user)
        .order_by("-updated_at")
    )
    return qs.count(), [
        {"title": b.title, "url": reverse("bulletin-edit", args=[b.pk]), "at": b.updated_at}
        for b in qs[:SHOWN]
    ]


def _inbox(user) -> tuple[int, list[dict]]:
    from grassroots.content.models import BulletinShare

    qs = (
        BulletinShare.objects.restrict(user, "broadcast.schedule")
        .filter(picked_up_at__isnull=True, withdrawn_at__isnull=True)
        .select_related("bulletin", "unit")
        .order_by("-shared_at")
    )
    return qs.count(), [
        {
            "title": s.bulletin.title,
            "url": reverse("bulletin-inbox") + "?chua-nhan=1",
            "note": s.unit.name,
            "at": s.shared_at,
        }
        for s in qs[:SHOWN]
    ]


def _proposals(user) -> tuple[int, list[dict]]:
    from grassroots.broadcast.choices import ProposalStatus
    from grassroots.broadcast.models import Proposal

    qs = (
        Proposal.objects.restrict(user, "broadcast.schedule")
        .filter(status=ProposalStatus.PENDING)
        .select_related("item", "station")
        .order_by("-created_at")
    )
    return qs.count(), [
        {
            "title": str(p.item),
            "url": reverse("station-timeline", args=[p.station_id]),
            "note": p.station.name,
            "at": p.created_at,
        }
        for p in qs[:SHOWN]
    ]


def _reports(user) -> tuple[int, list[dict]]:
    from grassroots.feedback.choices import ReportStatus
    from grassroots.feedback.models import Report

    now = timezone.now()
    qs = (
        Report.objects.restrict(user, "feedback.handle")
        .filter(status__in=ReportStatus.open_states(), due_at__lte=now + NEAR_DEADLINE)
        .select_related("unit", "category")
        .order_by("due_at")
    )
    return qs.count(), [
        {
            "title": f"{r.tracking_code} · {r.category}",
            "url": reverse("feedback-detail", args=[r.pk]),
            "note": r.unit.name,
            "at": r.due_at,
            "late": r.due_at < now,
        }
        for r in qs[:SHOWN]
    ]


def _devices(user) -> tuple[int, list[dict]]:
    from grassroots.devices.models import Device

    qs = (
        Device.objects.restrict(user, "devices.view")
        .exclude(status__online=True)
        .select_related("unit")
        .order_by("unit__name", "name")
    )
    return qs.count(), [
        {"title": d.name, "url": reverse("device-fleet") + "?online=0", "note": d.unit.name}
        for d in qs[:SHOWN]
    ]


def _faults(user) -> tuple[int, list[dict]]:
    from grassroots.devices.models_fleet import DeviceEvent

    since = timezone.now() - datetime.timedelta(days=1)
    from grassroots.devices.models import Device

    devices = Device.objects.restrict(user, "devices.view").values("pk")
    qs = (
        DeviceEvent.objects.filter(
            type="fault", received_at__gte=since, device__in=devices, cleared_at__isnull=True
        )
        .select_related("device")
        .order_by("-received_at")
    )
    from grassroots.devices import faults

    return qs.values("device").distinct().count(), [
        {
            "title": e.device.name,
            "url": reverse("device-faults", args=[e.device_id]),
            "note": faults.label(str(e.payload.get("code", ""))),
            "at": e.received_at,
        }
        for e in qs[:SHOWN]
    ]


def _emergencies(user) -> tuple[int, list[dict]]:
    from grassroots.alerts.models import Emergency, EmergencyStatus

    qs = Emergency.objects.restrict(user, "broadcast.view").filter(
        status__in=[
            EmergencyStatus.ACTIVE,
            EmergencyStatus.PREPARING,
            EmergencyStatus.AWAITING,
        ]
    )
    return qs.count(), [
        {
            "title": e.title,
            "url": reverse("emergency-detail", args=[e.pk]),
            "note": e.get_status_display(),
            "at": e.created_at,
        }
        for e in qs[:SHOWN]
    ]


def _yearly(user) -> tuple[int, list[dict]]:
    """Yearly reports waiting for the user: returned to their unit (to correct and send
    again), or sent by the units below (to accept or return)."""
    from grassroots.kpi.actions import may_review
    from grassroots.kpi.choices import ReportKind, ReportState
    from grassroots.kpi.models import YearlyReport

    returned = list(
        YearlyReport.objects.restrict(user, "kpi.report")
        .filter(state=ReportState.RETURNED)
        .select_related("unit", "body")[:50]
    )
    waiting = []
    if has_perm_anywhere(user, "kpi.review"):
        waiting = [
            r
            for r in YearlyReport.objects.restrict(user, "kpi.view")
            .filter(state=ReportState.SUBMITTED)
            .exclude(kind=ReportKind.PROVINCIAL)
            .select_related("unit", "body", "unit__parent")
            .order_by("submitted_at")[:200]
            if may_review(user, r)
        ]
    rows = returned + waiting
    return len(rows), [
        {
            "title": f"{r.reporter} — {r.year}",
            "url": reverse("report-detail", args=[r.pk]),
            "note": r.get_state_display(),
            "at": r.reviewed_at if r.state == ReportState.RETURNED else r.submitted_at,
        }
        for r in rows[:SHOWN]
    ]


def _exchange_failed(user) -> tuple[int, list[dict]]:
    """Messages to other systems that failed (central mode: bulletins to the provinces)."""
    from grassroots.exchange.choices import DeliveryStatus
    from grassroots.exchange.models import OutboundMessage

    qs = (
        OutboundMessage.objects.restrict(user, "exchange.view")
        .filter(status=DeliveryStatus.FAILED)
        .select_related("peer")
        .order_by("-id")
    )
    url = reverse("exchange-messages") + f"?status={DeliveryStatus.FAILED}"
    return qs.count(), [
        {"title": m.title or m.message_id, "url": f"{url}#message-{m.pk}", "note": m.peer.name,
         "at": m.created_at}
        for m in qs[:SHOWN]
    ]  # fmt: skip


# key, label, permission needed, where the work is done (a URL name, with a query string or
# not), source, tone, text when empty
KINDS = [
    ("emergencies", _("Khẩn cấp đang phát"), "broadcast.view", "emergency-list", _emergencies,
     "danger", _("Không có phát khẩn cấp nào đang diễn ra.")),
    ("returned", _("Bản tin bị trả lại — Cần sửa"), "content.change", "bulletin-archive",
     _returned, "warning", _("Không có bản tin nào bị trả lại.")),
    ("approvals", _("Chờ tôi duyệt"), "content.approve", "bulletin-queue", _approvals,
     "primary", _("Không có bản tin nào chờ bạn duyệt.")),
    ("inbox", _("Bản tin mới trong hộp thư"), "broadcast.schedule", "bulletin-inbox", _inbox,
     "primary", _("Không có bản tin mới chờ nhận.")),
    ("proposals", _("Đề xuất chờ xếp lịch"), "broadcast.schedule", "station-list", _proposals,
     "primary", _("Không có đề xuất nào chờ xếp lịch.")),
    ("reports", _("Phản ánh sắp hoặc đã quá hạn"), "feedback.handle", "feedback-inbox",
     _reports, "warning", _("Không có phản ánh nào sắp đến hạn.")),
    ("yearly", _("Báo cáo năm chờ xử lý"), "kpi.report", "report-list", _yearly, "warning",
     _("Không có báo cáo năm nào chờ bạn.")),
    ("offline", _("Thiết bị mất kết nối"), "devices.view", "device-fleet", _devices,
     "secondary", _("Mọi thiết bị đều đang kết nối.")),
    ("faults", _("Thiết bị báo lỗi (24 giờ qua)"), "devices.view", "device-fleet", _faults,
     "danger", _("Không có thiết bị nào báo lỗi.")),
    ("exchange_failed", _("Thông điệp liên thông gửi lỗi"), "exchange.view",
     "exchange-messages?status=failed", _exchange_failed, "danger",
     _("Mọi thông điệp gửi các tỉnh đều đã gửi được hoặc đang chờ gửi.")),
]  # fmt: skip

# The central system (`GRASSROOTS_LEVEL=central`) has no loudspeakers, stations, devices nor
# communes' inboxes: that work is not on its home page; it has the provinces' exchange instead.
CENTRAL_HIDES = {"emergencies", "inbox", "proposals", "offline", "faults"}
CENTRAL_ONLY = {"exchange_failed"}


def _in_level(key: str) -> bool:
    from grassroots.exchange.keys import is_central

    if is_central():
        return key not in CENTRAL_HIDES
    return key not in CENTRAL_ONLY


def for_user(user, *, keys: set[str] | None = None, items: bool = True) -> dict[str, Work]:
    """The waiting work the user may do, by key (only kinds the user holds the right for)."""
    out: dict[str, Work] = {}
    if not getattr(user, "is_authenticated", False):
        return out
    for key, label, perm, url_name, source, tone, empty in KINDS:
        if keys is not None and key not in keys:
            continue
        if not _in_level(key):
            continue
        if not has_perm_anywhere(user, perm):
            continue
        count, rows = source(user)
        out[key] = Work(
            key=key,
            label=str(label),
            url=reverse(url_name.partition("?")[0]) + "".join(url_name.partition("?")[1:]),
            count=count,
            items=rows if items else [],
            tone=tone,
            empty=str(empty),
        )
    return out
