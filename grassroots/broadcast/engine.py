"""The timeline engine: a pure function from schedule items, a usage policy and a window to the
segments a station plays, each with the rule that decided it (Thông tư 39/2020 priorities).

Rules, in order:
1. Emergency (khẩn cấp) plays at once and cuts whatever is on air; two emergencies that overlap
   play one after the other. Emergencies are exempt from the usage policy.
2. Other items never cut each other: the station plays one thing at a time and, whenever it is
   free, picks among the items that are due: priority (ưu tiên) before normal (thông thường);
   among priority items the commune's chosen order (`rank`) decides, then the earlier scheduled
   start, then the upper level's item, then the older item. Normal items fill what is left.
3. A relay (tiếp sóng) is bound to its time slot: if delayed it plays only the rest of its slot,
   and after an emergency it resumes until its slot ends. A media item plays whole, or is cut by
   an emergency and not resumed; one that waits too long is skipped.
4. Items that would play outside the unit's allowed hours or on a quiet day are skipped, with
   the rule named (an item may be moved there by a delay, or the policy changed after it was set).

No database, no clock: the same input gives the same output, which the scenario tests pin.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LEVEL = {"normal": 1, "priority": 2, "emergency": 3}
LABEL = {
    "normal": gettext_lazy("thông thường"),
    "priority": gettext_lazy("ưu tiên"),
    "emergency": gettext_lazy("khẩn cấp"),
}
MEDIA, RELAY = "media", "relay"
# How long an item may wait for the station before it is skipped.
MAX_DELAY = {"normal": timedelta(minutes=30), "priority": timedelta(hours=2)}
WEEKDAYS = ["thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"]


def hm(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%H:%M")


def dmy(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        moment = moment.astimezone(TZ).date()
    return moment.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class ItemSpec:
    """What the engine needs of a schedule item (built from the model or written in tests)."""

    id: int
    title: str
    priority: str
    kind: str  # MEDIA or RELAY
    start: datetime
    duration: timedelta
    rrule: str = ""
    exdates: tuple[datetime | date, ...] = ()  # a date: every occurrence on that day
    rank: int | None = None
    from_upper: bool = False

    @property
    def level(self) -> int:
        return LEVEL[self.priority]


@dataclass(frozen=True)
class PolicySpec:
    """A unit's loudspeaker usage rules; `None` means no limit."""

    name: str = ""
    allowed_start: time | None = None
    allowed_end: time | None = None
    max_sessions_per_day: int | None = None
    max_minutes_per_session: int | None = None
    quiet_weekdays: frozenset[int] = frozenset()
    quiet_dates: frozenset[date] = frozenset()
    relay_slots: tuple[tuple[time, time], ...] = ()


@dataclass(frozen=True)
class Occurrence:
    item: ItemSpec
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """Stable id of this occurrence: item id and local start (what devices report back)."""
        return f"s{self.item.id}-{self.start.astimezone(TZ):%Y%m%dT%H%M}"


@dataclass(frozen=True)
class Segment:
    """A span of air time: which occurrence plays and the rule that put it there."""

    start: datetime
    end: datetime
    occurrence: Occurrence
    rule: str
    reason: str
    part: int = 0
    cut_by: int | None = None

    @property
    def item(self) -> ItemSpec:
        return self.occurrence.item

    @property
    def id(self) -> str:
        return self.occurrence.key + (f"~{self.part}" if self.part else "")


@dataclass(frozen=True)
class Skipped:
    occurrence: Occurrence
    rule: str
    reason: str


@dataclass
class Timeline:
    segments: list[Segment] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def at(self, moment: datetime) -> Segment | None:
        """What is on air at `moment` (None: silence)."""
        for seg in self.segments:
            if seg.start <= moment < seg.end:
                return seg
        return None


# --- recurrence ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _rule(text: str, dtstart: datetime):
    return rrulestr(text, dtstart=dtstart, forceset=True)


