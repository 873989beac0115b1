"""One-time enrolment: exchange the code an admin issued for credentials, write the config."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from grassroots_protocol import messages as wire


def _q(value: Any) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(str(value), ensure_ascii=False)


def render_config(answer: dict[str, Any], *, server_url: str, cache_dir: str, audio: str) -> str:
    """The agent's TOML config from the server's enrolment answer."""
    units = ", ".join(_q(u) for u in answer.get("units", []))
    keys = "\n".join(f"{_q(k)} = {_q(v)}" for k, v in answer.get("trusted_keys", {}).items())
    return f"""# Written by `grassroots-agent --enrol`; holds secrets, keep it private (0600).
[device]
id = {_q(answer["device_id"])}
units = [{units}]

[mqtt]
url = {_q(answer["mqtt_url"])}
username = {_q(answer["mqtt_username"])}
password = {_q(answer["mqtt_password"])}

[server]
url = {_q(answer.get("server_url") or server_url)}
token = {_q(answer["token"])}

[keys]
{keys}

[cache]
dir = {_q(cache_dir)}
limit = "512MB"

[audio]
backend = {_q(audio)}

[tuner]
backend = "null"
"""


def enrol(
    *,
    server_url: str,
    code: str,
    config_path: Path,
    cache_dir: str = "/var/lib/grassroots-agent",
    audio: str = "ffplay",
    timeout: float = 20.0,
) -> dict[str, Any]:
    """POST {server}/api/v1/devices/enrol {"code"} and write the config file (mode 0600)."""
    url = server_url.rstrip("/") + "/api/v1/devices/enrol"
    if not url.startswith(("http://", "https://")):
        raise ValueError("the server URL must be http(s)")
    req = urllib.request.Request(  # noqa: S310 - scheme checked
        url,
        data=json.dumps({"code": code}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        # the protocol's definition of the answer: a field missing or of the wrong type is a
        # ProtocolError (a ValueError) naming it, before anything is written
        answer = wire.EnrolmentAnswer.model_validate_json(resp.read()).model_dump(mode="json")
    text = render_config(
        answer, server_url=server_url.rstrip("/"), cache_dir=cache_dir, audio=audio
    )
    config_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return answer
