"""Reads of the exchange reused by the API and the console: national figures, bulletin fates,
the bulletins sent down and how far each came at each receiver."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models

from .choices import DeliveryStatus, FateState, Kind
from .models import BulletinFate, OutboundMessage, Peer, PeerMonth, UnitMonth

SUMMED = ("plays", "plays_scheduled", "reports_received", "reports_handled", "essential_due",
          "essential_aired", "device_expected_s", "device_online_s")  # fmt: skip


def national(user, month: datetime.date) -> dict[str, Any]:
    """One month's figures per peer (province) and for the country: communes reporting, the
    counters summed, devices, availability, feedback."""
    peers = Peer.objects.restrict(user, "exchange.view").select_related("unit").order_by("name")
    rows = []
    total: dict[str, Any] = {"communes": 0, "devices_total": 0, "devices_online": 0,
                             **dict.fromkeys(SUMMED, 0)}  # fmt: skip
    fb = {
        m.peer_id: m
        for m in PeerMonth.objects.filter(peer__in=peers, month=month).select_related("peer")
    }
    country_counters = dict.fromkeys(_kpi_fields(), 0)
    for peer in peers:
        figures: dict[str, Any] = {"communes": 0, "devices_total": 0, "devices_online": 0,
                                   **dict.fromkeys(SUMMED, 0)}  # fmt: skip
        counters = dict.fromkeys(_kpi_fields(), 0)
        for u in UnitMonth.objects.filter(peer=peer, month=month).only(
            "unit_code", "counters", "devices_total", "devices_online"
        ):
            # the province's own row (its bulletins, approvals: stats.unit_rows) is no commune
            figures["communes"] += int(u.unit_code != peer.unit.code)
            figures["devices_total"] += u.devices_total
            figures["devices_online"] += u.devices_online
            for name in counters:
                counters[name] += int(u.counters.get(name, 0) or 0)
        if not figures["communes"]:
            continue
        for name in SUMMED:
            figures[name] = counters[name]
        month_row = fb.get(peer.pk)
        figures["feedback_received"] = month_row.feedback_received if month_row else 0
        figures["feedback_handled"] = month_row.feedback_handled if month_row else 0
        for k, v in figures.items():
            total[k] = total.get(k, 0) + v
        for k, v in counters.items():
            country_counters[k] += v
        rows.append(
            {"peer": peer.code, "name": peer.name, **_rates(figures),
             "indicators": indicators(counters)}
        )  # fmt: skip
    country = _rates(total)
    country["indicators"] = indicators(country_counters) if rows else {}
    return {"month": month.strftime("%Y-%m"), "provinces": rows, "country": country}


def _kpi_fields() -> tuple[str, ...]:
    from grassroots.kpi.models import FLOW_FIELDS, STOCK_FIELDS

    return (*FLOW_FIELDS, *STOCK_FIELDS)


def national_indicators():
    """The kpi indicators a province's or the country's value can be computed for from the
    communes' counters (sums of flows, inventories of the month's last day). The others need
    what the counters do not carry (units by kind with a working e-board, staff on record,
    each emergency's acceptances): they are shown per commune only."""
    from grassroots.kpi.indicators import INDICATORS

    return [i for i in INDICATORS if i.id not in PER_COMMUNE_ONLY]


PER_COMMUNE_ONLY = frozenset(
    {"eboard_wards", "eboard_communes", "staff_trained", "emergency_delivered", "emergency_t95"}
)


def indicators(counters: dict[str, int]) -> dict[str, float | None]:
    """{indicator id: value} computed from summed counters with the kpi app's own definitions
    (`kpi.indicators`, the dashboard's numbers); None where the counters give no base."""
    from grassroots.kpi.indicators import Totals
    from grassroots.kpi.models import FLOW_FIELDS, STOCK_FIELDS

    t = Totals(has_rows=True)
    t.flow.update({f: counters.get(f, 0) for f in FLOW_FIELDS})
    t.stock.update({f: counters.get(f, 0) for f in STOCK_FIELDS})
    return {i.id: i.value(t) for i in national_indicators()}


def _rates(f: dict[str, Any]) -> dict[str, Any]:
    out = dict(f)
    out["availability"] = (
        round(100 * f["device_online_s"] / f["device_expected_s"], 1)
        if f.get("device_expected_s")
        else None
    )
    out["essential_reach"] = (
        round(100 * f["essential_aired"] / f["essential_due"], 1)
        if f.get("essential_due")
        else None
    )
    return out


def sent_bulletins(
    user, *, bulletin_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The bulletins this system sent down (newest first), each with one row per receiver the
    user may see: the delivery of the newest version from our outbox and what the receiver's
    statistics say became of it (`BulletinFate`), summed up as a `FateState`.

    Returns [{"message_id", "bulletin_id", "title", "sent_at", "receivers": [{"peer", "name",
    "status", "via", "delivered_at", "error", "error_detail", "advice", "version", "received",
    "approved", "communes", "placed", "aired_communes", "plays", "reported_at", "state",
    "state_label"}], "counts":
    {"sent", "received", "placed", "aired"}}]. `bulletin_id` keeps the one bulletin (our own
    pk, the id in `<source>:bulletin:<pk>`, `actions.bulletin_message_id`).
    """
    from .keys import own_id

    prefix = f"{own_id()}:bulletin:"
    out = OutboundMessage.objects.restrict(user, "exchange.view").filter(
        kind=Kind.BULLETIN, message_id__startswith=prefix
    )
    if bulletin_id is not None:
        out = out.filter(message_id=f"{prefix}{bulletin_id}")
    else:
        newest = (
            out.values("message_id")
            .annotate(last=models.Max("id"))
            .order_by("-last")
            .values_list("message_id", flat=True)[:limit]
        )
        out = out.filter(message_id__in=list(newest))
    rows = list(
        out.exclude(status=DeliveryStatus.SUPERSEDED)
        .select_related("peer")
        .order_by("message_id", "peer__name", "-version")
    )
    fates = {
        (f.peer_id, f.message_id): f
        for f in BulletinFate.objects.restrict(user, "exchange.view").filter(
            message_id__in={r.message_id for r in rows}
        )
    }
    by_message: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_message.setdefault(
            r.message_id,
            {
                "message_id": r.message_id,
                "bulletin_id": int(r.message_id.removeprefix(prefix)),
                "title": r.title,
                "sent_at": r.created_at,
                "last_id": r.pk,
                "receivers": [],
                "seen": set(),
            },
        )
        entry["last_id"] = max(entry["last_id"], r.pk)
        entry["sent_at"] = min(entry["sent_at"], r.created_at)
        if r.peer_id in entry["seen"]:
            continue  # an older version of the same message to the same peer
        entry["seen"].add(r.peer_id)
        entry["receivers"].append(_receiver(r, fates.get((r.peer_id, r.message_id))))
    result = sorted(by_message.values(), key=lambda e: -e["last_id"])
    for e in result:
        del e["seen"], e["last_id"]
        e["counts"] = {
            "sent": len(e["receivers"]),
            "received": sum(1 for x in e["receivers"] if x["received"]),
            "placed": sum(1 for x in e["receivers"] if x["placed"]),
            "aired": sum(1 for x in e["receivers"] if x["aired_communes"]),
        }
    return result


def _receiver(row: OutboundMessage, fate: BulletinFate | None) -> dict[str, Any]:
    from .outbound import advice_for

    if fate is not None and fate.aired_communes:
        state = FateState.AIRED
    elif fate is not None and fate.placed:
        state = FateState.PLACED
    elif fate is not None and fate.approved:
        state = FateState.APPROVED
    elif fate is not None and fate.received:
        state = FateState.RECEIVED
    else:
        state = FateState(row.status) if row.status in FateState.values else FateState.PENDING
    return {
        "peer": row.peer.code,
        "name": row.peer.name,
        "status": row.status,
        "via": row.delivered_via,
        "delivered_at": row.delivered_at,
        "error": row.error_summary[0],
        "error_detail": row.error_summary[1],
        "advice": advice_for(row).text,
        "retry": advice_for(row).retry,
        "version": row.version,
        "received": bool(fate and fate.received),
        "approved": bool(fate and fate.approved),
        "communes": fate.communes if fate else 0,
        "placed": fate.placed if fate else 0,
        "aired_communes": fate.aired_communes if fate else 0,
        "plays": fate.plays if fate else 0,
        "reported_at": fate.updated_at if fate else None,
        "state": state.value,
        "state_label": str(state.label),
    }
