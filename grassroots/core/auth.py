"""API authentication: bearer tokens for machines and scripts, the session for the console."""

from __future__ import annotations

from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from .db import update_if_free


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; tokens are stored only as SHA-256 hashes."""

    def authenticate(self, request, token: str):
        from grassroots.accounts.models import ApiToken

        found = ApiToken.objects.authenticate(token)
        if found is None:
            return None
        request.user = found.user
        # at most once a minute, and never waiting for (or failing on) another writer's lock:
        # reading must work while a long import or backup holds the database
        if not found.last_used_at or (timezone.now() - found.last_used_at).total_seconds() > 60:
            update_if_free(ApiToken.objects.filter(pk=found.pk), last_used_at=timezone.now())
        return found.user


class SessionAuth(APIKeyCookie):
    """The console's session cookie; CSRF is checked on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


API_AUTH = [TokenAuth(), SessionAuth()]
