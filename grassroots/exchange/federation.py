"""The federation protocol between instances of the platform (province ⇄ central), defined once.

Every message is a signed envelope (`Envelope`) whose `body` is one of the kinds below. Both
sides validate with these models; the JSON Schemas in `docs/exchange/` are generated from them
(`python -m grassroots.exchange.federation docs/exchange`, a test fails when they are stale).
No Django here: a ministry connector or another implementation can import it alone.

Rules (docs/exchange.md):
- the signature covers the canonical JSON of the envelope without `sig` (sorted keys, compact,
  UTF-8: the same canonical form as the device protocol);
- `content_hash` is the SHA-256 of the canonical JSON of `body`;
- (`source`, `id`) names a message across its versions: the same version twice changes nothing,
  a newer version replaces the older one, an older one is refused;
- unknown fields are ignored, a wrong type or a missing field is refused naming the field.

Versions: the envelope is version 1 (`protocol: grassroots-federation/1`). Protocol 1.1 adds,
without changing the envelope: batches (`Batch`, up to `MAX_BATCH` envelopes in one POST,
answered per message by a `BatchReceipt`), the `report_status` kind and a citizen report's
media. A 1.0 receiver refuses a batch as a whole (it is not an envelope): the sender then
falls back to one message per POST.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from grassroots_protocol import canonical
from grassroots_protocol import schema as schema_files
from grassroots_protocol.messages import Sha256, Timestamp

FEDERATION_VERSION = 1
PROTOCOL_NAME = f"grassroots-federation/{FEDERATION_VERSION}"
"""The envelope's version (its `protocol` field): unchanged by the minor versions."""
MINOR_VERSION = "1.1"
BATCH_PROTOCOL = f"grassroots-federation/{MINOR_VERSION}"
"""A batch's `protocol`: batches exist from 1.1 on."""
VERSIONS: tuple[str, ...] = ("1.0", "1.1")
MAX_BATCH = 500
"""Envelopes in one batch, at most (the receiver refuses a longer batch as a whole, 422)."""

