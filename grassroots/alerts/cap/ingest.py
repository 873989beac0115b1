"""CAP 1.2 in: a received message becomes an emergency on air, a priority bulletin waiting for
approval, or an archived record — always with the reason, in Vietnamese.

The decision, in order (docs/alerts.md):

1. the same (sender, identifier, sent) was received before → that record, nothing else done;
2. `status` other than `Actual` (§3.2.1: Exercise, System, Test, Draft) → archived;
3. `msgType` `Cancel` → every referenced alert (`references`, §3.2.1) stops at once;
   `Ack`/`Error` → archived;
4. no Vietnamese `info` (`language` vi or vi-VN, §3.2.2) → archived;
5. `expires` already past → expired, not broadcast;
6. the area (§3.2.4) reaches no commune of the province (or none in the poster's scope) →
   refused, not broadcast;
7. sender unknown → archived; else the sender's rule (`CapSender`): trusted and at least as
   serious as its live thresholds → `emergency` (Thông tư 39, preempts everything), at least as
   serious as its priority thresholds → a `priority` bulletin submitted for approval, else
   archived. An `Update` first stops what its references put on air (it replaces them).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

from .. import actions as emergency_actions
from ..models import (
    CERTAINTIES,
    SEVERITIES,
    URGENCIES,
    CapAlert,
    CapFeed,
    CapSender,
    CapState,
    EmergencyStatus,
    cap_levels,
)
from . import geo
from .parse import CapMessage, Info, parse

log = logging.getLogger("grassroots.alerts")

# An alert without `expires` stays on air this long (CAP 1.2 leaves it to the recipient).
DEFAULT_HOURS = 6


def province() -> Unit:
    """The province this instance serves (the current top unit)."""
    unit = Unit.objects.current().filter(kind=UnitKind.PROVINCE).order_by("depth").first()
    if unit is None:
        raise RuntimeError("no province unit loaded")
    return unit


def _at_least(value: str, threshold: str, order: list[str]) -> bool:
    """True when `value` is as serious as `threshold` (lists run most serious first)."""
    if value not in order or threshold not in order:
        return False
    return order.index(value) <= order.index(threshold)


def level(rule: CapSender, info: Info) -> str:
    """`live`, `priority` or `archive` for this info block under the sender's rule."""

    def meets(sev: str, urg: str, cer: str) -> bool:
        return (
            _at_least(info.severity, sev, SEVERITIES)
            and _at_least(info.urgency, urg, URGENCIES)
            and _at_least(info.certainty, cer, CERTAINTIES)
        )

    if rule.trusted and meets(rule.live_severity, rule.live_urgency, rule.live_certainty):
        return "live"
    if meets(rule.priority_severity, rule.priority_urgency, rule.priority_certainty):
        return "priority"
    return "archive"


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


def _referenced(msg: CapMessage) -> list[CapAlert]:
    found = []
    for sender, identifier, sent in msg.references:
        try:
            when = dt.datetime.fromisoformat(sent)
        except ValueError:
            continue
        row = CapAlert.objects.filter(sender=sender, identifier=identifier, sent=when).first()
        if row is not None:
            found.append(row)
    return found


def _end(referenced: list[CapAlert], state: str, why: str) -> int:
    """Stop what the referenced alerts put on air; mark them. Returns emergencies stopped."""
    stopped = 0
    for old in referenced:
        if old.emergency_id and emergency_actions.stop_system(emergency=old.emergency, comment=why):
            stopped += 1
        if old.state in (CapState.ON_AIR, CapState.AWAITING_APPROVAL, CapState.ARCHIVED):
            old.state = state
            old.reason = why[:500]
            old.save(update_fields=["state", "reason", "updated_at"])
    return stopped


