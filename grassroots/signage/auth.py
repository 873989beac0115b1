"""Board authentication: `Authorization: Bearer gbt_...`, the token a paired board holds."""

from __future__ import annotations

from django.utils import timezone
from ninja.security import HttpBearer

from grassroots.core.auth import API_AUTH


class BoardAuth(HttpBearer):
    """The paired board of a bearer token (stored as SHA-256 only)."""

    def authenticate(self, request, token: str):
        from .actions import authenticate
        from .models import Board

        board = authenticate(token)
        if board is None:
            return None
        request.board = board
        now = timezone.now()
        if not board.last_seen_at or (now - board.last_seen_at).total_seconds() > 30:
            Board.objects.filter(pk=board.pk).update(last_seen_at=now)
        return board


BOARD_AUTH = [BoardAuth()]
BOARD_OR_USER = [BoardAuth(), *API_AUTH]
