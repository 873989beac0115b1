"""API schemas of stations, schedules, timelines, proposals and as-run reports."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from grassroots.core.dates import When


class StationRead(Schema):
    id: int
    name: str
    unit_code: str
    unit_name: str
    clusters: int
    ip_clusters: int


class RelayIn(Schema):
    type: str = Field(description="fm | stream")
    frequency: Decimal | None = Field(None, description="MHz, với FM")
    url: str = Field("", description="URL luồng, với stream")


class MediaIn(Schema):
    """A file of an approved bulletin, named by its SHA-256; the store supplies URL and size."""

    sha256: str = Field(description="SHA-256 của tệp trong kho (bản tin đã duyệt)")
    url: str = Field("", description="Bỏ qua: địa chỉ tệp luôn lấy từ kho")
    size: int = 0
    duration: float = 0


class ScheduleCreate(Schema):
    unit: str = Field(description="Mã đơn vị lập lịch (xã, hoặc cấp trên để gửi đề xuất)")
    targets: list[str] = Field(default_factory=list, description="Mã đơn vị nhận (mặc định: unit)")
    title: str = Field(max_length=300)
    priority: str = Field("normal", description="normal | priority | emergency")
    kind: str = Field(description="bulletin | playlist | relay")
    starts_at: datetime
    duration_seconds: int = Field(gt=0, le=12 * 3600)
    rrule: str = Field("", max_length=500, description="RFC 5545, ví dụ FREQ=DAILY")
    exdates: list[When] = Field(
        default_factory=list,
        description="Các lần bỏ: ngày (bỏ lần phát của ngày đó) hoặc đúng giờ của một lần phát",
    )
    revision: int | None = None
    playlist: list[int] = Field(default_factory=list)
    media: list[MediaIn] = Field(default_factory=list)
    relay: RelayIn | None = None
    rank: int | None = Field(None, ge=1, le=999)
    volume: int | None = Field(None, ge=0, le=100)


class ScheduleRead(Schema):
    id: int
    unit_code: str
    title: str
    priority: str
    kind: str
    status: str
    starts_at: datetime
    duration_seconds: int
    rrule: str
    rank: int | None
    revision: int | None
    media: list[dict]
    relay: dict | None
    stations: list[int]
    source: int | None
    policy_exempt: bool
    proposals: int


class ScheduleUpdate(Schema):
    title: str | None = Field(None, max_length=300)
    starts_at: datetime | None = None
    duration_seconds: int | None = Field(None, gt=0, le=12 * 3600)
    rrule: str | None = Field(None, max_length=500)
    exdates: list[When] | None = None
    volume: int | None = Field(None, ge=0, le=100)
    rank: int | None = Field(None, ge=1, le=999)


class RankIn(Schema):
    rank: int | None = Field(None, ge=1, le=999)


class ProposalRead(Schema):
    id: int
    item: int
    title: str
    priority: str
    station: int
    unit_code: str
    must_air: bool
    status: str
    suggested_start: datetime
    rrule: str
    placed_item: int | None


class PlaceIn(Schema):
    starts_at: datetime | None = None
    rrule: str | None = None
    rank: int | None = Field(None, ge=1, le=999)


class DeclineIn(Schema):
    note: str = Field("", max_length=300)


class SegmentRead(Schema):
    id: str
    item: int
    title: str
    priority: str
    kind: str
    start: datetime
    end: datetime
    rule: str
    reason: str
    cut_by: int | None


class SkippedRead(Schema):
    occurrence: str
    item: int
    title: str
    scheduled_start: datetime
    rule: str
    reason: str


class TimelineRead(Schema):
    station: int
    unit_code: str
    start: datetime
    end: datetime
    clusters: list[int]
    segments: list[SegmentRead]
    skipped: list[SkippedRead]


class PolicyIn(Schema):
    allowed_start: time | None = None
    allowed_end: time | None = None
    max_sessions_per_day: int | None = Field(None, ge=1, le=48)
    max_minutes_per_session: int | None = Field(None, ge=1, le=24 * 60)
    quiet_weekdays: list[int] = Field(default_factory=list)
    quiet_dates: list[date] = Field(default_factory=list)
    note: str = Field("", max_length=300)


class PolicyRead(PolicyIn):
    unit_code: str
    inherited_from: str | None = None


class AsRunReportRow(Schema):
    station: int | None
    unit_code: str | None
    unit_name: str | None
    first_aired: datetime
    last_aired: datetime
    plays: int
    clusters: int


class AsRunReport(Schema):
    bulletin: int | None
    item: int | None
    communes: int
    clusters: int
    rows: list[AsRunReportRow]


class PlanStation(Schema):
    rank: int
    station: int
    unit_code: str
    unit_name: str
    new_rural: bool
    clusters: int
    ip: int
    legacy: int
    broken: int
    degraded: int
    year: int | None
    why: str


class PlanYear(Schema):
    year: int
    to_convert: int
    ip_stations: int
    percent: float
    target_percent: float


class PlanRead(Schema):
    total: int
    fully_ip: int
    percent_ip: float
    target_year: int
    stations: list[PlanStation]
    years: list[PlanYear]


class RelaySourceCreate(Schema):
    unit: str = Field(max_length=16, description="Mã đơn vị (thường là tỉnh)")
    name: str = Field(max_length=2000, description="tối đa 100 ký tự (kiểm tra khi lưu)")
    url: str = Field(max_length=500, description="http(s)://… của luồng")


class RelaySourceUpdate(Schema):
    """Fields to change; an omitted one keeps its value."""

    name: str | None = Field(None, max_length=2000, description="tối đa 100 ký tự")
    url: str | None = Field(None, max_length=500, description="http(s)://… của luồng")


class RelaySourceRead(Schema):
    id: int
    unit_code: str
    name: str
    url: str
