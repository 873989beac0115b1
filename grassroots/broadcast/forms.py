"""The console's slot form: what an officer types, turned into the action's `ItemData` fields.

Only the shape of the input is checked here (a date is a date, a number a number); whether the
item may air (usage policy, relay slots, RRULE, content) is the actions' business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grassroots.core import durations

from .engine import TZ

# Vietnamese repeat presets → RRULE (BYDAY codes in RFC 5545 order, Monday first).
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DAY_LABELS = [
    gettext_lazy("Thứ Hai"),
    gettext_lazy("Thứ Ba"),
    gettext_lazy("Thứ Tư"),
    gettext_lazy("Thứ Năm"),
    gettext_lazy("Thứ Sáu"),
    gettext_lazy("Thứ Bảy"),
    gettext_lazy("Chủ nhật"),
]
REPEATS = [
    ("", gettext_lazy("Một lần")),
    ("daily", gettext_lazy("Hằng ngày")),
    ("weekdays", gettext_lazy("Thứ Hai – thứ Sáu")),
    ("days", gettext_lazy("Chọn thứ trong tuần")),
    ("rrule", gettext_lazy("Nâng cao (RRULE)")),
]
WEEKDAYS_RULE = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
_UNTIL = re.compile(r";?UNTIL=[0-9TZ]+", re.IGNORECASE)


class FormError(ValueError):
    """A field the person must fix, with the words to fix it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class SlotInput:
    """The slot form's values, as typed (strings), so a refused form comes back as it was."""

    title: str = ""
    kind: str = "bulletin"
    priority: str = "normal"
    revision: str = ""
    day: str = ""
    at: str = ""
    minutes: str = ""
    repeat: str = ""
    days: list[str] = field(default_factory=list)
    rrule: str = ""
    until: str = ""
    exdates: str = ""
    relay_type: str = "fm"
    relay_frequency: str = ""
    relay_url: str = ""
    rank: str = ""

    @classmethod
    def from_post(cls, post) -> SlotInput:
        return cls(
            title=post.get("title", "").strip(),
            kind=post.get("kind", "bulletin"),
            priority=post.get("priority", "normal"),
            revision=post.get("revision", ""),
            day=post.get("day", "").strip(),
            at=post.get("at", "").strip(),
            minutes=post.get("minutes", "").strip(),
            repeat=post.get("repeat", ""),
            days=post.getlist("days"),
            rrule=post.get("rrule", "").strip(),
            until=post.get("until", "").strip(),
            exdates=post.get("exdates", "").strip(),
            relay_type=post.get("relay_type", "fm"),
            relay_frequency=post.get("relay_frequency", "").strip(),
            relay_url=post.get("relay_url", "").strip(),
            rank=post.get("rank", "").strip(),
        )

    @classmethod
    def from_item(cls, item) -> SlotInput:
        local = item.starts_at.astimezone(TZ)
        repeat, days, rrule, until = split_rrule(item.rrule)
        return cls(
            title=item.title,
            kind=item.kind,
            priority=item.priority,
            revision=str(item.revision_id or ""),
            day=local.strftime("%Y-%m-%d"),
            at=local.strftime("%H:%M"),
            minutes=show_minutes(item.duration_seconds),
            repeat=repeat,
            days=days,
            rrule=rrule,
            until=until,
            exdates=", ".join(_show_exdate(x) for x in item.exdates or []),
            relay_type=item.relay_type or "fm",
            relay_frequency=str(item.relay_frequency or ""),
            relay_url=item.relay_url,
            rank=str(item.rank or ""),
        )

    # --- parsing --------------------------------------------------------------------------

    def starts_at(self) -> datetime:
        try:
            day = date.fromisoformat(self.day)
        except ValueError as exc:
            raise FormError("day", _("Hãy chọn ngày phát (ngày/tháng/năm).")) from exc
        try:
            at = time.fromisoformat(self.at)
        except ValueError as exc:
            raise FormError("at", _("Hãy nhập giờ phát dạng giờ:phút, ví dụ 06:30.")) from exc
        return datetime.combine(day, at, TZ)

    def duration_seconds(self) -> int:
        try:
            seconds = durations.parse(self.minutes)
        except durations.DurationError as exc:
            raise FormError("minutes", str(exc)) from exc
        if seconds <= 0:
            raise FormError("minutes", _("Thời lượng phải lớn hơn 0."))
        return seconds

    def recurrence(self, starts_at: datetime) -> str:
        """The RRULE of the chosen preset, with UNTIL from 'đến ngày' when given."""
        if self.repeat == "":
            if self.until:
                raise FormError(
                    "until", _("'Đến ngày' chỉ dùng khi lịch lặp lại; hãy chọn kiểu lặp.")
                )
            return ""
        if self.repeat == "daily":
            rule = "FREQ=DAILY"
        elif self.repeat == "weekdays":
            rule = WEEKDAYS_RULE
        elif self.repeat == "days":
            chosen = [d for d in DAYS if d in self.days]
            if not chosen:
                raise FormError("days", _("Hãy đánh dấu ít nhất một thứ trong tuần."))
            rule = "FREQ=WEEKLY;BYDAY=" + ",".join(chosen)
        elif self.repeat == "rrule":
            rule = self.rrule.strip()
            if rule.upper().startswith("RRULE:"):
                rule = rule[6:]
            if not rule:
                raise FormError(
                    "rrule", _("Hãy nhập quy tắc lặp RRULE, ví dụ FREQ=WEEKLY;BYDAY=MO,WE,FR.")
                )
            if self.until and "UNTIL=" in rule.upper():
                raise FormError(
                    "until", _("Quy tắc RRULE đã có UNTIL; hãy bỏ trống 'Đến ngày' hoặc bỏ UNTIL.")
                )
        else:
            raise FormError("repeat", _("Kiểu lặp lại không hợp lệ; hãy chọn trong danh sách."))
        if self.until:
            try:
                last = date.fromisoformat(self.until)
            except ValueError as exc:
                raise FormError("until", _("'Đến ngày' phải là một ngày có thật.")) from exc
            if last < starts_at.astimezone(TZ).date():
                raise FormError("until", _("'Đến ngày' phải từ ngày bắt đầu trở đi."))
            end = datetime.combine(last, time(23, 59, 59), TZ)
            rule += ";UNTIL=" + end.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return rule

    def excluded(self) -> tuple[date, ...]:
        """'Bỏ các ngày': dd/mm/yyyy (or yyyy-mm-dd), separated by commas, spaces or lines."""
        out = []
        for token in re.split(r"[\s,;]+", self.exdates):
            if not token:
                continue
            try:
                if "/" in token:
                    d, m, y = token.split("/")
                    out.append(date(int(y), int(m), int(d)))
                else:
                    out.append(date.fromisoformat(token))
            except ValueError as exc:
                raise FormError(
                    "exdates",
                    _(
                        "Ngày bỏ '%(token)s' không phải ngày có thật; hãy viết dạng 31/12/2026, "
                        "cách nhau bằng dấu phẩy."
                    )
                    % {"token": token},
                ) from exc
        return tuple(sorted(set(out)))

    def frequency(self) -> Decimal | None:
        if not self.relay_frequency:
            return None
        try:
            return Decimal(self.relay_frequency.replace(",", "."))
        except InvalidOperation as exc:
            raise FormError(
                "relay_frequency", _("Tần số FM là một số MHz, ví dụ 99,5 hoặc 102.7.")
            ) from exc

    def rank_value(self) -> int | None:
        if not self.rank:
            return None
        if not self.rank.isdigit() or int(self.rank) < 1:
            raise FormError("rank", _("Thứ tự là số nguyên từ 1 (phát trước nhất)."))
        return int(self.rank)

    def revision_id(self) -> int | None:
        return int(self.revision) if self.revision.isdigit() else None


