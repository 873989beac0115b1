"""A station's week and its slots: create, edit, move (one play or the series), cancel, rank."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.accounts.scope import covers
from grassroots.core.errors import Problem

from .. import actions
from ..choices import ItemKind, Priority
from ..engine import TZ
from ..forms import (
    DAY_LABELS,
    FormError,
    SlotInput,
    show_minutes,
    week_start,
)
from ..models import ScheduleItem, Station
from ..specs import station_timeline
from .common import (
    SCHEDULE,
    _day_url,
    _field_for,
    _forbidden,
    _item_data,
    _render_slot,
    _station,
    describe_repeat,
    problem_field,
)


def live_emergencies(station: Station, start: datetime, end: datetime) -> list:
    """Emergencies sent live (play.now) to an area covering this station in [start, end):
    they cut whatever the schedule plays, so the week draws them over it."""
    from grassroots.alerts.models import Emergency, EmergencyStatus

    from ..specs import path_ids

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


def _prefill_from_share(user, station: Station, share_id: str) -> SlotInput:
    """'Phát trên loa…' from the inbox: the shared bulletin's approved revision, its length."""
    from grassroots.content.models import BulletinShare

    from ..inbox import media_duration, revision_media

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
        form.minutes = show_minutes(5 * 60)
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
        form.minutes = form.minutes or (
            show_minutes(30 * 60) if form.kind == ItemKind.RELAY else ""
        )
        return _render_slot(request, station, form, mode="new")
    form = SlotInput.from_post(request.POST)
    try:
        data = _item_data(form, with_rank=True)
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
        % {"title": item.title, "repeat": describe_repeat(item.rrule, item.starts_at).lower()},
    )
    return redirect(_day_url(station, item.starts_at))


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
