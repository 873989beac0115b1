"""Ed25519 signing of everything a device will act on (commands, manifests, approved content).

The private key lives outside the source: `GRASSROOTS_SIGNING_KEY` (PEM, or a path to one) or a
key generated once into `$GRASSROOTS_HOME/keys/`. The key id (`kid`) is derived from the public
key, so devices can tell keys apart across rotations. Payloads are signed over their canonical
JSON form: keys sorted, no spaces, UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from grassroots_protocol import canonical as protocol_canonical


def canonical(payload: Any) -> bytes:
    """The bytes that are signed: sorted keys, compact separators, UTF-8 (the protocol's own
    definition, shared with the devices)."""
    return protocol_canonical(payload)


def load_or_create_key(path: Path, env_name: str = "") -> Ed25519PrivateKey:
    """An Ed25519 private key: from the environment variable `env_name` (PEM, or a path to
    one) when set, else from `path`, generated there once (mode 0600) when missing."""
    env = os.environ.get(env_name, "").strip() if env_name else ""
    if env:
        pem = Path(env).read_bytes() if not env.startswith("-----") else env.encode()
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{env_name} must be an Ed25519 private key")
        return key
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)  # type: ignore[return-value]
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pem)
    tmp.chmod(0o600)
    tmp.replace(path)
    return key


def _load_or_create() -> Ed25519PrivateKey:
    path = Path(settings.GRASSROOTS["HOME"]) / "keys" / "signing-ed25519.pem"
    return load_or_create_key(path, "GRASSROOTS_SIGNING_KEY")


@lru_cache(maxsize=1)
def private_key() -> Ed25519PrivateKey:
    return _load_or_create()


def public_bytes(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or private_key().public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: bytes | None = None) -> str:
    """Short, stable id of a key (the current one by default): the first 16 hex digits of
    SHA-256(raw public key)."""
    return hashlib.sha256(public if public is not None else public_bytes()).hexdigest()[:16]


def sign_bytes(data: bytes) -> str:
    return base64.b64encode(private_key().sign(data)).decode()


def sign(payload: Any) -> dict[str, Any]:
    """The envelope a device verifies: {"payload", "sig", "kid"}."""
    return {"payload": payload, "sig": sign_bytes(canonical(payload)), "kid": key_id()}


def verify(envelope: dict[str, Any], public_key_b64: str) -> bool:
    """Check an envelope against a raw Ed25519 public key given in base64."""
    from cryptography.exceptions import InvalidSignature

    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        key.verify(base64.b64decode(envelope["sig"]), canonical(envelope["payload"]))
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


def published_keys() -> list[dict[str, str]]:
    """What `GET /api/v1/keys` serves: the verification keys devices trust."""
    return [
        {
            "kid": key_id(),
            "alg": "Ed25519",
            "public_key": base64.b64encode(public_bytes()).decode(),
        }
    ]
