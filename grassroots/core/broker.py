"""The private Mosquitto of the embedded default: its config, written by the platform."""

from __future__ import annotations

import getpass
import shutil
import socket
from pathlib import Path


def free_port(preferred: int | None = None, host: str = "127.0.0.1") -> int:
    """`preferred` if nothing listens there, otherwise any free port."""
    candidates = [preferred] if preferred else []
    for port in [*candidates, 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


def write_config(home: Path, port: int, ws_port: int | None = None) -> Path:
    """Write mosquitto.conf for a loopback-only broker with limits sized for a fleet."""
    conf_dir = home / "mosquitto"
    (conf_dir / "data").mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by grassroots; edits are overwritten at the next start.",
        "per_listener_settings false",
        # Mosquitto started as root drops to this user; keep the owner of the data folder.
        f"user {getpass.getuser()}",
        f"persistence true\npersistence_location {conf_dir / 'data'}/",
        "log_dest stdout",
        "log_type error\nlog_type warning",
        # QoS 1 traffic to thousands of devices: lift the per-client defaults (performance.md).
        "max_inflight_messages 1000",
        "max_queued_messages 100000",
        "allow_anonymous true",
        f"listener {port} 127.0.0.1",
        "protocol mqtt",
    ]
    if ws_port:
        lines += [f"listener {ws_port} 127.0.0.1", "protocol websockets"]
    path = conf_dir / "mosquitto.conf"
    path.write_text("\n".join(lines) + "\n")
    return path
