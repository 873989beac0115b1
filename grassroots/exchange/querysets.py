"""Reads of the exchange reused by the API and the console: national figures, bulletin fates,
the bulletins sent down and how far each came at each receiver, and the refusals a user may
see (`RefusedMessageQuerySet.restrict`).

The models import this module (their managers), so it imports the models inside functions.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import DeliveryStatus, FateState, Kind

if TYPE_CHECKING:
    from .models import BulletinFate, OutboundMessage, UnitMonth


class RefusedMessageQuerySet(models.QuerySet):
    """Refused inbound messages (`RefusedMessage`), scoped like the peers they came from."""

    def restrict(self, user, action: str = "exchange.view") -> RefusedMessageQuerySet:
        """The refusals `user` may see: those of a declared peer to whoever sees the peer
        (`Peer.objects.restrict(user, action)`); those of unknown senders (no peer: anyone may
        knock) only to whoever holds `exchange.manage` on the root unit of the tree, i.e.
        manages the exchange of the whole system."""
        from grassroots.accounts.scope import covers
        from grassroots.units.models import Unit

        from .models import Peer

        peers = Peer.objects.restrict(user, action)
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        root = Unit.objects.current().filter(parent__isnull=True).first()
        whole = root is not None and covers(user, "exchange.manage", root)
        return self.filter(Q(peer__in=peers) | Q(peer__isnull=True) if whole else Q(peer__in=peers))


SUMMED = ("plays", "plays_scheduled", "reports_received", "reports_handled", "essential_due",
          "essential_aired", "device_expected_s", "device_online_s")  # fmt: skip


def national(user, month: datetime.date) -> dict[str, Any]:
    """One month's figures per peer (province, named by the peer's scope unit: `name`; the
    peer's own name is `peer_name`) and for the country: communes reporting, the
    counters summed, devices, availability, feedback, and every kpi indicator (`indicators`)
    with the base of those counted per commune or per emergency (`bases`)."""
    from grassroots.kpi.indicators import Totals

    from .models import Peer, PeerMonth, UnitMonth

    peers = (
        Peer.objects.restrict(user, "exchange.view")
        .select_related("unit")
        .order_by("unit__name", "name")
    )
    rows = []
    total: dict[str, Any] = {"communes": 0, "devices_total": 0, "devices_online": 0,
                             **dict.fromkeys(SUMMED, 0)}  # fmt: skip
    fb = {
        m.peer_id: m
        for m in PeerMonth.objects.filter(peer__in=peers, month=month).select_related("peer")
    }
    country = Totals(has_rows=True)
    for peer in peers:
        figures: dict[str, Any] = {"communes": 0, "devices_total": 0, "devices_online": 0,
                                   **dict.fromkeys(SUMMED, 0)}  # fmt: skip
        t = Totals(has_rows=True)
        for u in UnitMonth.objects.filter(peer=peer, month=month).only(
            "unit_code", "unit_kind", "indicators", "counters", "devices_total",
            "devices_online", "staff_trained", "staff_required",
        ):  # fmt: skip
            # the province's own row (its bulletins, approvals: stats.unit_rows) is no commune
            figures["communes"] += int(u.unit_code != peer.unit.code)
            figures["devices_total"] += u.devices_total
            figures["devices_online"] += u.devices_online
            _add_unit(t, u)
        if not figures["communes"]:
            continue
        for name in SUMMED:
            figures[name] = t[name]
        month_row = fb.get(peer.pk)
        figures["feedback_received"] = month_row.feedback_received if month_row else 0
        figures["feedback_handled"] = month_row.feedback_handled if month_row else 0
        _add_emergencies(t, month_row.emergencies if month_row else None)
        for k, v in figures.items():
            total[k] = total.get(k, 0) + v
        _merge(country, t)
        rows.append(
            # a row is the province (the peer's scope unit), not the system that reported it
            {"peer": peer.code, "name": peer.unit.name, "peer_name": peer.name,
             **_rates(figures),
             "indicators": indicator_values(t), "bases": bases(t)}
        )  # fmt: skip
    out = _rates(total)
    out["indicators"] = indicator_values(country) if rows else {}
    out["bases"] = bases(country) if rows else {}
    return {"month": month.strftime("%Y-%m"), "provinces": rows, "country": out}


def national_indicators():
    """The kpi indicators, every one of them computed for a province and the country from the
    provinces' statistics (`indicator_values`)."""
    from grassroots.kpi.indicators import INDICATORS

    return list(INDICATORS)


