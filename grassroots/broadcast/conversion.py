"""The conversion plan to IP (chuyển đổi sang đài truyền thanh ứng dụng CNTT-VT).

Stations not yet fully IP are ranked: those with a broken legacy cluster first, then new-rural
(nông thôn mới) target communes, then by how many legacy clusters remain. The plan's target is
100 % of stations on IP; the remaining stations are spread evenly over the years left, in rank
order, so each year has a count and a percentage to reach.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from grassroots.devices.choices import Condition, DeviceKind, Technology

from .models import Station


@dataclass
class StationRow:
    station: Station
    clusters: int = 0
    ip: int = 0
    legacy: int = 0
    broken: int = 0
    degraded: int = 0
    by_tech: dict[str, int] = field(default_factory=dict)
    rank: int = 0
    year: int | None = None

    @property
    def fully_ip(self) -> bool:
        return self.clusters > 0 and self.legacy == 0

    @property
    def new_rural(self) -> bool:
        return self.station.unit.is_new_rural_target

    @property
    def why(self) -> str:
        parts = []
        if self.broken:
            parts.append(_("%(n)s cụm loa cũ hỏng") % {"n": self.broken})
        if self.new_rural:
            parts.append(_("xã mục tiêu nông thôn mới"))
        if not self.clusters:
            parts.append(_("chưa khai báo cụm loa"))
        elif self.legacy:
            parts.append(
                _("còn %(n)s/%(total)s cụm chưa IP") % {"n": self.legacy, "total": self.clusters}
            )
        return "; ".join(parts)


@dataclass
class YearRow:
    year: int
    to_convert: int
    ip_stations: int
    percent: float
    target_percent: float


@dataclass
class Plan:
    total: int
    fully_ip: int
    rows: list[StationRow]
    years: list[YearRow]
    target_year: int

    @property
    def percent_ip(self) -> float:
        return round(100 * self.fully_ip / self.total, 1) if self.total else 0.0


def build_plan(stations, *, year: int | None = None, target_year: int | None = None) -> Plan:
    """Rank the stations of this queryset and spread the remaining conversions over the years."""
    from grassroots.devices.models import Device

    year = year or timezone.localdate().year
    target_year = max(target_year or year + 2, year)
    stations = list(stations.filter(unit__valid_to__isnull=True).select_related("unit"))
    rows = {s.pk: StationRow(s) for s in stations}
    for sid, tech, cond in Device.objects.filter(
        station_id__in=rows, kind=DeviceKind.SPEAKER
    ).values_list("station_id", "technology", "condition"):
        row = rows[sid]
        row.clusters += 1
        row.by_tech[tech] = row.by_tech.get(tech, 0) + 1
        if tech == Technology.IP_4G:
            row.ip += 1
        else:
            row.legacy += 1
            row.broken += cond == Condition.BROKEN
            row.degraded += cond == Condition.DEGRADED
    todo = [r for r in rows.values() if not r.fully_ip]
    todo.sort(
        key=lambda r: (
            r.broken == 0,
            not r.new_rural,
            -r.legacy,
            r.degraded == 0,
            r.station.unit.name,
        )
    )
    done = len(rows) - len(todo)
    years_left = target_year - year + 1
    per_year = math.ceil(len(todo) / years_left) if todo else 0
    for i, r in enumerate(todo):
        r.rank = i + 1
        r.year = year + (i // per_year if per_year else 0)
    years = []
    cumulative = done
    total = len(rows)
    for n, y in enumerate(range(year, target_year + 1), start=1):
        convert = sum(1 for r in todo if r.year == y)
        cumulative += convert
        start_pct = 100 * done / total if total else 100.0
        target_pct = start_pct + (100 - start_pct) * n / years_left
        years.append(
            YearRow(
                y,
                convert,
                cumulative,
                round(100 * cumulative / total, 1) if total else 100.0,
                round(target_pct, 1),
            )
        )
    return Plan(total=total, fully_ip=done, rows=todo, years=years, target_year=target_year)


def plan_xlsx(plan: Plan) -> bytes:
    """The plan as a workbook: ranked stations, then the yearly steps to 100 % IP."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Kế hoạch chuyển đổi"
    ws.append(
        [
            f"Kế hoạch chuyển đổi đài truyền thanh cấp xã sang ứng dụng CNTT-VT: mục tiêu 100 % "
            f"đến năm {plan.target_year}. Hiện có {plan.fully_ip}/{plan.total} đài "
            f"({plan.percent_ip} %) đã chuyển đổi hoàn toàn."
        ]
    )
    header = [
        "Thứ tự",
        "Mã đơn vị",
        "Đơn vị",
        "Nông thôn mới",
        "Số cụm loa",
        "Cụm IP/4G",
        "Cụm chưa IP",
        "Cụm cũ hỏng",
        "Cụm cũ xuống cấp",
        "Năm dự kiến chuyển đổi",
        "Lý do ưu tiên",
    ]
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in plan.rows:
        ws.append(
            [
                r.rank,
                r.station.unit.code,
                r.station.unit.name,
                "Có" if r.new_rural else "",
                r.clusters,
                r.ip,
                r.legacy,
                r.broken,
                r.degraded,
                r.year,
                r.why,
            ]
        )
    ys = wb.create_sheet("Theo năm")
    ys.append(["Năm", "Số đài chuyển đổi", "Số đài IP cuối năm", "Tỉ lệ IP (%)", "Chỉ tiêu (%)"])
    for cell in ys[1]:
        cell.font = Font(bold=True)
    for y in plan.years:
        ys.append([y.year, y.to_convert, y.ip_stations, y.percent, y.target_percent])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
