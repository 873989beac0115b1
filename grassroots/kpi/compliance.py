"""Relay compliance (khung giờ tiếp sóng): which mandated relay slots a commune really relayed.

The rules are the relay slots of the commune's usage policy (its own or the nearest ancestor's:
`broadcast.UsagePolicy.relay_slots`, set by the province). From the as-run log (entries of kind
`relay` that played), a slot is **relayed** when the union of relay time on the commune's
clusters covers at least `FULL_SHARE` of it, **partly** relayed when it covers some of it, and
**missed** otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext_lazy as _

from grassroots.core.dates import VIETNAM

FULL_SHARE = 0.9
RELAYED, PARTIAL, MISSED = "relayed", "partial", "missed"
LABELS = {RELAYED: _("Đã tiếp sóng"), PARTIAL: _("Tiếp sóng một phần"), MISSED: _("Bỏ sót")}


@dataclass
class SlotResult:
    start: datetime
    end: datetime
    covered_s: float
    state: str

    @property
    def share(self) -> float:
        return self.covered_s / (self.end - self.start).total_seconds()

    @property
    def percent(self) -> int:
        return round(100 * self.share)

    @property
    def label(self) -> str:
        return LABELS[self.state]


def slot_windows(
    slots: tuple[tuple[time, time], ...], day: date
) -> list[tuple[datetime, datetime]]:
    """The day's mandated windows (a slot over midnight ends the next day)."""
    out = []
    for a, b in slots:
        start = datetime.combine(day, a, VIETNAM)
        end = datetime.combine(day if b > a else day + timedelta(days=1), b, VIETNAM)
        out.append((start, end))
    return sorted(out)


def covered_seconds(window: tuple[datetime, datetime], intervals) -> float:
    """Seconds of `window` covered by the union of `intervals` [(start, end)]."""
    w0, w1 = window
    clipped = sorted((max(s, w0), min(e, w1)) for s, e in intervals if e > w0 and s < w1)
    total, cur_s, cur_e = 0.0, None, None
    for s, e in clipped:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += (cur_e - cur_s).total_seconds()
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += (cur_e - cur_s).total_seconds()
    return total


def judge(slots, day: date, intervals) -> list[SlotResult]:
    """One result per mandated slot of `day`, from the commune's relay intervals."""
    out = []
    for window in slot_windows(slots, day):
        covered = covered_seconds(window, intervals)
        length = (window[1] - window[0]).total_seconds()
        if covered >= FULL_SHARE * length:
            state = RELAYED
        elif covered > 0:
            state = PARTIAL
        else:
            state = MISSED
        out.append(SlotResult(window[0], window[1], covered, state))
    return out


def relay_intervals(unit_id: int, start: date, end: date | None = None):
    """Played relay entries of a commune's devices that touch [start, end] (a day's margin)."""
    from grassroots.broadcast.models import AsRunEntry

    d0 = datetime.combine(start, time(0), VIETNAM)
    d1 = datetime.combine(end or start, time(0), VIETNAM) + timedelta(days=2)
    from grassroots.devices.models import Device

    devices = list(Device.objects.filter(unit_id=unit_id).values_list("pk", flat=True))
    rows = AsRunEntry.objects.filter(
        device_id__in=devices,  # by the (device, started_at) index, not a join over every play
        kind="relay",
        status="played",
        started_at__gte=d0 - timedelta(hours=6),
        started_at__lt=d1,
    ).values_list("started_at", "ended_at")
    return [(s, e or s) for s, e in rows]


def for_unit_days(unit, start: date, end: date) -> list[tuple[date, list[SlotResult]]]:
    """One commune's compliance, day by day from `end` back to `start` (one query)."""
    from grassroots.broadcast.specs import policy_for

    policy = policy_for(unit)
    days = [end - timedelta(days=n) for n in range((end - start).days + 1)]
    if not policy.relay_slots:
        return [(d, []) for d in days]
    intervals = relay_intervals(unit.pk, start, end)
    return [(d, judge(policy.relay_slots, d, intervals)) for d in days]
