"""The signed look-ahead schedule: parsing, verification, ETag sync, the last good copy on disk."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import urllib.error
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from grassroots_agent.cache import HttpClient, MediaRef
from grassroots_agent.clock import iso
from grassroots_agent.signing import EnvelopeError, open_envelope
from grassroots_protocol import messages as wire

log = logging.getLogger(__name__)


class ManifestError(ValueError):
    """The manifest is unsigned, for another device, older than the one we have, or malformed."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Item:
    """One scheduled item: a media sequence or a relay (FM or stream) over [start, end).

    `priority` is the item's rank on the air (grassroots_protocol.PRIORITY_RANK of its Thông tư
    39 word): the higher wins a clash.
    """

    id: str
    start: datetime
    end: datetime
    priority: int
    kind: str
    media: tuple[MediaRef, ...] = ()
    relay: dict[str, Any] | None = None
    volume: int | None = None
    title: str = ""
    word: str = "normal"

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, iso(self.start) or "")

    @classmethod
    def from_wire(cls, item: wire.ManifestItem) -> Item:
        return cls(
            id=item.id,
            start=item.start,
            end=item.end,
            priority=wire.PRIORITY_RANK[item.priority],
            kind=item.kind,
            media=tuple(MediaRef.from_wire(m) for m in item.media),
            relay=item.relay.model_dump() if item.relay is not None else None,
            volume=item.volume,
            title=item.title,
            word=item.priority,
        )


@dataclass
class Manifest:
    """A verified manifest and the ETag it was served with."""

    envelope: dict[str, Any]
    etag: str | None
    items: list[Item]

    @property
    def payload(self) -> dict[str, Any]:
        return self.envelope["payload"]

    @property
    def generated_at(self) -> datetime | None:
        return wire.parse_time(self.payload["generated_at"])

    @property
    def valid_until(self) -> datetime | None:
        return wire.parse_time(self.payload["valid_until"])


def verify(
    envelope: Any,
    *,
    keys: dict[str, Ed25519PublicKey],
    device_id: str,
    etag: str | None = None,
    current: Manifest | None = None,
) -> Manifest:
    """Check signature, device and freshness; parse the items (a bad item rejects the whole).

    The payload is read with the protocol's own definition (grassroots_protocol.Manifest): a
    field the device cannot read is a `bad_manifest` naming the field.
    """
    try:
        payload = open_envelope(envelope, keys)
    except EnvelopeError as exc:
        raise ManifestError(exc.code, exc.detail) from exc
    try:
        parsed = wire.parse_manifest(payload)
    except wire.ProtocolError as exc:
        raise ManifestError("bad_manifest", f"{exc.field}: {exc.detail}") from exc
    if parsed.device != str(device_id):
        raise ManifestError("wrong_device", f"manifest is for {parsed.device!r}")
    generated, valid_until = parsed.generated_at, parsed.valid_until
    items = [Item.from_wire(i) for i in parsed.items]
    if valid_until is not None:
        # the server vouches for the schedule only up to valid_until: nothing plays after it
        items = [
            i if i.end <= valid_until else dataclasses.replace(i, end=valid_until)
            for i in items
            if i.start < valid_until
        ]
    if (
        current is not None
        and current.generated_at
        and generated
        and generated < current.generated_at
    ):
        raise ManifestError("stale_manifest", "older than the manifest already held")
    return Manifest(envelope=envelope, etag=etag, items=sorted(items, key=lambda i: i.start))


class ManifestFile:
    """The last good manifest, kept on disk so the device plays after a restart without network."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, keys: dict[str, Ed25519PublicKey], device_id: str) -> Manifest | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return verify(data["envelope"], keys=keys, device_id=device_id, etag=data.get("etag"))
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring stored manifest %s: %s", self.path, exc)
            return None

    def save(self, manifest: Manifest) -> None:
        tmp = self.path.with_suffix(".tmp")
        data = {"etag": manifest.etag, "envelope": manifest.envelope}
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def fetch(http: HttpClient, device_id: str, etag: str | None) -> tuple[int, Any, str | None]:
    """GET the manifest with If-None-Match; return (status, parsed body or None, etag)."""
    headers = {"Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    req = http.request(f"api/v1/devices/{device_id}/manifest", headers=headers)
    try:
        with http.open(req) as resp:
            body = json.loads(resp.read().decode("utf-8"))
            return resp.status, body, resp.headers.get("ETag")
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, None, etag
        raise
