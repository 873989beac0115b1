"""Bulletin changes reach the air: proposals for shared bulletins, dirty devices where it airs."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save

log = logging.getLogger("grassroots.broadcast")


def bulletin_changed(sender, instance, created=False, **kwargs) -> None:
    """A bulletin was saved (published, withdrawn, expired…): recompile where it airs, and
    after commit turn its commune inbox rows into proposals (once per bulletin and
    transaction, however often the bulletin was saved in it: a workflow step saves it
    several times)."""
    from .actions import mark_stations_dirty
    from .models import ScheduleItem

    if not created:  # a bulletin just created is scheduled nowhere yet
        revisions = instance.revisions.values_list("pk", flat=True)
        stations = ScheduleItem.objects.active().filter(revision_id__in=revisions)
        mark_stations_dirty(stations.values_list("stations", flat=True).distinct())
    # shares exist only once a bulletin was published (content.actions._share_down)
    if instance.published_at is not None and not _sync_pending(instance.pk):
        transaction.on_commit(_SyncShares(instance.pk))


class _SyncShares:
    """The after-commit callback for one bulletin (recognisable among the pending ones)."""

    def __init__(self, bulletin_id: int) -> None:
        self.bulletin_id = bulletin_id

    def __call__(self) -> None:
        sync_shares(self.bulletin_id)


def _sync_pending(bulletin_id: int) -> bool:
    """Whether this transaction, at the same savepoint, already runs sync_shares for the
    bulletin after commit (Django drops a rolled-back savepoint's callbacks with it, so one
    found here runs unless its savepoint is rolled back, and then so is this save)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    here = set(connection.savepoint_ids)
    return any(
        isinstance(func, _SyncShares) and func.bulletin_id == bulletin_id and sids == here
        for sids, func, _robust in connection.run_on_commit
    )


def sync_shares(bulletin_id: int) -> None:
    from .inbox import proposals_from_shares

    try:
        proposals_from_shares(bulletin_id=bulletin_id)
    except Exception:  # the periodic job retries; never break the editor's action
        log.exception("proposals from bulletin %s failed", bulletin_id)


def connect() -> None:
    post_save.connect(bulletin_changed, sender="content.Bulletin", dispatch_uid="bc-bulletin")
