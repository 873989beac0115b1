"""API schemas of e-boards."""

from __future__ import annotations

from datetime import datetime, time

from ninja import Schema
from pydantic import Field


class PairingStart(Schema):
    code: str
    display: str
    secret: str
    expires_at: str = Field(description="ISO 8601 with offset (server time)")
    server_time: str = Field(description="the server's time when it answered (ISO 8601)")
    poll_seconds: int


class PairingClaimIn(Schema):
    code: str = Field(max_length=20)
    secret: str = Field(max_length=100)


class PairIn(Schema):
    code: str = Field(max_length=20)
    device: int | None = None
    unit: str | None = Field(None, max_length=16)
    name: str = Field("", max_length=200)


class BoardRead(Schema):
    device: int
    name: str
    unit_code: str
    unit_name: str
    paired: bool
    online: bool
    last_seen_at: datetime | None
    current_item: str
    layout: int | None
    screenshot_at: datetime | None


class BoardUpdate(Schema):
    layout: int | None = None
    auto_unit_bulletins: bool | None = None


class ProofsAccepted(Schema):
    accepted: list[str]
    rejected: list[dict] = []


class LayoutIn(Schema):
    unit: str | None = Field(None, max_length=16)
    name: str | None = Field(None, max_length=100)
    kind: str | None = Field(None, max_length=10)
    show_clock: bool | None = None
    show_unit_name: bool | None = None
    ticker_text: str | None = Field(None, max_length=500)
    text_scale: int | None = None
    default_duration: int | None = None


class LayoutRead(Schema):
    id: int
    unit_code: str
    name: str
    kind: str
    show_clock: bool
    show_unit_name: bool
    ticker_text: str
    text_scale: int
    default_duration: int


class PlaylistItemIn(Schema):
    bulletin: int
    duration: int | None = Field(None, ge=2, le=600)
    allow_sound: bool = False


class PlaylistIn(Schema):
    unit: str | None = Field(None, max_length=16)
    name: str | None = Field(None, max_length=200)
    active: bool | None = None
    weekdays: list[int] | None = None
    start_time: time | None = None
    end_time: time | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    order: int | None = None
    boards: list[int] | None = None
    items: list[PlaylistItemIn] | None = Field(None, max_length=200)


class PlaylistRead(Schema):
    id: int
    unit_code: str
    name: str
    active: bool
    weekdays: list[int]
    start_time: time | None
    end_time: time | None
    valid_from: datetime | None
    valid_until: datetime | None
    order: int
    boards: list[int]
    items: list[dict]
