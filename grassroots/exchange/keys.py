"""This system's identity in the federation: its `source` id and its Ed25519 exchange key.

The key is kept beside the data like the device signing key (`$GRASSROOTS_HOME/keys/`), or
given in `GRASSROOTS_EXCHANGE_KEY` (PEM, or a path to one). It is a key of its own: a peer that
trusts our exchange key does not thereby trust commands to devices, and the other way round.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from grassroots.core import signing

from . import federation


@lru_cache(maxsize=1)
def private_key() -> Ed25519PrivateKey:
    path = Path(settings.GRASSROOTS["HOME"]) / "keys" / "exchange-ed25519.pem"
    return signing.load_or_create_key(path, "GRASSROOTS_EXCHANGE_KEY")


def public_key_b64() -> str:
    return base64.b64encode(signing.public_bytes(private_key().public_key())).decode()


def key_id() -> str:
    return federation.key_id(signing.public_bytes(private_key().public_key()))


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
