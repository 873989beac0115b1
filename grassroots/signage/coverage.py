"""E-board coverage per unit, for the console and the KPI work.

The plan's target: e-boards in every ward (phường) and town and in over 70 % of communes (xã);
by 2030 in all of them. A unit is covered when it (or a unit below it) has at least one working
board: an enabled board Device not marked broken, paired, and heard from in the last day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from grassroots.devices.choices import Condition, DeviceKind
from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

WORKING_WITHIN = timedelta(hours=24)
URBAN_KINDS = {UnitKind.WARD, UnitKind.TOWNSHIP}  # phường, thị trấn: target 100 %
RURAL_KINDS = {UnitKind.COMMUNE, UnitKind.SPECIAL_ZONE}  # xã, đặc khu: target > 70 %
RURAL_TARGET = 0.70


@dataclass
class Share:
    total: int = 0
    covered: int = 0

    @property
    def ratio(self) -> float:
        return self.covered / self.total if self.total else 0.0

    @property
    def percent(self) -> float:
        return round(100 * self.ratio, 1)


@dataclass
class Coverage:
    """Commune-level units with and without a working board, by kind, and the plan's targets."""

    urban: Share = field(default_factory=Share)
    rural: Share = field(default_factory=Share)
    units: list[dict] = field(default_factory=list)

    @property
    def meets_plan(self) -> bool:
        """Every ward/town and over 70 % of communes."""
        urban_ok = self.urban.total == 0 or self.urban.covered == self.urban.total
        rural_ok = self.rural.total == 0 or self.rural.ratio > RURAL_TARGET
        return urban_ok and rural_ok

    @property
    def meets_2030(self) -> bool:
        return self.urban.covered == self.urban.total and self.rural.covered == self.rural.total

    def as_dict(self) -> dict:
        return {
            "urban": {"total": self.urban.total, "covered": self.urban.covered,
                      "percent": self.urban.percent, "target_percent": 100},
            "rural": {"total": self.rural.total, "covered": self.rural.covered,
                      "percent": self.rural.percent, "target_percent": 70},
            "meets_plan": self.meets_plan,
            "meets_2030": self.meets_2030,
            "units": self.units,
        }  # fmt: skip


def working_boards(now: datetime | None = None):
    """Board devices that count as working right now."""
    from grassroots.devices.models import Device

    now = now or timezone.now()
    return Device.objects.filter(
        kind=DeviceKind.BOARD,
        enabled=True,
        board__token_hash__isnull=False,
        board__revoked_at__isnull=True,
        board__last_seen_at__gte=now - WORKING_WITHIN,
    ).exclude(condition=Condition.BROKEN)


def coverage(root: Unit | None = None, *, now: datetime | None = None) -> Coverage:
    """Coverage of the commune-level units under `root` (the whole tree by default)."""
    units = Unit.objects.current().filter(kind__in=UnitKind.commune_level())
    if root is not None:
        units = units.filter(path__startswith=root.path)
    units = list(units.order_by("path").values("pk", "code", "name", "kind", "path"))
    board_paths = list(working_boards(now).values_list("unit__path", flat=True))
    counts: dict[int, int] = {}
    for unit in units:
        counts[unit["pk"]] = sum(1 for p in board_paths if p.startswith(unit["path"]))
    result = Coverage()
    for unit in units:
        covered = counts[unit["pk"]] > 0
        share = result.urban if unit["kind"] in URBAN_KINDS else result.rural
        share.total += 1
        share.covered += int(covered)
        result.units.append(
            {
                "code": unit["code"],
                "name": unit["name"],
                "kind": unit["kind"],
                "working_boards": counts[unit["pk"]],
                "covered": covered,
            }
        )
    return result
