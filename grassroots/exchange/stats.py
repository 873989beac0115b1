"""Statistics going up: one month of the province's figures, from the kpi app's numbers.

Per commune-level unit: its kind, every KPI indicator's value (kpi.indicators, the same numbers
as the dashboard), the month's counters (every kpi DailyRollup field: the flows summed over the
month, the inventory of its last day, so that the centre can compute the same indicators for a
province and for the country), its staff to be trained and trained, and its devices; the
province's emergencies (devices expected, devices that took them, seconds to 95 % per
emergency); per bulletin received from a peer: received, approved, placed (communes that
scheduled it) and aired (as-run plays).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

from . import keys, outbound
from .choices import Kind
from .models import InboundMessage, OutboundMessage, Peer


def _counters() -> tuple[str, ...]:
    from grassroots.kpi.models import FLOW_FIELDS, STOCK_FIELDS

    return (*FLOW_FIELDS, *STOCK_FIELDS)


PROVINCE_PREFIXES = ("Tỉnh ", "Thành phố ")


def title(province: str, month: str) -> str:
    """A statistics message named for people: "Hưng Yên, tháng 11/2026" (the province's name
    in our unit tree without "Tỉnh"/"Thành phố", else its code; `month` is `YYYY-MM`)."""
    unit = Unit.objects.current().filter(code=province).only("name").first()
    name = unit.name if unit else province
    for prefix in PROVINCE_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name.removeprefix(prefix)
            break
    year, _sep, number = month.partition("-")
    return f"{name}, tháng {number}/{year}" if number else f"{name}, {month}"


def month_bounds(month: str) -> tuple[datetime.date, datetime.date]:
    year, number = (int(x) for x in month.split("-"))
    start = datetime.date(year, number, 1)
    end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return start, end


def _staff(share) -> dict[str, int] | None:
    return {"trained": share.trained, "required": share.required} if share else None


def unit_rows(province: Unit, start: datetime.date, end: datetime.date) -> list[dict]:
    """One row per commune-level unit in force under the province (with its kind and its
    staff to be trained), then, when it has any, a row for the province's own facts (kpi
    counts a fact at the unit it belongs to: the bulletins the province publishes and
    approves, the province's own staff, are in no commune's row): unit = the province's code,
    its counters and staff = the province's totals less the communes', no indicators (they
    are the centre's to compute from the sums)."""
    return province_figures(province, start, end)[0]


def province_figures(
    province: Unit, start: datetime.date, end: datetime.date
) -> tuple[list[dict], dict[str, Any]]:
    """(`unit_rows`, the month's emergencies over the province: `federation.EmergencyFigures`
    from the kpi app's totals)."""
    from grassroots.devices.models import Device
    from grassroots.kpi.indicators import INDICATORS
    from grassroots.kpi.querysets import totals

    communes = Unit.objects.current().filter(
        path__startswith=province.path, kind__in=UnitKind.commune_level()
    )
    devices = dict(
        Device.objects.filter(unit__in=communes, enabled=True)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    rows = []
    counters = _counters()
    for unit in communes.order_by("path"):
        t = totals(unit, start, end, emergencies=False)
        expected, online = t["device_expected_s"], t["device_online_s"]
        rows.append(
            {
                "unit": unit.code,
                "name": unit.name,
                "kind": unit.kind,
                "staff": _staff(t.staff),
                "indicators": {i.id: i.value(t) for i in INDICATORS},
                "counters": {name: int(t[name]) for name in counters},
                "devices": {
                    "total": devices.get(unit.pk, 0),
                    "online": int(t["speakers_ip_seen"]),
                    "availability": round(100 * online / expected, 1) if expected else None,
                },
            }
        )
    whole = totals(province, start, end, emergencies=True)
    own = {
        name: max(0, int(whole[name]) - sum(r["counters"][name] for r in rows)) for name in counters
    }
    own_staff = None
    if whole.staff is not None:
        trained, required = (
            whole.staff.trained - sum(r["staff"]["trained"] for r in rows if r["staff"]),
            whole.staff.required - sum(r["staff"]["required"] for r in rows if r["staff"]),
        )
        own_staff = {"trained": trained, "required": required} if required > 0 else None
    if any(own.values()) or own_staff:
        rows.append(
            {
                "unit": province.code,
                "name": province.name,
                "kind": "",
                "staff": own_staff,
                "indicators": {},
                "counters": own,
                "devices": {
                    "total": Device.objects.filter(unit=province, enabled=True).count(),
                    "online": own["speakers_ip_seen"],
                    "availability": None,
                },
            }
        )
    emergencies = {
        "expected": whole.emergency_expected,
        "delivered": whole.emergency_delivered,
        "t95_s": [round(x, 3) for x in whole.emergency_t95],
    }
    return rows, emergencies


def aired(peer: Peer) -> list[dict[str, Any]]:
    """What became of each bulletin this peer sent us."""
    from grassroots.broadcast.choices import AsRunStatus, ProposalStatus
    from grassroots.broadcast.models import AsRunEntry, Proposal
    from grassroots.content.choices import Status

    out = []
    received = InboundMessage.objects.filter(
        peer=peer, kind=Kind.BULLETIN, bulletin__isnull=False
    ).select_related("bulletin")
    for record in received:
        bulletin = record.bulletin
        plays = AsRunEntry.objects.filter(
            item__revision__bulletin=bulletin, status=AsRunStatus.PLAYED
        )
        out.append(
            {
                "ref": record.message_id,
                "received": True,
                # approved here at some time: a bulletin withdrawn (or archived) after it was
                # approved and shared down still was approved, as its communes say
                "approved": bulletin.status
                in (Status.APPROVED, Status.PUBLISHED, Status.EXPIRED, Status.ARCHIVED)
                or (bulletin.approved_revision_id is not None and bulletin.shares.exists()),
                "communes": bulletin.shares.count(),
                "placed": Proposal.objects.filter(
                    share_id__in=bulletin.shares.values("pk"), status=ProposalStatus.PLACED
                ).count(),
                "aired_communes": plays.values("device__unit").distinct().count(),
                "plays": plays.count(),
            }
        )
    return out


def body_for(peer: Peer, month: str) -> dict[str, Any]:
    from grassroots.feedback.models import Report

    start, end = month_bounds(month)
    province = peer_province()
    reports = Report.objects.filter(
        created_at__date__gte=start, created_at__date__lte=end, unit__path__startswith=province.path
    )
    units, emergencies = province_figures(province, start, end)
    return {
        "province": province.code,
        "month": month,
        "units": units,
        "aired": aired(peer),
        "feedback_received": reports.count(),
        "feedback_handled": reports.filter(closed_at__isnull=False).count(),
        "emergencies": emergencies,
    }


def peer_province() -> Unit:
    from grassroots.alerts.cap.ingest import province

    return province()


def send(*, month: str | None = None) -> int:
    """Send this month's statistics to every peer that receives statistics (a newer version
    each time: the receiver keeps the latest). The kpi rollups are brought up to date first,
    so that what aired since the worker's last rollup run is counted."""
    from grassroots.kpi import rollup

    month = month or timezone.localdate().strftime("%Y-%m")
    peers = [p for p in Peer.objects.filter(active=True) if Kind.STATISTICS in (p.kinds_out or [])]
    if not peers:
        return 0
    rollup.refresh()
    sent = 0
    for peer in peers:
        body = body_for(peer, month)
        message_id = f"{keys.own_id()}:statistics:{month}"
        with transaction.atomic():
            sent += len(
                outbound.emit(
                    peers=[peer],
                    kind=Kind.STATISTICS,
                    message_id=message_id,
                    body=body,
                    version=_version(peer, message_id),
                    title=f"Số liệu {title(body['province'], month)}",
                )
            )
    return sent


def _version(peer: Peer, message_id: str) -> int:
    last = (
        OutboundMessage.objects.filter(peer=peer, message_id=message_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return (last or 0) + 1
