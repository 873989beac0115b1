"""Broadcast API: stations, timelines, schedules, proposals, usage policies, as-run reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem
from grassroots.units.api import get_unit

from . import actions, asrun, conversion
from .choices import ItemKind, ProposalStatus
from .models import AsRunEntry, Proposal, RelaySource, ScheduleItem, Station, UsagePolicy
from .schemas import (
    AsRunReport,
    DeclineIn,
    PlaceIn,
    PlanRead,
    PolicyIn,
    PolicyRead,
    ProposalRead,
    RankIn,
    RelaySourceCreate,
    RelaySourceRead,
    RelaySourceUpdate,
    ScheduleCreate,
    ScheduleRead,
    ScheduleUpdate,
    StationRead,
    TimelineRead,
)
from .specs import station_timeline

PREFIX = "/"
router = Router(tags=["broadcast"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WINDOW = timedelta(days=8)
# Vietnam has kept UTC+07:00 since 1975; the tz database's history (LMT +07:06:30 before 1906,
# +08:00 in 1942-1975) would put odd offsets on old dates a client asks about. Answers carry
# the offset the country uses now, whatever the date.
VN = dt_timezone(timedelta(hours=7))


def _stations(user, action: str = "view"):
    require(user, f"broadcast.{action}")
    return Station.objects.restrict(user, f"broadcast.{action}").select_related("unit")


def _station_read(s: Station) -> dict:
    return {
        "id": s.pk,
        "name": s.name,
        "unit_code": s.unit.code,
        "unit_name": s.unit.name,
        "clusters": getattr(s, "n_clusters", 0),
        "ip_clusters": getattr(s, "n_ip", 0),
    }


def _with_counts(qs):
    return qs.annotate(
        n_clusters=Count("devices", filter=Q(devices__kind="speaker")),
        n_ip=Count("devices", filter=Q(devices__kind="speaker", devices__technology="ip_4g")),
    )


@router.get("/stations", response=list[StationRead], summary="Các đài truyền thanh trong phạm vi")
def list_stations(request, unit: str | None = None):
    qs = _with_counts(_stations(request.user))
    if unit:
        qs = qs.filter(
            unit__path__startswith=get_unit(request.user, unit, action="broadcast.view").path
        )
    return [_station_read(s) for s in qs]


class PlanFilter(Schema):
    unit: str | None = None
    target_year: int | None = None


def _plan(request, filters: PlanFilter):
    qs = _stations(request.user)
    if filters.unit:
        unit = get_unit(request.user, filters.unit, action="broadcast.view")
        qs = qs.filter(unit__path__startswith=unit.path)
    year = timezone.localdate().year
    if filters.target_year and not (year <= filters.target_year <= year + 20):
        raise Problem(422, f"Năm mục tiêu phải từ {year} đến {year + 20}.")
    return conversion.build_plan(qs, year=year, target_year=filters.target_year)


@router.get("/stations/conversion-plan", response=PlanRead, summary="Kế hoạch chuyển đổi sang IP")
def conversion_plan(request, filters: Query[PlanFilter]):
    plan = _plan(request, filters)
    return {
        "total": plan.total,
        "fully_ip": plan.fully_ip,
        "percent_ip": plan.percent_ip,
        "target_year": plan.target_year,
        "stations": [
            {
                "rank": r.rank,
                "station": r.station.pk,
                "unit_code": r.station.unit.code,
                "unit_name": r.station.unit.name,
                "new_rural": r.new_rural,
                "clusters": r.clusters,
                "ip": r.ip,
                "legacy": r.legacy,
                "broken": r.broken,
                "degraded": r.degraded,
                "year": r.year,
                "why": r.why,
            }
            for r in plan.rows
        ],
        "years": [y.__dict__ for y in plan.years],
    }


@router.get("/stations/conversion-plan.xlsx", summary="Kế hoạch chuyển đổi (Excel)")
def conversion_plan_xlsx(request, filters: Query[PlanFilter]):
    response = HttpResponse(conversion.plan_xlsx(_plan(request, filters)), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="ke-hoach-chuyen-doi-ip.xlsx"'
    return response


@router.get("/stations/{station_id}", response=StationRead, summary="Một đài truyền thanh")
def station_detail(request, station_id: int):
    return _station_read(get_object_or_404(_with_counts(_stations(request.user)), pk=station_id))


class Window(Schema):
    start: datetime | None = None
    end: datetime | None = None


def window(w: Window) -> tuple[datetime, datetime]:
    start = w.start or timezone.now().replace(microsecond=0)
    end = w.end or start + timedelta(hours=24)
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise Problem(422, "start/end phải có múi giờ, ví dụ 2026-12-01T00:00:00+07:00.")
    if end <= start or end - start > MAX_WINDOW:
        raise Problem(422, "Khoảng thời gian phải dương và không quá 8 ngày.")
    return start, end


def timeline_body(station: Station, start: datetime, end: datetime) -> dict:
    tl = station_timeline(station, start, end)
    return {
        "station": station.pk,
        "unit_code": station.unit.code,
        "start": start.astimezone(VN),
        "end": end.astimezone(VN),
        "clusters": list(
            station.devices.filter(kind="speaker").order_by("pk").values_list("pk", flat=True)
        ),
        "segments": [
            {
                "id": s.id,
                "item": s.item.id,
                "title": s.item.title,
                "priority": s.item.priority,
                "kind": s.item.kind,
                "start": s.start.astimezone(VN),
                "end": s.end.astimezone(VN),
                "rule": s.rule,
                "reason": s.reason,
                "cut_by": s.cut_by,
            }
            for s in tl.segments
        ],
        "skipped": [
            {
                "occurrence": k.occurrence.key,
                "item": k.occurrence.item.id,
                "title": k.occurrence.item.title,
                "scheduled_start": k.occurrence.start.astimezone(VN),
                "rule": k.rule,
                "reason": k.reason,
            }
            for k in tl.skipped
        ],
    }


@router.get(
    "/stations/{station_id}/timeline",
    response=TimelineRead,
    summary="Lịch phát thực tế của đài: phát gì, khi nào, vì sao",
)
def station_timeline_route(request, station_id: int, w: Query[Window]):
    station = get_object_or_404(_stations(request.user), pk=station_id)
    start, end = window(w)
    return timeline_body(station, start, end)


# --- schedules ---------------------------------------------------------------------------------


def schedule_read(item: ScheduleItem) -> dict:
    relay = None
    if item.kind == ItemKind.RELAY:
        relay = {
            "type": item.relay_type,
            "frequency": float(item.relay_frequency) if item.relay_frequency else None,
            "url": item.relay_url,
        }
    return {
        "id": item.pk,
        "unit_code": item.unit.code,
        "title": item.title,
        "priority": item.priority,
        "kind": item.kind,
        "status": item.status,
        "starts_at": item.starts_at.astimezone(VN),
        "duration_seconds": item.duration_seconds,
        "rrule": item.rrule,
        "rank": item.rank,
        "revision": item.revision_id,
        "media": item.media,
        "relay": relay,
        "stations": [s.pk for s in item.stations.all()],
        "source": item.source_id,
        "policy_exempt": item.policy_exempt,
        "proposals": item.proposals.count(),
    }


class ScheduleFilter(Schema):
    station: int | None = None
    unit: str | None = None
    include_cancelled: bool = False
    limit: int = 200


@router.get("/schedules", response=list[ScheduleRead], summary="Các mục lịch phát")
def list_schedules(request, filters: Query[ScheduleFilter]):
    require(request.user, "broadcast.view")
    qs = ScheduleItem.objects.restrict(request.user, "broadcast.view").select_related("unit")
    if not filters.include_cancelled:
        qs = qs.active()
    if filters.station:
        qs = qs.filter(stations=filters.station)
    if filters.unit:
        unit = get_unit(request.user, filters.unit, action="broadcast.view")
        qs = qs.filter(unit__path__startswith=unit.path)
    qs = qs.prefetch_related("stations").order_by("-starts_at")
    return [schedule_read(i) for i in qs[: max(1, min(filters.limit, 1000))]]


@router.post(
    "/schedules", response={201: ScheduleRead}, summary="Lập lịch phát (hoặc gửi đề xuất xuống)"
)
def create_schedule(request, data: ScheduleCreate):
    perm = "broadcast.emergency" if data.priority == "emergency" else "broadcast.schedule"
    unit = get_unit(request.user, data.unit, action=perm)
    targets = [get_unit(request.user, c, action=perm) for c in data.targets] or None
    relay = data.relay
    item, _proposals = actions.create_item(
        user=request.user,
        unit=unit,
        targets=targets,
        data=actions.ItemData(
            title=data.title,
            priority=data.priority,
            kind=data.kind,
            starts_at=data.starts_at,
            duration_seconds=data.duration_seconds,
            rrule=data.rrule,
            exdates=tuple(data.exdates),
            media=[m.dict() for m in data.media],
            revision_id=data.revision,
            playlist=data.playlist,
            relay_type=relay.type if relay else "",
            relay_frequency=relay.frequency if relay else None,
            relay_url=relay.url if relay else "",
            rank=data.rank,
            volume=data.volume,
        ),
    )
    return Status(201, schedule_read(item))


def _item(request, item_id: int, action: str = "view") -> ScheduleItem:
    require(request.user, f"broadcast.{action}")
    return get_object_or_404(
        ScheduleItem.objects.restrict(request.user, f"broadcast.{action}").select_related("unit"),
        pk=item_id,
    )


@router.get("/schedules/{item_id}", response=ScheduleRead, summary="Một mục lịch phát")
def schedule_detail(request, item_id: int):
    return schedule_read(_item(request, item_id))


@router.patch("/schedules/{item_id}", response=ScheduleRead, summary="Sửa mục lịch phát")
def update_schedule(request, item_id: int, data: ScheduleUpdate):
    item = _item(request, item_id, "view")
    fields = data.dict(exclude_unset=True)
    return schedule_read(actions.update_item(user=request.user, item=item, **fields))


@router.post("/schedules/{item_id}/cancel", response=ScheduleRead, summary="Huỷ mục lịch phát")
def cancel_schedule(request, item_id: int):
    item = _item(request, item_id, "view")
    return schedule_read(actions.cancel_item(user=request.user, item=item))


@router.put(
    "/schedules/{item_id}/rank",
    response=ScheduleRead,
    summary="Thứ tự xã chọn cho các mục ưu tiên trùng giờ",
)
def rank_schedule(request, item_id: int, data: RankIn):
    item = _item(request, item_id, "schedule")
    return schedule_read(actions.set_rank(user=request.user, item=item, rank=data.rank))


# --- proposals ---------------------------------------------------------------------------------


def proposal_read(p: Proposal) -> dict:
    return {
        "id": p.pk,
        "item": p.item_id,
        "title": p.item.title,
        "priority": p.item.priority,
        "station": p.station_id,
        "unit_code": p.station.unit.code,
        "must_air": p.must_air,
        "status": p.status,
        "suggested_start": p.item.starts_at.astimezone(VN),
        "rrule": p.item.rrule,
        "placed_item": p.placed_item_id,
    }


@router.get("/proposals", response=list[ProposalRead], summary="Đề xuất lịch phát từ cấp trên")
def list_proposals(request, status: str = ProposalStatus.PENDING):
    require(request.user, "broadcast.view")
    qs = Proposal.objects.restrict(request.user, "broadcast.view").select_related(
        "item", "station__unit"
    )
    if status:
        qs = qs.filter(status=status)
    return [proposal_read(p) for p in qs[:500]]


def _proposal(request, proposal_id: int) -> Proposal:
    require(request.user, "broadcast.schedule")
    return get_object_or_404(
        Proposal.objects.restrict(request.user, "broadcast.schedule").select_related(
            "item", "station__unit"
        ),
        pk=proposal_id,
    )


@router.post(
    "/proposals/{proposal_id}/place", response={201: ScheduleRead}, summary="Xếp lịch đề xuất"
)
def place(request, proposal_id: int, data: PlaceIn):
    proposal = _proposal(request, proposal_id)
    item = actions.place_proposal(
        user=request.user,
        proposal=proposal,
        starts_at=data.starts_at,
        rrule=data.rrule,
        rank=data.rank,
    )
    return Status(201, schedule_read(item))


@router.post(
    "/proposals/{proposal_id}/decline", response=ProposalRead, summary="Không phát đề xuất"
)
def decline(request, proposal_id: int, data: DeclineIn):
    proposal = _proposal(request, proposal_id)
    return proposal_read(
        actions.decline_proposal(user=request.user, proposal=proposal, note=data.note)
    )


# --- usage policies ----------------------------------------------------------------------------


def _policy_read(unit, policy: UsagePolicy | None, inherited: str | None) -> dict:
    if policy is None:
        return {"unit_code": unit.code, "inherited_from": None}
    return {
        "unit_code": unit.code,
        "inherited_from": inherited,
        "allowed_start": policy.allowed_start,
        "allowed_end": policy.allowed_end,
        "max_sessions_per_day": policy.max_sessions_per_day,
        "max_minutes_per_session": policy.max_minutes_per_session,
        "quiet_weekdays": policy.quiet_weekdays,
        "quiet_dates": policy.quiet_dates,
        "note": policy.note,
    }


@router.get(
    "/usage-policies/{code}", response=PolicyRead, summary="Quy định sử dụng loa đang áp dụng"
)
def get_policy(request, code: str):
    unit = get_unit(request.user, code, action="broadcast.view")
    for ancestor in reversed(list(unit.ancestors(include_self=True))):
        policy = UsagePolicy.objects.filter(unit=ancestor).select_related("unit").first()
        if policy:
            inherited = None if ancestor.pk == unit.pk else ancestor.code
            return _policy_read(unit, policy, inherited)
    return _policy_read(unit, None, None)


@router.put("/usage-policies/{code}", response=PolicyRead, summary="Đặt quy định sử dụng loa")
def put_policy(request, code: str, data: PolicyIn):
    unit = get_unit(request.user, code, action="broadcast.schedule")
    policy = actions.set_policy(user=request.user, unit=unit, **data.dict())
    return _policy_read(unit, policy, None)


# --- as-run ------------------------------------------------------------------------------------


@router.get("/asrun/report", response=AsRunReport, summary="Báo cáo phát: xã nào đã phát, khi nào")
def asrun_report(request, bulletin: int | None = None, item: int | None = None):
    require(request.user, "broadcast.view")
    if bulletin is None and item is None:
        raise Problem(422, "Cần chọn 'bulletin' (mã bản tin) hoặc 'item' (mã mục lịch).")
    visible = ScheduleItem.objects.restrict(request.user, "broadcast.view")
    if item is not None:
        root = visible.filter(pk=item).first()
        if root is None:
            raise Http404
        items = ScheduleItem.objects.filter(Q(pk=item) | Q(source_id=item))
    else:
        items = asrun.items_of_bulletin(bulletin)
    entries = AsRunEntry.objects.restrict(request.user, "broadcast.view")
    rows = asrun.report(entries, items=items)
    return {
        "bulletin": bulletin,
        "item": item,
        "communes": len(rows),
        "clusters": sum(r["clusters"] for r in rows),
        "rows": rows,
    }


# --- relay sources -----------------------------------------------------------------------------


def _source_read(s: RelaySource) -> dict:
    return {"id": s.pk, "unit_code": s.unit.code, "name": s.name, "url": s.url}


@router.get(
    "/relay-sources",
    response=list[RelaySourceRead],
    summary="Nguồn tiếp sóng được phép cho một đơn vị (của đơn vị và các cấp trên)",
)
def list_relay_sources(request, unit: str | None = None):
    require(request.user, "broadcast.view")
    if unit:
        target = get_unit(request.user, unit, action="broadcast.view")
        above = [a.pk for a in target.ancestors(include_self=True)]
        qs = RelaySource.objects.filter(unit_id__in=above)
    else:
        qs = RelaySource.objects.restrict(request.user, "broadcast.view")
    return [_source_read(s) for s in qs.select_related("unit")[:500]]


@router.post(
    "/relay-sources", response={201: RelaySourceRead}, summary="Thêm nguồn tiếp sóng được phép"
)
def add_relay_source(request, data: RelaySourceCreate):
    unit = get_unit(request.user, data.unit, action=actions.RELAY_SOURCES_PERMISSION)
    source = actions.add_relay_source(user=request.user, unit=unit, name=data.name, url=data.url)
    return Status(201, _source_read(source))


def _managed_source(request, source_id: int) -> RelaySource:
    require(request.user, actions.RELAY_SOURCES_PERMISSION)
    return get_object_or_404(
        RelaySource.objects.restrict(request.user, actions.RELAY_SOURCES_PERMISSION).select_related(
            "unit"
        ),
        pk=source_id,
    )


@router.patch("/relay-sources/{source_id}", response=RelaySourceRead, summary="Sửa nguồn tiếp sóng")
def update_relay_source(request, source_id: int, data: RelaySourceUpdate):
    source = _managed_source(request, source_id)
    source = actions.update_relay_source(
        user=request.user,
        source=source,
        name=source.name if data.name is None else data.name,
        url=source.url if data.url is None else data.url,
    )
    return _source_read(source)


@router.delete("/relay-sources/{source_id}", response={204: None}, summary="Bỏ nguồn tiếp sóng")
def remove_relay_source(request, source_id: int):
    source = _managed_source(request, source_id)
    actions.remove_relay_source(user=request.user, source=source)
    return Status(204, None)
