"""Reads of the plan's implementation records, reused by the console, the API and (later) the
yearly report: money by source and year, the e-board site pipeline, an inspected period's
as-run evidence."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from grassroots.core.dates import VIETNAM

from .choices import FundingSource, SiteStatus


def funding_summary(investments: QuerySet) -> dict:
    """Planned and spent money (đồng) by year and source (plan section IV), with totals.

    Shape: {"rows": [{"year", "source", "source_label", "planned", "spent"}...] by year then
    source, "years": {year: {"planned", "spent"}}, "sources": {source: {...}},
    "total": {"planned", "spent"}}. Amounts are integers in đồng.
    """
    labels = dict(FundingSource.choices)
    raw = (
        investments.order_by()
        .values("year", "source")
        .annotate(planned=Sum("planned_amount"), spent=Sum("spent_amount"))
        .order_by("-year", "source")
    )
    rows, years, sources = [], {}, {}
    total = {"planned": 0, "spent": 0}
    for r in raw:
        row = {
            "year": r["year"],
            "source": r["source"],
            "source_label": str(labels.get(r["source"], r["source"])),
            "planned": r["planned"] or 0,
            "spent": r["spent"] or 0,
        }
        rows.append(row)
        for bucket, key in ((years, r["year"]), (sources, r["source"])):
            b = bucket.setdefault(key, {"planned": 0, "spent": 0})
            b["planned"] += row["planned"]
            b["spent"] += row["spent"]
        total["planned"] += row["planned"]
        total["spent"] += row["spent"]
    return {"rows": rows, "years": years, "sources": sources, "total": total}


def site_pipeline(sites: QuerySet) -> dict[str, int]:
    """How many proposed sites are at each step: {status: count}, every status present."""
    counts = dict(sites.order_by().values_list("status").annotate(n=Count("id")))
    return {s: counts.get(s, 0) for s in SiteStatus.values}


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    first = dt.datetime.combine(start, dt.time(), tzinfo=VIETNAM)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=VIETNAM)
    return first, after


def asrun_evidence(station, start: dt.date, end: dt.date) -> dict:
    """What the station's loudspeaker clusters reported playing in [start, end] (Vietnam
    calendar days, inclusive), read from broadcast's as-run journal (proof of play).

    Shape: {"start", "end" (ISO dates), "entries", "played", "cut", "failed", "relay" (relay
    entries aired), "devices" (clusters that reported), "days" (days in the period),
    "days_aired" (days with at least one play), "first", "last" (ISO times or null),
    "failure_reasons": {reason: count}, "computed_at"}.
    """
    from grassroots.broadcast.asrun import station_devices
    from grassroots.broadcast.models import AsRunEntry

    first, after = _bounds(start, end)
    devices = station_devices(station).values("pk")
    rows = list(
        AsRunEntry.objects.filter(Q(station=station) | Q(device__in=devices))
        .filter(started_at__gte=first, started_at__lt=after)
        .values_list("status", "kind", "device_id", "started_at", "reason")
    )
    status = Counter(r[0] for r in rows)
    aired = [r for r in rows if r[0] in ("played", "cut")]
    times = sorted(r[3] for r in rows)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "entries": len(rows),
        "played": status.get("played", 0),
        "cut": status.get("cut", 0),
        "failed": status.get("failed", 0),
        "relay": sum(1 for r in aired if r[1] == "relay"),
        "devices": len({r[2] for r in rows}),
        "days": (end - start).days + 1,
        "days_aired": len({r[3].astimezone(VIETNAM).date() for r in aired}),
        "first": times[0].astimezone(VIETNAM).isoformat() if times else None,
        "last": times[-1].astimezone(VIETNAM).isoformat() if times else None,
        "failure_reasons": dict(Counter(r[4] or "?" for r in rows if r[0] == "failed")),
        "computed_at": timezone.now().astimezone(VIETNAM).isoformat(),
    }
