"""Reads of citizen reports that are reused by the console, the API and the timers."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from grassroots.core.querysets import RestrictedQuerySet

from .choices import ReportStatus, Resolution


class ReportQuerySet(RestrictedQuerySet):
    """Reports; `.restrict()` covers both the handling unit and the unit where they were filed
    (Report.scope_field), so after escalation or a pull-up both levels see them."""

    def open(self) -> ReportQuerySet:
        return self.filter(status__in=ReportStatus.open_states())

    def public(self) -> ReportQuerySet:
        """What the public may see (Open311 lists, tracking pages): never hidden abuse."""
        return self.exclude(resolution=Resolution.HIDDEN_ABUSE)

    def overdue(self, now=None) -> ReportQuerySet:
        """Open reports past their current deadline."""
        return self.open().filter(due_at__lt=now or timezone.now())

    def sla_counts(self, now=None) -> dict[str, int]:
        """The plan's measure, in one query: received, answered within the first deadline,
        still open and overdue, and hidden for abuse (not counted as received)."""
        from django.db.models import Count, F

        now = now or timezone.now()
        kept = ~Q(resolution=Resolution.HIDDEN_ABUSE)
        return self.aggregate(
            received=Count("id", filter=kept),
            answered_on_time=Count(
                "id", filter=kept & Q(answered_at__isnull=False, answered_at__lte=F("first_due_at"))
            ),
            open_overdue=Count(
                "id", filter=Q(status__in=ReportStatus.open_states(), due_at__lt=now)
            ),
            hidden=Count("id", filter=~kept),
        )


def bulletin_rating_counts(bulletin_ids) -> dict[int, dict[str, int]]:
    """{bulletin_id: {"useful": n, "not_useful": m}} for the content and KPI pages, one query."""
    from django.db.models import Count

    from .models import BulletinRating

    rows = (
        BulletinRating.objects.filter(bulletin_id__in=list(bulletin_ids))
        .values("bulletin_id")
        .annotate(
            n_useful=Count("id", filter=Q(useful=True)),
            n_not_useful=Count("id", filter=Q(useful=False)),
        )
    )
    return {
        r["bulletin_id"]: {"useful": r["n_useful"], "not_useful": r["n_not_useful"]} for r in rows
    }
