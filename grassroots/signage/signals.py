"""Bulletin workflow steps reach the boards: a transition pushes `manifest.updated`.

The command goes to the topic of the bulletin's owning unit: every board that may show it (own
unit, units below it receiving it shared down) subscribes to that topic.
"""

from __future__ import annotations

from django.db.models.signals import post_save

SHOWN_STATES_CHANGE = {
    "approved", "published", "withdrawn", "expired", "archived", "draft", "changes_requested",
}  # fmt: skip


def transition_saved(sender, instance, created, **kwargs) -> None:
    if not created or instance.to_status not in SHOWN_STATES_CHANGE:
        return
    if instance.to_status in ("draft", "changes_requested") and instance.from_status not in (
        "approved",
        "published",
    ):
        return
    from .actions import notify_units

    bulletin = instance.bulletin
    notify_units([bulletin.unit], reason=f"bulletin:{bulletin.pk}:{instance.to_status}")


def connect() -> None:
    post_save.connect(transition_saved, sender="content.Transition", dispatch_uid="signage-tr")
