"""Console: Phát trực tiếp, the page an officer goes live from (microphone, a relayed radio
stream or the FM tuner) and listens in to the sessions on air (docs/live.md)."""

from __future__ import annotations

from django.conf import settings as conf
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from grassroots.accounts.policies import require
from grassroots.accounts.scope import has_perm_anywhere
from grassroots.units.models import Unit

from . import actions as live
from .api import relay_label
from .models import LiveSession, LiveSource, LiveStatus, officer_label


@login_required
def live_console(request):
    """Phát trực tiếp: pick an area and a priority, speak into the microphone (the page sends it
    in slices to the API), see the level and what is on air, stop; listen in to running ones."""
    require(request.user, "broadcast.view")
    can_normal = has_perm_anywhere(request.user, "broadcast.schedule")
    can_emergency = has_perm_anywhere(request.user, "broadcast.emergency")
    permission = "broadcast.schedule" if can_normal else "broadcast.emergency"
    units = Unit.objects.restrict(request.user, permission).current().order_by("depth", "name")
    sessions = LiveSession.objects.restrict(request.user, "broadcast.view").select_related(
        "speaker", "unit"
    )
    running = list(
        sessions.filter(status__in=[LiveStatus.WAITING, LiveStatus.ON_AIR]).select_related(
            "relay_source", "source_device"
        )[:20]
    )
    for s in running:
        s.can_stop = live.may_stop(request.user, s)
        s.by_other = s.speaker_id != request.user.pk
        s.speaker_label = (
            officer_label(s.speaker)
            if s.speaker_id
            else (s.source_device.name if s.source_device else "")
        )
        s.listen = live.listen_url(request.user, s) if s.source != LiveSource.FM else ""
        s.relay_label = relay_label(s)
        s.area_names = ", ".join(s.area.values_list("name", flat=True))
    # units with an IP device somewhere under them: the page warns before an area with none
    from grassroots.devices.models import Device

    with_devices: set[int] = set()
    for path in Device.objects.ip().values_list("unit__path", flat=True).distinct():
        with_devices.update(int(pk) for pk in (path or "").strip("/").split("/") if pk)
    equipped = sorted(units.filter(pk__in=with_devices).values_list("code", flat=True))
    # an officer of one commune speaks to it: chosen already (a wider scope chooses on purpose)
    top = list(units[:2])
    own = [top[0].code] if len(top) == 1 or (top and top[0].depth < top[1].depth) else []
    if own and not top[0].is_commune_level:
        own = []
    return render(
        request,
        "live/console.html",
        {
            "own_area": own,
            "can_start": (can_normal or can_emergency) and bool(conf.ICECAST_URL),
            "configured": bool(conf.ICECAST_URL),
            "can_normal": can_normal,
            "can_emergency": can_emergency,
            "units": units,
            "running": running,
            "recent": sessions.filter(status=LiveStatus.ENDED).select_related(
                "stopped_by", "preempted_by__speaker"
            )[:10],
            # the officer's own session still open (the page was reloaded, or opened again):
            # they end it, or follow a relay again, rather than clash with themselves
            "mine": next(
                (s for s in running if s.speaker_id == request.user.pk and s.source != "device"),
                None,
            ),
            "max_minutes": live.MAX_MINUTES,
            "equipped": " ".join(equipped),
            "relay_sources": _live_relay_sources(units),
        },
    )


def _live_relay_sources(units) -> list:
    """Radio streams the officer may relay live: listed for their top units or above them, or
    for a unit under them (the API checks each against every unit of the chosen area)."""
    from grassroots.broadcast.actions import relay_sources_for
    from grassroots.broadcast.models import RelaySource

    units = list(units)
    if not units:
        return []
    top = min(u.depth for u in units)
    found: dict[int, RelaySource] = {}
    for unit in [u for u in units if u.depth == top][:50]:
        for source in relay_sources_for(unit):
            found.setdefault(source.pk, source)
    paths = [u.path for u in units if u.depth == top][:50]
    from django.db.models import Q

    q = Q()
    for path in paths:
        q |= Q(unit__path__startswith=path)
    for source in RelaySource.objects.filter(q).select_related("unit")[:200]:
        found.setdefault(source.pk, source)
    return sorted(found.values(), key=lambda s: (s.unit.depth, s.name))
