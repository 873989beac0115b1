"""Console scheduling: a station's week, slots (one-off, recurring, relays), proposals from above,
the usage policy, the province's must-air status, and a shared bulletin onto the air or the boards.

Views parse the form and call the actions (actions.py, signage.actions); every rule and audit
entry lives there, so the console and the API refuse the same things with the same words.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers
from grassroots.core.errors import Problem

from . import actions
from .choices import ItemKind, ItemStatus, Priority, ProposalStatus, RelayType
from .engine import TZ
from .forms import (
    DAY_LABELS,
    DAYS,
    REPEATS,
    FormError,
    SlotInput,
    show_minutes,
    split_rrule,
    week_start,
)
from .models import Proposal, ScheduleItem, Station, UsagePolicy
from .specs import policy_for, station_timeline

SCHEDULE = "broadcast.schedule"
# Which form field an action's error belongs to (actions name their own fields).
FIELD_OF = {
    "starts_at": "at",
    "duration_seconds": "minutes",
    "rrule": "rrule",
    "relay": "relay_frequency",
    "revision": "revision",
    "media": "revision",
    "rank": "rank",
    "priority": "priority",
}


def _forbidden(request, exc):
    return render(
        request,
        "core/error.html",
        {
            "title": _("Không có quyền"),
            "detail": str(exc) or _("Bạn không có quyền làm việc này."),
        },
        status=403,
    )


def _station(user, station_id: int, permission: str = "broadcast.view") -> Station:
    require(user, permission)
    return get_object_or_404(
        Station.objects.restrict(user, permission).select_related("unit"), pk=station_id
    )


def problem_field(exc: Problem) -> str:
    errors = exc.extra.get("errors") or []
    name = errors[0].get("field", "") if errors else ""
    return FIELD_OF.get(name, name)


def error_text(exc: Exception) -> str:
    if isinstance(exc, Problem):
        return exc.detail
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
        return " ".join(exc.messages)
    return str(exc)


def describe_repeat(rule: str) -> str:
    """An RRULE in words an operator reads ("Thứ Hai – thứ Sáu, đến 31/12/2026")."""
    if not rule:
        return _("Một lần")
    preset, days, text, until = split_rrule(rule)
    if preset == "daily":
        words = _("Hằng ngày")
    elif preset == "weekdays":
        words = _("Thứ Hai – thứ Sáu")
    elif preset == "days":
        words = ", ".join(str(DAY_LABELS[DAYS.index(d)]) for d in days)
    else:
        words = f"RRULE {text}"
    if until:
        words += _(", đến %(day)s") % {"day": f"{date.fromisoformat(until):%d/%m/%Y}"}
    return words


def _revisions(user, unit, *, own_only: bool = False) -> list[tuple[int, str]]:
    """Approved revisions this unit may air: its own scope's, and those shared into its inbox."""
    from grassroots.content.models import Bulletin, BulletinShare

    out: dict[int, str] = {}
    for share in (
        BulletinShare.objects.filter(unit=unit, withdrawn_at__isnull=True)
        .select_related("bulletin", "revision")
        .order_by("-shared_at")[:100]
    ):
        if share.bulletin.approved_revision_id == share.revision_id:
            out[share.revision_id] = _("%(title)s (cấp trên chia sẻ)") % {
                "title": share.bulletin.title
            }
    own = (
        Bulletin.objects.restrict(user, "content.view")
        .filter(status__in=["approved", "published"], approved_revision__isnull=False)
        .filter(**({"unit": unit} if own_only else {"unit__path__startswith": unit.path}))
        .order_by("-updated_at")[:100]
    )
    for b in own:
        out.setdefault(b.approved_revision_id, b.title)
    return list(out.items())


def station_items(station: Station):
    now = timezone.now()
    return (
        ScheduleItem.objects.filter(stations=station, status=ItemStatus.ACTIVE)
        .filter(Q(last_end__isnull=True) | Q(last_end__gt=now))
        .select_related("source")
        .order_by("starts_at")
    )


# --- an upper level's item, proposed to its communes ---------------------------------------


