"""MQTT topics of the protocol (architecture.md): one definition for server, agent and tests."""

from __future__ import annotations

ROOT = "grassroots/v1"


def device_cmd_topic(device_id: int | str) -> str:
    """Server → one device (QoS 1)."""
    return f"{ROOT}/dev/{device_id}/cmd"


def unit_cmd_topic(unit_code: str) -> str:
    """Server → every device under a unit (a device subscribes to its unit and each ancestor)."""
    return f"{ROOT}/unit/{unit_code}/cmd"


def state_topic(device_id: int | str) -> str:
    """Device → server, retained; the last will sets it offline."""
    return f"{ROOT}/dev/{device_id}/state"


def events_topic(device_id: int | str) -> str:
    """Device → server (QoS 1): acks, as-run entries, faults."""
    return f"{ROOT}/dev/{device_id}/events"


def device_id_from_topic(topic: str) -> str | None:
    """The device id of a `dev/{id}/...` topic, or None."""
    parts = topic.split("/")
    return parts[3] if len(parts) >= 5 and parts[2] == "dev" else None


def device_topics(device_id: str, units: list[str]) -> dict:
    """The topics one device uses: the command topics it reads, its state and events topics."""
    return {
        "cmd": [device_cmd_topic(device_id)] + [unit_cmd_topic(u) for u in units],
        "state": state_topic(device_id),
        "events": events_topic(device_id),
    }
