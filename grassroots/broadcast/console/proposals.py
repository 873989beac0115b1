"""Proposals from above: the commune places or declines them; the province sends them and
sees which communes placed each must-air item."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem

from .. import actions
from ..choices import ItemKind, Priority, ProposalStatus
from ..engine import TZ
from ..forms import (
    DAY_LABELS,
    DAYS,
    REPEATS,
    FormError,
    SlotInput,
    show_minutes,
)
from ..models import Proposal, ScheduleItem, Station
from .common import (
    SCHEDULE,
    _day_url,
    _field_for,
    _forbidden,
    _item_data,
    _render_slot,
    _revisions,
    _station,
    relay_picker,
)


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
    from ..inbox import media_duration, revision_media

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
            form.minutes = show_minutes(30 * 60)
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
        data = _item_data(form, with_rank=False)
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
            **relay_picker(request.user, sender),
            **extra,
        },
        status=status,
    )


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
