"""Reusable reads of the unit tree."""

from django.db.models import Q
from django.utils import timezone

from grassroots.core.querysets import RestrictedQuerySet

from .text import fold


class UnitQuerySet(RestrictedQuerySet):
    """Units, with tree and validity helpers (all single indexed queries)."""

    def current(self, on=None):
        on = on or timezone.localdate()
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=on)
        )

    def descendants_of(self, unit, include_self: bool = False):
        qs = self.filter(path__startswith=unit.path)
        return qs if include_self else qs.exclude(pk=unit.pk)

    def search(self, query: str):
        folded = fold(query)
        return self.filter(name_folded__contains=folded) if folded else self