def _unit_kind(u: UnitMonth) -> str:
    """'urban' (phường, thị trấn), 'rural' (xã, đặc khu) or '' (the province's own row, or a
    sender of 1.1 before units carried their kind: then the commune's own e-board
    indicators tell, when it had any figures)."""
    from grassroots.kpi.querysets import RURAL, URBAN

    if u.unit_kind:
        return "urban" if u.unit_kind in URBAN else "rural" if u.unit_kind in RURAL else ""
    if (u.indicators or {}).get("eboard_wards") is not None:
        return "urban"
    if (u.indicators or {}).get("eboard_communes") is not None:
        return "rural"
    return ""


def _add_unit(t, u: UnitMonth) -> None:
    """Add one unit's month to the kpi `Totals` `t`: its counters (flows summed, inventories
    of its last day), the unit counted by kind with or without a working e-board (the kpi
    rule: at least one board working on the last day), its staff to be trained."""
    counters = u.counters or {}
    for name in t.flow:
        t.flow[name] += int(counters.get(name, 0) or 0)
    for name in t.stock:
        t.stock[name] += int(counters.get(name, 0) or 0)
    covered = int(int(counters.get("boards_working", 0) or 0) > 0)
    kind = _unit_kind(u)
    if kind == "urban":
        t.wards += 1
        t.wards_covered += covered
    elif kind == "rural":
        t.communes += 1
        t.communes_covered += covered
    if u.staff_required:
        _add_staff(t, u.staff_trained or 0, u.staff_required)


def _add_staff(t, trained: int, required: int) -> None:
    from grassroots.training.querysets import TrainedShare

    if required:
        base = t.staff or TrainedShare(0, 0)
        t.staff = TrainedShare(base.trained + trained, base.required + required)


def _add_emergencies(t, figures: dict | None) -> None:
    """A province's emergencies of the month (`federation.EmergencyFigures`) into `t`."""
    if not figures:
        return
    t.emergency_expected += int(figures.get("expected") or 0)
    t.emergency_delivered += int(figures.get("delivered") or 0)
    t.emergency_t95.extend(float(x) for x in figures.get("t95_s") or ())
    t.has_emergencies = t.has_emergencies or bool(t.emergency_expected or t.emergency_t95)


def _merge(into, t) -> None:
    """The country's totals: every sum of a province's `Totals` added up (a ratio of the
    country is then a ratio of sums; its emergency delay the mean over every emergency)."""
    for name in into.flow:
        into.flow[name] += t.flow[name]
    for name in into.stock:
        into.stock[name] += t.stock[name]
    into.wards += t.wards
    into.wards_covered += t.wards_covered
    into.communes += t.communes
    into.communes_covered += t.communes_covered
    if t.staff:
        _add_staff(into, t.staff.trained, t.staff.required)
    into.emergency_expected += t.emergency_expected
    into.emergency_delivered += t.emergency_delivered
    into.emergency_t95.extend(t.emergency_t95)
    into.has_emergencies = into.has_emergencies or t.has_emergencies


def indicator_values(t) -> dict[str, float | None]:
    """{indicator id: value} of the kpi app's own definitions (`kpi.indicators`, the
    dashboard's numbers) over totals summed from the communes' rows; None where they give no
    base (no ward, no staff on record, no emergency…)."""
    return {i.id: i.value(t) for i in national_indicators()}


BASE_UNITS = {
    "eboard_wards": _("phường, thị trấn"),
    "eboard_communes": _("xã, đặc khu"),
    "staff_trained": _("cán bộ"),
    "emergency_delivered": _("thiết bị"),
    "emergency_t95": _("lần phát khẩn cấp"),
}
"""What each base of `bases` counts, as the national page names it."""


