"""Business rules of stations and schedules: every mutation checks, writes, audits, marks dirty."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require, require_on
from grassroots.core import audit
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots.core.text import clean_text
from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

from . import engine
from .choices import ItemKind, ItemStatus, Priority, ProposalStatus, RelayType
from .inbox import media_duration, revision_media
from .models import Proposal, RelaySource, ScheduleItem, Station, UsagePolicy
from .specs import item_spec, parse_slot, policy_for

# How far ahead a new item's plays are checked against the usage policy.
POLICY_HORIZON = timedelta(days=35)
MAX_DURATION = timedelta(hours=12)


def mark_stations_dirty(station_ids) -> int:
    """Flag the IP devices of these stations for recompilation (same transaction as the change)."""
    from grassroots.devices.models import Device

    return Device.objects.filter(station_id__in=list(station_ids)).mark_dirty()


def is_commune_level(unit: Unit) -> bool:
    return unit.kind in UnitKind.commune_level()


def ensure_station(unit: Unit, *, user=None) -> Station:
    """The station of a commune-level unit, created on first use (one station per commune)."""
    if not is_commune_level(unit):
        raise Problem(422, f"{unit.name} không phải đơn vị cấp xã nên không có đài truyền thanh.")
    station = Station.objects.filter(unit=unit).first()
    if station is None:
        station = Station.objects.create(unit=unit, name=f"Đài truyền thanh {unit.name}")
        audit.record(station, ChangeAction.CREATE, user=user)
        from grassroots.devices.models import Device

        Device.objects.filter(unit__path__startswith=unit.path, station__isnull=True).update(
            station=station, manifest_dirty=True
        )
    return station


def ensure_all_stations() -> int:
    """One station per commune-level unit in force (system action, idempotent); returns how
    many were made. New communes after a merger get theirs on the next run."""
    from grassroots.devices.models import Device

    missing = list(
        Unit.objects.current()
        .filter(kind__in=UnitKind.commune_level(), station__isnull=True)
        .order_by("path")
    )
    made = Station.objects.bulk_create(
        [Station(unit=u, name=f"Đài truyền thanh {u.name}") for u in missing]
    )
    for station in made:
        audit.record(station, ChangeAction.CREATE, comment="tạo tự động: mỗi xã một đài")
        Device.objects.filter(
            unit__path__startswith=station.unit.path, station__isnull=True
        ).update(station=station, manifest_dirty=True)
    return len(made)


def stations_under(units: list[Unit]) -> list[Station]:
    seen: dict[int, Station] = {}
    for u in units:
        for s in Station.objects.filter(unit__path__startswith=u.path).select_related("unit"):
            seen[s.pk] = s
    return list(seen.values())


# --- validation --------------------------------------------------------------------------------


@dataclass
class ItemData:
    """What a caller gives to schedule something (API, console and tests use the same)."""

    title: str
    priority: str
    kind: str
    starts_at: datetime
    duration_seconds: int
    rrule: str = ""
    exdates: tuple[datetime, ...] = ()
    media: list[dict] | None = None
    revision_id: int | None = None
    playlist: list[int] | None = None
    relay_type: str = ""
    relay_frequency: Decimal | None = None
    relay_url: str = ""
    rank: int | None = None
    volume: int | None = None


def _bad(detail: str, field: str) -> Problem:
    return Problem(422, detail, errors=[{"field": field, "message": detail}])


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def relay_sources_for(unit: Unit):
    """The sources a station of `unit` may relay: listed for the unit or one of its ancestors
    (nearest unit first, then by name)."""
    above = [int(p) for p in unit.path.strip("/").split("/") if p]
    return (
        RelaySource.objects.filter(unit_id__in=above)
        .select_related("unit")
        .order_by("-unit__depth", "name", "pk")
    )


def allowed_relay(unit: Unit, url: str) -> bool:
    """Whether `url` is a relay source listed for `unit` or one of its ancestors."""
    above = [int(p) for p in unit.path.strip("/").split("/") if p]
    return RelaySource.objects.filter(unit_id__in=above, url=url.strip()).exists()


# A relay source's name is shown in tables, menus ("Tiếp sóng <name>") and a station's schedule:
# a short name a person reads at a glance. Refused, never cut, beyond it (the column holds 200).
RELAY_NAME_MAX = 100


def _relay_fields(name: str, url: str) -> tuple[str, str]:
    """(name, url) of a relay source, cleaned and checked; 422 naming the field otherwise."""
    url = clean_text(url or "").strip()
    if (
        not url.startswith(("http://", "https://"))
        or len(url) > 500
        or any(c.isspace() for c in url)
    ):
        raise _bad(
            "Địa chỉ luồng phải bắt đầu bằng http:// hoặc https://, không có dấu cách (tối đa "
            "500 ký tự), ví dụ https://radio.example.vn/vov1.",
            "url",
        )
    name = clean_text(name or "").strip()
    if not name:
        raise _bad("Cần đặt tên cho nguồn tiếp sóng (ví dụ: VOV1).", "name")
    if len(name) > RELAY_NAME_MAX:
        raise _bad(
            f"Tên nguồn tiếp sóng dài {len(name)} ký tự, tối đa {RELAY_NAME_MAX} ký tự: hãy đặt "
            "tên ngắn gọn (ví dụ: VOV1, Đài PT-TH tỉnh Hưng Yên).",
            "name",
        )
    return name, url


@transaction.atomic
def add_relay_source(*, user, unit: Unit, name: str, url: str) -> RelaySource:
    """List a stream the stations under `unit` may relay (administrators of the unit).

    Adding a URL already listed for the unit returns the existing row unchanged (idempotent,
    as the API has always answered). 403 without accounts.manage on `unit`; 422 on a bad field.
    """
    require_on(user, RELAY_SOURCES_PERMISSION, unit)
    name, url = _relay_fields(name, url)
    source, created = RelaySource.objects.get_or_create(
        unit=unit, url=url, defaults={"name": name, "created_by": user}
    )
    if created:
        audit.record(source, ChangeAction.CREATE, user=user)
    return source


@transaction.atomic
def update_relay_source(*, user, source: RelaySource, name: str, url: str) -> RelaySource:
    """Rename a relay source or correct its address (administrators of its unit).

    When the address changes, active stream relays under the source's unit that carried the old
    address move to the new one (audited, their devices recompiled), unless another source still
    allows the old address for them: a stream that moved keeps airing. 409 when the unit already
    lists the new address; 422 on a bad field; 403 without accounts.manage on the unit.
    """
    require_on(user, RELAY_SOURCES_PERMISSION, source.unit)
    name, url = _relay_fields(name, url)
    source = RelaySource.objects.select_for_update().select_related("unit").get(pk=source.pk)
    if url != source.url and RelaySource.objects.filter(unit=source.unit, url=url).exists():
        raise Problem(
            409,
            f"{source.unit.name} đã có nguồn tiếp sóng với địa chỉ này; hãy sửa nguồn đó hoặc "
            "chọn địa chỉ khác.",
            errors=[{"field": "url", "message": "Địa chỉ đã có trong danh sách của đơn vị."}],
        )
    before = audit.snapshot(source)
    old_url = source.url
    source.name, source.url = name, url
    source.save(update_fields=["name", "url", "updated_at"])
    audit.record(source, ChangeAction.UPDATE, user=user, before=before)
    if url != old_url:
        _move_relays(user=user, source=source, old_url=old_url)
    return source


def _move_relays(*, user, source: RelaySource, old_url: str) -> int:
    """Active relays under the source's unit on `old_url` take the source's new address."""
    moved = 0
    items = ScheduleItem.objects.filter(
        kind=ItemKind.RELAY,
        relay_type=RelayType.STREAM,
        relay_url=old_url,
        status=ItemStatus.ACTIVE,
        unit__path__startswith=source.unit.path,
    ).select_related("unit")
    for item in items:
        if allowed_relay(item.unit, old_url):
            continue  # another source still lists the old address for this unit
        before = audit.snapshot(item)
        item.relay_url = source.url
        item.save(update_fields=["relay_url", "updated_at"])
        audit.record(
            item, ChangeAction.UPDATE, user=user, before=before, comment="relay source moved"
        )
        mark_stations_dirty(item.stations.values_list("pk", flat=True))
        moved += 1
    return moved


def relays_using(source: RelaySource) -> int:
    """How many active stream relays under the source's unit carry its address."""
    return ScheduleItem.objects.filter(
        kind=ItemKind.RELAY,
        relay_type=RelayType.STREAM,
        relay_url=source.url,
        status=ItemStatus.ACTIVE,
        unit__path__startswith=source.unit.path,
    ).count()