def upper_units(user):
    from grassroots.units.choices import UnitKind
    from grassroots.units.models import Unit

    return (
        Unit.objects.restrict(user, SCHEDULE)
        .current()
        .exclude(kind__in=UnitKind.commune_level())
        .order_by("depth", "path")
    )


def _communes_under(units):
    from grassroots.units.choices import UnitKind
    from grassroots.units.models import Unit

    q = Q(pk__in=[])
    for u in units:
        q |= Q(path__startswith=u.path)
    return Unit.objects.current().filter(q, kind__in=UnitKind.commune_level()).order_by("name")


@login_required
def upper_slot_new(request):
    """A province (or other upper level) offers an item to its communes: each station gets a
    proposal; a priority item is must-air (Thông tư 39), a normal one the commune may decline."""
    try:
        require(request.user, SCHEDULE)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    units = list(upper_units(request.user)[:50])
    if not units:
        return _forbidden(
            request, PermissionDenied(_("Chỉ cấp trên của xã mới gửi đề xuất lịch phát."))
        )
    communes = list(_communes_under(units[:1]))
    chosen_unit = next((u for u in units if u.code == request.POST.get("unit", "")), units[0])
    extra = {
        "mode": "upper",
        "units": units,
        "unit": chosen_unit,
        "communes": communes,
        "all_targets": request.method != "POST" or bool(request.POST.get("all_targets")),
        "targets": set(request.POST.getlist("targets")),
    }
    if request.method != "POST":
        form = SlotInput()
        if request.GET.get("loai") == ItemKind.RELAY:
            form.kind = ItemKind.RELAY
            form.title = _("Tiếp sóng Đài Phát thanh và Truyền hình tỉnh")
            form.minutes = "30"
        start = timezone.localtime() + timedelta(days=1)
        form.day, form.at = start.strftime("%Y-%m-%d"), "06:00"
        return _render_upper(request, chosen_unit, form, **extra)
    form = SlotInput.from_post(request.POST)
    try:
        if extra["all_targets"]:
            targets = [chosen_unit]
        else:
            targets = [c for c in communes if c.code in extra["targets"]]
            if not targets:
                raise FormError("targets", _("Hãy chọn ít nhất một xã, phường nhận đề xuất."))
        starts_at = form.starts_at()
        kind = form.kind if form.kind in (ItemKind.BULLETIN, ItemKind.RELAY) else ItemKind.BULLETIN
        if form.priority not in (Priority.NORMAL, Priority.PRIORITY):
            raise FormError(
                "priority",
                _("Chọn mức thông thường hoặc ưu tiên; phát khẩn cấp dùng trang Khẩn cấp."),
            )
        if not form.title:
            raise FormError("title", _("Hãy đặt tên cho mục lịch (người nghe và cán bộ sẽ thấy)."))
        data = actions.ItemData(
            title=form.title,
            priority=form.priority,
            kind=kind,
            starts_at=starts_at,
            duration_seconds=form.duration_seconds(),
            rrule=form.recurrence(starts_at),
            exdates=form.excluded(),
            revision_id=form.revision_id() if kind == ItemKind.BULLETIN else None,
            relay_type=form.relay_type if kind == ItemKind.RELAY else "",
            relay_frequency=form.frequency() if form.relay_type == RelayType.FM else None,
            relay_url=form.relay_url if form.relay_type == RelayType.STREAM else "",
        )
        item, proposals = actions.create_item(
            user=request.user, unit=chosen_unit, data=data, targets=targets
        )
    except FormError as exc:
        return _render_upper(
            request, chosen_unit, form, error=exc.message, field=exc.field, status=422, **extra
        )
    except Problem as exc:
        return _render_upper(
            request, chosen_unit, form, error=exc.detail, field=_field_for(exc, form),
            status=422, **extra,
        )  # fmt: skip
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    messages.success(
        request,
        _("Đã gửi '%(title)s' tới %(n)s đài xã, phường để xếp lịch.")
        % {"title": item.title, "n": len(proposals)},
    )
    if item.priority == Priority.PRIORITY:
        return redirect(f"{reverse('must-air-status')}?muc={item.pk}")
    return redirect("station-list")


