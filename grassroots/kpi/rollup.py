"""Daily rollups per unit, computed by the worker from raw facts (incremental) or rebuilt.

`compute_day(day, unit_ids)` recomputes whole rows from the raw facts of one local (Vietnam)
day, so running it twice gives the same rows. `refresh()` is the worker's incremental run: it
reads each source of facts from its cursor (with an overlap, so rows committed late are not
missed), maps every new or changed fact to the (unit, day) it counts in (a late as-run upload
re-opens the day it played, and the day its bulletin was shared) and recomputes only those,
plus today (availability grows with the clock) and yesterday once after midnight.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, Count, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from grassroots.core.bulk import insert_rows
from grassroots.core.dates import VIETNAM

from . import compliance
from .models import (
    FLOW_FIELDS,
    STOCK_FIELDS,
    Cursor,
    DailyRollup,
    DeviceDay,
    DirtyDay,
    MonthRollup,
)

log = logging.getLogger("grassroots.kpi")

ON_TIME = timedelta(seconds=60)  # a play within a minute of its slot is on time
OVERLAP = timedelta(minutes=5)  # re-read this much before each cursor (late commits)
CATCH_UP_DAYS = 31  # longest worker outage closed automatically (longer: kpi_rebuild)
PLAY_KINDS = ("media", "relay", "priority", "live")
DEVICE_COUNTS = ("plays", "plays_failed", "plays_scheduled", "plays_on_time")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    d0 = datetime.combine(day, time(0), VIETNAM)
    return d0, d0 + timedelta(days=1)


def local_day(moment: datetime) -> date:
    return moment.astimezone(VIETNAM).date()


def _in(qs, field: str, unit_ids):
    return qs if unit_ids is None else qs.filter(**{f"{field}__in": unit_ids})


def _punctual(qs):
    """(queryset, Q of entries played within ON_TIME of their slot). On SQLite, Django computes
    datetime arithmetic in a Python function called per row (4 s of a 2,000-cluster day), so
    the comparison is SQLite's own julianday() there, guarded by vendor (architecture.md)."""
    if connection.vendor == "sqlite":
        table = _asrun_table()
        qs = qs.alias(
            punctual=RawSQL(  # noqa: S611 (a model's table name and a bound number)
                f'abs(julianday("{table}"."started_at") - julianday("{table}"."scheduled_start"))'
                " <= %s",
                (ON_TIME.total_seconds() / 86400,),
                output_field=BooleanField(),
            )
        )
        return qs, Q(status="played", punctual=True)
    return qs, Q(
        status="played",
        started_at__gte=F("scheduled_start") - ON_TIME,
        started_at__lte=F("scheduled_start") + ON_TIME,
    )


def _asrun_table() -> str:
    from grassroots.broadcast.models import AsRunEntry

    return AsRunEntry._meta.db_table


def _day_entries(d0: datetime, d1: datetime, unit_ids):
    """The day's as-run entries of the play kinds (one range of the `started_at` index), as a
    list of querysets for the callers that sum over them."""
    from grassroots.broadcast.models import AsRunEntry

    return [
        _in(
            AsRunEntry.objects.filter(started_at__gte=d0, started_at__lt=d1, kind__in=PLAY_KINDS),
            "device__unit_id",
            unit_ids,
        )
    ]


def month_end(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1) - timedelta(days=1)


def sum_month(rows) -> dict[int, dict]:
    """{unit: MonthRollup values} from daily rows (unit, day, *FLOW_FIELDS, *STOCK_FIELDS)
    ordered by day: flows summed, the inventory of each unit's last day."""
    out: dict[int, dict] = {}
    n = len(FLOW_FIELDS)
    for unit_id, day, *values in rows:
        m = out.get(unit_id)
        if m is None:
            m = out[unit_id] = {"last_day": day, "flow": [0] * n, "stock": values[n:]}
        m["flow"] = [a + b for a, b in zip(m["flow"], values[:n], strict=True)]
        if day >= m["last_day"]:
            m["last_day"], m["stock"] = day, values[n:]
    return out


