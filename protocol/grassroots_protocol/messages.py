"""Every message between the platform and its devices, with the functions that parse them.

Shapes follow architecture.md ("Device protocol") and docs/devices.md. Validation is strict
about types (a string is not an integer, a word is not a number) and lenient about extra fields
(ignored), so that either side can grow without breaking the other, while a change that the
other side cannot read fails at once, naming the field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

PROTOCOL_VERSION = 1

# -- primitives --------------------------------------------------------------------------------

Priority = Literal["normal", "priority", "emergency"]
"""Thông tư 39/2020 priorities: `normal` (thông thường), `priority` (ưu tiên), `emergency`."""

PRIORITY_RANK: dict[str, int] = {"normal": 1, "priority": 2, "emergency": 3}
"""Which priority wins a clash on the air (higher wins)."""

ACK_STATUSES = ("ok", "refused")


class ProtocolError(ValueError):
    """A message that does not follow the protocol; `field` names the first offending field.

    `code` is `bad_message` (wrong shape or type) and goes into acks and faults as the reason.
    """

    code = "bad_message"

    def __init__(self, kind: str, field: str, detail: str) -> None:
        self.kind = kind
        self.field = field
        self.detail = detail
        super().__init__(f"{kind}: {field}: {detail}" if field else f"{kind}: {detail}")


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time with a UTC offset (`Z` accepted) as an aware datetime.

    Raises ValueError for anything else: a naive time would be read differently by each side.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    else:
        raise ValueError("must be an ISO 8601 time string")
    if moment.tzinfo is None:
        raise ValueError("must carry a UTC offset (e.g. 2026-11-29T06:00:00+07:00)")
    return moment


def format_time(moment: datetime) -> str:
    """The wire form of a time: UTC, milliseconds, `Z` (e.g. `2026-11-29T23:00:00.000Z`)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def canonical(payload: Any) -> bytes:
    """The bytes that are signed: JSON with sorted keys, no spaces, UTF-8 (both sides use this)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
HttpUrl = Annotated[str, Field(pattern=r"^https?://", max_length=2000)]
Percent = Annotated[int, Field(ge=0, le=100)]
Id = Annotated[str, Field(min_length=1, max_length=64)]
_UUID = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


class Message(BaseModel):
    """Base of every message: strict types, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict of this message (times in the wire form, None fields dropped)."""
        return _times(self.model_dump(mode="python", by_alias=True, exclude_none=True))


def _times(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, dict):
        return {k: _times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_times(v) for v in value]
    return value


class MediaRef(Message):
    """A media file a device downloads (with its device token) and checks by SHA-256."""

    url: Annotated[str, Field(min_length=1, max_length=2000)]
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]
    duration: Annotated[float, Field(ge=0)] | None = None


# -- commands (server → device, signed) ---------------------------------------------------------


class Target(Message):
    """Who a command is for: one device, a list of devices, or every device under some units."""

    device: Id | None = None
    devices: list[Id] | None = None
    units: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = None

    def covers(self, device_id: str, unit_codes: list[str] | set[str]) -> bool:
        """True if a device with this id, under these units, is targeted."""
        if self.device is not None and self.device == device_id:
            return True
        if self.devices and device_id in self.devices:
            return True
        return bool(self.units) and any(u in unit_codes for u in self.units or ())


class _Command(Message):
    """What every command payload carries (architecture.md): id, target, seq and time window."""

    id: Id
    target: Target
    seq: Annotated[int, Field(ge=0)]
    issued_at: Timestamp
    not_before: Timestamp
    expires_at: Timestamp


class ManifestUpdated(_Command):
    """The manifest of these devices changed: `etags` maps device id → new ETag (loudspeakers);
    boards get `reason` and fetch theirs."""

    type: Literal["manifest.updated"]
    etags: dict[str, str] = Field(default_factory=dict)
    reason: Annotated[str, Field(max_length=100)] | None = None


class EmergencyInfo(Message):
    """The emergency a `play.now` belongs to (boards show it as an overlay)."""

    id: int
    title: str
    text: str = ""
    expires_at: Timestamp


class PlayNow(_Command):
    """Play these files now, preempting the schedule (Thông tư 39 `priority` or `emergency`)."""

    type: Literal["play.now"]
    priority: Literal["priority", "emergency"]
    repeat: Annotated[int, Field(ge=1, le=10)] = 1
    media: Annotated[list[MediaRef], Field(min_length=1)]
    volume: Percent | None = None
    until: Timestamp | None = None
    emergency: EmergencyInfo | None = None


class FmRelay(Message):
    type: Literal["fm"]
    frequency: Annotated[float, Field(gt=0, strict=False)]


LIVE_TOKEN_HEADER = "X-Grassroots-Token"
"""The HTTP header in which a device presents its token when a live stream asks for it."""


class LiveStart(_Command):
    """Play a live stream (Icecast mount or relay) until `live.stop` or `until`.

    With `auth: "device"` the device sends its own token (header `LIVE_TOKEN_HEADER`) when it
    opens the stream: the platform's Icecast lets in only the devices of the session's area.
    Instead of `url`, `relay` (an FM relay started live) has the device tune its own FM
    receiver to `relay.frequency` MHz. Exactly one of `url` and `relay` is given.
    """

    type: Literal["live.start"]
    url: HttpUrl | None = None
    relay: FmRelay | None = None
    live_id: Id | None = None
    auth: Literal["device"] | None = None
    priority: Priority = "priority"
    volume: Percent | None = None
    until: Timestamp | None = None

    @model_validator(mode="after")
    def _one_source(self) -> LiveStart:
        if (self.url is None) == (self.relay is None):
            raise ValueError("give exactly one of url (a stream) and relay (the FM receiver)")
        return self


class LiveStop(_Command):
    """Stop a live stream (`live_id`, or whatever live stream plays)."""

    type: Literal["live.stop"]
    live_id: Id | None = None


class Stop(_Command):
    """Stop what plays now (or only this emergency); the schedule resumes."""

    type: Literal["stop"]
    emergency_id: int | None = None


class VolumeSet(_Command):
    type: Literal["volume.set"]
    volume: Percent


class PowerSet(_Command):
    type: Literal["power.set"]
    power: Literal["on", "off"]


class Resync(_Command):
    """Fetch the manifest again (ignoring the ETag) and upload the as-run journal."""

    type: Literal["resync"]


class ConfigUpdated(_Command):
    type: Literal["config.updated"]


class AsRunAck(_Command):
    """The server stored these as-run entries (by id): the device may forget them."""

    type: Literal["asrun.ack"]
    entries: list[Annotated[str, Field(max_length=64)]]


class Screenshot(_Command):
    """E-boards: draw what is on screen and upload it for request `request`."""

    type: Literal["screenshot"]
    request: Annotated[str, Field(min_length=1, max_length=64)]


Command = Annotated[
    ManifestUpdated
    | PlayNow
    | LiveStart
    | LiveStop
    | Stop
    | VolumeSet
    | PowerSet
    | Resync
    | ConfigUpdated
    | AsRunAck
    | Screenshot,
    Field(discriminator="type"),
]
COMMAND_TYPES = (
    "manifest.updated",
    "play.now",
    "live.start",
    "live.stop",
    "stop",
    "volume.set",
    "power.set",
    "resync",
    "config.updated",
    "asrun.ack",
    "screenshot",
)


class Envelope(Message):
    """A signed message: Ed25519 over `canonical(payload)`, by the key `kid`."""

    payload: dict[str, Any]
    sig: Annotated[str, Field(min_length=1, max_length=200)]
    kid: Annotated[str, Field(min_length=1, max_length=64)]


# -- manifests (server → device over HTTP, signed) -----------------------------------------------


class StreamRelay(Message):
    type: Literal["stream"]
    url: HttpUrl


Relay = Annotated[FmRelay | StreamRelay, Field(discriminator="type")]


class ManifestItem(Message):
    """One on-air segment of the station's timeline: media to play, or a relay, over [start, end).

    `source` says what the schedule item is (a bulletin, a playlist, a relay); `item` is the
    schedule item's id on the server, `rule` why it plays then (recurrence, one-off, proposal).
    """

    id: Annotated[str, Field(min_length=1, max_length=100)]
    item: int | None = None
    title: str = ""
    start: Timestamp
    end: Timestamp
    priority: Priority
    rule: str | None = None
    kind: Literal["media", "relay"]
    source: Literal["bulletin", "playlist", "relay"] | None = None
    media: list[MediaRef] = Field(default_factory=list)
    relay: Relay | None = None
    volume: Percent | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ManifestItem:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.kind == "media" and not self.media:
            raise ValueError("a media item needs media")
        if self.kind == "relay" and self.relay is None:
            raise ValueError("a relay item needs relay")
        return self

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self.priority]


class Manifest(Message):
    """The signed look-ahead schedule of one loudspeaker device (at least 48 hours)."""

    type: Literal["manifest"]
    version: int = PROTOCOL_VERSION
    device: Id
    station: int | None = None
    unit: str
    generated_at: Timestamp
    valid_until: Timestamp
    volume: Percent | None = None
    items: list[ManifestItem]


class BoardMedia(Message):
    kind: Literal["image", "video"]
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]
    mime: str = ""
    seconds: Annotated[int, Field(ge=0)] | None = None


class BoardWindow(Message):
    """When a playlist shows (weekday 0 = Monday; HH:MM in Vietnam time)."""

    weekdays: list[Annotated[int, Field(ge=0, le=6)]]
    start: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] | None = None
    end: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] | None = None
    from_: Timestamp | None = Field(default=None, alias="from")
    until: Timestamp | None = None


class BoardItem(Message):
    """One bulletin as a board shows it: plain text paragraphs, media renditions, timing."""

    id: Annotated[str, Field(min_length=1, max_length=100)]
    bulletin: int
    revision: int
    revision_id: int
    content_sha256: str
    title: str
    paragraphs: list[str]
    priority: Priority
    must_show: bool = False
    source: str = ""
    media: list[BoardMedia] = Field(default_factory=list)
    duration: Annotated[int, Field(ge=1)]
    sound: bool = False
    go_live_at: Timestamp | None = None
    expire_at: Timestamp | None = None
    window: BoardWindow


class BoardLayout(Message):
    kind: str
    show_clock: bool
    show_unit_name: bool
    ticker: str = ""
    text_scale: Annotated[int, Field(ge=10, le=400)]
    default_duration: Annotated[int, Field(ge=1)]


class BoardUnit(Message):
    code: str
    name: str
    chain: list[str]


class BoardManifest(Message):
    """The signed manifest of an e-board (48 hours of content; the board checks windows)."""

    type: Literal["board.manifest"]
    version: int = PROTOCOL_VERSION
    device: Id
    unit: BoardUnit
    layout: BoardLayout
    heartbeat_seconds: Annotated[int, Field(ge=1)]
    tz_offset_minutes: int
    items: list[BoardItem]
    generated_at: Timestamp
    valid_until: Timestamp


# -- device → server ------------------------------------------------------------------------------


class ClockInfo(Message):
    """How far the device's own clock is from the server's (seconds, server − device)."""

    offset_s: float = Field(strict=False)
    source: Literal["http", "command", "none"]
    synced_at: Timestamp | None = None


class Playing(Message):
    """What a device is playing (state reports)."""

    item_id: str
    kind: str
    origin: str
    since: Timestamp | None = None
    title: str | None = None
    priority: Priority | None = None


class State(Message):
    """The retained state report on `dev/{id}/state` (the last will sends `online: false`).

    Loudspeaker agents fill `playing`, `volume`, `power`, `cache`, `manifest`, `clock`; boards fill
    `current`, `emergency`, `manifest_etag`, `items`, `verify`, `clock`.
    """

    online: bool = True
    device: Id | None = None
    version: int | str | None = None
    at: Timestamp | None = None
    playing: Playing | None = None
    volume: Percent | None = None
    power: bool | None = None
    cache: dict[str, int] | None = None
    manifest: dict[str, Any] | None = None
    agent: str | None = None
    clock: ClockInfo | None = None
    status: str | None = None
    current: dict[str, Any] | None = None
    emergency: dict[str, Any] | None = None
    manifest_etag: str | None = None
    items: int | None = None
    verify: str | None = None


class AsRunEntry(Message):
    """One entry of a device's as-run journal: what really played, from when to when, and how.

    `kind` is what played: `media` or `relay` (a manifest item; `scheduled_start` is its slot),
    `priority` (a `play.now`), `live` (a live stream) or `board` (an e-board showed an item);
    `reason` says why a `failed` entry failed (a fault code, e.g. `media_unavailable`).
    """

    id: Annotated[str, Field(pattern=_UUID)]
    item: Annotated[str, Field(max_length=100)]
    kind: Literal["media", "relay", "priority", "live", "board"] = "media"
    title: Annotated[str, Field(max_length=300)] | None = None
    scheduled_start: Timestamp | None = None
    started_at: Timestamp
    ended_at: Timestamp | None = None
    status: Literal["played", "cut", "failed"]
    cut_by: Annotated[str, Field(max_length=100)] | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _order(self) -> AsRunEntry:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self


class _Event(Message):
    id: Id
    device: Id | None = None
    at: Timestamp | None = None


class Ack(_Event):
    """A device's answer to a command: `ok` (verified and accepted) or `refused` with a reason."""

    type: Literal["ack"]
    cmd_seq: int | None = None
    kid: str | None = None
    cmd_type: str | None = None
    cmd_id: str | None = None
    status: Literal["ok", "refused"]
    reason: Annotated[str, Field(max_length=64)] | None = None
    detail: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _reason(self) -> Ack:
        if self.status == "refused" and not self.reason:
            raise ValueError("a refused ack needs a reason")
        return self


