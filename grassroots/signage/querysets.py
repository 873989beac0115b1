"""Reusable reads of e-boards: online state, proof-of-display counts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from .manifests import HEARTBEAT_SECONDS

# Three missed heartbeats and a board counts as offline.
ONLINE_WITHIN = timedelta(seconds=3 * HEARTBEAT_SECONDS)


def is_online(board, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(
        board.is_paired
        and board.reported_online
        and board.last_seen_at
        and now - board.last_seen_at <= ONLINE_WITHIN
    )


def display_report(proofs) -> list[dict]:
    """Per unit: how often and how long bulletins were on screen (like the as-run report)."""
    rows = (
        proofs.values("unit__code", "unit__name")
        .annotate(
            first=Min("started_at"),
            last=Max("started_at"),
            shows=Count("id"),
            seconds=Sum("seconds"),
            boards=Count("device", distinct=True),
        )
        .order_by("unit__name")
    )
    return [
        {
            "unit_code": r["unit__code"],
            "unit_name": r["unit__name"],
            "first_shown": r["first"],
            "last_shown": r["last"],
            "shows": r["shows"],
            "seconds": r["seconds"] or 0,
            "boards": r["boards"],
        }
        for r in rows
    ]