def _render_upper(request, sender, form, *, status=200, **extra):
    return render(
        request,
        "broadcast/slot_form.html",
        {
            "station": None,
            "form": form,
            "repeats": REPEATS,
            "weekdays": list(zip(DAYS, DAY_LABELS, strict=True)),
            "revisions": _revisions(request.user, sender, own_only=True),
            "relay_slots": [],
            "policy": None,
            **extra,
        },
        status=status,
    )


def live_emergencies(station: Station, start: datetime, end: datetime) -> list:
    """Emergencies sent live (play.now) to an area covering this station in [start, end):
    they cut whatever the schedule plays, so the week draws them over it."""
    from .models import Emergency, EmergencyStatus
    from .specs import path_ids

    found = (
        Emergency.objects.filter(
            area__in=path_ids(station.unit.path), sent_at__gte=start, sent_at__lt=end
        )
        .exclude(status__in=[EmergencyStatus.PREPARING, EmergencyStatus.FAILED])
        .distinct()
        .order_by("sent_at")
    )
    out = []
    for e in found:
        e.until = min(x for x in (e.stopped_at, e.expires_at) if x is not None)
        out.append(e)
    return out


# --- week ---------------------------------------------------------------------------------


@login_required
def station_week(request, station_id: int):
    """Seven days of one station: every segment with why it plays, what is skipped and why."""
    try:
        station = _station(request.user, station_id)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    try:
        first = week_start(date.fromisoformat(request.GET.get("tu", "")))
    except ValueError:
        first = week_start(timezone.localdate())
    start = datetime.combine(first, time(0), TZ)
    timeline = station_timeline(station, start, start + timedelta(days=7))
    by_day: dict[date, list] = defaultdict(list)
    skipped: dict[date, list] = defaultdict(list)
    for seg in timeline.segments:
        by_day[seg.start.astimezone(TZ).date()].append(seg)
    for k in timeline.skipped:
        skipped[k.occurrence.start.astimezone(TZ).date()].append(k)
    urgent: dict[date, list] = defaultdict(list)
    for e in live_emergencies(station, start, start + timedelta(days=7)):
        urgent[e.sent_at.astimezone(TZ).date()].append(e)
    days = []
    for n in range(7):
        d = first + timedelta(days=n)
        days.append(
            {
                "date": d,
                "label": DAY_LABELS[n],
                "segments": by_day[d],
                "skipped": skipped[d],
                "emergencies": urgent[d],
            }
        )
    return render(
        request,
        "broadcast/week.html",
        {
            "station": station,
            "days": days,
            "first": first,
            "prev": first - timedelta(days=7),
            "next": first + timedelta(days=7),
            "today": timezone.localdate(),
            "can_schedule": covers(request.user, SCHEDULE, station.unit),
            "movable": set(
                ScheduleItem.objects.filter(
                    pk__in={seg.item.id for seg in timeline.segments}, unit=station.unit
                )
                .exclude(rrule="")
                .values_list("pk", flat=True)
            ),
        },
    )


# --- slots ----------------------------------------------------------------------------------


def _slot_context(request, station, form: SlotInput, **extra) -> dict:
    policy = policy_for(station.unit)
    return {
        "station": station,
        "form": form,
        "repeats": REPEATS,
        "weekdays": list(zip(DAYS, DAY_LABELS, strict=True)),
        "revisions": _revisions(request.user, station.unit),
        "relay_slots": [f"{a:%H:%M}–{b:%H:%M}" for a, b in policy.relay_slots],
        "policy": policy,
        **extra,
    }


def _render_slot(request, station, form, *, status=200, **extra):
    return render(
        request,
        "broadcast/slot_form.html",
        _slot_context(request, station, form, **extra),
        status=status,
    )


