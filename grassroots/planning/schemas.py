"""API schemas of the plan's implementation records (names unique across the API)."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from grassroots.units.schemas import UnitBrief

from .choices import FundingSource, InspectionKind, Purpose

AMOUNT = Field(ge=0, lt=10**15, description="đồng (số nguyên)")


class InvestmentIn(Schema):
    unit: str = Field(max_length=16)
    year: int = Field(ge=2020, le=2100)
    purpose: Purpose
    source: FundingSource
    title: str = Field(min_length=1, max_length=300)
    planned_amount: int = AMOUNT
    spent_amount: int = Field(0, ge=0, lt=10**15, description="đồng (số nguyên)")
    station: int | None = None
    board: int | None = None
    course: int | None = None
    decision: str = Field("", max_length=200)
    note: str = Field("", max_length=500)


class InvestmentRead(Schema):
    id: int
    unit: UnitBrief
    year: int
    purpose: str
    purpose_label: str
    source: str
    source_label: str
    title: str
    planned_amount: int
    spent_amount: int
    station: int | None
    board: int | None
    course: int | None
    decision: str
    note: str


class FundingRow(Schema):
    year: int
    source: str
    source_label: str
    planned: int
    spent: int


class FundingSummaryRead(Schema):
    rows: list[FundingRow]
    total_planned: int
    total_spent: int


class SiteIn(Schema):
    unit: str = Field(max_length=16)
    address: str = Field(min_length=1, max_length=300)
    reason: str = Field(min_length=1, max_length=5000)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class SiteReviewIn(Schema):
    approve: bool
    note: str = Field("", max_length=500)


class SiteBoardIn(Schema):
    board: int
    installed_on: dt.date | None = None


class SiteRead(Schema):
    id: int
    unit: UnitBrief
    address: str
    latitude: float | None
    longitude: float | None
    reason: str
    status: str
    status_label: str
    review_note: str
    reviewed_at: dt.datetime | None
    board: int | None
    installed_on: dt.date | None


class InspectionIn(Schema):
    station: int
    kind: InspectionKind
    inspected_on: dt.date
    inspector: str = Field(min_length=1, max_length=200)
    period_start: dt.date
    period_end: dt.date
    equipment_ok: bool | None = None
    relay_slots_kept: bool | None = None
    content_approved: bool | None = None
    logs_kept: bool | None = None
    findings: str = Field("", max_length=10000)
    follow_up: str = Field("", max_length=5000)
    follow_up_deadline: dt.date | None = None


class InspectionRead(Schema):
    id: int
    station: int
    unit: UnitBrief
    kind: str
    kind_label: str
    inspected_on: dt.date
    inspector: str
    period_start: dt.date
    period_end: dt.date
    checklist: dict[str, bool | None]
    findings: str
    follow_up: str
    follow_up_deadline: dt.date | None
    evidence: dict
