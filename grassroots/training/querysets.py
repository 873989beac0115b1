"""Reads of the training records reused by the console, the API and (later) the KPI dashboard
and the yearly report: the indicator "staff trained" and the list of who still needs training.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .choices import Result
from .models import Attendance, StaffMember


@dataclass(frozen=True)
class TrainedShare:
    """`trained` of `required` staff; `ratio` in 0..1, `percent` rounded to 0.1."""

    trained: int
    required: int

    @property
    def ratio(self) -> float:
        return self.trained / self.required

    @property
    def percent(self) -> float:
        return round(100 * self.ratio, 1)

    def as_dict(self) -> dict:
        return {
            "trained": self.trained,
            "required": self.required,
            "ratio": round(self.ratio, 4),
            "percent": self.percent,
        }


def period_of_year(year: int) -> tuple[dt.date, dt.date]:
    """1 January .. 31 December of `year` (the yearly report's period)."""
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def required_staff(staff: QuerySet | None = None, *, start: dt.date, end: dt.date) -> QuerySet:
    """Staff whose position requires training and who held it at some time in [start, end]
    (no start date means "before the period"; no end date means "still in post")."""
    qs = StaffMember.objects.all() if staff is None else staff
    return qs.filter(requires_training=True).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=end),
        Q(end_date__isnull=True) | Q(end_date__gte=start),
    )


def trained_staff_ids(*, start: dt.date, end: dt.date, staff_ids=None) -> set[int]:
    """Ids of staff with a `passed` result in a session that ended within [start, end]."""
    qs = Attendance.objects.filter(
        result=Result.PASSED, session__ends_on__gte=start, session__ends_on__lte=end
    )
    if staff_ids is not None:
        qs = qs.filter(staff_id__in=staff_ids)
    return set(qs.values_list("staff_id", flat=True))


def staff_trained(unit, *, start: dt.date, end: dt.date) -> TrainedShare | None:
    """The indicator "staff trained" (cán bộ được đào tạo) of a unit and every unit under it.

    Plan section III.4 asks that every grassroots-information officer be trained (target
    100 %). Denominator: staff of `unit` or below whose position requires training
    (`StaffMember.requires_training`) and who held it at some time in [start, end] (dates
    inclusive, Vietnam calendar days). Numerator: those of them with a `passed` result in a
    session whose last day (`Session.ends_on`) lies in [start, end].

    Returns a `TrainedShare(trained, required)` (its `ratio` is 0..1), or None when the unit
    has no such staff on record: the dashboard shows "chưa có dữ liệu", never 0 % or 100 %.
    Scope is the caller's concern: pass a unit the user may see (`training.view`).
    """
    return staff_trained_by_unit([unit], start=start, end=end)[unit.pk]


def staff_trained_by_unit(units: Iterable, *, start: dt.date, end: dt.date) -> dict:
    """`staff_trained` for many units at once ({unit pk: TrainedShare | None}), two queries
    whatever their number: a dashboard's rows of communes, or a drill-down level."""
    units = list(units)
    if not units:
        return {}
    q = Q()
    for u in units:
        q |= Q(unit__path__startswith=u.path)
    rows = list(required_staff(start=start, end=end).filter(q).values_list("pk", "unit__path"))
    trained = trained_staff_ids(start=start, end=end, staff_ids=[pk for pk, _p in rows])
    out = {}
    for u in units:
        mine = [pk for pk, path in rows if path.startswith(u.path)]
        out[u.pk] = (
            TrainedShare(sum(1 for pk in mine if pk in trained), len(mine)) if mine else None
        )
    return out


def needing_training(staff: QuerySet, *, start: dt.date, end: dt.date) -> QuerySet:
    """Staff of `staff` (already scoped) who must be trained and were not within [start, end],
    with their last result (if any) left to the caller."""
    required = required_staff(staff, start=start, end=end)
    done = Attendance.objects.filter(
        result=Result.PASSED, session__ends_on__gte=start, session__ends_on__lte=end
    ).values("staff_id")
    return required.exclude(pk__in=done).select_related("unit")
