"""A recurrence rule (RFC 5545 RRULE) in the words an officer reads: "Thứ Hai – thứ Sáu lúc
06:00", "Ngày 1 và 15 hằng tháng lúc 17:00, đến 31/12/2026". The RRULE itself is a technical
detail: it is never shown instead of these words."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .engine import TZ

DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DAY_NAMES = [
    gettext_lazy("Thứ Hai"),
    gettext_lazy("Thứ Ba"),
    gettext_lazy("Thứ Tư"),
    gettext_lazy("Thứ Năm"),
    gettext_lazy("Thứ Sáu"),
    gettext_lazy("Thứ Bảy"),
    gettext_lazy("Chủ nhật"),
]
# Parts of a rule these words can say; a rule with any other part is "advanced".
_KNOWN = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYHOUR", "BYMINUTE", "COUNT"}
_KNOWN |= {"UNTIL", "WKST"}
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")


def parts_of(rule: str) -> dict[str, str]:
    """'FREQ=WEEKLY;BYDAY=MO' → {'FREQ': 'WEEKLY', 'BYDAY': 'MO'} (upper-case keys)."""
    body = rule.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    out = {}
    for piece in body.split(";"):
        if "=" in piece:
            key, value = piece.split("=", 1)
            out[key.strip().upper()] = value.strip().upper()
    return out


def _ordinal(n: int) -> str:
    if n == -1:
        return _("cuối cùng")
    if n == 1:
        return _("đầu tiên")
    if n < 0:
        return _("thứ %(n)s từ cuối") % {"n": -n}
    return _("thứ %(n)s") % {"n": n}


def _list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return _("%(first)s và %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def _weekdays(codes: list[str]) -> str:
    if codes == DAYS[:5]:
        return _("Thứ Hai – thứ Sáu")
    if codes == DAYS:
        return _("Hằng ngày")
    if codes == DAYS[5:]:
        return _("Thứ Bảy và Chủ nhật")
    return _list([str(DAY_NAMES[DAYS.index(c)]) for c in codes])


def _until(value: str) -> str:
    try:
        moment = datetime.strptime(value[:15], "%Y%m%dT%H%M%S")
        moment = moment.replace(tzinfo=UTC) if value.endswith("Z") else moment.replace(tzinfo=TZ)
    except ValueError:
        moment = datetime.strptime(value[:8], "%Y%m%d").replace(tzinfo=TZ)
    return moment.astimezone(TZ).strftime("%d/%m/%Y")


def describe(rule: str, start: datetime | None = None) -> str:
    """The rule in words, with the time of day when `start` (or BYHOUR) gives it."""
    if not rule:
        return _("Một lần")
    try:
        return _describe(parts_of(rule), start.astimezone(TZ) if start else None)
    except (ValueError, KeyError, IndexError):
        return _("Lặp theo quy tắc nâng cao")


def _describe(p: dict[str, str], start: datetime | None) -> str:
    if set(p) - _KNOWN:
        return _("Lặp theo quy tắc nâng cao")
    freq = p["FREQ"]
    n = int(p.get("INTERVAL", "1") or 1)
    days = [_BYDAY.fullmatch(d) for d in p["BYDAY"].split(",")] if "BYDAY" in p else []
    if any(m is None for m in days):
        raise ValueError(p["BYDAY"])
    plain = [m[2] for m in days if m and not m[1]]
    monthdays = [int(x) for x in p["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in p else []
    months = [int(x) for x in p["BYMONTH"].split(",")] if "BYMONTH" in p else []
    if freq == "HOURLY":
        words = (
            _("Mỗi giờ") if n == 1 else ngettext("%(n)s giờ một lần", "%(n)s giờ một lần", n)
        ) % {"n": n}
    elif freq == "DAILY":
        words = (
            _("Hằng ngày")
            if n == 1
            else ngettext("%(n)s ngày một lần", "%(n)s ngày một lần", n) % {"n": n}
        )
        if plain:
            words = _weekdays(sorted(plain, key=DAYS.index))
    elif freq == "WEEKLY":
        codes = sorted(plain, key=DAYS.index) or ([DAYS[start.weekday()]] if start else [])
        words = _weekdays(codes) if codes else _("Hằng tuần")
        if n > 1:
            every = ngettext("%(n)s tuần một lần", "%(n)s tuần một lần", n) % {"n": n}
            words = f"{every}: {words}" if codes else every
    elif freq in ("MONTHLY", "YEARLY"):
        if days and all(m[1] for m in days):
            which = _list(
                [
                    _("%(day)s %(which)s")
                    % {"day": DAY_NAMES[DAYS.index(m[2])], "which": _ordinal(int(m[1]))}
                    for m in days
                ]
            )
        elif plain:
            which = _weekdays(sorted(plain, key=DAYS.index))
        else:
            dates = monthdays or ([start.day] if start else [])
            which = _("Ngày %(days)s") % {
                "days": _list([_("cuối tháng") if d == -1 else str(d) for d in dates])
            }
        if freq == "MONTHLY":
            every = (
                _("hằng tháng")
                if n == 1
                else ngettext("%(n)s tháng một lần", "%(n)s tháng một lần", n) % {"n": n}
            )
            words = f"{which} {every}"
        else:
            chosen = months or ([start.month] if start else [])
            words = _("%(which)s tháng %(months)s hằng năm") % {
                "which": which,
                "months": _list([str(m) for m in chosen]),
            }
    else:
        return _("Lặp theo quy tắc nâng cao")
    times = _times(p, start)
    if times and freq != "HOURLY" or times and "BYHOUR" in p:
        words += " " + _("lúc %(times)s") % {"times": _list(times)}
    if "COUNT" in p:
        count = int(p["COUNT"])
        words += ", " + ngettext("%(n)s lần", "%(n)s lần", count) % {"n": count}
    if "UNTIL" in p:
        words += _(", đến %(day)s") % {"day": _until(p["UNTIL"])}
    return words


def _times(p: dict[str, str], start: datetime | None) -> list[str]:
    if "BYHOUR" in p:
        hours = [int(h) for h in p["BYHOUR"].split(",")]
        minutes = (
            [int(m) for m in p["BYMINUTE"].split(",")]
            if "BYMINUTE" in p
            else [start.minute if start else 0]
        )
        return [f"{h:02d}:{m:02d}" for h in sorted(hours) for m in sorted(minutes)]
    if start is not None:
        return [start.strftime("%H:%M")]
    return []