def _prefill_from_share(user, station: Station, share_id: str) -> SlotInput:
    """'Phát trên loa…' from the inbox: the shared bulletin's approved revision, its length."""
    from grassroots.content.models import BulletinShare

    from .inbox import media_duration, revision_media

    form = SlotInput()
    share = (
        BulletinShare.objects.restrict(user, "content.view")
        .filter(pk=share_id if share_id.isdigit() else 0, unit=station.unit)
        .select_related("bulletin", "revision")
        .first()
    )
    if share is None:
        return form
    form.title = share.bulletin.title
    form.revision = str(share.revision_id)
    form.priority = Priority.PRIORITY if share.must_air else Priority.NORMAL
    try:
        form.minutes = show_minutes(media_duration(revision_media(share.revision)))
    except Problem:
        form.minutes = "5"
    return form


@login_required
def slot_new(request, station_id: int):
    """A new one-off or recurring slot, or a relay, on this station (create_item)."""
    try:
        station = _station(request.user, station_id, SCHEDULE)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    if request.method != "POST":
        form = _prefill_from_share(request.user, station, request.GET.get("chia_se", ""))
        if request.GET.get("loai") == ItemKind.RELAY:
            form.kind = ItemKind.RELAY
            form.title = form.title or _("Tiếp sóng Đài Phát thanh và Truyền hình tỉnh")
        start = timezone.localtime() + timedelta(hours=1)
        form.day = form.day or start.strftime("%Y-%m-%d")
        form.at = form.at or start.strftime("%H:00")
        form.minutes = form.minutes or ("30" if form.kind == ItemKind.RELAY else "")
        return _render_slot(request, station, form, mode="new")
    form = SlotInput.from_post(request.POST)
    try:
        starts_at = form.starts_at()
        kind = form.kind if form.kind in (ItemKind.BULLETIN, ItemKind.RELAY) else ItemKind.BULLETIN
        if form.priority not in (Priority.NORMAL, Priority.PRIORITY):
            raise FormError(
                "priority",
                _("Chọn mức thông thường hoặc ưu tiên; phát khẩn cấp dùng trang Khẩn cấp."),
            )
        if not form.title:
            raise FormError("title", _("Hãy đặt tên cho mục lịch (người nghe và cán bộ sẽ thấy)."))
        data = actions.ItemData(
            title=form.title,
            priority=form.priority,
            kind=kind,
            starts_at=starts_at,
            duration_seconds=form.duration_seconds(),
            rrule=form.recurrence(starts_at),
            exdates=form.excluded(),
            revision_id=form.revision_id() if kind == ItemKind.BULLETIN else None,
            relay_type=form.relay_type if kind == ItemKind.RELAY else "",
            relay_frequency=form.frequency() if form.relay_type == RelayType.FM else None,
            relay_url=form.relay_url if form.relay_type == RelayType.STREAM else "",
            rank=form.rank_value() if form.priority == Priority.PRIORITY else None,
        )
        item, _proposals = actions.create_item(user=request.user, unit=station.unit, data=data)
    except FormError as exc:
        return _render_slot(
            request, station, form, mode="new", error=exc.message, field=exc.field, status=422
        )
    except Problem as exc:
        return _render_slot(
            request,
            station,
            form,
            mode="new",
            error=exc.detail,
            field=_field_for(exc, form),
            status=422,
        )
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    messages.success(
        request,
        _("Đã lập lịch '%(title)s' (%(repeat)s).")
        % {"title": item.title, "repeat": describe_repeat(item.rrule).lower()},
    )
    return redirect(_day_url(station, item.starts_at))


def _field_for(exc: Problem, form: SlotInput) -> str:
    name = problem_field(exc)
    if name == "relay_frequency" and form.relay_type == RelayType.STREAM:
        return "relay_url"
    if name == "rrule" and form.repeat != "rrule":
        return "repeat"
    return name


def _day_url(station: Station, moment: datetime) -> str:
    day = moment.astimezone(TZ).strftime("%Y-%m-%d")
    return f"{reverse('station-timeline', args=[station.pk])}?ngay={day}"


def _own_item(station: Station, item_id: int) -> ScheduleItem:
    return get_object_or_404(
        ScheduleItem.objects.filter(stations=station, unit=station.unit), pk=item_id
    )