Kind = Literal["bulletin", "withdrawal", "statistics", "citizen_report", "report_status"]
KINDS: tuple[str, ...] = (
    "bulletin",
    "withdrawal",
    "statistics",
    "citizen_report",
    "report_status",
)
Priority = Literal["normal", "priority", "emergency"]
"""Thông tư 39/2020 priorities, the same words as the device protocol."""

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
UnitCode = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class FederationError(ValueError):
    """A message that does not follow the protocol; `field` names the first offending field."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}" if field else detail)


# -- bodies ------------------------------------------------------------------------------------


class Media(_Model):
    """A file of a bulletin: fetched by the receiver, checked against `sha256` and `size`."""

    url: Annotated[str, Field(min_length=1, max_length=2000)]
    sha256: Sha256
    size: Annotated[int, Field(ge=1, le=2 * 1024**3)]
    mime: Annotated[str, Field(max_length=100)] = ""
    name: Annotated[str, Field(max_length=255)] = ""


class BulletinBody(_Model):
    """A bulletin going down (centre → province): what to air, how urgently, until when."""

    title: Annotated[str, Field(min_length=1, max_length=300)]
    text: Annotated[
        str,
        Field(
            max_length=100_000,
            description=(
                "the bulletin's words as plain text: no markup and no character entities "
                "(a '<' or '&' is that character); paragraphs separated by one blank line "
                '("\\n\\n"), a line break within a paragraph "\\n"; Unicode NFC, no '
                'control characters other than "\\n". The receiver stores it as its editor '
                "stores typed text (escaped, never read as HTML)"
            ),
        ),
    ] = ""
    kind: Literal["text", "audio", "video", "image"] = "text"
    priority: Priority = "normal"
    category: Annotated[str, Field(max_length=50)] | None = None
    source_name: Annotated[str, Field(max_length=200)] = ""
    targets: list[UnitCode] = Field(
        default_factory=list,
        max_length=5000,
        description="unit codes of the receiver; empty: the receiver's whole scope",
    )
    valid_from: Timestamp | None = None
    valid_to: Timestamp | None = None
    media: list[Media] = Field(default_factory=list, max_length=20)


class WithdrawalBody(_Model):
    """Take back a bulletin sent earlier (its message `id`): off the air everywhere."""

    ref: Code
    reason: Annotated[str, Field(max_length=1000)] = ""


class DeviceFigures(_Model):
    total: Annotated[int, Field(ge=0)] = 0
    online: Annotated[int, Field(ge=0)] = 0
    availability: Annotated[float, Field(ge=0, le=100)] | None = None


class StaffFigures(_Model):
    """Staff of the unit whose position requires training and who held it in the month
    (`required`), and those of them who passed a course that ended in the month (`trained`)."""

    trained: Annotated[int, Field(ge=0)] = 0
    required: Annotated[int, Field(ge=0)] = 0


UnitKindCode = Literal["xa", "phuong", "thi_tran", "dac_khu", ""]
"""A commune-level unit's kind (xã, phường, thị trấn, đặc khu); empty for the province's row."""


class UnitStatistics(_Model):
    """One commune-level unit in one month: KPI values, counters, devices, its kind and its
    staff to be trained (1.1, optional: the centre's e-board and training indicators); or the
    province's own facts (`unit` = the province's code, no indicators)."""

    unit: UnitCode
    name: Annotated[str, Field(max_length=200)] = ""
    kind: UnitKindCode = ""
    indicators: dict[Annotated[str, Field(max_length=40)], float | None] = Field(
        default_factory=dict
    )
    counters: dict[Annotated[str, Field(max_length=40)], int] = Field(default_factory=dict)
    devices: DeviceFigures = Field(default_factory=DeviceFigures)
    staff: StaffFigures | None = Field(
        default=None, description="none: the unit has no staff who must be trained on record"
    )


class EmergencyFigures(_Model):
    """The province's emergencies sent in the month: devices expected to take them, devices
    that acknowledged, and for each emergency that reached 95 % of its devices the seconds it
    took (the kpi app's definitions, summed over the province)."""

    expected: Annotated[int, Field(ge=0)] = 0
    delivered: Annotated[int, Field(ge=0)] = 0
    t95_s: list[Annotated[float, Field(ge=0)]] = Field(default_factory=list, max_length=100_000)


class Aired(_Model):
    """What became of a bulletin received from the peer: received, placed, aired."""

    ref: Code
    received: bool = True
    approved: bool = False
    communes: Annotated[int, Field(ge=0)] = 0
    placed: Annotated[int, Field(ge=0)] = 0
    aired_communes: Annotated[int, Field(ge=0)] = 0
    plays: Annotated[int, Field(ge=0)] = 0


class StatisticsBody(_Model):
    """Statistics going up (province → centre) for one month."""

    province: UnitCode
    month: Month
    units: list[UnitStatistics] = Field(default_factory=list, max_length=20_000)
    aired: list[Aired] = Field(default_factory=list, max_length=20_000)
    feedback_received: Annotated[int, Field(ge=0)] = 0
    feedback_handled: Annotated[int, Field(ge=0)] = 0
    emergencies: EmergencyFigures | None = Field(
        default=None, description="1.1, optional: none from a sender that does not count them"
    )


class ReportMedia(_Model):
    """A photo of a citizen report: fetched by the receiver, checked against `sha256` and
    `size`, then checked and re-encoded like a photo sent from the phone form (JPEG, PNG or
    WebP, at most 8 MB, its EXIF location dropped)."""

    url: Annotated[str, Field(min_length=1, max_length=2000)]
    sha256: Sha256
    size: Annotated[int, Field(ge=1, le=8 * 1024**2)]
    mime: Annotated[str, Field(max_length=100)] = ""


class CitizenReportBody(_Model):
    """A citizen's report forwarded from a central citizen app to the responsible province
    (Open311-like: `category` is the receiver's service code, `unit` the commune-level unit
    responsible, or the GPS position when the unit is a district or the province)."""

    unit: UnitCode
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(min_length=1, max_length=5000)]
    category: Annotated[str, Field(max_length=50)] = ""
    reported_at: Timestamp
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    address: Annotated[str, Field(max_length=300)] = ""
    reporter_name: Annotated[str, Field(max_length=100)] = ""
    reporter_contact: Annotated[str, Field(max_length=254)] = Field(
        "", description="as the citizen gave it: an e-mail address or a phone number"
    )
    media: list[ReportMedia] = Field(default_factory=list, max_length=3)


