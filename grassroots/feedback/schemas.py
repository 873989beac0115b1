"""API schemas of the officer feedback API."""

from datetime import date, datetime

from ninja import Field, Schema

from grassroots.units.schemas import UnitBrief


class ReportCategoryRead(Schema):
    code: str
    name: str
    description: str
    deadline_working_days: int


class EventRead(Schema):
    time: datetime
    kind: str
    kind_label: str
    user: str | None
    note: str
    from_unit: str | None
    to_unit: str | None


class ReportListItem(Schema):
    id: int
    tracking_code: str
    category: str
    category_name: str
    unit: UnitBrief
    origin_unit: UnitBrief
    status: str
    status_label: str
    resolution: str
    assignee: str | None
    created_at: datetime
    due_at: datetime
    overdue: bool
    escalation_level: int


class ReportRead(ReportListItem):
    text: str
    address: str
    latitude: float | None
    longitude: float | None
    name: str
    phone: str
    email: str
    channel: str
    public_answer: str
    private_answer: str
    answered_at: datetime | None
    closed_at: datetime | None
    merged_into: str | None
    photos: list[str]
    rating: int | None
    events: list[EventRead]


class AssignIn(Schema):
    assignee: str


class RerouteIn(Schema):
    unit_code: str
    reason: str


class MergeIn(Schema):
    into_id: int


class AnswerIn(Schema):
    public_answer: str = ""
    private_answer: str = ""
    resolution: str = ""


class CloseIn(Schema):
    resolution: str
    note: str = ""


class ReopenIn(Schema):
    reason: str


class ReportCategoryIn(Schema):
    """A category to create (`code` required then) or change (fields not sent are kept)."""

    code: str | None = Field(None, max_length=50)
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    group: str | None = Field(None, max_length=100)
    keywords: str | None = Field(None, max_length=200)
    deadline_working_days: int | None = None
    escalation_working_days: int | None = None
    is_active: bool | None = None
    order: int | None = None


class ReportCategoryDetail(Schema):
    id: int
    code: str
    name: str
    description: str
    group: str
    keywords: str
    deadline_working_days: int
    escalation_working_days: int
    is_active: bool
    order: int


class HolidayIn(Schema):
    date: str = Field(..., max_length=10, description="YYYY-MM-DD")
    name: str = Field(..., max_length=200)


class HolidayRead(Schema):
    id: int
    date: date
    name: str


class HolidayImportIn(Schema):
    year: int
    dates: list[str] | None = Field(
        None, max_length=60, description="YYYY-MM-DD; không gửi = mọi ngày nghỉ chính thức của năm"
    )
