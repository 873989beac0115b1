"""The usage policy editor of a station's unit (hours, sessions, relay slots) and its options."""

from __future__ import annotations

import re
from datetime import date, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from grassroots.accounts.scope import covers
from grassroots.core.errors import Problem

from .. import actions
from ..forms import (
    DAY_LABELS,
    FormError,
    SlotInput,
)
from ..models import UsagePolicy
from ..specs import policy_for
from .common import (
    SCHEDULE,
    _forbidden,
    _station,
    problem_field,
)


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