def bases(t) -> dict[str, dict[str, int | None]]:
    """What the indicators counted per unit, person or device stand on: {indicator id:
    {"count": numerator, "of": denominator}}: wards (communes) with a working e-board of
    those reporting, staff trained of those to be trained, devices that took an emergency of
    those expected to; for `emergency_t95` the emergencies whose delays are averaged (those
    that reached 95 % of their devices), `of` None."""
    return {
        "eboard_wards": {"count": t.wards_covered, "of": t.wards},
        "eboard_communes": {"count": t.communes_covered, "of": t.communes},
        "staff_trained": {
            "count": t.staff.trained if t.staff else 0,
            "of": t.staff.required if t.staff else 0,
        },
        "emergency_delivered": {
            "count": min(t.emergency_delivered, t.emergency_expected),
            "of": t.emergency_expected,
        },
        "emergency_t95": {"count": len(t.emergency_t95), "of": None},
    }


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
    "state_label", "withdrawn_at", "withdrawal_status"}], "counts":
    {"sent", "received", "placed", "aired", "withdrawn"}}]. `bulletin_id` keeps the one
    bulletin (our own pk, the id in `<source>:bulletin:<pk>`, `actions.bulletin_message_id`).
    A receiver sent a withdrawal after the newest version is "withdrawn" whatever its
    statistics say (`withdrawn_at`: when we withdrew it; `withdrawal_status`: its delivery).
    """
    from .keys import own_id
    from .models import BulletinFate, OutboundMessage

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
        .select_related("peer__unit")
        .order_by("message_id", "peer__name", "-version")
    )
    fates = {
        (f.peer_id, f.message_id): f
        for f in BulletinFate.objects.restrict(user, "exchange.view").filter(
            message_id__in={r.message_id for r in rows}
        )
    }
    withdrawals: dict[tuple[int, str], OutboundMessage] = {}
    for w in (
        OutboundMessage.objects.restrict(user, "exchange.view")
        .filter(kind=Kind.WITHDRAWAL, message_id__in={f"{r.message_id}:withdrawal" for r in rows})
        .exclude(status=DeliveryStatus.SUPERSEDED)
        .order_by("id")
    ):
        withdrawals[(w.peer_id, w.message_id.removesuffix(":withdrawal"))] = w
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
        withdrawal = withdrawals.get((r.peer_id, r.message_id))
        entry["receivers"].append(
            _receiver(
                r,
                fates.get((r.peer_id, r.message_id)),
                withdrawal if withdrawal is not None and withdrawal.pk > r.pk else None,
            )
        )
    result = sorted(by_message.values(), key=lambda e: -e["last_id"])
    for e in result:
        del e["seen"], e["last_id"]
        e["counts"] = {
            "sent": len(e["receivers"]),
            "received": sum(1 for x in e["receivers"] if x["received"]),
            "placed": sum(1 for x in e["receivers"] if x["placed"]),
            "aired": sum(1 for x in e["receivers"] if x["aired_communes"]),
            "withdrawn": sum(1 for x in e["receivers"] if x["withdrawn_at"]),
        }
    return result


def _receiver(
    row: OutboundMessage, fate: BulletinFate | None, withdrawal: OutboundMessage | None = None
) -> dict[str, Any]:
    from .outbound import advice_for

    # communes received it only once it was approved there (older receivers reported a
    # bulletin withdrawn after approval as not approved)
    approved = bool(fate and (fate.approved or fate.communes))
    if withdrawal is not None:
        state = FateState.WITHDRAWN
    elif fate is not None and fate.aired_communes:
        state = FateState.AIRED
    elif fate is not None and fate.placed:
        state = FateState.PLACED
    elif approved:
        state = FateState.APPROVED
    elif fate is not None and fate.received:
        state = FateState.RECEIVED
    else:
        state = FateState(row.status) if row.status in FateState.values else FateState.PENDING
    return {
        "peer": row.peer.code,
        "name": row.peer.unit.name,  # the province (the peer's scope), as national rows are
        "peer_name": row.peer.name,
        "status": row.status,
        "via": row.delivered_via,
        "delivered_at": row.delivered_at,
        "error": row.error_summary[0],
        "error_detail": row.error_summary[1],
        "advice": advice_for(row).text,
        "retry": advice_for(row).retry,
        "version": row.version,
        "received": bool(fate and fate.received),
        "approved": approved,
        "communes": fate.communes if fate else 0,
        "placed": fate.placed if fate else 0,
        "aired_communes": fate.aired_communes if fate else 0,
        "plays": fate.plays if fate else 0,
        "reported_at": fate.updated_at if fate else None,
        "state": state.value,
        "state_label": str(state.label),
        "withdrawn_at": withdrawal.created_at if withdrawal is not None else None,
        "withdrawal_status": withdrawal.status if withdrawal is not None else "",
    }
