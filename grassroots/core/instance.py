"""The running instance in `GRASSROOTS_HOME`: where its web server and broker listen.

`grassroots run` writes `$GRASSROOTS_HOME/run/instance.json` when it starts and removes it when
it stops; commands that talk to the running platform (`grassroots simulate`, …) read it, so
that they use that instance's private broker and web address rather than a default port where
another broker may happen to listen (and receive the devices' logins).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class Instance:
    """Addresses of a running platform: `web_url` (http://host:port), `mqtt_url` (the broker
    devices use, without credentials), `mqtt_ws_url` (boards), and the supervisor's `pid`."""

    web_url: str
    mqtt_url: str
    mqtt_ws_url: str
    pid: int


def _path(home: Path | str | None = None) -> Path:
    return Path(home or settings.GRASSROOTS["HOME"]) / "run" / "instance.json"


def write(instance: Instance, home: Path | str | None = None) -> Path:
    path = _path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(instance)), encoding="utf-8")
    tmp.replace(path)
    return path


def remove(home: Path | str | None = None) -> None:
    path = _path(home)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current(home: Path | str | None = None) -> Instance | None:
    """The instance running in this home, or None (no file, unreadable, or its process gone)."""
    try:
        data = json.loads(_path(home).read_text(encoding="utf-8"))
        found = Instance(**{k: data[k] for k in ("web_url", "mqtt_url", "mqtt_ws_url", "pid")})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if _alive(int(found.pid)) else None
