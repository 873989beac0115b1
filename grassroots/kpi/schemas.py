"""API shapes of the indicators and their values."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema


class TargetRead(Schema):
    year: int
    comparison: str  # gte, gt or lte
    value: float
    source: str


class IndicatorRead(Schema):
    id: str
    name: str
    definition: str
    formula: str
    unit: str  # "%", "phút", "giờ", "giây", "sao", "bản tin"
    group: str
    higher_is_better: bool
    has_data: bool  # false: no source of facts yet (the value is always null)
    targets: list[TargetRead]


class Point(Schema):
    start: date  # first day of the bucket (day, month or year)
    value: float | None  # null: no facts in the bucket ("chưa có dữ liệu")


class ValuesRead(Schema):
    indicator: str
    unit: str  # the unit's code
    unit_name: str
    start: date
    end: date
    by: str
    total: float | None  # the value over the whole range
    target: TargetRead | None
    values: list[Point]


class ReportUnitBrief(Schema):
    code: str
    name: str


class YearlyReportRead(Schema):
    """A yearly report as listed: who, which year, where it stands."""

    id: int
    kind: str  # unit, agency or provincial
    year: int
    unit: ReportUnitBrief
    body: str | None  # the agency's name (kind agency)
    reporter: str
    state: str  # draft, submitted, returned, accepted
    state_label: str
    submitted_at: datetime | None
    reviewed_at: datetime | None
    review_comment: str
    times_returned: int


class ReportEventRead(Schema):
    at: datetime
    user: str
    from_state: str
    to_state: str
    comment: str


class YearlyReportDetail(YearlyReportRead):
    """One report whole: the officer's text per section, the figures as stored (frozen when
    it was sent), its heading and its history."""

    texts: dict[str, str]
    figures: dict
    figures_at: datetime | None
    number: str
    signed_on: date | None
    signer_name: str
    events: list[ReportEventRead]