def _priority_bulletin(alert: CapAlert, info: Info, rule: CapSender, units: list[Unit]):
    """A `priority` bulletin from the alert, submitted to the province's approval chain."""
    from grassroots.content import actions as content
    from grassroots.content.choices import Priority, Source, Status
    from grassroots.content.models import Bulletin

    bulletin = Bulletin(unit=alert.unit, created_by=None)
    body = "\n\n".join(p for p in (info.description, info.instruction) if p)
    content._apply(
        bulletin,
        {
            "title": (info.headline or info.event or "Cảnh báo")[:300],
            "body": body,
            "priority": Priority.PRIORITY,
            "source": Source.PROVINCIAL_BODY,
            "source_name": rule.name,
            "expire_at": info.expires,
        },
    )
    bulletin.save()
    bulletin.targets.set(units)
    content._revise(bulletin, None)
    content._transition(
        bulletin, Status.SUBMITTED, user=None, comment=f"Cảnh báo CAP {alert.identifier}", step=0
    )
    return bulletin


def _decide(alert: CapAlert, msg: CapMessage, *, user) -> None:
    """Fill `state`, `reason`, units, emergency or bulletin (see the module docstring)."""
    if msg.status != "Actual":
        alert.state, alert.reason = (
            CapState.ARCHIVED,
            f"Bản tin {msg.status} (không phải Actual): chỉ lưu trữ, không phát.",
        )
        return
    if msg.msg_type == "Cancel":
        old = _referenced(msg)
        stopped = _end(old, CapState.CANCELLED, f"Hủy bởi bản tin CAP {msg.identifier}.")
        alert.state = CapState.ARCHIVED
        alert.reason = (
            f"Bản tin hủy: {len(old)} cảnh báo được tham chiếu, {stopped} lần phát đã dừng."
            if old
            else "Bản tin hủy nhưng không tìm thấy cảnh báo được tham chiếu."
        )
        return
    if msg.msg_type not in ("Alert", "Update"):
        alert.state, alert.reason = CapState.ARCHIVED, f"Bản tin {msg.msg_type}: chỉ lưu trữ."
        return
    info = msg.info_for("vi")
    if info is None:
        alert.state = CapState.ARCHIVED
        alert.reason = (
            "Không có khối thông tin tiếng Việt (info language vi-VN) để đọc và hiển thị."
        )
        return
    alert.event, alert.headline = info.event[:200], info.headline[:200]
    alert.description, alert.instruction = info.description, info.instruction
    alert.severity, alert.urgency, alert.certainty = info.severity, info.urgency, info.certainty
    alert.expires = info.expires
    alert.area_desc = "; ".join(a.desc for a in info.areas)[:500]
    now = timezone.now()
    if info.expires and info.expires <= now:
        alert.state = CapState.EXPIRED
        alert.reason = f"Đã hết hạn lúc {_when(info.expires)}; không phát."
        return
    units = geo.resolve(alert.unit, info.areas)
    if units and user is not None:
        allowed = set(
            Unit.objects.restrict(user, "broadcast.emergency")
            .filter(pk__in=[u.pk for u in units])
            .values_list("pk", flat=True)
        )
        units = [u for u in units if u.pk in allowed]
        if not units:
            alert.state = CapState.REFUSED
            alert.reason = "Vùng cảnh báo nằm ngoài phạm vi phát khẩn cấp của tài khoản gửi."
            return
    if not units:
        alert.state = CapState.REFUSED
        alert.reason = (
            f"Vùng cảnh báo ({alert.area_desc or 'không mô tả'}) nằm ngoài "
            f"{alert.unit.name}: không có xã, phường nào trong vùng; không phát."
        )
        return
    alert._units = units  # type: ignore[attr-defined]  # saved after the row exists
    rule = CapSender.objects.filter(sender=msg.sender).first()
    if rule is None:
        alert.state = CapState.ARCHIVED
        alert.reason = f"Nguồn '{msg.sender}' chưa được khai báo trong cài đặt CAP: chỉ lưu trữ."
        return
    replaced = []
    if msg.msg_type == "Update":
        replaced = _referenced(msg)
    decision = level(rule, info)
    levels = cap_levels(info.severity, info.urgency, info.certainty)
    if decision == "archive":
        alert.state = CapState.ARCHIVED
        alert.reason = f"Mức {levels} dưới ngưỡng phát của nguồn {rule.name}: chỉ lưu trữ."
        _end(replaced, CapState.REPLACED, f"Được cập nhật bởi bản tin CAP {msg.identifier}.")
        return
    _end(replaced, CapState.REPLACED, f"Được cập nhật bởi bản tin CAP {msg.identifier}.")
    if decision == "live":
        expires = info.expires or now + dt.timedelta(hours=DEFAULT_HOURS)
        expires = min(expires, now + dt.timedelta(minutes=emergency_actions.MAX_MINUTES))
        text = "\n".join(p for p in (info.description, info.instruction) if p)
        # every commune of the province: one publish on the province's topic reaches them all
        whole = len(units) == geo.communes(alert.unit).count()
        alert.emergency = emergency_actions.start_system(
            units=[alert.unit] if whole else units,
            title=info.headline or info.event,
            text=text or info.headline or info.event,
            repeat=rule.repeat,
            repeat_every_minutes=rule.repeat_every_minutes,
            expires_at=expires,
            comment=f"CAP {msg.sender} {msg.identifier}",
            replaces=next((old.emergency for old in replaced if old.emergency_id), None),
        )
        alert.state = CapState.ON_AIR
        alert.reason = (
            f"Nguồn tin cậy {rule.name}, mức {levels}: "
            f"phát khẩn cấp ngay tại {len(units)} xã, phường đến {_when(expires)}."
        )
        return
    alert._priority = (info, rule)  # type: ignore[attr-defined]
    alert.state = CapState.AWAITING_APPROVAL
    alert.reason = (
        f"Mức {levels}"
        + ("" if rule.trusted else f" từ nguồn chưa tin cậy {rule.name}")
        + ": tạo bản tin ưu tiên, chờ phê duyệt."
    )


