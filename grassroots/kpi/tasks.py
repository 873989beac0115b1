"""Timed work: keep the daily rollups current (kpi.rollup.refresh)."""

from grassroots.core.periodic import every

from . import rollup


@every(300)
def refresh_rollups() -> None:
    """Every 5 minutes: recompute the (unit, day) rows touched by new facts, and today."""
    rollup.refresh()