def show_minutes(seconds: int) -> str:
    """25 → '25 giây'; 200 → '3 phút 20 giây' (words, which the field accepts back)."""
    return durations.words(seconds)


def _show_exdate(value: str) -> str:
    text = str(value)[:10]
    try:
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def split_rrule(rule: str) -> tuple[str, list[str], str, str]:
    """An item's RRULE back to the form: (preset, chosen days, advanced text, until date)."""
    if not rule:
        return "", [], "", ""
    body = rule[6:] if rule.upper().startswith("RRULE:") else rule
    until = ""
    m = _UNTIL.search(body)
    if m:
        stamp = m.group(0).split("=", 1)[1]
        try:
            moment = datetime.strptime(stamp[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            until = moment.astimezone(TZ).strftime("%Y-%m-%d")
            body = _UNTIL.sub("", body)
        except ValueError:
            until = ""
    upper = body.upper()
    if upper == "FREQ=DAILY":
        return "daily", [], "", until
    if upper == WEEKDAYS_RULE:
        return "weekdays", [], "", until
    m = re.fullmatch(
        r"FREQ=WEEKLY;BYDAY=((?:MO|TU|WE|TH|FR|SA|SU)(?:,(?:MO|TU|WE|TH|FR|SA|SU))*)", upper
    )
    if m:
        return "days", m.group(1).split(","), "", until
    return "rrule", [], rule, ""


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
