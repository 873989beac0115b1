"""This system's identity in the federation: its `source` id and its Ed25519 exchange key.

The key is kept beside the data like the device signing key (`$GRASSROOTS_HOME/keys/`), or
given in `GRASSROOTS_EXCHANGE_KEY` (PEM, or a path to one). It is a key of its own: a peer that
trusts our exchange key does not thereby trust commands to devices, and the other way round.

Rotation (docs/exchange.md, "Rotating our own key") has two steps, so that no message is ever
signed with a key the peers do not know yet:

1. `stage_next()` writes a *next* key (`exchange-ed25519.next.pem`) beside the current one. We
   still sign with the current key; the next one is announced (`GET /api/v1/exchange/key`,
   `grassroots exchange rotate-key`) for the peers' administrators to add.
2. `activate_next()` makes it the current key (the old one is kept as
   `exchange-ed25519.<kid>.old.pem`, never deleted). From then on messages carry the new `kid`;
   a peer holding both keys verifies each message with the key its `kid` names.

Every process (web, worker) sees the switch at its next signature: the key is cached by the
file's modification time, not for the life of the process.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from grassroots.core import signing

from . import federation

ENV = "GRASSROOTS_EXCHANGE_KEY"


class RotationError(Exception):
    """A rotation step that cannot be done (said in Vietnamese, with what to do instead)."""


def key_dir() -> Path:
    return Path(settings.GRASSROOTS["HOME"]) / "keys"


def current_path() -> Path:
    return key_dir() / "exchange-ed25519.pem"


def next_path() -> Path:
    return key_dir() / "exchange-ed25519.next.pem"


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, env: str) -> Ed25519PrivateKey:
    return signing.load_or_create_key(Path(path), ENV)


def private_key() -> Ed25519PrivateKey:
    """The key we sign with now (generated on first use)."""
    path = current_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        mtime = 0
    return _load(str(path), mtime, os.environ.get(ENV, ""))


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return signing.public_bytes(key.public_key())


def public_key_b64() -> str:
    return base64.b64encode(_public_bytes(private_key())).decode()


def key_id() -> str:
    return federation.key_id(_public_bytes(private_key()))


def describe(key: Ed25519PrivateKey) -> dict[str, str]:
    """What a peer's administrator registers: {"source", "kid", "public_key"} (the JSON that
    `grassroots exchange key` prints and the console's key forms accept pasted whole)."""
    raw = _public_bytes(key)
    return {
        "source": own_id(),
        "kid": federation.key_id(raw),
        "public_key": base64.b64encode(raw).decode(),
    }


def next_key() -> Ed25519PrivateKey | None:
    """The staged next key, or None when no rotation is under way."""
    path = next_path()
    if not path.exists():
        return None
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RotationError(f"{path.name} không phải khoá Ed25519.")
    return key


def _refuse_env() -> None:
    if os.environ.get(ENV, "").strip():
        raise RotationError(
            f"Khoá liên thông đang lấy từ biến môi trường {ENV}: hãy tạo khoá mới ngoài hệ "
            "thống, trao khoá công khai cho các hệ thống liên thông rồi đổi biến này."
        )


def stage_next() -> Ed25519PrivateKey:
    """Step 1: create the next key (or return the one already staged: running the command
    twice does not make the key given to peers yesterday useless)."""
    _refuse_env()
    private_key()  # the current key exists before a next one
    existing = next_key()
    if existing is not None:
        return existing
    return signing.load_or_create_key(next_path())


def activate_next() -> tuple[str, str]:
    """Step 2: sign with the staged key from now on. Returns (old kid, new kid); the old key's
    file is kept as `exchange-ed25519.<old kid>.old.pem`."""
    _refuse_env()
    staged = next_key()
    if staged is None:
        raise RotationError(
            "Chưa có khoá mới: chạy `grassroots exchange rotate-key` trước, trao khoá mới cho "
            "các hệ thống liên thông, rồi mới kích hoạt."
        )
    old = private_key()
    old_kid = federation.key_id(_public_bytes(old))
    new_kid = federation.key_id(_public_bytes(staged))
    archive = key_dir() / f"exchange-ed25519.{old_kid}.old.pem"
    if not archive.exists():
        archive.write_bytes(current_path().read_bytes())
        archive.chmod(0o600)
    next_path().replace(current_path())
    os.utime(current_path())  # a new modification time: every process reloads the key
    _load.cache_clear()
    return old_kid, new_kid


def level() -> str:
    return settings.GRASSROOTS.get("LEVEL", "province")


def is_central() -> bool:
    return level() == "central"


def own_id() -> str:
    """`GRASSROOTS_EXCHANGE_ID`, else `central` or `province-<code>`."""
    configured = settings.GRASSROOTS.get("EXCHANGE_ID", "")
    if configured:
        return configured
    if is_central():
        return "central"
    return f"province-{settings.GRASSROOTS['PROVINCE_CODE']}"


def sign_request(method: str, path: str, date: str) -> str:
    """The signature a pulling client sends with `GET …/messages` (see api.pull)."""
    text = federation.request_signature_text(method, path, date, own_id())
    return base64.b64encode(private_key().sign(text)).decode()