@transaction.atomic
def remove_relay_source(*, user, source: RelaySource) -> None:
    """Take a stream off the allow-list (administrators of its unit; audited with the row).

    New relays of that address are refused from then on; relays already scheduled keep their
    address until an operator cancels them (the console says how many there are)."""
    require_on(user, RELAY_SOURCES_PERMISSION, source.unit)
    audit.record(source, ChangeAction.DELETE, user=user, before=audit.snapshot(source))
    source.delete()


# Who edits the list: the unit's administrators (no separate permission, so existing roles
# keep working without an edit).
RELAY_SOURCES_PERMISSION = "accounts.manage"


def stored_media(sha: str, *, user, unit: Unit | None = None) -> dict:
    """The manifest entry of a file in the platform's store that belongs to an approved bulletin
    the user may air (in scope, or shared into `unit`); 422 otherwise.

    A schedule never takes a URL from the caller: the URL, size and duration come from the
    store, so nothing airs that editors have not approved (the URL the caller sent is ignored).
    """
    from django.apps import apps
    from django.db.models import Q

    asset_model = apps.get_model("content", "MediaAsset")
    bulletin_model = apps.get_model("content", "Bulletin")
    share_model = apps.get_model("content", "BulletinShare")
    candidates = (
        asset_model.objects.filter(
            Q(sha256=sha) | Q(duplicate_of__sha256=sha) | Q(renditions__icontains=sha),
            status="ready",
            bulletin__approved_revision__isnull=False,
        )
        .values_list("bulletin_id", flat=True)
        .distinct()
    )
    ids = set(
        bulletin_model.objects.restrict(user, "content.view")
        .filter(pk__in=candidates)
        .values_list("pk", flat=True)
    )
    if unit is not None:
        ids |= set(
            share_model.objects.filter(
                unit=unit, withdrawn_at__isnull=True, bulletin_id__in=candidates
            ).values_list("bulletin_id", flat=True)
        )
    visible = bulletin_model.objects.filter(pk__in=ids).select_related(
        "approved_revision__bulletin"
    )
    for bulletin in visible.order_by("pk")[:20]:
        try:
            entries = revision_media(bulletin.approved_revision)
        except Problem:
            continue
        for entry in entries:
            if entry["sha256"] == sha:
                return entry
    raise _bad(
        "Tệp phát phải là tệp âm thanh của một bản tin đã duyệt trong kho của hệ thống (trong "
        "phạm vi của bạn). Không nhận địa chỉ URL tự nhập: hãy tải tệp lên một bản tin, gửi "
        "duyệt, rồi chọn phiên bản đã duyệt.",
        "media",
    )