ReportState = Literal["new", "in_progress", "answered", "closed"]
"""The feedback app's report states (Open311 maps `new`/`in_progress` to `open`)."""


class ReportStatusBody(_Model):
    """What became of a citizen report received (`ref`: the `citizen_report` message id),
    going back to the system that forwarded it: sent when the report is taken (with its
    tracking code and deadline), rerouted, answered, closed and reopened. Each is a newer
    version of the message `<source>:report-status:<ref>`; the newest is the report's state."""

    ref: Code
    tracking_code: Annotated[str, Field(max_length=20)]
    status: ReportState
    open311_status: Literal["open", "closed"]
    resolution: Annotated[str, Field(max_length=30)] = ""
    unit: UnitCode
    unit_name: Annotated[str, Field(max_length=200)] = ""
    due_at: Timestamp | None = None
    answer: Annotated[str, Field(max_length=10_000)] = Field(
        "", description="the public answer, as anyone may read it"
    )
    private_answer: Annotated[str, Field(max_length=10_000)] = Field(
        "", description="the answer for the citizen alone: shown to them, never published"
    )
    answered_at: Timestamp | None = None
    updated_at: Timestamp
    event: Annotated[str, Field(max_length=20)] = Field(
        "", description="the step that caused this version (received, rerouted, answered…)"
    )


BODIES: dict[str, type[_Model]] = {
    "bulletin": BulletinBody,
    "withdrawal": WithdrawalBody,
    "statistics": StatisticsBody,
    "citizen_report": CitizenReportBody,
    "report_status": ReportStatusBody,
}


# -- envelope ----------------------------------------------------------------------------------


class Envelope(_Model):
    """One signed message: who sent it, which message and version, its hash and its body."""

    protocol: Literal["grassroots-federation/1"] = PROTOCOL_NAME  # type: ignore[assignment]
    source: Code
    destination: Code
    id: Code
    version: Annotated[int, Field(ge=1, le=2**53)]
    kind: Kind
    issued_at: Timestamp
    content_hash: Sha256
    body: dict[str, Any]
    kid: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    sig: Annotated[str, Field(min_length=1, max_length=200)]


class MessagePage(_Model):
    """The answer of `GET /api/v1/exchange/messages?after=`: envelopes after the cursor."""

    messages: list[dict[str, Any]]
    next: Annotated[int, Field(ge=0)]
    more: bool


class Receipt(_Model):
    """The answer of `POST /api/v1/exchange/inbox` to a message it took."""

    outcome: Literal["applied", "duplicate"]
    id: Code
    version: int


class Batch(_Model):
    """Protocol 1.1: several envelopes in one `POST /api/v1/exchange/inbox`, taken in order.
    Each is checked (signature, hash, peer, kind, scope, version) and answered on its own."""

    protocol: Literal["grassroots-federation/1.1"]
    messages: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="envelopes; an item that is not one is refused alone, in its receipt",
    )


class BatchItemReceipt(_Model):
    """What became of one message of a batch (same position). `status` is what a single POST
    would have answered: 202 applied, 200 duplicate, 4xx refused for good (logged, `reason`
    as in docs/exchange.md), 503 refused for now or `deferred` (not looked at because an
    earlier message of the batch could not be taken yet: send it again later, in order)."""

    index: Annotated[int, Field(ge=0)]
    id: str = ""
    version: int | None = None
    outcome: Literal["applied", "duplicate", "refused", "deferred"]
    status: Annotated[int, Field(ge=200, le=599)]
    reason: str = ""
    detail: str = ""


