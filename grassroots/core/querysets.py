"""Scoped querysets: every scoped model answers `.restrict(user, action)`."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def permission_name(model: type[models.Model], action: str) -> str:
    """`view` on content.Bulletin -> `content.view`; a dotted action is taken as it is."""
    return action if "." in action else f"{model._meta.app_label}.{action}"


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can be cut down to the units where a user holds a permission.

    The model names the path to its administrative unit in `scope_field` ("unit", "station__unit",
    or "" for the Unit model itself); a tuple of paths means the object is in scope through any
    of them (a citizen report is seen by the unit handling it and the commune it was filed in).
    A role granted on a unit covers all its descendants, so the filter is a prefix match on the
    unit's materialised path: one indexed query.
    """

    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        from grassroots.accounts.scope import scope_paths

        paths = scope_paths(user, permission_name(self.model, action))
        if not paths:
            return self.none()
        fields = getattr(self.model, "scope_field", "unit")
        lookups = [
            f"{field}__path__startswith" if field else "path__startswith"
            for field in (fields if isinstance(fields, tuple) else (fields,))
        ]
        q = Q()
        for path in paths:
            for lookup in lookups:
                q |= Q(**{lookup: path})
        return self.filter(q)


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    """Default manager of every scoped model."""
