"""The allow-list of stream relays (RelaySource) in the console: list, add, edit, take off.

Same actions as /api/v1/relay-sources (actions.add/update/remove_relay_source): administrators
of a unit (accounts.manage) edit its list; everyone who sees stations (broadcast.view) reads
the sources their stations may relay, their own units' and those listed above them.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers, has_perm_anywhere, scope_paths
from grassroots.core.errors import Problem
from grassroots.units.models import Unit

from .. import actions
from ..models import RelaySource
from .common import _forbidden, problem_field

MANAGE = actions.RELAY_SOURCES_PERMISSION


def visible_sources(user):
    """Sources of units in the user's broadcast.view scope and of every unit above them (a
    commune's stations relay what the province lists), ordered by unit then name."""
    require(user, "broadcast.view")
    if user.is_superuser:
        return RelaySource.objects.select_related("unit")
    paths = scope_paths(user, "broadcast.view")
    above = {int(p) for path in paths for p in path.strip("/").split("/") if p}
    q = Q(unit_id__in=above)
    for path in paths:
        q |= Q(unit__path__startswith=path)
    return RelaySource.objects.filter(q).select_related("unit")


def _managed(user, source_id: int) -> RelaySource:
    """A source the user may edit; 404 when it is not even visible, 403 when it is read-only."""
    source = get_object_or_404(visible_sources(user), pk=source_id)
    if not covers(user, MANAGE, source.unit):
        raise PermissionDenied(
            _("Chỉ quản trị của %(unit)s sửa được nguồn tiếp sóng này.") % {"unit": source.unit}
        )
    return source


def _units_to_manage(user):
    return Unit.objects.restrict(user, MANAGE).current().order_by("depth", "name_folded")


def _list_context(request, **extra) -> dict:
    sources = list(visible_sources(request.user).order_by("unit__path", "name", "pk"))
    for s in sources:
        s.can_manage = covers(request.user, MANAGE, s.unit)
        s.in_use = actions.relays_using(s)
    can_add = has_perm_anywhere(request.user, MANAGE)
    values = extra.pop("values", None) or {}
    default_unit = ""
    if can_add and not values.get("unit"):
        first = _units_to_manage(request.user).first()
        default_unit = first.code if first else ""
    return {
        "sources": sources,
        "can_add": can_add,
        "units": _units_to_manage(request.user) if can_add else [],
        "values": {"unit": default_unit, "name": "", "url": "", **values},
        **extra,
    }


@login_required
def relay_sources(request):
    """GET: the list. POST: add a source (name, url, unit code) for a unit the user manages."""
    try:
        require(request.user, "broadcast.view")
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    if request.method != "POST":
        return render(request, "broadcast/relay_sources.html", _list_context(request))
    values = {k: request.POST.get(k, "").strip() for k in ("unit", "name", "url")}
    try:
        require(request.user, MANAGE)
        unit = Unit.objects.restrict(request.user, MANAGE).current().filter(code=values["unit"])
        unit = unit.first()
        if unit is None:
            raise Problem(
                422,
                _("Hãy chọn đơn vị được dùng nguồn này (một đơn vị bạn quản trị)."),
                errors=[{"field": "unit", "message": "unit"}],
            )
        source = actions.add_relay_source(
            user=request.user, unit=unit, name=values["name"], url=values["url"]
        )
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    except Problem as exc:
        context = _list_context(request, values=values, error=exc.detail, field=problem_field(exc))
        return render(request, "broadcast/relay_sources.html", context, status=exc.status)
    messages.success(
        request,
        _("Đã cho phép tiếp sóng '%(name)s' cho các đài thuộc %(unit)s.")
        % {"name": source.name, "unit": source.unit.name},
    )
    return redirect("relay-sources")


@login_required
def relay_source_edit(request, source_id: int):
    """Rename a source or correct its address (update_relay_source)."""
    try:
        require(request.user, "broadcast.view")
        source = _managed(request.user, source_id)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    in_use = actions.relays_using(source)
    values = {"name": source.name, "url": source.url}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("name", "url")}
        try:
            source = actions.update_relay_source(
                user=request.user, source=source, name=values["name"], url=values["url"]
            )
        except PermissionDenied as exc:
            return _forbidden(request, exc)
        except Problem as exc:
            context = {
                "source": source,
                "values": values,
                "in_use": in_use,
                "error": exc.detail,
                "field": problem_field(exc),
            }
            return render(request, "broadcast/relay_source_form.html", context, status=exc.status)
        messages.success(request, _("Đã lưu nguồn tiếp sóng '%(name)s'.") % {"name": source.name})
        return redirect("relay-sources")
    return render(
        request,
        "broadcast/relay_source_form.html",
        {"source": source, "values": values, "in_use": in_use},
    )


@login_required
def relay_source_remove(request, source_id: int):
    """POST: take a source off the list (remove_relay_source); GET goes back to the list."""
    if request.method != "POST":
        return redirect("relay-sources")
    try:
        require(request.user, "broadcast.view")
        source = _managed(request.user, source_id)
        name = source.name
        actions.remove_relay_source(user=request.user, source=source)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    messages.success(
        request,
        _("Đã ngừng cho phép tiếp sóng '%(name)s'; đài không lập được lịch mới với nguồn này.")
        % {"name": name},
    )
    return redirect("relay-sources")
