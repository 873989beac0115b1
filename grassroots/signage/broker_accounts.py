"""Broker logins of paired e-boards (MQTT over WebSockets), collected by core.broker.sync().

A board may read only its own command topic and those of its unit and the unit's ancestors, and
write only its own `state` and `events` (the `board` rows of core.mqtt_acl.RULES).
"""

from __future__ import annotations

from collections.abc import Iterable

from grassroots.core import mqtt_acl
from grassroots.core.broker import Account


def accounts() -> Iterable[Account]:
    from grassroots.units.models import Unit

    from .models import Board

    boards = (
        Board.objects.filter(
            token_hash__isnull=False, revoked_at__isnull=True, device__enabled=True
        )
        .exclude(mqtt_password_hash="")
        .select_related("device__unit")
    )
    for board in boards:
        ids = [int(p) for p in board.device.unit.path.strip("/").split("/") if p]
        codes = Unit.objects.filter(pk__in=ids).values_list("code", flat=True)
        yield Account.for_client(
            mqtt_acl.BOARD,
            board.mqtt_username,
            board.mqtt_password_hash,
            device_id=board.device_id,
            units=sorted(set(codes)),
        )