def parse_rrule(text: str, dtstart: datetime):
    """Parse an RFC 5545 RRULE in Asia/Ho_Chi_Minh wall time; ValueError in Vietnamese."""
    text = text.strip()
    if not text.upper().startswith(("RRULE:", "FREQ=")):
        raise ValueError("Quy tắc lặp phải theo RFC 5545, ví dụ 'FREQ=DAILY' hoặc 'RRULE:FREQ=…'.")
    if re.search(r"FREQ=(SECONDLY|MINUTELY)", text, re.IGNORECASE):
        # A loudspeaker programme repeats by the hour at most; finer rules would flood the
        # timeline and every device's manifest.
        raise ValueError(
            "Quy tắc lặp không được lặp theo giây hoặc theo phút; hãy dùng FREQ=HOURLY, DAILY, "
            "WEEKLY hoặc MONTHLY (ví dụ 'FREQ=HOURLY;INTERVAL=2;BYHOUR=6,8,10')."
        )
    try:
        return _rule(text, dtstart.astimezone(TZ))
    except (ValueError, TypeError) as exc:
        raise ValueError(
            # dateutil's own words are English: the person gets examples instead.
            f"Quy tắc lặp '{text}' không hợp lệ. Ví dụ đúng: 'FREQ=WEEKLY;BYDAY=MO,WE,FR' "
            "hoặc 'FREQ=DAILY;UNTIL=20261231T170000Z' (UNTIL ghi theo giờ UTC, có chữ Z)."
        ) from exc


def expand(item: ItemSpec, start: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences of `item` that overlap [start, end), in local wall time (no DST here)."""
    if not item.rrule:
        s, e = item.start, item.start + item.duration
        return [Occurrence(item, s, e)] if s < end and e > start else []
    rule = parse_rrule(item.rrule, item.start)
    out = []
    excluded = set(item.exdates)  # instants, and dates meaning "that day's occurrences"
    for s in rule.between(start - item.duration, end, inc=True):
        e = s + item.duration
        if s < end and e > start and not _excluded(s, excluded):
            out.append(Occurrence(item, s, e))
    return out


def _excluded(s: datetime, excluded: set) -> bool:
    if not excluded:
        return False
    if s in excluded:
        return True
    day = s.astimezone(TZ).date() if s.tzinfo else s.date()
    return day in excluded


def last_end(item: ItemSpec) -> datetime | None:
    """When the last occurrence ends, or None for a rule without COUNT/UNTIL."""
    if not item.rrule:
        return item.start + item.duration
    rule = parse_rrule(item.rrule, item.start)
    upper = item.rrule.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        return None
    last = None
    for last in rule:  # noqa: B007 - bounded by COUNT/UNTIL
        pass
    return (last + item.duration) if last else item.start + item.duration


# --- usage policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str


def _days(s: datetime, e: datetime) -> list[date]:
    ls, le = s.astimezone(TZ), (e - timedelta(microseconds=1)).astimezone(TZ)
    out, d = [], ls.date()
    while d <= le.date():
        out.append(d)
        d += timedelta(days=1)
    return out


def hours_violation(policy: PolicySpec, s: datetime, e: datetime) -> Violation | None:
    """Allowed hours and quiet days for one play [s, e)."""
    name = policy.name or "đơn vị"
    for d in _days(s, e):
        if d.weekday() in policy.quiet_weekdays or d in policy.quiet_dates:
            what = WEEKDAYS[d.weekday()] if d.weekday() in policy.quiet_weekdays else "ngày"
            return Violation(
                "quiet_day",
                f"Quy định sử dụng loa của {name}: không phát loa vào {what} {dmy(d)}. "
                "Cách sửa: chọn ngày khác, hoặc loại ngày này khỏi quy tắc lặp (BYDAY/EXDATE).",
            )
    if policy.allowed_start is None or policy.allowed_end is None:
        return None
    a, b = policy.allowed_start, policy.allowed_end
    ls = s.astimezone(TZ)
    for day in (ls.date() - timedelta(days=1), ls.date()):
        w0 = datetime.combine(day, a, TZ)
        w1 = datetime.combine(day if b > a else day + timedelta(days=1), b, TZ)
        if w0 <= s and e <= w1:
            return None
    return Violation(
        "allowed_hours",
        f"Quy định sử dụng loa của {name}: chỉ được phát từ {a:%H:%M} đến {b:%H:%M}; lần phát "
        f"{hm(s)}–{hm(e)} ngày {dmy(s)} nằm ngoài khung giờ này. Cách sửa: đổi giờ bắt đầu "
        "hoặc rút ngắn thời lượng cho nằm trong khung giờ được phép.",
    )


def relay_slot_violation(policy: PolicySpec, s: datetime, e: datetime) -> Violation | None:
    """A relay must lie inside one of the unit's relay slots (khung giờ tiếp sóng), if any."""
    if not policy.relay_slots:
        return None
    ls = s.astimezone(TZ)
    for day in (ls.date() - timedelta(days=1), ls.date()):
        for a, b in policy.relay_slots:
            w0 = datetime.combine(day, a, TZ)
            w1 = datetime.combine(day if b > a else day + timedelta(days=1), b, TZ)
            if w0 <= s and e <= w1:
                return None
    slots = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in policy.relay_slots)
    return Violation(
        "relay_slot",
        f"Quy định sử dụng loa của {policy.name or 'đơn vị'}: chỉ tiếp sóng trong khung giờ "
        f"{slots}; lần tiếp sóng {hm(s)}–{hm(e)} ngày {dmy(s)} nằm ngoài các khung giờ này. "
        "Cách sửa: đổi giờ bắt đầu hoặc thời lượng cho nằm trọn trong một khung giờ tiếp sóng.",
    )