def roll_months(months, unit_ids=None) -> None:
    """Re-sum the `MonthRollup` rows of these months (their first days) for these units (None:
    every unit) from the daily rows: a month is at most 31 rows per unit."""
    fields = (*FLOW_FIELDS, *STOCK_FIELDS)
    for month in sorted(set(months)):
        days = DailyRollup.objects.filter(day__gte=month, day__lte=month_end(month))
        old = MonthRollup.objects.filter(month=month)
        if unit_ids is not None:
            days = days.filter(unit_id__in=unit_ids)
            old = old.filter(unit_id__in=unit_ids)
        sums = sum_month(days.order_by("day").values_list("unit_id", "day", *fields))
        with transaction.atomic():
            old.delete()
            insert_rows(
                MonthRollup,
                ["unit", "month", "last_day", *fields],
                [(u, month, m["last_day"], *m["flow"], *m["stock"]) for u, m in sums.items()],
            )


def compute_day(
    day: date, unit_ids=None, *, now: datetime | None = None, months: bool = True
) -> set[int]:
    """Recompute the rows of `day` for these units (None: every unit), and their month's
    (unless `months` is false: a rebuild rolls its months once at the end); returns the
    units whose devices ended the day in another online state than before (their next day
    must follow)."""
    from grassroots.broadcast.models import AsRunEntry, ScheduleItem, Station
    from grassroots.broadcast.specs import policies_for
    from grassroots.content.models import Bulletin, BulletinShare
    from grassroots.devices.models import Device, DeviceConnectivity
    from grassroots.feedback.models import Rating, Report
    from grassroots.signage.models import DisplayProof
    from grassroots.units.models import Unit

    now = now or timezone.now()
    d0, d1 = day_bounds(day)
    if d0 >= now:
        return set()
    end = min(d1, now)
    rows: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    unit_ids = None if unit_ids is None else set(unit_ids)

    # Inventory at the end of the day: stations, IP clusters, working boards.
    devices = list(
        _in(Device.objects.filter(created_at__lt=end), "unit_id", unit_ids).values_list(
            "pk", "unit_id", "kind", "technology", "enabled", "condition", "station_id",
            "created_at",
        )
    )  # fmt: skip
    unit_of = {d[0]: d[1] for d in devices}
    ip_speakers = {d[0]: d for d in devices if d[2] == "speaker" and d[3] == "ip_4g" and d[4]}
    by_station: dict[int, list[bool]] = defaultdict(list)
    for d in devices:
        if d[2] == "speaker" and d[4] and d[5] != "broken" and d[6]:
            by_station[d[6]].append(d[3] == "ip_4g")
    stations = list(
        _in(Station.objects.filter(created_at__lt=end), "unit_id", unit_ids).values_list(
            "pk", "unit_id"
        )
    )
    for pk, unit_id in stations:
        rows[unit_id]["stations"] += 1
        techs = by_station.get(pk, [])
        rows[unit_id]["stations_ip"] += int(bool(techs) and all(techs))
    boards = _in(
        Device.objects.filter(
            kind="board", enabled=True, created_at__lt=end, board__paired_at__lt=end
        )
        .exclude(condition="broken")
        .exclude(board__revoked_at__lt=end),
        "unit_id",
        unit_ids,
    )
    for unit_id, n in (
        boards.values_list("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n")
    ):
        rows[unit_id]["boards_working"] += n

    # As-run: plays and punctuality counted by the database, relay intervals for compliance.
    per_device: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    relays: dict[int, list] = defaultdict(list)
    scheduled = Q(scheduled_start__isnull=False, kind__in=("media", "relay"))
    for part in _day_entries(d0, d1, unit_ids):
        part, on_time = _punctual(part)
        for device_id, played, failed, n_scheduled, n_on_time in (
            part.values("device_id")
            .annotate(
                n_played=Count("pk", filter=Q(status="played")),
                n_failed=Count("pk", filter=Q(status="failed")),
                n_scheduled=Count("pk", filter=scheduled),
                n_on_time=Count("pk", filter=scheduled & on_time),
            )
            .values_list("device_id", "n_played", "n_failed", "n_scheduled", "n_on_time")
        ):
            c = per_device[device_id]
            c["plays"] += played
            c["plays_failed"] += failed
            c["plays_scheduled"] += n_scheduled
            c["plays_on_time"] += n_on_time
        for device_id, started, ended in part.filter(kind="relay", status="played").values_list(
            "device_id", "started_at", "ended_at"
        ):
            relays[unit_of.get(device_id)].append((started, ended or started))

    # Connectivity: online seconds of each IP cluster, from its state at midnight.
    # (Filtered by unit, not by a list of every cluster: binding 2,000 ids per query cost more
    # than reading the day's rows of clusters that are not counted.)
    before = {
        pk: online
        for pk, online in _in(
            DeviceDay.objects.filter(day=day - timedelta(days=1)), "unit_id", unit_ids
        ).values_list("device_id", "online_at_end")
        if pk in ip_speakers
    }
    missing = [pk for pk in ip_speakers if pk not in before]
    if missing:
        last = DeviceConnectivity.objects.filter(device=OuterRef("pk"), at__lt=d0).order_by("-at")
        for pk, online in (
            Device.objects.filter(pk__in=missing)
            .annotate(online=Subquery(last.values("online")[:1]))
            .values_list("pk", "online")
        ):
            before[pk] = bool(online)
    changes: dict[int, list] = defaultdict(list)
    for dev, online, at in (
        _in(DeviceConnectivity.objects.filter(at__gte=d0, at__lt=end), "device__unit_id", unit_ids)
        .order_by("at")
        .values_list("device_id", "online", "at")
    ):
        if dev in ip_speakers:
            changes[dev].append((at, online))
    old_end = dict(
        _in(DeviceDay.objects.filter(day=day), "unit_id", unit_ids).values_list(
            "device_id", "online_at_end"
        )
    )
    device_days = []
    changed_units: set[int] = set()
    for pk, d in ip_speakers.items():
        start = max(d0, d[7])
        state, since, online_s = before.get(pk, False), start, 0.0
        for at, online in changes.get(pk, ()):
            at = max(at, start)
            if state:
                online_s += (at - since).total_seconds()
            state, since = online, at
        if state:
            online_s += (end - since).total_seconds()
        expected = max((end - start).total_seconds(), 0)
        c = per_device[pk]
        device_days.append(
            (pk, d[1], day, *(c[k] for k in DEVICE_COUNTS), int(online_s), int(expected), state)
        )
        r = rows[d[1]]
        r["device_online_s"] += int(online_s)
        r["device_expected_s"] += int(expected)
        r["speakers_ip"] += 1
        r["speakers_ip_seen"] += int(online_s > 0)
        if pk in old_end and old_end[pk] != state:
            changed_units.add(d[1])
    for pk, c in per_device.items():
        r = rows[unit_of.get(pk) or 0]
        for key, value in c.items():
            r[key] += value
    rows.pop(0, None)

    # Relay compliance against the mandated slots of each unit's usage policy.
    relay_units = list(Unit.objects.filter(pk__in={s[1] for s in stations}))
    for unit_id, policy in policies_for(relay_units).items():
        for result in compliance.judge(policy.relay_slots, day, relays.get(unit_id, [])):
            if result.end > now:
                continue  # a slot still running or ahead is not judged yet
            r = rows[unit_id]
            r["relay_due"] += 1
            r[
                {"relayed": "relay_full", "partial": "relay_partial", "missed": "relay_missed"}[
                    result.state
                ]
            ] += 1

    # Essential and must-air bulletins shared to communes this day: did they reach the air?
    shares = list(
        _in(
            BulletinShare.objects.filter(
                shared_at__gte=d0, shared_at__lt=d1, withdrawn_at__isnull=True
            ).filter(
                Q(must_air=True)
                | Q(bulletin__category__essential=True)
                | Q(bulletin__priority__in=("priority", "emergency"))
            ),
            "unit_id",
            unit_ids,
        ).values_list("unit_id", "bulletin_id", "shared_at")
    )
    if shares:
        share_units = {s[0] for s in shares}
        bids = {s[1] for s in shares}
        first: dict[tuple[int, int], datetime] = {}
        # The bulletins' schedule items first, then their plays through the (item, started_at)
        # index: a join from the day's start onwards would read every later play of the year.
        bulletin_of = dict(
            ScheduleItem.objects.filter(revision__bulletin_id__in=bids).values_list(
                "pk", "revision__bulletin_id"
            )
        )
        aired = [
            (unit_id, bulletin_of[item_id], first_at)
            for unit_id, item_id, first_at in AsRunEntry.objects.filter(
                status="played",
                item_id__in=list(bulletin_of),
                device__unit_id__in=share_units,
                started_at__gte=d0,
                started_at__lt=now,
            )
            .values_list("device__unit_id", "item_id")
            .annotate(first=Min("started_at"))
        ]
        shown = (
            DisplayProof.objects.filter(
                unit_id__in=share_units, bulletin_id__in=bids, started_at__gte=d0
            )
            .values_list("unit_id", "bulletin_id")
            .annotate(first=Min("started_at"))
        )
        for unit_id, bid, at in [*aired, *shown]:
            key = (unit_id, bid)
            first[key] = min(at, first.get(key, at))
        for unit_id, bid, shared_at in shares:
            r = rows[unit_id]
            r["essential_due"] += 1
            at = first.get((unit_id, bid))
            if at is not None:
                r["essential_aired"] += 1
                r["essential_delay_s"] += max(int((at - shared_at).total_seconds()), 0)

    # Citizens' reports received this day, as handled so far; ratings given this day.
    reports = _in(
        Report.objects.filter(created_at__gte=d0, created_at__lt=d1, merged_into__isnull=True),
        "unit_id",
        unit_ids,
    ).values_list("unit_id", "created_at", "due_at", "answered_at", "closed_at")
    for unit_id, created, due, answered, closed in reports:
        r = rows[unit_id]
        r["reports_received"] += 1
        handled = min((t for t in (answered, closed) if t), default=None)
        if handled is not None:
            r["reports_handled"] += 1
            r["report_handle_s"] += int((handled - created).total_seconds())
            r["reports_in_time"] += int(handled <= due)
    ratings = _in(
        Rating.objects.filter(created_at__gte=d0, created_at__lt=d1), "report__unit_id", unit_ids
    )
    for unit_id, n, stars in (
        ratings.values_list("report__unit_id").annotate(n=Count("pk"), s=Sum("stars"))
        .values_list("report__unit_id", "n", "s")
    ):  # fmt: skip
        rows[unit_id]["ratings"] += n
        rows[unit_id]["rating_stars"] += stars or 0

    # Bulletins published this day, by source level, and their approval lead time.
    published = _in(
        Bulletin.objects.filter(published_at__gte=d0, published_at__lt=d1), "unit_id", unit_ids
    ).annotate(submitted=Min("transitions__at", filter=Q(transitions__to_status="submitted")))
    for unit_id, depth, source, at, submitted in published.values_list(
        "unit_id", "unit__depth", "source", "published_at", "submitted"
    ):
        r = rows[unit_id]
        if source == "national":
            r["bulletins_national"] += 1
        elif source == "provincial_body" or depth == 0:
            r["bulletins_provincial"] += 1
        else:
            r["bulletins_own"] += 1
        if submitted is not None and submitted <= at:
            r["approvals"] += 1
            r["approval_lead_s"] += int((at - submitted).total_seconds())

    fields = (*FLOW_FIELDS, *STOCK_FIELDS)
    with transaction.atomic():
        old = DailyRollup.objects.filter(day=day)
        old_devices = DeviceDay.objects.filter(day=day)
        if unit_ids is not None:
            old = old.filter(unit_id__in=unit_ids)
            old_devices = old_devices.filter(unit_id__in=unit_ids)
        old.delete()
        old_devices.delete()
        insert_rows(
            DailyRollup,
            ["unit", "day", "computed_at", *fields],
            [
                (u, day, now, *(c.get(f, 0) for f in fields))
                for u, c in rows.items()
                if any(c.values())
            ],
        )
        insert_rows(
            DeviceDay,
            ["device", "unit", "day", *DEVICE_COUNTS, "online_s", "expected_s", "online_at_end"],
            device_days,
        )
        if months:
            roll_months([day.replace(day=1)], unit_ids)
    return changed_units


