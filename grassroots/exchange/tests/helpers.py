"""A remote system for tests: its own Ed25519 key, declared as a peer, sealing real messages."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from grassroots.exchange import federation, keys
from grassroots.exchange.choices import Kind
from grassroots.exchange.models import Peer, PeerKey
from grassroots.units.models import Unit
from grassroots_protocol import format_time


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@dataclass
class Remote:
    """The other side: seals messages with its key, addressed to this system."""

    code: str = "central"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def declare(self, *, unit_code: str = "33", **fields) -> Peer:
        peer = Peer.objects.create(
            code=self.code,
            name=fields.pop("name", "Hệ thống thông tin nguồn trung ương"),
            url=fields.pop("url", "https://central.invalid"),
            unit=Unit.objects.current().get(code=unit_code),
            **fields,
        )
        public = public_b64(self.key)
        PeerKey.objects.create(
            peer=peer,
            kid=federation.key_id(base64.b64decode(public)),
            public_key=public,
        )
        return peer

    def kid(self) -> str:
        return federation.key_id(base64.b64decode(public_b64(self.key)))

    def as_json(self) -> str:
        """What `grassroots exchange key` prints on the other side."""
        import json

        return json.dumps(
            {"source": self.code, "kid": self.kid(), "public_key": public_b64(self.key)}
        )

    def seal(
        self, kind: str, body: dict[str, Any], *, message_id: str = "m-1", version: int = 1
    ) -> dict[str, Any]:
        return federation.seal(
            key=self.key,
            source=self.code,
            destination=keys.own_id(),
            message_id=message_id,
            version=version,
            kind=kind,
            body=body,
            issued_at=format_time(timezone.now()),
        )


def bulletin_body(**over) -> dict[str, Any]:
    body = {
        "title": "Phòng chống bão số 3",
        "text": "Bà con chủ động gia cố nhà cửa.\n\nKhông ra khơi.",
        "priority": "priority",
        "source_name": "Bộ Văn hoá, Thể thao và Du lịch",
    }
    body.update(over)
    return body


ALL = list(Kind.values)
