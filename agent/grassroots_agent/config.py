"""Agent configuration, read from a TOML file (see grassroots-agent.example.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from grassroots_agent.microphone import parse_input


class ConfigError(ValueError):
    """The configuration file is missing a value or has a wrong one."""


@dataclass
class MqttSettings:
    """Where and how the agent connects to the broker."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str | None = None
    username: str | None = None
    password: str | None = None
    keepalive: int = 30
    session_expiry: int = 3600
    backoff_min: float = 1.0
    backoff_max: float = 120.0

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> MqttSettings:
        """Parse mqtt://user:pass@host:port (mqtts:// for TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ConfigError(f"mqtt url scheme must be mqtt:// or mqtts://, not {parts.scheme!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        settings = cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
        for key, value in kw.items():
            if value is not None:
                setattr(settings, key, value)
        return settings


@dataclass
class AgentConfig:
    """Everything one agent needs; build it from a file with load() or directly in code."""

    device_id: str
    units: list[str]
    mqtt: MqttSettings
    server_url: str | None
    token: str | None
    keys: dict[str, str]
    state_dir: Path
    cache_limit: int = 512 * 1024 * 1024
    audio_backend: str = "null"
    audio_options: dict[str, Any] = field(default_factory=dict)
    timeline: Path | None = None
    tuner_backend: str = "null"
    tuner_command: str | None = None
    volume: int = 70
    emergency_overrides_power: bool = True
    clock_skew: float = 30.0
    manifest_poll: float = 300.0
    asrun_retry_min: float = 2.0
    asrun_retry_max: float = 300.0
    http_timeout: float = 20.0
    # the station's own microphone: ffmpeg input options (ALSA `default` when not given; a test
    # gives an lavfi tone), the title and Thông tư 39 priority of a shared session
    mic_input: list[str] | None = None
    mic_title: str = ""
    mic_priority: str = "priority"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "media"


def _size(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value).strip().upper()
    for suffix, mult in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * mult)
    return int(text)


def from_dict(data: dict[str, Any], base: Path | None = None) -> AgentConfig:
    """Build a config from the parsed TOML tables; relative paths are taken from `base`."""
    base = base or Path.cwd()
    try:
        device = data["device"]
        mqtt = data.get("mqtt", {})
        server = data.get("server", {})
        cache = data.get("cache", {})
        audio = dict(data.get("audio", {}))
        tuner = data.get("tuner", {})
        security = data.get("security", {})
        device_id = str(device["id"])
        units = [str(u) for u in device.get("units", [])]
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"missing configuration value: {exc}") from exc
    mqtt_settings = MqttSettings.from_url(
        mqtt.get("url", "mqtt://127.0.0.1:1883"),
        username=mqtt.get("username"),
        password=mqtt.get("password"),
        keepalive=mqtt.get("keepalive"),
        session_expiry=mqtt.get("session_expiry"),
        backoff_min=mqtt.get("backoff_min"),
        backoff_max=mqtt.get("backoff_max"),
        ca_file=mqtt.get("ca_file"),
    )
    state_dir = Path(cache.get("dir", "/var/lib/grassroots-agent"))
    if not state_dir.is_absolute():
        state_dir = base / state_dir
    timeline = audio.pop("timeline", None)
    if timeline is not None:
        timeline = Path(timeline)
        if not timeline.is_absolute():
            timeline = base / timeline
    backend = audio.pop("backend", "null")
    volume = int(audio.pop("volume", 70))
    override = audio.pop("emergency_overrides_power", True)
    if not isinstance(override, bool):
        raise ConfigError("[audio] emergency_overrides_power must be true or false")
    mic = data.get("microphone", {})
    if mic.get("priority", "priority") not in ("normal", "priority"):
        raise ConfigError("[microphone] priority must be normal or priority")
    keys = {str(k): str(v) for k, v in data.get("keys", {}).items()}
    if not keys:
        raise ConfigError("[keys] must list at least one trusted public key")
    server_url = server.get("url")
    return AgentConfig(
        device_id=device_id,
        units=units,
        mqtt=mqtt_settings,
        server_url=server_url.rstrip("/") if server_url else None,
        token=server.get("token"),
        keys=keys,
        state_dir=state_dir,
        cache_limit=_size(cache.get("limit", 512 * 1024 * 1024)),
        audio_backend=backend,
        audio_options=audio,
        timeline=timeline,
        tuner_backend=tuner.get("backend", "null"),
        tuner_command=tuner.get("command"),
        volume=volume,
        emergency_overrides_power=override,
        clock_skew=float(security.get("clock_skew", 30)),
        manifest_poll=float(server.get("manifest_poll", 300)),
        http_timeout=float(server.get("timeout", 20)),
        mic_input=parse_input(mic.get("input")) if "input" in mic else None,
        mic_title=str(mic.get("title", "")),
        mic_priority=str(mic.get("priority", "priority")),
    )


def load(path: str | Path) -> AgentConfig:
    """Read a TOML config file."""
    path = Path(path)
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return from_dict(data, base=path.parent)
