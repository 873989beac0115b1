"""API schemas of the training records (names unique across the API: Training*)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from grassroots.units.schemas import UnitBrief

from .choices import Position, Result, Topic


class StaffIn(Schema):
    unit: str = Field(max_length=16, description="mã đơn vị")
    full_name: str = Field(min_length=1, max_length=200)
    position: Position
    job_title: str = Field("", max_length=200)
    requires_training: bool | None = Field(None, description="mặc định theo vị trí")
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    phone: str = Field("", max_length=20)
    note: str = Field("", max_length=500)


class StaffUpdate(Schema):
    full_name: str | None = Field(None, min_length=1, max_length=200)
    position: Position | None = None
    job_title: str | None = Field(None, max_length=200)
    requires_training: bool | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    phone: str | None = Field(None, max_length=20)
    note: str | None = Field(None, max_length=500)


class StaffRead(Schema):
    id: int
    unit: UnitBrief
    full_name: str
    position: str
    position_label: str
    job_title: str
    requires_training: bool
    start_date: dt.date | None
    end_date: dt.date | None
    phone: str
    note: str


class CourseIn(Schema):
    unit: str = Field(max_length=16, description="đơn vị tổ chức")
    title: str = Field(min_length=1, max_length=300)
    topics: list[Topic] = Field(min_length=1, max_length=len(Topic.values))
    description: str = Field("", max_length=5000)


class CourseRead(Schema):
    id: int
    unit: UnitBrief
    title: str
    topics: list[str]
    topic_labels: list[str]
    description: str


class SessionIn(Schema):
    course: int
    starts_on: dt.date
    ends_on: dt.date | None = None
    place: str = Field(min_length=1, max_length=300)
    trainer: str = Field(min_length=1, max_length=200)
    hours: Decimal = Field(ge=Decimal("0.5"), le=Decimal("999"), decimal_places=1)


class SessionRead(Schema):
    id: int
    course: int
    course_title: str
    unit: UnitBrief
    starts_on: dt.date
    ends_on: dt.date
    place: str
    trainer: str
    hours: float
    attendees: int
    passed: int


class AttendanceIn(Schema):
    staff: int
    result: Result
    score: Decimal | None = Field(None, ge=0, le=10, decimal_places=1)
    attended_on: dt.date | None = None
    note: str = Field("", max_length=500)


class AttendanceRead(Schema):
    id: int
    session: int
    staff: int
    full_name: str
    unit: UnitBrief
    result: str
    result_label: str
    score: float | None
    attended_on: dt.date | None
    note: str


class AttendanceImportRead(Schema):
    created: int
    updated: int


class TrainedShareRead(Schema):
    unit: UnitBrief
    start: dt.date
    end: dt.date
    trained: int | None = Field(description="null: chưa có dữ liệu")
    required: int | None
    ratio: float | None = Field(description="0..1; null khi đơn vị chưa có cán bộ phải đào tạo")
