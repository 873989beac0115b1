"""Gateway handlers: board state (retained heartbeat) and events (proof of display) over MQTT."""

from __future__ import annotations

import json
import logging

from grassroots.core.gateway import handles
from grassroots.core.text import clean_data
from grassroots.devices.protocol import device_id_from_topic
from grassroots_protocol import messages as wire

log = logging.getLogger("grassroots.signage")


def _boards(items: list[tuple[str, bytes]]):
    from .models import Board

    ids = {device_id_from_topic(t) for t, _ in items}
    ids = {int(i) for i in ids if i and i.isdigit()}
    boards = {
        b.device_id: b
        for b in Board.objects.filter(pk__in=ids, token_hash__isnull=False).select_related("device")
    }
    for topic, payload in items:
        dev = device_id_from_topic(topic)
        board = boards.get(int(dev)) if dev and dev.isdigit() else None
        if board is None:
            continue
        try:
            body = clean_data(json.loads(payload or b"{}"))
        except ValueError:
            log.warning("board %s sent a message that is not JSON on %s", dev, topic)
            continue
        if isinstance(body, dict):
            yield board, body


@handles("state")
def board_state(items: list[tuple[str, bytes]]) -> None:
    from .actions import record_state

    for board, body in _boards(items):
        try:
            wire.parse_state(body)
        except wire.ProtocolError:
            continue  # kept and logged by the devices handler, naming the field
        record_state(board=board, state=body, via="mqtt")


@handles("events")
def board_events(items: list[tuple[str, bytes]]) -> None:
    from .actions import record_proofs

    for board, body in _boards(items):
        try:
            event = wire.parse_event(body)
        except wire.ProtocolError:
            continue  # kept as a `protocol` fault by the devices handler
        if isinstance(event, wire.Display):
            record_proofs(board=board, entries=body["entries"])