@login_required
def slot_edit(request, station_id: int, item_id: int):
    """Move, lengthen, re-title or change the recurrence of a slot (update_item)."""
    try:
        station = _station(request.user, station_id, SCHEDULE)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    item = _own_item(station, item_id)
    if request.method != "POST":
        return _render_slot(request, station, SlotInput.from_item(item), mode="edit", item=item)
    form = SlotInput.from_post(request.POST)
    form.kind, form.priority = item.kind, item.priority
    try:
        starts_at = form.starts_at()
        fields = {
            "title": form.title,
            "starts_at": starts_at,
            "duration_seconds": form.duration_seconds(),
            "rrule": form.recurrence(starts_at),
            "exdates": form.excluded(),
        }
        if item.priority == Priority.PRIORITY:
            fields["rank"] = form.rank_value()
        actions.update_item(user=request.user, item=item, **fields)
    except FormError as exc:
        return _render_slot(
            request, station, form, mode="edit", item=item, error=exc.message, field=exc.field,
            status=422,
        )  # fmt: skip
    except Problem as exc:
        item.refresh_from_db()
        return _render_slot(
            request, station, form, mode="edit", item=item, error=exc.detail,
            field=_field_for(exc, form), status=422,
        )  # fmt: skip
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    messages.success(request, _("Đã lưu thay đổi '%(title)s'.") % {"title": item.title})
    return redirect(_day_url(station, item.starts_at))


@login_required
def slot_move_once(request, station_id: int, item_id: int):
    """Move one day's play of a recurring slot; the rest of the series stays as it is."""
    try:
        station = _station(request.user, station_id, SCHEDULE)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    item = _own_item(station, item_id)
    try:
        on = date.fromisoformat(request.GET.get("ngay", "") or request.POST.get("on", ""))
    except ValueError:
        on = timezone.localdate()
    local = item.starts_at.astimezone(TZ)
    form = SlotInput(
        title=item.title,
        day=on.isoformat(),
        at=local.strftime("%H:%M"),
        minutes=show_minutes(item.duration_seconds),
    )
    error = field = ""
    status = 200
    if request.method == "POST":
        form = SlotInput.from_post(request.POST)
        try:
            copy = actions.move_occurrence(
                user=request.user,
                item=item,
                on=on,
                starts_at=form.starts_at(),
                duration_seconds=form.duration_seconds(),
            )
        except FormError as exc:
            error, field = exc.message, exc.field
        except Problem as exc:
            item.refresh_from_db()
            error, field = exc.detail, problem_field(exc)
        except PermissionDenied as exc:
            return _forbidden(request, exc)
        else:
            messages.success(
                request,
                _("Đã dời lần phát ngày %(day)s của '%(title)s' sang %(when)s.")
                % {
                    "day": f"{on:%d/%m/%Y}",
                    "title": item.title,
                    "when": f"{copy.starts_at.astimezone(TZ):%H:%M %d/%m/%Y}",
                },
            )
            return redirect(f"{reverse('station-week', args=[station.pk])}?tu={on}")
        status = 422
    return render(
        request,
        "broadcast/move_once.html",
        {"station": station, "item": item, "on": on, "form": form, "error": error,
         "field": field},
        status=status,
    )  # fmt: skip


@login_required
@require_POST
def slot_cancel(request, station_id: int, item_id: int):
    try:
        station = _station(request.user, station_id, SCHEDULE)
        item = _own_item(station, item_id)
        actions.cancel_item(user=request.user, item=item)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    except Problem as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("Đã huỷ '%(title)s'; các cụm loa sẽ cập nhật lịch.") % {"title": item.title},
        )
    return redirect("station-timeline", station_id=station.pk)


@login_required
@require_POST
def slot_rank(request, station_id: int, item_id: int):
    """The commune's order among its priority items that clash (Thông tư 39)."""
    try:
        station = _station(request.user, station_id, SCHEDULE)
        item = _own_item(station, item_id)
        form = SlotInput(rank=request.POST.get("rank", "").strip())
        actions.set_rank(user=request.user, item=item, rank=form.rank_value())
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    except FormError as exc:
        messages.error(request, exc.message)
    except Problem as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Đã đặt thứ tự phát cho '%(title)s'.") % {"title": item.title})
    return redirect("station-timeline", station_id=station.pk)


# --- proposals from above -----------------------------------------------------------------


