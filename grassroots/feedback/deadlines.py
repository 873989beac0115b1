"""Working-day arithmetic for processing deadlines: Saturday, Sunday and holidays are off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

WEEKEND = {5, 6}  # Saturday, Sunday


def holidays_between(start: dt.date, end: dt.date) -> set[dt.date]:
    """Configured holidays in a date range (inclusive)."""
    from .models import Holiday

    return set(
        Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", flat=True)
    )


def is_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    """Monday to Friday and not a holiday."""
    return day.weekday() not in WEEKEND and day not in set(holidays)


def add_working_days(start: dt.date, days: int, holidays: set[dt.date] | None = None) -> dt.date:
    """The `days`-th working day after `start` (the day of receipt itself does not count)."""
    if holidays is None:
        # A generous window: weekends plus a Tết week never stretch n days beyond 3n + 30.
        holidays = holidays_between(start, start + dt.timedelta(days=days * 3 + 30))
    day = start
    left = max(days, 0)
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 local time of `day`, aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def start_of_day(day: dt.date) -> dt.datetime:
    """00:00 local time of `day`, aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)))


def compute_due(received: dt.datetime, working_days: int) -> tuple[dt.datetime, dt.datetime]:
    """(due_at, remind_at) for a report received at `received`.

    The deadline is the end of the n-th working day after the day of receipt; the reminder goes
    out at the start of that last working day, so the unit has one working day left.
    """
    local = timezone.localtime(received).date()
    due_day = add_working_days(local, max(working_days, 1))
    return end_of_day(due_day), start_of_day(due_day)
