"""Ed25519 signed envelopes: {"payload": {...}, "sig": base64, "kid": key id}."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from grassroots_protocol import canonical as protocol_canonical


class EnvelopeError(ValueError):
    """An envelope was malformed, signed by an unknown key or had a bad signature."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


canonical = protocol_canonical
"""The bytes that are signed (grassroots_protocol.canonical, the contract with the server)."""


def load_public_key(b64: str) -> Ed25519PublicKey:
    """A trusted key from its base64 raw 32-byte form."""
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64))


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The base64 raw form of a public key (what goes into the agent's [keys] table)."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def sign(payload: dict, key: Ed25519PrivateKey, kid: str) -> dict:
    """Wrap a payload in a signed envelope (used by tests, the simulator and the server)."""
    sig = key.sign(canonical(payload))
    return {"payload": payload, "sig": base64.b64encode(sig).decode(), "kid": kid}


def open_envelope(envelope: Any, keys: dict[str, Ed25519PublicKey]) -> dict:
    """Check an envelope's shape and signature against the trusted keys; return its payload."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("bad_envelope", "not an object")
    payload, sig, kid = envelope.get("payload"), envelope.get("sig"), envelope.get("kid")
    if not isinstance(payload, dict) or not isinstance(sig, str) or not isinstance(kid, str):
        raise EnvelopeError("bad_envelope", "payload, sig and kid are required")
    key = keys.get(kid)
    if key is None:
        raise EnvelopeError("unknown_kid", kid)
    try:
        raw = base64.b64decode(sig, validate=True)
        key.verify(raw, canonical(payload))
    except (InvalidSignature, ValueError) as exc:
        raise EnvelopeError("bad_signature", f"kid {kid}") from exc
    return payload
