"""Shared pieces of the scheduling console: scope, error mapping, the slot form's context."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grassroots.accounts.policies import require
from grassroots.accounts.scope import has_perm_anywhere
from grassroots.core.errors import Problem

from .. import actions, recurrence
from ..choices import ItemKind, ItemStatus, Priority, RelayType
from ..engine import TZ
from ..forms import (
    DAY_LABELS,
    DAYS,
    REPEATS,
    FormError,
    SlotInput,
)
from ..models import ScheduleItem, Station
from ..specs import policy_for

SCHEDULE = "broadcast.schedule"


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


def describe_repeat(rule: str, start=None) -> str:
    """An RRULE in words an operator reads ("Thứ Hai – thứ Sáu lúc 06:00, đến 31/12/2026")."""
    return recurrence.describe(rule, start)


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
        **relay_picker(request.user, station.unit),
        **extra,
    }


def relay_picker(user, unit) -> dict:
    """What the slot form's stream picker needs: the sources allowed for `unit`, and whether
    the user may add one (the empty picker then links to the relay sources page)."""
    return {
        "relay_sources": list(actions.relay_sources_for(unit)),
        "can_manage_relays": has_perm_anywhere(user, actions.RELAY_SOURCES_PERMISSION),
    }


def _render_slot(request, station, form, *, status=200, **extra):
    return render(
        request,
        "broadcast/slot_form.html",
        _slot_context(request, station, form, **extra),
        status=status,
    )


def _item_data(form: SlotInput, *, with_rank: bool) -> actions.ItemData:
    """The slot form as the action's input; shape errors raise FormError on their field."""
    starts_at = form.starts_at()
    kind = form.kind if form.kind in (ItemKind.BULLETIN, ItemKind.RELAY) else ItemKind.BULLETIN
    if form.priority not in (Priority.NORMAL, Priority.PRIORITY):
        raise FormError(
            "priority",
            _("Chọn mức thông thường hoặc ưu tiên; phát khẩn cấp dùng trang Khẩn cấp."),
        )
    if not form.title:
        raise FormError("title", _("Hãy đặt tên cho mục lịch (người nghe và cán bộ sẽ thấy)."))
    return actions.ItemData(
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
        rank=form.rank_value() if with_rank and form.priority == Priority.PRIORITY else None,
    )


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