class AsRunEvent(_Event):
    type: Literal["asrun"]
    entries: list[AsRunEntry]


class Fault(_Event):
    """Something went wrong on the device (`code` e.g. `clock`, `manifest.bad_manifest`).

    A `clock` fault (the device's clock is more than a minute off the server's) carries
    `offset_s` as in `ClockInfo` (seconds, server − device).
    """

    type: Literal["fault"]
    code: Annotated[str, Field(min_length=1, max_length=64)]
    detail: Annotated[str, Field(max_length=2000)] = ""
    offset_s: float | None = Field(default=None, strict=False)


class Telemetry(_Event):
    type: Literal["telemetry"]


class DisplayProof(Message):
    """E-boards' proof of display: an item (or the emergency overlay) shown from when to when."""

    id: Annotated[str, Field(pattern=_UUID)]
    item: Annotated[str, Field(max_length=100)] = ""
    kind: Literal["item", "emergency"] = "item"
    bulletin: int | None = None
    revision_id: int | None = None
    started_at: Timestamp
    ended_at: Timestamp

    @model_validator(mode="after")
    def _order(self) -> DisplayProof:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self


class Display(_Event):
    """Proofs of display sent over MQTT (boards usually upload them: DisplayProofUpload)."""

    type: Literal["display"]
    entries: list[DisplayProof]


