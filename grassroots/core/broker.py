"""The private Mosquitto of the embedded default: its config, written by the platform."""

from __future__ import annotations

import base64
import getpass
import hashlib
import os
import secrets
import shutil
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path

from . import mqtt_acl


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


SERVER_USER = "grassroots-server"


@dataclass
class Account:
    """One broker login and the topic filters it may read and write.

    Build it with `for_client`, which takes the filters from the one rule table
    (`core.mqtt_acl.RULES`) that both the Mosquitto files and the EMQX hooks use.
    """

    username: str
    password_hash: str
    read: list[str] = field(default_factory=list)
    write: list[str] = field(default_factory=list)
    kind: str = ""

    @classmethod
    def for_client(
        cls,
        kind: str,
        username: str,
        password_hash: str,
        *,
        device_id: int | str | None = None,
        units: list[str] | tuple[str, ...] = (),
        group: str = "",
    ) -> Account:
        """The account of one client kind (`server`, `device`, `board`) from the rule table."""
        scope = {"device_id": device_id, "units": units, "group": group}
        return cls(
            username,
            password_hash,
            read=mqtt_acl.filters(kind, "subscribe", **scope),
            write=mqtt_acl.filters(kind, "publish", **scope),
            kind=kind,
        )

    def allows(self, action: str, topic: str) -> bool:
        """May this login publish to / subscribe to `topic` (the EMQX hook's answer)?"""
        return mqtt_acl.allows(self.read, self.write, action, topic)


def password_hash(password: str, *, iterations: int = 101, salt: bytes | None = None) -> str:
    """A Mosquitto 2 password-file hash (`$7$`: PBKDF2-HMAC-SHA512)."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(password: str, hashed: str) -> bool:
    """Verify a password against a `$7$` hash (what Mosquitto does; used by the EMQX hook)."""
    import hmac

    try:
        _, kind, iterations, salt_b64, digest_b64 = hashed.split("$")
        if kind != "7":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
    except ValueError:
        return False
    got = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(iterations), len(expected))
    return hmac.compare_digest(got, expected)


def server_password(home: Path) -> str:
    """The platform's own broker password, generated once beside the data (never in source)."""
    path = home / "mosquitto" / "server-password"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def write_auth(conf_dir: Path, accounts: list[Account]) -> None:
    """Write the password and ACL files atomically (the server account may do everything)."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    pw_lines, acl_lines = [], []
    for acc in accounts:
        if ":" in acc.username or "\n" in acc.username:
            raise ValueError(f"bad broker username {acc.username!r}")
        pw_lines.append(f"{acc.username}:{acc.password_hash}")
        acl_lines.append(f"user {acc.username}")
        # Mosquitto checks `read` when it delivers a message, against the message's topic; a
        # `$share/...` filter is never such a topic (see core.mqtt_acl on shared subscriptions).
        acl_lines += [f"topic read {t}" for t in acc.read if not t.startswith("$share/")]
        acl_lines += [f"topic write {t}" for t in acc.write]
        acl_lines.append("")
    for name, lines in (("passwords", pw_lines), ("acl", acl_lines)):
        tmp = conf_dir / f".{name}.tmp"
        tmp.write_text("\n".join(lines) + "\n")
        tmp.chmod(0o640)
        os.replace(tmp, conf_dir / name)


def reload(conf_dir: Path) -> bool:
    """Ask the running private broker to re-read its password and ACL files (SIGHUP)."""
    pid_file = conf_dir / "mosquitto.pid"
    try:
        os.kill(int(pid_file.read_text().strip()), signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True


def server_account(home: Path) -> Account:
    """The platform's own login (the gateway), with its shared-subscription group."""
    secret = server_password(home)
    return Account.for_client(
        mqtt_acl.SERVER, SERVER_USER, password_hash(secret), group=mqtt_acl.share_group(secret)
    )


def write_config(home: Path, port: int, ws_port: int | None = None, *, auth: bool = False) -> Path:
    """Write mosquitto.conf for a loopback-only broker with limits sized for a fleet.

    With `auth`, anonymous access is off and the password/ACL files the platform maintains
    (`passwords`, `acl`) decide who may connect and which topics each login may use.
    """
    conf_dir = home / "mosquitto"
    (conf_dir / "data").mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by grassroots; edits are overwritten at the next start.",
        "per_listener_settings false",
        # Mosquitto started as root drops to this user; keep the owner of the data folder.
        f"user {getpass.getuser()}",
        f"persistence true\npersistence_location {conf_dir / 'data'}/",
        # sessions (commands queued for devices that are away) on disk every minute, so a
        # crash loses at most a minute of them (the default is 30 min)
        "autosave_interval 60",
        "log_dest stdout",
        "log_type error\nlog_type warning",
        # QoS 1 traffic to thousands of devices: lift the per-client defaults (performance.md).
        "max_inflight_messages 1000",
        "max_queued_messages 100000",
        f"pid_file {conf_dir / 'mosquitto.pid'}",
    ]
    if auth:
        if not (conf_dir / "passwords").exists():
            write_auth(conf_dir, [server_account(home)])
        lines += [
            "allow_anonymous false",
            f"password_file {conf_dir / 'passwords'}",
            f"acl_file {conf_dir / 'acl'}",
        ]
    else:
        lines.append("allow_anonymous true")
    lines += [
        f"listener {port} 127.0.0.1",
        "protocol mqtt",
    ]
    if ws_port:
        lines += [f"listener {ws_port} 127.0.0.1", "protocol websockets"]
    path = conf_dir / "mosquitto.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def collect_accounts(home: Path) -> list[Account]:
    """Every broker login: the server's, then each app's (`grassroots.<app>.broker_accounts`).

    An app exposes `accounts() -> Iterable[Account]` for the devices it has authorised.
    """
    import importlib
    import importlib.util

    from django.apps import apps

    accounts = [server_account(home)]
    for config in apps.get_app_configs():
        name = f"{config.name}.broker_accounts"
        if config.name.startswith("grassroots.") and importlib.util.find_spec(name):
            accounts.extend(importlib.import_module(name).accounts())
    return accounts


def sync(home: Path | None = None) -> bool:
    """Rewrite the private broker's password and ACL files and reload it.

    Returns False when no private broker runs here (production brokers are configured by their
    operators, or through the EMQX HTTP hook described in docs/devices.md).
    """
    from django.conf import settings

    home = Path(home or settings.GRASSROOTS["HOME"])
    conf_dir = home / "mosquitto"
    if not (conf_dir / "mosquitto.conf").exists():
        return False
    write_auth(conf_dir, collect_accounts(home))
    return reload(conf_dir)
