"""From rows to the engine's plain specs: schedule items, usage policies, station timelines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from grassroots.core.dates import parse_when
from grassroots.units.models import Unit

from . import engine
from .choices import ItemKind, Priority
from .models import ScheduleItem, Station, UsagePolicy

LOOKBACK = timedelta(days=2)
# Bulletins in these states must not reach the air any more (content app's Status values).
DEAD_BULLETIN_STATES = ("withdrawn", "expired", "archived")


def item_spec(item: ScheduleItem) -> engine.ItemSpec:
    return engine.ItemSpec(
        id=item.pk or 0,
        title=item.title,
        priority=item.priority,
        kind=engine.RELAY if item.kind == ItemKind.RELAY else engine.MEDIA,
        start=item.starts_at,
        duration=timedelta(seconds=item.duration_seconds),
        rrule=item.rrule,
        exdates=tuple(parse_when(x) for x in item.exdates or ()),
        rank=item.rank,
        from_upper=item.source_id is not None,
    )


def policy_spec(policy: UsagePolicy | None, name: str = "") -> engine.PolicySpec:
    if policy is None:
        return engine.PolicySpec(name=name)
    return engine.PolicySpec(
        name=name or policy.unit.name,
        allowed_start=policy.allowed_start,
        allowed_end=policy.allowed_end,
        max_sessions_per_day=policy.max_sessions_per_day,
        max_minutes_per_session=policy.max_minutes_per_session,
        quiet_weekdays=frozenset(int(d) for d in policy.quiet_weekdays or ()),
        quiet_dates=frozenset(date.fromisoformat(d) for d in policy.quiet_dates or ()),
        relay_slots=tuple(parse_slot(x) for x in policy.relay_slots or ()),
    )


def parse_slot(text: str) -> tuple[time, time]:
    """'06:00-06:30' → (06:00, 06:30); ValueError in Vietnamese."""
    raw = str(text).replace("–", "-").replace(" ", "")
    try:
        a, b = raw.split("-")
        start, end = time.fromisoformat(a), time.fromisoformat(b)
    except ValueError as exc:
        raise ValueError(
            f"Khung giờ tiếp sóng '{text}' chưa đúng; hãy viết dạng 06:00-06:30."
        ) from exc
    if start == end:
        raise ValueError(f"Khung giờ tiếp sóng '{text}' có giờ bắt đầu bằng giờ kết thúc.")
    return start, end


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def policies_for(units: list[Unit]) -> dict[int, engine.PolicySpec]:
    """{unit id: the nearest policy of the unit or an ancestor}, in one query."""
    wanted = {i for u in units for i in path_ids(u.path)}
    found = {p.unit_id: p for p in UsagePolicy.objects.filter(unit_id__in=wanted)}
    out = {}
    for u in units:
        chain = [found[i] for i in reversed(path_ids(u.path)) if i in found]
        out[u.pk] = policy_spec(chain[0] if chain else None, u.name)
    return out


def policy_for(unit: Unit) -> engine.PolicySpec:
    return policies_for([unit])[unit.pk]


def playable_items(station_ids, start: datetime, end: datetime):
    """Active items on these stations that may touch [start, end), with their station ids."""
    through = ScheduleItem.stations.through
    rows = list(
        through.objects.filter(
            station_id__in=station_ids,
            # The engine starts a day before the window (delay chains): fetch what it sees.
            scheduleitem__in=ScheduleItem.objects.overlapping(start - LOOKBACK, end),
        ).values_list("station_id", "scheduleitem_id", "scheduleitem__revision_id")
    )
    revisions = {r for _s, _i, r in rows if r}
    dead = dead_revisions(revisions) if revisions else set()
    return [(s, i) for s, i, r in rows if r not in dead]


def dead_revisions(revision_ids) -> set[int]:
    """Revisions whose bulletin was withdrawn, expired or archived: they leave the air."""
    from django.apps import apps

    revision = apps.get_model("content", "BulletinRevision")
    return set(
        revision.objects.filter(
            pk__in=revision_ids, bulletin__status__in=DEAD_BULLETIN_STATES
        ).values_list("pk", flat=True)
    )


def station_timeline(station: Station, start: datetime, end: datetime) -> engine.Timeline:
    """The engine's answer for one station over a window, from the database."""
    ids = [i for _s, i in playable_items([station.pk], start, end)]
    items = ScheduleItem.objects.filter(pk__in=ids)
    return engine.build([item_spec(i) for i in items], policy_for(station.unit), start, end)


__all__ = ["Priority", "item_spec", "policies_for", "policy_for", "station_timeline"]
