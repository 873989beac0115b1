"""API shapes of the indicators and their values."""

from __future__ import annotations

from datetime import date

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
