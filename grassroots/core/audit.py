"""Writing the audit trail: every action calls `record` for what it changed."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .context import current_request_id
from .models import ChangeAction, ObjectChange

SECRET_FIELDS = {"password", "key_hash", "secret", "private_key", "mqtt_password_hash"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The concrete field values of a row, secrets masked, ready for JSON."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        name = field.attname
        if field.name in SECRET_FIELDS:
            data[field.name] = "***"
            continue
        data[name] = _jsonable(getattr(obj, name))
    return data


def _unit_of(obj: models.Model):
    from grassroots.units.models import Unit

    if isinstance(obj, Unit):
        return obj
    field = getattr(type(obj), "scope_field", None)
    if isinstance(field, tuple):
        field = field[0]  # the first path is the owning unit
    if not field:
        return getattr(obj, "unit", None) if hasattr(obj, "unit_id") else None
    target: Any = obj
    for part in field.split("__"):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


def record(
    obj: models.Model,
    action: str,
    *,
    user=None,
    before: dict | None = None,
    comment: str = "",
) -> ObjectChange:
    """Write one ObjectChange for `obj` (call inside the action's transaction)."""
    after = None if action == ChangeAction.DELETE else snapshot(obj)
    user_ok = user is not None and getattr(user, "is_authenticated", False)
    return ObjectChange.objects.create(
        user=user if user_ok else None,
        user_name=user.get_username() if user_ok else "system",
        request_id=current_request_id(),
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        unit=_unit_of(obj),
        before=before,
        after=after,
        comment=comment[:500],
    )