def _content(data: ItemData, user, unit: Unit | None = None) -> tuple[list[dict], Any]:
    """Resolve media for bulletin/playlist items; returns (media, revision)."""
    if data.kind == ItemKind.RELAY:
        if data.relay_type == RelayType.FM:
            freq = data.relay_frequency
            if freq is None or not (Decimal("64") <= Decimal(freq) <= Decimal("108")):
                raise _bad("Tiếp sóng FM cần tần số từ 64 đến 108 MHz (ví dụ 99.5).", "relay")
        elif data.relay_type == RelayType.STREAM:
            if not data.relay_url.startswith(("http://", "https://")):
                raise _bad("Tiếp sóng luồng Internet cần địa chỉ http(s)://…", "relay")
            if unit is None or not allowed_relay(unit, data.relay_url):
                raise _bad(
                    "Luồng này không có trong danh sách nguồn tiếp sóng được phép của tỉnh. "
                    "Hãy chọn một nguồn trong danh sách (Phát thanh → Nguồn tiếp sóng; API: GET "
                    "/api/v1/relay-sources) hoặc đề nghị quản trị tỉnh bổ sung.",
                    "relay",
                )
        else:
            raise _bad(
                "Tiếp sóng cần chọn kiểu: 'fm' (kèm tần số) hoặc 'stream' (kèm URL).", "relay"
            )
        return [], None
    revision = None
    media: list[dict] = []
    ids = []
    if data.kind == ItemKind.BULLETIN and data.revision_id:
        ids = [data.revision_id]
    elif data.kind == ItemKind.PLAYLIST and data.playlist:
        ids = list(data.playlist)
    if ids:
        from django.apps import apps

        model = apps.get_model("content", "BulletinRevision")
        own = model.objects.restrict(user, "content.view")
        # A revision shared down into this unit's inbox may be aired too.
        shared = model.objects.filter(
            pk__in=apps.get_model("content", "BulletinShare")
            .objects.filter(unit=unit, withdrawn_at__isnull=True)
            .values("revision_id")
        )
        for rid in ids:
            rev = own.select_related("bulletin").filter(pk=rid).first()
            if rev is None and unit is not None:
                rev = shared.select_related("bulletin").filter(pk=rid).first()
            if rev is None:
                raise _bad(
                    f"Không tìm thấy phiên bản bản tin {rid} trong phạm vi của bạn.", "revision"
                )
            media += revision_media(rev)
            if revision is None and data.kind == ItemKind.BULLETIN:
                revision = rev
    for m in data.media or []:
        sha = str(m.get("sha256", "")).lower()
        if not _SHA256.match(sha):
            raise _bad("Mỗi tệp phát cần 'sha256' (64 ký tự hex) của một tệp trong kho.", "media")
        media.append(stored_media(sha, user=user, unit=unit))
    if not media:
        raise _bad(
            "Hãy chọn một phiên bản bản tin đã duyệt, một danh sách phát hoặc tệp phát.", "media"
        )
    return media, revision