def rebuild(start: date, end: date, *, now: datetime | None = None, progress=None) -> int:
    """Recompute every unit's rows for each day in [start, end]; returns the number of days."""
    day, n, months = start, 0, set()
    while day <= end:
        compute_day(day, None, now=now, months=False)
        months.add(day.replace(day=1))
        n += 1
        if progress:
            progress(day)
        day += timedelta(days=1)
    roll_months(months)
    return n


def _cursor(name: str) -> Cursor:
    return Cursor.objects.get_or_create(name=name)[0]


def collect(now: datetime) -> tuple[dict[date, set[int]], list[Cursor]]:
    """(unit, day) pairs touched by facts that arrived or changed since the cursors."""
    from grassroots.content.models import Bulletin, BulletinShare
    from grassroots.devices.models import DeviceConnectivity
    from grassroots.feedback.models import Rating, Report
    from grassroots.signage.models import DisplayProof

    dirty: dict[date, set[int]] = defaultdict(set)
    cursors = []

    def since(name: str, qs, field: str):
        c = _cursor(name)
        cursors.append(c)
        if c.at is not None:
            qs = qs.filter(**{f"{field}__gt": c.at - OVERLAP})
        c.at = now
        return qs.filter(**{f"{field}__lte": now})

    def after(name: str, qs):
        c = _cursor(name)
        cursors.append(c)
        qs = qs.filter(pk__gt=c.last_id)
        c.last_id = qs.order_by("-pk").values_list("pk", flat=True).first() or c.last_id
        return qs

    dirty_ids = []
    for pk, unit_id, day in DirtyDay.objects.values_list("pk", "unit_id", "day"):
        dirty[day].add(unit_id)
        dirty_ids.append(pk)
    played: dict[int, set[int]] = defaultdict(set)  # unit -> bulletins with new proof
    for unit_id, started, bid in since(
        "display", DisplayProof.objects.all(), "received_at"
    ).values_list("unit_id", "started_at", "bulletin_id"):
        dirty[local_day(started)].add(unit_id)
        if bid:
            played[unit_id].add(bid)
    if played:
        bids = {b for s in played.values() for b in s}
        for unit_id, bid, shared_at in BulletinShare.objects.filter(
            unit_id__in=list(played), bulletin_id__in=bids
        ).values_list("unit_id", "bulletin_id", "shared_at"):
            if bid in played[unit_id]:
                dirty[local_day(shared_at)].add(unit_id)  # its share day re-opens too
    for unit_id, at in after("connectivity", DeviceConnectivity.objects.all()).values_list(
        "device__unit_id", "at"
    ):
        dirty[local_day(at)].add(unit_id)
    for unit_id, created in since("reports", Report.objects.all(), "updated_at").values_list(
        "unit_id", "created_at"
    ):
        dirty[local_day(created)].add(unit_id)
    for unit_id, created in after("ratings", Rating.objects.all()).values_list(
        "report__unit_id", "created_at"
    ):
        dirty[local_day(created)].add(unit_id)
    for unit_id, at in since(
        "bulletins", Bulletin.objects.filter(published_at__isnull=False), "updated_at"
    ).values_list("unit_id", "published_at"):
        dirty[local_day(at)].add(unit_id)
    # Shares by time, not id: publishing again re-shares an existing row with a new time.
    for unit_id, at in since("shared", BulletinShare.objects.all(), "shared_at").values_list(
        "unit_id", "shared_at"
    ):
        dirty[local_day(at)].add(unit_id)
    # A withdrawn share no longer counts as due on the day it was shared.
    for unit_id, at in since(
        "withdrawn", BulletinShare.objects.filter(withdrawn_at__isnull=False), "withdrawn_at"
    ).values_list("unit_id", "shared_at"):
        dirty[local_day(at)].add(unit_id)
    return dirty, cursors, dirty_ids


