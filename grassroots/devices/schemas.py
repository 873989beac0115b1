"""API schemas of the device registry."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class DeviceRead(Schema):
    id: int
    kind: str
    unit_code: str
    station: int | None
    name: str
    serial: str
    technology: str
    condition: str
    latitude: float | None
    longitude: float | None
    install_year: int | None
    supplier: str
    sim_network: str
    notes: str
    volume: int
    enabled: bool
    manifest_etag: str
    compiled_at: datetime | None


class DeviceUpdate(Schema):
    name: str | None = Field(None, max_length=200)
    volume: int | None = Field(None, ge=0, le=100)
    enabled: bool | None = None
    condition: str | None = None
    notes: str | None = None
    supplier: str | None = Field(None, max_length=200)
    sim_network: str | None = Field(None, max_length=100)


class ImportResultRead(Schema):
    created: int
    updated: int


class KeyRead(Schema):
    kid: str
    alg: str
    public_key: str