def _validate_time(data: ItemData) -> None:
    if timezone.is_naive(data.starts_at):
        raise _bad("Giờ bắt đầu phải có múi giờ (ví dụ 2026-12-01T06:00:00+07:00).", "starts_at")
    if not (0 < data.duration_seconds <= MAX_DURATION.total_seconds()):
        raise _bad("Thời lượng phải từ 1 giây đến 12 giờ.", "duration_seconds")
    if data.rrule:
        try:
            engine.parse_rrule(data.rrule, data.starts_at)
        except ValueError as exc:
            raise _bad(str(exc), "rrule") from exc


def _existing_plays(station: Station, start, end, *, exclude: int | None = None):
    from .specs import playable_items

    ids = [i for _s, i in playable_items([station.pk], start, end) if i != exclude]
    items = ScheduleItem.objects.filter(pk__in=ids).exclude(priority=Priority.EMERGENCY)
    return [(o.start, o.end) for it in items for o in engine.expand(item_spec(it), start, end)]


def check_usage(item: ScheduleItem, station: Station, *, now: datetime | None = None) -> None:
    """Refuse (422, Vietnamese) a non-emergency item that breaks the station's usage policy."""
    if item.priority == Priority.EMERGENCY:
        return
    now = now or timezone.now()
    start = max(now, item.starts_at) - timedelta(days=1)
    end = max(now, item.starts_at) + POLICY_HORIZON
    policy = policy_for(station.unit)
    new = [(o.start, o.end) for o in engine.expand(item_spec(item), start, end) if o.end > now]
    existing = _existing_plays(station, start, end, exclude=item.pk)
    violations = []
    if item.kind == ItemKind.RELAY:
        violations = [v for s, e in new if (v := engine.relay_slot_violation(policy, s, e))][:1]
    violations = violations or engine.check_policy(policy, new, existing)
    if violations:
        v = violations[0]
        raise Problem(
            422,
            v.message,
            title="Vi phạm quy định sử dụng loa",
            rule=v.rule,
            errors=[{"field": "starts_at", "message": v.message, "rule": v.rule}],
        )