def asrun_recorded(sender, entries, **kwargs) -> None:
    """Receiver of `broadcast.asrun.recorded`: mark the days these entries played on, and the
    days their bulletins were shared to those units (a late upload re-opens both)."""
    from grassroots.content.models import BulletinShare

    pairs = {(unit_id, local_day(started)) for unit_id, _item, started in entries}
    items = {item for _unit, item, _s in entries if item}
    if items:
        units = {unit_id for unit_id, item, _s in entries if item}
        for unit_id, shared_at in BulletinShare.objects.filter(
            unit_id__in=units, bulletin__revisions__schedule_items__in=items
        ).values_list("unit_id", "shared_at"):
            pairs.add((unit_id, local_day(shared_at)))
    _mark(pairs)


def _mark(pairs) -> None:
    insert_rows(
        DirtyDay, ["unit", "day"], sorted(p for p in pairs if p[0]), conflict=["unit", "day"]
    )


def fact_deleted(sender, instance, **kwargs) -> None:
    """Receiver of `post_delete` for every kind of fact the rollups count: the day it counted
    in is marked dirty in the deleting transaction (a deleted play also re-opens the day its
    bulletin was shared), so the worker recomputes it without the fact."""
    from grassroots.devices.models import Device
    from grassroots.feedback.models import Report

    name = sender.__name__
    if name in ("AsRunEntry", "DeviceConnectivity"):
        unit_id = Device.objects.filter(pk=instance.device_id).values_list("unit_id", flat=True)
        unit_id = unit_id.first()
        if name == "AsRunEntry":
            asrun_recorded(sender, [(unit_id, instance.item_id, instance.started_at)])
        else:
            _mark([(unit_id, local_day(instance.at))])
    elif name == "Report":
        _mark([(instance.unit_id, local_day(instance.created_at))])
    elif name == "Rating":
        unit_id = Report.objects.filter(pk=instance.report_id).values_list("unit_id", flat=True)
        _mark([(unit_id.first(), local_day(instance.created_at))])
    elif name == "Bulletin" and instance.published_at:
        _mark([(instance.unit_id, local_day(instance.published_at))])
    elif name == "BulletinShare":
        _mark([(instance.unit_id, local_day(instance.shared_at))])
    elif name == "DisplayProof":
        _mark([(instance.unit_id, local_day(instance.started_at))])