class BatchReceipt(_Model):
    """The answer (HTTP 200) to a batch: one receipt per message, in the batch's order."""

    protocol: Literal["grassroots-federation/1.1"]
    receipts: list[BatchItemReceipt]


SCHEMAS: dict[str, Any] = {
    "envelope": Envelope,
    "bulletin": BulletinBody,
    "withdrawal": WithdrawalBody,
    "statistics": StatisticsBody,
    "citizen-report": CitizenReportBody,
    "report-status": ReportStatusBody,
    "message-page": MessagePage,
    "receipt": Receipt,
    "batch": Batch,
    "batch-receipt": BatchReceipt,
}


# -- functions ---------------------------------------------------------------------------------


def content_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


def key_id(public: bytes) -> str:
    """The first 16 hex digits of SHA-256(raw public key), like the device protocol's `kid`."""
    return hashlib.sha256(public).hexdigest()[:16]


def _errors(exc: ValidationError, prefix: str) -> FederationError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in (prefix, *first.get("loc", ())) if p != "")
    return FederationError(where, first.get("msg", "invalid"))


def parse_envelope(data: Any) -> Envelope:
    """Validate the envelope's shape (not its signature): FederationError naming the field."""
    if not isinstance(data, dict):
        raise FederationError("", "the message must be a JSON object")
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        raise _errors(exc, "") from None


def parse_batch(data: Any) -> Batch:
    """Validate a batch's shape (not its messages): FederationError naming the field."""
    try:
        return Batch.model_validate(data)
    except ValidationError as exc:
        raise _errors(exc, "") from None


def is_batch(data: Any) -> bool:
    """A batch (1.1) rather than a single envelope: an object with `messages` and no `source`."""
    return isinstance(data, dict) and "messages" in data and "source" not in data


def parse_body(envelope: Envelope) -> _Model:
    try:
        return BODIES[envelope.kind].model_validate(envelope.body)
    except ValidationError as exc:
        raise _errors(exc, "body") from None


def seal(
    *,
    key: Ed25519PrivateKey,
    source: str,
    destination: str,
    message_id: str,
    version: int,
    kind: str,
    body: dict[str, Any],
    issued_at: str,
) -> dict[str, Any]:
    """A signed envelope, as a JSON-ready dict (the body validated first: what is sent is
    what the receiver will accept)."""
    body = json.loads(BODIES[kind].model_validate(body).model_dump_json(exclude_none=False))
    from cryptography.hazmat.primitives import serialization

    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    unsigned = {
        "protocol": PROTOCOL_NAME,
        "source": source,
        "destination": destination,
        "id": message_id,
        "version": version,
        "kind": kind,
        "issued_at": issued_at,
        "content_hash": content_hash(body),
        "body": body,
        "kid": key_id(public),
    }
    return {**unsigned, "sig": base64.b64encode(key.sign(canonical(unsigned))).decode()}


def signature_valid(envelope: dict[str, Any], public_key_b64: str) -> bool:
    """True when `sig` is the Ed25519 signature of the rest of the envelope under the key."""
    unsigned = {k: v for k, v in envelope.items() if k != "sig"}
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        public.verify(base64.b64decode(envelope["sig"]), canonical(unsigned))
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return True


def request_signature_text(method: str, path: str, date: str, source: str) -> bytes:
    """What a pulling peer signs to authenticate `GET …/messages?after=` (headers)."""
    return canonical({"method": method.upper(), "path": path, "date": date, "source": source})


def schemas() -> dict[str, dict]:
    out = {}
    for name, model in SCHEMAS.items():
        schema = TypeAdapter(model).json_schema(mode="validation")
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"grassroots-federation/v{FEDERATION_VERSION}/{name}.schema.json",
            "title": schema.get("title", name),
            **{k: v for k, v in schema.items() if k != "title"},
        }
    return out


def write(directory: Path) -> list[Path]:
    """Write the federation schemas as the device protocol writes its own (one renderer)."""
    return schema_files.write(directory, schemas())


if __name__ == "__main__":  # pragma: no cover - a developer's command
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/exchange")):
        print(path)
