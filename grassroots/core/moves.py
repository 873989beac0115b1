"""Data migrations for a model that moves from one app to another (its table renamed with it).

A content type names its model by app label; what points at it (the audit trail, Django's
permissions and their grants, the admin's log) has to follow the model to its new app, or the
audit trail of every existing row would lose its object. Used by `alerts` 0002 (emergencies from
`broadcast`) and `live` 0002 (live sessions from `alerts`).
"""

from __future__ import annotations

from collections.abc import Iterable


def relabel_content_types(apps, models: Iterable[str], old: str, new: str) -> None:
    """Give the content types of `models` (lowercase model names) the app label `new` instead of
    `old`. Where both exist already (post_migrate ran between the two steps of a move), the rows
    pointing at the old one move to the new one and the old one is deleted. Reversible by
    calling it with `old` and `new` swapped."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in models:
        source = ContentType.objects.filter(app_label=old, model=model).first()
        if source is None:
            continue  # a database migrated in one go has no content type for it yet
        target = ContentType.objects.filter(app_label=new, model=model).first()
        if target is None:
            source.app_label = new
            source.save(update_fields=["app_label"])
            continue
        _repoint(apps, source, target)
        source.delete()


def _repoint(apps, source, target) -> None:
    """Move the rows that point at content type `source` to `target`: audit entries, the
    admin's log, and the grants of Django's model permissions (codename by codename)."""
    for label, name in (("core", "ObjectChange"), ("admin", "LogEntry")):
        model = _model(apps, label, name)
        if model is not None:
            model.objects.filter(content_type=source).update(content_type=target)
    Permission = _model(apps, "auth", "Permission")
    if Permission is None:
        return
    for old in Permission.objects.filter(content_type=source):
        new = Permission.objects.filter(content_type=target, codename=old.codename).first()
        if new is None:
            old.content_type = target
            old.save(update_fields=["content_type"])
            continue
        for group in old.group_set.all():
            group.permissions.add(new)
        for user in old.user_set.all():
            user.user_permissions.add(new)


def _model(apps, label: str, name: str):
    try:
        return apps.get_model(label, name)
    except LookupError:  # that app is not in this migration's state
        return None
