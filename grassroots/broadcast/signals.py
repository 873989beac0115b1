"""Bulletin changes reach the air: proposals for shared bulletins, dirty devices where it airs."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save

log = logging.getLogger("grassroots.broadcast")


def bulletin_changed(sender, instance, **kwargs) -> None:
    """A bulletin was saved (published, withdrawn, expired…): recompile where it airs, and
    after commit turn its commune inbox rows into proposals."""
    from .actions import mark_stations_dirty
    from .models import ScheduleItem

    revisions = instance.revisions.values_list("pk", flat=True)
    stations = ScheduleItem.objects.active().filter(revision_id__in=revisions)
    mark_stations_dirty(stations.values_list("stations", flat=True).distinct())
    transaction.on_commit(lambda: sync_shares(instance.pk))


def sync_shares(bulletin_id: int) -> None:
    from .inbox import proposals_from_shares

    try:
        proposals_from_shares(bulletin_id=bulletin_id)
    except Exception:  # the periodic job retries; never break the editor's action
        log.exception("proposals from bulletin %s failed", bulletin_id)


def connect() -> None:
    post_save.connect(bulletin_changed, sender="content.Bulletin", dispatch_uid="bc-bulletin")
