"""Reusable reads of stations and schedule items."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from grassroots.core.querysets import RestrictedManager, RestrictedQuerySet

from .choices import ItemStatus


class StationQuerySet(RestrictedQuerySet):
    def for_unit(self, unit):
        """The station of a unit, or of the commune-level unit above it."""
        ids = [int(p) for p in unit.path.strip("/").split("/") if p]
        return self.filter(unit_id__in=ids).order_by("-unit__depth")


class StationManager(RestrictedManager.from_queryset(StationQuerySet)):  # type: ignore[misc]
    pass


class ScheduleItemQuerySet(RestrictedQuerySet):
    def active(self):
        return self.filter(status=ItemStatus.ACTIVE)

    def overlapping(self, start: datetime, end: datetime):
        """Items with an occurrence that may touch [start, end) (`last_end` null = no end)."""
        return (
            self.active()
            .filter(starts_at__lt=end)
            .filter(Q(last_end__isnull=True) | Q(last_end__gt=start))
        )


class ScheduleItemManager(RestrictedManager.from_queryset(ScheduleItemQuerySet)):  # type: ignore[misc]
    pass
