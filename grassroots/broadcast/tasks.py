"""Timed work of the broadcast app: compile dirty manifests, keep 48 h of look-ahead."""

import logging

from grassroots.core.periodic import every

from . import manifests

log = logging.getLogger("grassroots.broadcast")


@every(5)
def compile_dirty_manifests() -> None:
    """Recompile devices whose future changed (marked dirty by the changing transaction)."""
    result = manifests.compile_dirty()
    if result["devices"]:
        log.info("manifests: %s", result)


@every(3600)
def ensure_stations() -> None:
    """Every commune-level unit in force has its station (after mergers too)."""
    from .actions import ensure_all_stations

    made = ensure_all_stations()
    if made:
        log.info("stations created: %s", made)


@every(30)
def proposals_from_inbox() -> None:
    """Safety net for the after-commit hook: every shared bulletin has its proposals."""
    from .inbox import proposals_from_shares

    proposals_from_shares()


@every(600)
def refresh_expiring_manifests() -> None:
    """Mark devices whose stored manifest is about to fall under 48 h of look-ahead."""
    manifests.mark_expiring()
