"""Durations as people say them ("25 giây", "3 phút 20 giây", "1 giờ 30 phút") and back.

What the console shows in a duration field, it accepts back; so do the usual short forms an
officer types: "15" or "2,5" (minutes), "1:35" (minutes:seconds), "3p20", "90s", "1h30".
"""

from __future__ import annotations

import re
from datetime import datetime

from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from grassroots.units.text import fold

# Folded unit words (Vietnamese first, English for the English console) → seconds.
_UNITS = {
    "gio": 3600,
    "tieng": 3600,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "hr": 3600,
    "phut": 60,
    "ph": 60,
    "p": 60,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "giay": 1,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
}
_NUMBER = r"\d+(?:[.,]\d+)?"
_PART = re.compile(rf"({_NUMBER})\s*([a-z]*)")
_HELP = gettext_lazy("ví dụ 25 giây, 3 phút 20 giây, 15 (phút) hoặc 1:35 (phút:giây)")


class DurationError(ValueError):
    """A duration that cannot be read; the message says what to write."""


def words(seconds: float | int | None) -> str:
    """25 → '25 giây'; 200 → '3 phút 20 giây'; 5400 → '1 giờ 30 phút'."""
    total = int(round(float(seconds or 0)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(n)d giờ", "%(n)d giờ", hours) % {"n": hours})
    if minutes:
        parts.append(ngettext("%(n)d phút", "%(n)d phút", minutes) % {"n": minutes})
    if secs or not parts:
        parts.append(ngettext("%(n)d giây", "%(n)d giây", secs) % {"n": secs})
    return " ".join(parts)


def parse(text: str) -> int:
    """Seconds in what a person typed; a bare number is minutes. DurationError if unreadable."""
    raw = fold(text or "")
    value = raw.replace(" ", "")
    try:
        if re.fullmatch(_NUMBER, value):
            seconds = round(float(value.replace(",", ".")) * 60)
        elif m := re.fullmatch(r"(\d+):([0-5]?\d)", value):
            seconds = int(m[1]) * 60 + int(m[2])
        elif m := re.fullmatch(r"(\d+):([0-5]\d):([0-5]\d)", value):
            seconds = int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
        else:
            seconds = _parse_words(raw)
    except (ValueError, KeyError) as exc:
        raise DurationError(
            _("Không đọc được thời lượng '%(text)s'; hãy viết %(help)s.")
            % {"text": (text or "").strip()[:40], "help": _HELP}
        ) from exc
    return seconds


def _parse_words(raw: str) -> int:
    """'3 phút 20 giây', '3p20', '1 giờ 30', '90s': numbers with units; a last bare number
    counts in the unit below the one before it (3 phút 20 → 20 giây)."""
    pos, seconds, last_unit = 0, 0.0, 0
    raw = raw.strip()
    if not raw:
        raise ValueError(raw)
    while pos < len(raw):
        m = _PART.match(raw, pos)
        if not m:
            raise ValueError(raw)
        number, unit = float(m[1].replace(",", ".")), m[2]
        if unit:
            size = _UNITS[unit]
        elif last_unit in (3600, 60):
            size = last_unit // 60
        else:
            raise ValueError(raw)
        if last_unit and size >= last_unit:
            raise ValueError(raw)  # "20 giây 3 phút": units must go down
        seconds += number * size
        last_unit = size
        pos = m.end()
        while pos < len(raw) and raw[pos] in " ,":
            pos += 1
    return round(seconds)


def clock(moment: datetime | None) -> str:
    """A local time of day as 'HH:MM', with ':SS' only when the seconds matter."""
    if moment is None:
        return ""
    local = localtime(moment) if moment.tzinfo else moment
    return local.strftime("%H:%M:%S" if local.second else "%H:%M")