def receive(
    data: bytes, *, user=None, feed: CapFeed | None = None, source_url: str = ""
) -> tuple[CapAlert, bool]:
    """Take one CAP 1.2 message (bytes as received). Returns (record, created).

    Raises `parse.CapError` (Vietnamese, 4xx) for malformed, hostile or invalid input; nothing
    is recorded then. `user` (an API caller) limits the area to its emergency scope.
    """
    msg = parse(data)
    existing = CapAlert.objects.filter(
        sender=msg.sender, identifier=msg.identifier, sent=msg.sent
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            alert = CapAlert(
                unit=province(),
                sender=msg.sender[:200],
                identifier=msg.identifier[:200],
                sent=msg.sent,
                msg_type=msg.msg_type,
                status=msg.status,
                references=" ".join(",".join(r) for r in msg.references),
                xml=data.decode("utf-8", errors="replace"),
                feed=feed,
                source_url=source_url[:500],
            )
            _decide(alert, msg, user=user)
            alert.save()
            units = getattr(alert, "_units", None)
            if units:
                alert.units.set(units)
            if hasattr(alert, "_priority"):
                info, rule = alert._priority
                alert.bulletin = _priority_bulletin(alert, info, rule, units or [])
                alert.save(update_fields=["bulletin"])
            from grassroots.core import audit
            from grassroots.core.models import ChangeAction

            audit.record(alert, ChangeAction.CREATE, user=user, comment=alert.reason)
    except IntegrityError:  # the same message arrived twice at once
        existing = CapAlert.objects.filter(
            sender=msg.sender, identifier=msg.identifier, sent=msg.sent
        ).first()
        if existing is None:
            raise
        return existing, False
    log.info("CAP %s %s: %s (%s)", msg.sender, msg.identifier, alert.state, alert.reason)
    return alert, True


def emergencies_ended(emergency_ids: list[int], *, expired: bool) -> None:
    """Alerts whose emergency ended by itself at `expires` are marked expired."""
    if expired:
        CapAlert.objects.filter(emergency_id__in=emergency_ids, state=CapState.ON_AIR).update(
            state=CapState.EXPIRED, reason="Đã hết hạn; phát đã tự dừng."
        )


def on_air(alert: CapAlert) -> bool:
    return bool(
        alert.emergency_id
        and alert.emergency.status in (EmergencyStatus.ACTIVE, EmergencyStatus.PREPARING)
    )
