"""Reads of the exchange reused by the API and the console: national figures, bulletin fates."""

from __future__ import annotations

import datetime
from typing import Any

from .models import BulletinFate, Peer, PeerMonth, UnitMonth

SUMMED = ("plays", "plays_scheduled", "reports_received", "reports_handled", "essential_due",
          "essential_aired", "device_expected_s", "device_online_s")  # fmt: skip


def national(user, month: datetime.date) -> dict[str, Any]:
    """One month's figures per peer (province) and for the country: communes reporting, the
    counters summed, devices, availability, feedback."""
    peers = Peer.objects.restrict(user, "exchange.view").order_by("name")
    rows = []
    total: dict[str, Any] = {"communes": 0, "devices_total": 0, "devices_online": 0,
                             **dict.fromkeys(SUMMED, 0)}  # fmt: skip
    fb = {
        m.peer_id: m
        for m in PeerMonth.objects.filter(peer__in=peers, month=month).select_related("peer")
    }
    for peer in peers:
        figures: dict[str, Any] = {"communes": 0, "devices_total": 0, "devices_online": 0,
                                   **dict.fromkeys(SUMMED, 0)}  # fmt: skip
        for u in UnitMonth.objects.filter(peer=peer, month=month).only(
            "counters", "devices_total", "devices_online"
        ):
            figures["communes"] += 1
            figures["devices_total"] += u.devices_total
            figures["devices_online"] += u.devices_online
            for name in SUMMED:
                figures[name] += int(u.counters.get(name, 0) or 0)
        if not figures["communes"]:
            continue
        month_row = fb.get(peer.pk)
        figures["feedback_received"] = month_row.feedback_received if month_row else 0
        figures["feedback_handled"] = month_row.feedback_handled if month_row else 0
        for k, v in figures.items():
            total[k] = total.get(k, 0) + v
        rows.append({"peer": peer.code, "name": peer.name, **_rates(figures)})
    return {"month": month.strftime("%Y-%m"), "provinces": rows, "country": _rates(total)}


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


def fates(user):
    return (
        BulletinFate.objects.restrict(user, "exchange.view")
        .select_related("peer")
        .order_by("-updated_at")
    )
