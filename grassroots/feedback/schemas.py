"""API schemas of the officer feedback API."""

from datetime import datetime

from ninja import Schema

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
