"""API schemas of units."""

from datetime import date

from ninja import Schema


class UnitBrief(Schema):
    """A unit named in another object (bulletins, reports): code and name only."""

    code: str
    name: str


class UnitRef(Schema):
    code: str
    name: str
    kind: str


class UnitRead(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    parent: UnitRef | None
    depth: int
    valid_from: date | None
    valid_to: date | None
    latitude: float | None
    longitude: float | None
    area_km2: float | None
    children_count: int
    descendants_count: int
    children_by_kind: dict[str, int]
    predecessors: list[UnitRef]
    successors: list[UnitRef]
    source: str


class UnitListItem(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    latitude: float | None
    longitude: float | None
    valid_to: date | None
