"""The project's one parser for dates and times that clients write (ISO 8601 / W3C-DTF).

A time without an offset is Vietnam time (Asia/Ho_Chi_Minh): that is what an officer or a
provincial client means. An impossible date (30 February, month 13) is an error that says
what to write, never a crash.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from zoneinfo import ZoneInfo

from dateutil.parser import isoparse
from pydantic import PlainValidator, WithJsonSchema

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EXAMPLE = "2026-03-01 (một ngày) hoặc 2026-03-01T06:00:00+07:00 (một thời điểm)"


class DateParseError(ValueError):
    """A value that is not a real ISO 8601 date or date-time; the message is for a person."""


def parse_when(value: str | dt.date, *, field: str = "") -> dt.date | dt.datetime:
    """A `date` for "YYYY-MM-DD", otherwise an aware `datetime` (naive means Vietnam time)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=VIETNAM)
    if isinstance(value, dt.date):
        return value
    text = (value or "").strip() if isinstance(value, str) else ""
    what = f"{field} " if field else ""
    try:
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
        if "T" not in text and " " not in text:
            raise ValueError(text)
        parsed = isoparse(text.replace(" ", "T", 1))
    except (ValueError, OverflowError, TypeError) as exc:
        raise DateParseError(
            f"{what}'{str(value)[:40]}' không phải ngày giờ có thật theo ISO 8601; "
            f"hãy viết dạng {EXAMPLE}."
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def parse_instant(value: str | dt.date, *, field: str = "") -> dt.datetime:
    """An aware datetime; a bare date is that day's midnight in Vietnam."""
    when = parse_when(value, field=field)
    if isinstance(when, dt.datetime):
        return when
    return dt.datetime.combine(when, dt.time(), tzinfo=VIETNAM)


def _pydantic_when(value):
    try:
        return parse_when(value)
    except DateParseError as exc:
        raise ValueError(str(exc)) from exc


# For API schemas: a date ("that day") or a date-time (no offset = Vietnam time), validated by
# `parse_when`, so a wrong value is a 422 saying what to write.
When = Annotated[
    dt.date | dt.datetime,
    PlainValidator(_pydantic_when),
    WithJsonSchema(
        {
            "type": "string",
            "description": "Ngày YYYY-MM-DD hoặc ngày giờ ISO 8601; không ghi múi giờ là giờ "
            "Việt Nam (+07:00).",
            "examples": ["2027-03-05", "2027-03-02T06:00:00+07:00"],
        }
    ),
]