def fact_models() -> list:
    """The models whose deletion `fact_deleted` follows."""
    from grassroots.broadcast.models import AsRunEntry
    from grassroots.content.models import Bulletin, BulletinShare
    from grassroots.devices.models import DeviceConnectivity
    from grassroots.feedback.models import Rating, Report
    from grassroots.signage.models import DisplayProof

    return [AsRunEntry, DeviceConnectivity, Report, Rating, Bulletin, BulletinShare, DisplayProof]


def refresh(*, now: datetime | None = None) -> list[date]:
    """The worker's incremental run; returns the days it recomputed."""
    now = now or timezone.now()
    today = local_day(now)
    dirty, cursors, dirty_ids = collect(now)
    clock = _cursor("clock")
    # Today grows with the clock; days since the last run (yesterday after midnight, or more
    # after the worker was down) are closed whole.
    first = max(clock.day or today, today - timedelta(days=CATCH_UP_DAYS))
    whole = {first + timedelta(days=n) for n in range((today - first).days + 1)}
    done = []
    pending = sorted(set(dirty) | whole)
    while pending:
        day = pending.pop(0)
        if day > today:
            continue
        changed = compute_day(day, None if day in whole else dirty[day], now=now)
        done.append(day)
        nxt = day + timedelta(days=1)
        if changed and nxt <= today and nxt not in whole:
            dirty[nxt] |= changed  # the next day starts from this day's end state
            if nxt not in pending:
                pending = sorted({*pending, nxt})
    clock.day = today
    with transaction.atomic():
        for c in [*cursors, clock]:
            c.save()
        DirtyDay.objects.filter(pk__in=dirty_ids).delete()
    return done