# --- actions -----------------------------------------------------------------------------------


def _build(unit: Unit, data: ItemData, user, media, revision, source=None) -> ScheduleItem:
    item = ScheduleItem(
        unit=unit,
        title=data.title.strip()[:300] or "(không tên)",
        priority=data.priority,
        kind=data.kind,
        revision_id=revision.pk if revision is not None else None,
        playlist=list(data.playlist or []),
        media=media,
        relay_type=data.relay_type if data.kind == ItemKind.RELAY else "",
        relay_frequency=data.relay_frequency if data.relay_type == RelayType.FM else None,
        relay_url=data.relay_url if data.relay_type == RelayType.STREAM else "",
        starts_at=data.starts_at,
        duration_seconds=data.duration_seconds,
        rrule=data.rrule.strip(),
        exdates=[x.isoformat() for x in data.exdates],
        rank=data.rank,
        volume=data.volume,
        source=source,
        policy_exempt=data.priority == Priority.EMERGENCY,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    item.last_end = engine.last_end(item_spec(item))
    return item


def create_item(*, user, unit: Unit, data: ItemData, targets: list[Unit] | None = None):
    """Schedule an item owned by `unit`; returns (item, proposals made for lower stations).

    A commune's item plays on its station after the usage-policy check. An upper level's
    emergency plays at once on every station below its targets (exempt, recorded as such);
    its other items become proposals the communes place.
    """
    if data.priority not in Priority.values or data.kind not in ItemKind.values:
        raise _bad("Mức ưu tiên hoặc loại mục lịch không hợp lệ.", "priority")
    permission = (
        "broadcast.emergency" if data.priority == Priority.EMERGENCY else "broadcast.schedule"
    )
    require(user, permission)
    require_on(user, permission, unit)
    targets = targets or [unit]
    for t in targets:
        if not t.path.startswith(unit.path):
            raise _bad(
                f"{t.name} không thuộc {unit.name}: chỉ gửi được cho đơn vị cấp dưới.", "targets"
            )
    _validate_time(data)
    media, revision = _content(data, user, unit)
    with transaction.atomic():
        item = _build(unit, data, user, media, revision)
        item.save()
        item.target_units.set(targets)
        proposals: list[Proposal] = []
        if is_commune_level(unit):
            station = ensure_station(unit, user=user)
            check_usage(item, station)
            item.stations.set([station])
            mark_stations_dirty([station.pk])
        else:
            stations = stations_under(targets)
            if data.priority == Priority.EMERGENCY:
                item.stations.set(stations)
                mark_stations_dirty([s.pk for s in stations])
            else:
                proposals = Proposal.objects.bulk_create(
                    [
                        Proposal(item=item, station=s, must_air=data.priority == Priority.PRIORITY)
                        for s in stations
                    ]
                )
        comment = "khẩn cấp: miễn áp dụng quy định sử dụng loa" if item.policy_exempt else ""
        audit.record(item, ChangeAction.CREATE, user=user, comment=comment)
        if not ScheduleItem.objects.restrict(user, permission).filter(pk=item.pk).exists():
            raise Http404
    return item, proposals


def place_proposal(
    *,
    user,
    proposal: Proposal,
    starts_at: datetime | None = None,
    rrule: str | None = None,
    rank: int | None = None,
) -> ScheduleItem:
    """The commune places an upper level's item on its station (time and order of its choice)."""
    require_on(user, "broadcast.schedule", proposal.station.unit)
    if proposal.status != ProposalStatus.PENDING:
        raise Problem(409, "Đề xuất này đã được xử lý rồi.")
    src = proposal.item
    if src.status != ItemStatus.ACTIVE:
        raise Problem(409, "Cấp trên đã huỷ mục lịch này; không cần xếp lịch nữa.")
    data = ItemData(
        title=src.title,
        priority=src.priority,
        kind=src.kind,
        starts_at=starts_at or src.starts_at,
        duration_seconds=src.duration_seconds,
        rrule=src.rrule if rrule is None else rrule,
        relay_type=src.relay_type,
        relay_frequency=src.relay_frequency,
        relay_url=src.relay_url,
        rank=rank,
        volume=src.volume,
    )
    _validate_time(data)
    station = proposal.station
    with transaction.atomic():
        media = list(src.media)
        if not media and src.revision_id:
            # Shared before its audio was ready (TTS, transcoding): take the files now.
            media = revision_media(src.revision)
            data.duration_seconds = media_duration(media, data.duration_seconds)
        item = _build(station.unit, data, user, media, None, source=src)
        item.revision_id = src.revision_id
        item.playlist = list(src.playlist)
        item.save()
        item.target_units.set([station.unit])
        check_usage(item, station)
        item.stations.set([station])
        before = audit.snapshot(proposal)
        proposal.status = ProposalStatus.PLACED
        proposal.placed_item = item
        proposal.decided_by = user
        proposal.decided_at = timezone.now()
        proposal.save()
        audit.record(
            item, ChangeAction.CREATE, user=user, comment=f"xếp lịch đề xuất {proposal.pk}"
        )
        audit.record(proposal, ChangeAction.UPDATE, user=user, before=before)
        mark_stations_dirty([station.pk])
    return item


def decline_proposal(*, user, proposal: Proposal, note: str = "") -> Proposal:
    """A commune declines a normal (optional) proposal; must-air ones cannot be declined."""
    require_on(user, "broadcast.schedule", proposal.station.unit)
    if proposal.must_air:
        raise Problem(
            409,
            "Nội dung ưu tiên/khẩn cấp của cấp trên là bắt buộc phát (Thông tư 39): hãy xếp lịch "
            "vào giờ phù hợp thay vì từ chối.",
        )
    if proposal.status != ProposalStatus.PENDING:
        raise Problem(409, "Đề xuất này đã được xử lý rồi.")
    with transaction.atomic():
        before = audit.snapshot(proposal)
        proposal.status = ProposalStatus.DECLINED
        proposal.decided_by = user
        proposal.decided_at = timezone.now()
        proposal.note = note[:300]
        proposal.save()
        audit.record(proposal, ChangeAction.UPDATE, user=user, before=before)
    return proposal


def set_rank(*, user, item: ScheduleItem, rank: int | None) -> ScheduleItem:
    """The commune's chosen order among clashing priority items (1 plays first)."""
    require_on(user, "broadcast.schedule", item.unit)
    if item.priority != Priority.PRIORITY:
        raise _bad("Chỉ xếp thứ tự cho các mục ưu tiên.", "rank")
    with transaction.atomic():
        before = audit.snapshot(item)
        item.rank = rank
        item.save(update_fields=["rank", "updated_at"])
        audit.record(item, ChangeAction.UPDATE, user=user, before=before)
        mark_stations_dirty(item.stations.values_list("pk", flat=True))
    return item


UPDATABLE = ("title", "starts_at", "duration_seconds", "rrule", "exdates", "volume", "rank")


def update_item(*, user, item: ScheduleItem, **fields) -> ScheduleItem:
    """Move, lengthen or re-title an item; the usage policy is checked again, devices recompiled."""
    permission = (
        "broadcast.emergency" if item.priority == Priority.EMERGENCY else "broadcast.schedule"
    )
    require_on(user, permission, item.unit)
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise _bad(f"Không sửa được các trường: {', '.join(sorted(unknown))}.", "body")
    if item.status != ItemStatus.ACTIVE:
        raise Problem(409, "Mục lịch đã huỷ; hãy lập mục mới.")
    if fields.get("rank") is not None and item.priority != Priority.PRIORITY:
        raise _bad("Chỉ xếp thứ tự cho các mục ưu tiên.", "rank")
    data = ItemData(
        title=fields.get("title", item.title),
        priority=item.priority,
        kind=item.kind,
        starts_at=fields.get("starts_at", item.starts_at),
        duration_seconds=fields.get("duration_seconds", item.duration_seconds),
        rrule=fields.get("rrule", item.rrule) or "",
    )
    _validate_time(data)
    with transaction.atomic():
        before = audit.snapshot(item)
        for key, value in fields.items():
            if key == "exdates":
                value = [x.isoformat() for x in value or []]
            if key == "title":
                value = (value or "").strip()[:300] or item.title
            setattr(item, key, value)
        item.last_end = engine.last_end(item_spec(item))
        item.save()
        for station in item.stations.select_related("unit"):
            check_usage(item, station)
        audit.record(item, ChangeAction.UPDATE, user=user, before=before)
        mark_stations_dirty(item.stations.values_list("pk", flat=True))
    return item


def cancel_item(*, user, item: ScheduleItem) -> ScheduleItem:
    """Take an item off the air (its manifests are recompiled); pending proposals lapse."""
    permission = (
        "broadcast.emergency" if item.priority == Priority.EMERGENCY else "broadcast.schedule"
    )
    require_on(user, permission, item.unit)
    if item.status == ItemStatus.CANCELLED:
        return item
    with transaction.atomic():
        before = audit.snapshot(item)
        item.status = ItemStatus.CANCELLED
        item.save(update_fields=["status", "updated_at"])
        item.proposals.filter(status=ProposalStatus.PENDING).update(
            status=ProposalStatus.DECLINED, note="Cấp trên đã huỷ"
        )
        audit.record(item, ChangeAction.UPDATE, user=user, before=before)
        mark_stations_dirty(item.stations.values_list("pk", flat=True))
    return item


POLICY_FIELDS = (
    "allowed_start",
    "allowed_end",
    "max_sessions_per_day",
    "max_minutes_per_session",
    "quiet_weekdays",
    "quiet_dates",
    "relay_slots",
    "note",
)


def set_policy(*, user, unit: Unit, **fields) -> UsagePolicy:
    """Create or change a unit's usage policy; every station below is recompiled."""
    require_on(user, "broadcast.schedule", unit)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise _bad(f"Trường không hợp lệ: {', '.join(sorted(unknown))}", "policy")
    days = fields.get("quiet_weekdays") or []
    if any(not (0 <= int(d) <= 6) for d in days):
        raise _bad("Ngày trong tuần từ 0 (thứ Hai) đến 6 (Chủ nhật).", "quiet_weekdays")
    if (fields.get("allowed_start") is None) != (fields.get("allowed_end") is None):
        raise _bad("Khung giờ được phát cần cả giờ bắt đầu và giờ kết thúc.", "allowed_start")
    slots = []
    for raw in fields.get("relay_slots") or []:
        try:
            a, b = parse_slot(raw)
        except ValueError as exc:
            raise _bad(str(exc), "relay_slots") from exc
        slots.append(f"{a:%H:%M}-{b:%H:%M}")
    if "relay_slots" in fields:
        fields["relay_slots"] = sorted(set(slots))
    with transaction.atomic():
        policy = UsagePolicy.objects.filter(unit=unit).first()
        before = audit.snapshot(policy) if policy else None
        policy = policy or UsagePolicy(unit=unit)
        for key, value in fields.items():
            if key == "quiet_dates":
                value = [str(v) for v in value or []]
            if key == "quiet_weekdays":
                value = sorted({int(v) for v in value or []})
            setattr(policy, key, value)
        policy.save()
        audit.record(
            policy, ChangeAction.UPDATE if before else ChangeAction.CREATE, user=user, before=before
        )
        mark_stations_dirty(
            Station.objects.filter(unit__path__startswith=unit.path).values_list("pk", flat=True)
        )
    return policy


def set_station_options(*, user, station: Station, auto_boards: bool) -> Station:
    """A commune's choice: shared must-air bulletins go onto its e-boards by themselves."""
    require_on(user, "broadcast.schedule", station.unit)
    with transaction.atomic():
        before = audit.snapshot(station)
        station.auto_boards = bool(auto_boards)
        station.save(update_fields=["auto_boards", "updated_at"])
        audit.record(station, ChangeAction.UPDATE, user=user, before=before)
    return station


def move_occurrence(
    *, user, item: ScheduleItem, on: date, starts_at: datetime, duration_seconds: int | None = None
) -> ScheduleItem:
    """Move one day's play of a recurring item: the series skips that day (an excluded date)
    and a one-off copy plays at the new time. Returns the copy."""
    permission = (
        "broadcast.emergency" if item.priority == Priority.EMERGENCY else "broadcast.schedule"
    )
    require_on(user, permission, item.unit)
    if item.status != ItemStatus.ACTIVE:
        raise Problem(409, "Mục lịch đã huỷ; hãy lập mục mới.")
    if not item.rrule:
        raise _bad("Mục lịch này không lặp lại: hãy sửa thẳng giờ phát của nó.", "starts_at")
    day_plays = [
        o
        for o in engine.expand(
            item_spec(item),
            datetime.combine(on, time(0), engine.TZ),
            datetime.combine(on + timedelta(days=1), time(0), engine.TZ),
        )
        if o.start.astimezone(engine.TZ).date() == on
    ]
    if not day_plays:
        raise _bad(
            f"'{item.title}' không phát ngày {engine.dmy(on)}; hãy chọn một ngày có lần phát.",
            "day",
        )
    data = ItemData(
        title=item.title,
        priority=item.priority,
        kind=item.kind,
        starts_at=starts_at,
        duration_seconds=duration_seconds or item.duration_seconds,
    )
    _validate_time(data)
    with transaction.atomic():
        before = audit.snapshot(item)
        item.exdates = sorted({*(item.exdates or []), on.isoformat()})
        item.save(update_fields=["exdates", "updated_at"])
        audit.record(
            item, ChangeAction.UPDATE, user=user, before=before, comment=f"dời lần phát {on}"
        )
        copy = ScheduleItem.objects.get(pk=item.pk)
        copy.pk = None
        copy.id = None
        copy.starts_at = data.starts_at
        copy.duration_seconds = data.duration_seconds
        copy.rrule = ""
        copy.exdates = []
        copy.created_by = user if getattr(user, "is_authenticated", False) else None
        copy.last_end = engine.last_end(item_spec(copy))
        copy.save()
        copy.target_units.set(item.target_units.all())
        stations = list(item.stations.select_related("unit"))
        copy.stations.set(stations)
        for station in stations:
            check_usage(copy, station)
        audit.record(
            copy,
            ChangeAction.CREATE,
            user=user,
            comment=f"lần phát ngày {on} của mục lịch {item.pk}, dời giờ",
        )
        mark_stations_dirty([s.pk for s in stations])
    return copy