SESSION_GAP = timedelta(minutes=10)


def sessions(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Merge plays less than SESSION_GAP apart into sessions (buổi phát)."""
    out: list[list[datetime]] = []
    for s, e in sorted(intervals):
        if out and s - out[-1][1] < SESSION_GAP:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def check_policy(
    policy: PolicySpec,
    new: list[tuple[datetime, datetime]],
    existing: list[tuple[datetime, datetime]],
) -> list[Violation]:
    """Violations that plays `new` would cause next to the station's `existing` plays."""
    name = policy.name or "đơn vị"
    found: list[Violation] = []
    for s, e in new:
        v = hours_violation(policy, s, e)
        if v:
            return [v]
    if policy.max_sessions_per_day is None and policy.max_minutes_per_session is None:
        return found
    by_day: dict[date, list[tuple[datetime, datetime]]] = {}
    new_days = set()
    for s, e in [*existing, *new]:
        by_day.setdefault(s.astimezone(TZ).date(), []).append((s, e))
    for s, _e in new:
        new_days.add(s.astimezone(TZ).date())
    for day in sorted(new_days):
        merged = sessions(by_day[day])
        limit = policy.max_sessions_per_day
        if limit is not None and len(merged) > limit:
            return [
                Violation(
                    "max_sessions_per_day",
                    f"Quy định sử dụng loa của {name}: tối đa {limit} buổi phát mỗi ngày; ngày "
                    f"{dmy(day)} sẽ có {len(merged)} buổi. Cách sửa: ghép vào một buổi đã có "
                    "(phát liền trước hoặc liền sau, cách không quá 10 phút) hoặc chọn ngày khác.",
                )
            ]
        cap = policy.max_minutes_per_session
        for s, e in merged:
            minutes = (e - s).total_seconds() / 60
            if cap is not None and minutes > cap:
                return [
                    Violation(
                        "max_minutes_per_session",
                        f"Quy định sử dụng loa của {name}: mỗi buổi phát tối đa {cap} phút; buổi "
                        f"{hm(s)}–{hm(e)} ngày {dmy(day)} sẽ dài {minutes:g} phút. Cách sửa: rút "
                        "ngắn thời lượng hoặc dời sang giờ khác để tách thành buổi riêng.",
                    )
                ]
    return found


# --- the timeline --------------------------------------------------------------------------------


def _order(o: Occurrence) -> tuple:
    it = o.item
    if it.priority == "priority":
        return (-it.level, it.rank is None, it.rank or 0, o.start, not it.from_upper, it.id)
    return (-it.level, False, 0, o.start, not it.from_upper, it.id)


def _why_first(o: Occurrence, other: Occurrence) -> tuple[str, str]:
    a, b = o.item, other.item
    if a.level > b.level:
        return (
            "priority_first",
            _("Ưu tiên (Thông tư 39): phát trước nội dung %(level)s '%(title)s'.")
            % {"level": LABEL[b.priority], "title": b.title},
        )
    if a.priority == "priority" and a.rank is not None and (b.rank is None or a.rank < b.rank):
        theirs = (
            _(" (thứ tự %(rank)s)") % {"rank": b.rank}
            if b.rank is not None
            else _(" (chưa xếp thứ tự)")
        )
        return (
            "commune_order",
            _(
                "Xã chọn thứ tự %(rank)s cho các nội dung ưu tiên trùng giờ: phát trước "
                "'%(title)s'%(theirs)s."
            )
            % {"rank": a.rank, "title": b.title, "theirs": theirs},
        )
    if o.start < other.start:
        why = _("được lập lịch sớm hơn")
    elif a.from_upper and not b.from_upper:
        why = _("là nội dung của cấp trên")
    else:
        why = _("được tạo trước")
    return (
        "earlier_first",
        _("Cùng mức %(level)s: %(why)s nên phát trước '%(title)s'.")
        % {"level": LABEL[a.priority], "why": why, "title": b.title},
    )


def build(
    items: Iterable[ItemSpec],
    policy: PolicySpec | None,
    start: datetime,
    end: datetime,
) -> Timeline:
    """What the station plays in [start, end), and why; segments are clipped to the window.

    The computation starts at local midnight of the day before `start`, so a delay chain that
    began earlier is seen the same way whatever window is asked for.
    """
    policy = policy or PolicySpec()
    local = start.astimezone(TZ)
    anchor = datetime.combine(local.date() - timedelta(days=1), time(0), TZ)
    occs = [o for it in items for o in expand(it, anchor, end)]
    urgent = sorted((o for o in occs if o.item.priority == "emergency"), key=lambda o: o.start)
    queue = sorted((o for o in occs if o.item.priority != "emergency"), key=lambda o: o.start)
    out = Timeline()

    # 1. Emergencies take the air first; overlapping ones queue behind each other.
    blocks: list[tuple[datetime, datetime, Occurrence]] = []
    cursor = anchor
    for o in urgent:
        s = max(o.start, cursor)
        e = o.end if o.item.kind == RELAY else s + o.item.duration
        if s >= e:
            out.skipped.append(Skipped(o, "relay_expired", _("Bỏ qua: hết khung giờ tiếp sóng.")))
            continue
        if s == o.start:
            reason = _(
                "Khẩn cấp: phát ngay, cắt mọi nội dung đang phát; miễn áp dụng quy định sử "
                "dụng loa."
            )
            rule = "emergency"
        else:
            rule = "emergency_queue"
            reason = _("Khẩn cấp: phát ngay sau bản tin khẩn cấp '%(title)s'.") % {
                "title": blocks[-1][2].item.title
            }
        out.segments.append(Segment(s, e, o, rule, reason))
        blocks.append((s, e, o))
        cursor = e

    def block_at(t: datetime):
        for b in blocks:
            if b[0] <= t < b[1]:
                return b
        return None

    def next_block(t: datetime, until: datetime):
        for b in blocks:
            if t <= b[0] < until:
                return b
        return None

    # 2. Everything else, one at a time, best due item first.
    t = anchor
    i, ready = 0, []
    last_title = ""
    while True:
        while i < len(queue) and queue[i].start <= t:
            ready.append(queue[i])
            i += 1
        if not ready:
            if i >= len(queue):
                break
            t = max(t, queue[i].start)
            continue
        blocking = block_at(t)
        if blocking:
            t = blocking[1]
            last_title = blocking[2].item.title
            continue
        ready.sort(key=_order)
        o = ready.pop(0)
        item = o.item
        if item.kind == RELAY and t >= o.end:
            out.skipped.append(
                Skipped(
                    o,
                    "relay_expired",
                    _(
                        "Bỏ qua: hết khung giờ tiếp sóng %(start)s–%(end)s trong khi đang "
                        "phát '%(title)s'."
                    )
                    % {"start": hm(o.start), "end": hm(o.end), "title": last_title},
                )
            )
            continue
        if item.kind == MEDIA and t - o.start > MAX_DELAY[item.priority]:
            minutes = int(MAX_DELAY[item.priority].total_seconds() // 60)
            out.skipped.append(
                Skipped(
                    o,
                    "waited_too_long",
                    _(
                        "Bỏ qua: phải chờ quá %(minutes)s phút sau giờ hẹn %(start)s (đang phát "
                        "'%(title)s'). Hãy xếp lại vào giờ trống."
                    )
                    % {"minutes": minutes, "start": hm(o.start), "title": last_title},
                )
            )
            continue
        planned_end = o.end if item.kind == RELAY else t + item.duration
        violation = hours_violation(policy, t, planned_end)
        if violation:
            why = _("Bỏ qua: %(why)s") % {"why": violation.message}
            out.skipped.append(Skipped(o, violation.rule, why))
            continue
        contenders = sorted(ready, key=_order)
        rivals = [c for c in contenders if c.start <= t]
        if t > o.start:
            rule = "deferred"
            reason = _(
                "Dời từ %(start)s sang %(at)s: chờ '%(title)s' phát xong (chỉ khẩn cấp mới được "
                "cắt ngang)."
            ) % {"start": hm(o.start), "at": hm(t), "title": last_title}
            if rivals:
                _r, why = _why_first(o, rivals[0])
                reason += " " + why
        elif rivals:
            rule, reason = _why_first(o, rivals[0])
        elif item.priority == "normal":
            rule, reason = "on_time", _("Thông thường: phát đúng giờ vào thời gian còn trống.")
        else:
            rule, reason = "on_time", _("Ưu tiên: phát đúng giờ.")
        cur, part = t, 0
        while cur < planned_end:
            b = next_block(cur, planned_end)
            if b is None:
                out.segments.append(Segment(cur, planned_end, o, rule, reason, part))
                cur = planned_end
                break
            if b[0] > cur:
                cut = " " + _("Bị cắt lúc %(at)s bởi khẩn cấp '%(title)s'.") % {
                    "at": hm(b[0]),
                    "title": b[2].item.title,
                }
                out.segments.append(
                    Segment(cur, b[0], o, rule, reason + cut, part, cut_by=b[2].item.id)
                )
            if item.kind == MEDIA:
                cur = b[0]
                break
            cur, part = b[1], part + 1
            rule = "resumed"
            reason = _("Tiếp sóng tiếp tục sau bản tin khẩn cấp '%(title)s'.") % {
                "title": b[2].item.title
            }
        t = max(cur, t)
        last_title = item.title

    segs = []
    for seg in sorted(out.segments, key=lambda s: (s.start, s.end)):
        if seg.end <= start or seg.start >= end:
            continue
        if seg.start < start or seg.end > end:
            seg = Segment(
                max(seg.start, start),
                min(seg.end, end),
                seg.occurrence,
                seg.rule,
                seg.reason,
                seg.part,
                seg.cut_by,
            )
        segs.append(seg)
    skipped = [s for s in out.skipped if s.occurrence.start < end and s.occurrence.end > start]
    return Timeline(segs, skipped)


def on_air(
    items: Iterable[ItemSpec], policy: PolicySpec | None, at: datetime | None = None
) -> Segment | None:
    """What plays at `at` (default: now by the clock), with its reason."""
    at = at or datetime.now(TZ)
    return build(items, policy, at, at + timedelta(seconds=1)).at(at)