class DisplayProofUpload(Message):
    """`POST /api/v1/boards/{id}/proofs`: entries checked one by one on the server."""

    entries: Annotated[list[dict[str, Any]], Field(max_length=500)]


Event = Annotated[Ack | AsRunEvent | Fault | Telemetry | Display, Field(discriminator="type")]
EVENT_TYPES = ("ack", "asrun", "fault", "telemetry", "display")


class AsRunUpload(Message):
    """`POST /api/v1/devices/{id}/asrun`: entries the device has not had acknowledged.

    Entries are checked one by one on the server (a bad entry is rejected with its reason, the
    others are stored), so this model keeps them as plain objects.
    """

    device: Id | None = None
    entries: list[dict[str, Any]]


class RejectedEntry(Message):
    id: str
    message: str


class AsRunUploadAnswer(Message):
    accepted: list[str]
    rejected: list[RejectedEntry] = Field(default_factory=list)


class DeviceLiveRequest(Message):
    """`POST /api/v1/live/device`: a station controller asks to share its own microphone with
    the other clusters of its unit, as a live session (device token). `priority` is `normal` or
    `priority` (Thông tư 39; an emergency needs an officer's right); `max_minutes` 1–240."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    priority: Literal["normal", "priority"] = "priority"
    max_minutes: Annotated[int, Field(ge=1, le=240)] = 30


class DeviceLiveAnswer(Message):
    """The session opened for a device's microphone: the device POSTs its Ogg/Opus (or WebM)
    bytes in order to `source_url` (`?offset=<bytes sent before>`, device token; a retried
    slice is kept once, a gap is 409, an ended session 409/410) and ends it at `stop_url`. The
    platform signs `live.start` to the unit's other devices once the sound is on its Icecast;
    the source device journals the session under `live_id` and ignores that `live.start`."""

    session: int
    live_id: Id
    source_url: Annotated[str, Field(min_length=1, max_length=2000)]
    stop_url: Annotated[str, Field(min_length=1, max_length=2000)]
    until: Timestamp
    expected_devices: Annotated[int, Field(ge=0)]


class EnrolmentAnswer(Message):
    """`POST /api/v1/devices/enrol`: everything a device needs, given once."""

    device_id: int
    kind: str
    units: list[str]
    mqtt_url: str
    mqtt_ws_url: str | None = None
    mqtt_username: str
    mqtt_password: str
    token: str
    server_url: str | None = None
    trusted_keys: dict[str, str]
    server_time: Timestamp | None = None


# -- parsing --------------------------------------------------------------------------------------

_COMMAND = TypeAdapter(Command)
MANIFEST_ITEMS = TypeAdapter(list[ManifestItem])
_EVENT = TypeAdapter(Event)


def _field(error: ValidationError) -> tuple[str, str]:
    first = error.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    return loc, first.get("msg", "invalid")


def _parse(kind: str, validate, data: Any):
    if isinstance(data, bytes | bytearray | str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ProtocolError(kind, "", f"not JSON: {exc}") from exc
    try:
        return validate(data)
    except ValidationError as exc:
        field, detail = _field(exc)
        raise ProtocolError(kind, field, detail) from exc


def parse_envelope(data: Any) -> Envelope:
    """A signed envelope (not yet verified): bytes, text or a decoded object."""
    return _parse("envelope", Envelope.model_validate, data)


def parse_command(payload: Any) -> Command:
    """A command payload (after its signature was checked)."""
    return _parse("command", _COMMAND.validate_python, payload)


def parse_manifest(payload: Any) -> Manifest:
    return _parse("manifest", Manifest.model_validate, payload)


def parse_manifest_items(items: Any) -> list[ManifestItem]:
    """The items of a manifest alone (the server checks them once per station timeline)."""
    return _parse("manifest", MANIFEST_ITEMS.validate_python, items)


def parse_board_manifest(payload: Any) -> BoardManifest:
    return _parse("board.manifest", BoardManifest.model_validate, payload)


def parse_state(data: Any) -> State:
    return _parse("state", State.model_validate, data)


def parse_event(data: Any) -> Ack | AsRunEvent | Fault | Telemetry | Display:
    return _parse("event", _EVENT.validate_python, data)


def parse_display_proof(data: Any) -> DisplayProof:
    return _parse("display", DisplayProof.model_validate, data)


def parse_asrun_entry(data: Any) -> AsRunEntry:
    return _parse("asrun", AsRunEntry.model_validate, data)