def _proposal(user, station_id: int, proposal_id: int) -> tuple[Station, Proposal]:
    station = _station(user, station_id, SCHEDULE)
    proposal = get_object_or_404(
        Proposal.objects.filter(station=station).select_related("item", "station__unit"),
        pk=proposal_id,
    )
    return station, proposal


def _source_seconds(src: ScheduleItem) -> int:
    """How long the placed item will be: shared before its audio was ready, the files decide
    (as place_proposal does)."""
    from .inbox import media_duration, revision_media

    if src.media or not src.revision_id:
        return src.duration_seconds
    try:
        return media_duration(revision_media(src.revision), src.duration_seconds)
    except Problem:
        return src.duration_seconds


@login_required
def proposal_place(request, station_id: int, proposal_id: int):
    """Place an upper level's item on this station at a time (and order) of the commune's choice."""
    try:
        station, proposal = _proposal(request.user, station_id, proposal_id)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    src = proposal.item
    extra = {"mode": "place", "proposal": proposal}
    if request.method != "POST":
        form = SlotInput.from_item(src)
        start = max(src.starts_at, timezone.now() + timedelta(minutes=10)).astimezone(TZ)
        form.day, form.at = start.strftime("%Y-%m-%d"), start.strftime("%H:%M")
        form.minutes = show_minutes(_source_seconds(src))
        return _render_slot(request, station, form, **extra)
    form = SlotInput.from_post(request.POST)
    form.kind, form.priority, form.title = src.kind, src.priority, src.title
    form.minutes = show_minutes(_source_seconds(src))
    try:
        starts_at = form.starts_at()
        item = actions.place_proposal(
            user=request.user,
            proposal=proposal,
            starts_at=starts_at,
            rrule=form.recurrence(starts_at),
            rank=form.rank_value() if src.priority == Priority.PRIORITY else None,
        )
    except FormError as exc:
        return _render_slot(
            request, station, form, error=exc.message, field=exc.field, status=422, **extra
        )
    except Problem as exc:
        return _render_slot(
            request, station, form, error=exc.detail, field=_field_for(exc, form), status=422,
            **extra,
        )  # fmt: skip
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    messages.success(
        request,
        _("Đã xếp lịch '%(title)s' lúc %(when)s.")
        % {"title": item.title, "when": f"{item.starts_at.astimezone(TZ):%H:%M %d/%m/%Y}"},
    )
    return redirect(_day_url(station, item.starts_at))


@login_required
@require_POST
def proposal_decline(request, station_id: int, proposal_id: int):
    try:
        station, proposal = _proposal(request.user, station_id, proposal_id)
        actions.decline_proposal(
            user=request.user, proposal=proposal, note=request.POST.get("note", "")
        )
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    except Problem as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request, _("Đã ghi nhận không phát '%(title)s'.") % {"title": proposal.item.title}
        )
    return redirect("station-timeline", station_id=station.pk)


# --- usage policy -------------------------------------------------------------------------


def _parse_time(post, name: str, label: str):
    raw = (post.get(name) or "").strip()
    if not raw:
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError as exc:
        raise FormError(
            name, _("%(label)s phải là giờ:phút, ví dụ 05:30.") % {"label": label}
        ) from exc


def _parse_small(post, name: str, label: str):
    raw = (post.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not (1 <= int(raw) <= 1440):
        raise FormError(
            name,
            _("%(label)s là số nguyên dương (để trống nếu không giới hạn).") % {"label": label},
        )
    return int(raw)


def _policy_values(policy: UsagePolicy | None) -> dict:
    if policy is None:
        return {"quiet_weekdays": [], "quiet_dates": "", "relay_slots": ""}
    return {
        "allowed_start": policy.allowed_start.strftime("%H:%M") if policy.allowed_start else "",
        "allowed_end": policy.allowed_end.strftime("%H:%M") if policy.allowed_end else "",
        "max_sessions_per_day": policy.max_sessions_per_day or "",
        "max_minutes_per_session": policy.max_minutes_per_session or "",
        "quiet_weekdays": [str(d) for d in policy.quiet_weekdays or []],
        "quiet_dates": ", ".join(
            date.fromisoformat(d).strftime("%d/%m/%Y") for d in policy.quiet_dates or []
        ),
        "relay_slots": ", ".join(policy.relay_slots or []),
        "note": policy.note,
    }


@login_required
def policy_edit(request, station_id: int):
    """The station's usage policy (giờ được phát, số buổi, khung giờ tiếp sóng) and its options."""
    try:
        station = _station(request.user, station_id)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    can_edit = covers(request.user, SCHEDULE, station.unit)
    own = UsagePolicy.objects.filter(unit=station.unit).first()
    effective = policy_for(station.unit)
    values = _policy_values(own)
    error = field = ""
    if request.method == "POST":
        if not can_edit:
            return _forbidden(
                request, PermissionDenied(_("Bạn chỉ được xem quy định của đài này."))
            )
        post = request.POST
        values = {
            "allowed_start": post.get("allowed_start", ""),
            "allowed_end": post.get("allowed_end", ""),
            "max_sessions_per_day": post.get("max_sessions_per_day", ""),
            "max_minutes_per_session": post.get("max_minutes_per_session", ""),
            "quiet_weekdays": post.getlist("quiet_weekdays"),
            "quiet_dates": post.get("quiet_dates", ""),
            "relay_slots": post.get("relay_slots", ""),
            "note": post.get("note", ""),
        }
        try:
            dates = SlotInput(exdates=values["quiet_dates"]).excluded()
            slots = [s for s in re.split(r"[,;\n]+", values["relay_slots"]) if s.strip()]
            actions.set_policy(
                user=request.user,
                unit=station.unit,
                allowed_start=_parse_time(post, "allowed_start", _("Giờ được phát từ")),
                allowed_end=_parse_time(post, "allowed_end", _("Giờ được phát đến")),
                max_sessions_per_day=_parse_small(post, "max_sessions_per_day", _("Số buổi")),
                max_minutes_per_session=_parse_small(post, "max_minutes_per_session", _("Số phút")),
                quiet_weekdays=[int(d) for d in values["quiet_weekdays"] if d.isdigit()],
                quiet_dates=[d.isoformat() for d in dates],
                relay_slots=[s.strip() for s in slots],
                note=values["note"].strip()[:300],
            )
            actions.set_station_options(
                user=request.user, station=station, auto_boards=bool(post.get("auto_boards"))
            )
        except FormError as exc:
            error, field = exc.message, "quiet_dates" if exc.field == "exdates" else exc.field
        except Problem as exc:
            error, field = exc.detail, problem_field(exc)
        except PermissionDenied as exc:
            return _forbidden(request, exc)
        else:
            messages.success(
                request, _("Đã lưu quy định sử dụng loa; các cụm loa sẽ cập nhật lịch.")
            )
            return redirect("station-policy", station_id=station.pk)
    inherited = own is None and (effective.allowed_start or effective.max_sessions_per_day)
    return render(
        request,
        "broadcast/policy.html",
        {
            "station": station,
            "values": values,
            "effective": effective,
            "inherited": inherited,
            "can_edit": can_edit,
            "error": error,
            "field": field,
            "weekdays": list(enumerate(DAY_LABELS)),
        },
        status=422 if error else 200,
    )


# --- the province's view of must-air items ------------------------------------------------


@login_required
def must_air_status(request):
    """Which communes have placed each must-air item from above, and which have not yet."""
    try:
        require(request.user, "broadcast.view")
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    scoped = Proposal.objects.restrict(request.user, "broadcast.view").filter(must_air=True)
    items = (
        ScheduleItem.objects.filter(pk__in=scoped.values("item_id"))
        .annotate(
            total=Count("proposals", filter=Q(proposals__in=scoped)),
            placed=Count(
                "proposals",
                filter=Q(proposals__in=scoped, proposals__status=ProposalStatus.PLACED),
            ),
        )
        .order_by("-created_at")[:50]
    )
    items = list(items)
    chosen = None
    try:
        wanted = int(request.GET.get("muc", ""))
    except ValueError:
        wanted = None
    chosen = next((i for i in items if i.pk == wanted), items[0] if items else None)
    rows = []
    if chosen is not None:
        rows = list(
            scoped.filter(item=chosen)
            .select_related("station__unit", "placed_item", "decided_by")
            .order_by("status", "station__unit__path")
        )
        order = {ProposalStatus.PENDING: 0, ProposalStatus.DECLINED: 1, ProposalStatus.PLACED: 2}
        rows.sort(key=lambda p: (order.get(p.status, 3), p.station.unit.path))
    return render(
        request,
        "broadcast/must_air.html",
        {
            "items": items,
            "chosen": chosen,
            "rows": rows,
            "missing": sum(1 for p in rows if p.status != ProposalStatus.PLACED),
        },
    )


# --- a shared bulletin onto the air or the boards -----------------------------------------


def _share(user, share_id: int):
    from grassroots.content.models import BulletinShare

    require(user, SCHEDULE)
    share = (
        BulletinShare.objects.restrict(user, "content.view")
        .filter(pk=share_id, withdrawn_at__isnull=True)
        .select_related("bulletin", "unit")
        .first()
    )
    if share is None or not covers(user, SCHEDULE, share.unit):
        raise Http404
    return share


@login_required
def share_to_station(request, share_id: int):
    """'Phát trên loa…': the proposal made from this share, or a slot form prefilled with it."""
    try:
        share = _share(request.user, share_id)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    try:
        station = actions.ensure_station(share.unit, user=request.user)
    except Problem as exc:
        messages.error(request, exc.detail)
        return redirect("bulletin-inbox")
    proposal = Proposal.objects.filter(
        station=station,
        share_id=share.pk,
        status=ProposalStatus.PENDING,
        item__revision_id=share.revision_id,
    ).first()
    if proposal is not None:
        return redirect("proposal-place", station_id=station.pk, proposal_id=proposal.pk)
    return redirect(f"{reverse('slot-new', args=[station.pk])}?chia_se={share.pk}")


@login_required
def share_to_boards(request, share_id: int):
    """'Lên bảng tin…': add the shared bulletin to a playlist of the commune's boards."""
    from grassroots.signage import actions as signage
    from grassroots.signage.models import Playlist

    try:
        share = _share(request.user, share_id)
        require(request.user, signage.MANAGE)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    playlists = Playlist.objects.restrict(request.user, signage.MANAGE).filter(unit=share.unit)
    error = ""
    if request.method == "POST":
        choice = request.POST.get("playlist", "")
        name = request.POST.get("name", "").strip()
        try:
            if choice.isdigit():
                playlist = get_object_or_404(playlists, pk=int(choice))
                items = [
                    {"bulletin": i.bulletin_id, "duration": i.duration,
                     "allow_sound": i.allow_sound}
                    for i in playlist.items.all()
                ]  # fmt: skip
                if all(i["bulletin"] != share.bulletin_id for i in items):
                    items.append({"bulletin": share.bulletin_id})
                playlist = signage.save_playlist(
                    user=request.user, unit=share.unit, data={"items": items}, playlist=playlist
                )
            else:
                if not name:
                    raise ValidationError({"name": _("Hãy đặt tên cho danh sách hiển thị mới.")})
                playlist = signage.save_playlist(
                    user=request.user,
                    unit=share.unit,
                    data={"name": name, "items": [{"bulletin": share.bulletin_id}]},
                )
        except (ValidationError, Problem) as exc:
            error = error_text(exc)
        except PermissionDenied as exc:
            return _forbidden(request, exc)
        else:
            messages.success(
                request,
                _(
                    "Đã đưa '%(title)s' lên bảng tin (%(playlist)s); "
                    "bảng tin cập nhật trong vài giây."
                )
                % {"title": share.bulletin.title, "playlist": playlist.name},
            )
            return redirect("signage-playlist", playlist_id=playlist.pk)
    return render(
        request,
        "broadcast/share_boards.html",
        {
            "share": share,
            "playlists": playlists.prefetch_related("items"),
            "error": error,
            "name": request.POST.get("name", _("Bản tin cấp trên")),
        },
        status=422 if error else 200,
    )
