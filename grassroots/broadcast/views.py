"""Console: stations, a station's timeline (what plays, when, why), the IP conversion plan."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers

from . import asrun, conversion
from .choices import ProposalStatus
from .console.common import describe_repeat, station_items
from .console.proposals import upper_units
from .engine import TZ
from .models import AsRunEntry, Proposal, Station
from .specs import station_timeline

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _stations(user):
    require(user, "broadcast.view")
    return Station.objects.restrict(user, "broadcast.view").select_related("unit")


@login_required
def station_list(request):
    """Every station in the user's scope, with its clusters and how many are IP."""
    stations = _stations(request.user).annotate(
        n_clusters=Count("devices", filter=Q(devices__kind="speaker")),
        n_ip=Count("devices", filter=Q(devices__kind="speaker", devices__technology="ip_4g")),
        n_pending=Count("proposals", filter=Q(proposals__status=ProposalStatus.PENDING)),
    )
    q = request.GET.get("q", "").strip()[:100]
    if q:
        from grassroots.units.text import fold

        stations = stations.filter(unit__name_folded__contains=fold(q))
    can_propose = upper_units(request.user).exists()
    return render(
        request,
        "broadcast/stations.html",
        {"stations": stations, "q": q, "can_propose": can_propose},
    )


@login_required
def station_timeline_view(request, station_id: int):
    """One station's day: segments with the rule that decided each, skipped items, proposals."""
    station = get_object_or_404(_stations(request.user), pk=station_id)
    try:
        day = datetime.strptime(request.GET.get("ngay", ""), "%Y-%m-%d").date()
    except ValueError:
        day = timezone.localdate()
    start = datetime.combine(day, time(0), TZ)
    timeline = station_timeline(station, start, start + timedelta(days=1))
    proposals = Proposal.objects.filter(
        station=station, status=ProposalStatus.PENDING
    ).select_related("item")
    results = asrun.segment_results(station, timeline.segments)
    items = list(station_items(station)[:100])
    for it in items:
        it.repeat_words = describe_repeat(it.rrule, it.starts_at)
    context = {
        "station": station,
        "day": day,
        "prev": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "timeline": timeline,
        "rows": [(seg, results.get(seg.id, [])) for seg in timeline.segments],
        "clusters": station.devices.order_by("kind", "name"),
        "proposals": proposals,
        "items": items,
        "clashes": [
            seg
            for seg in timeline.segments
            if seg.item.priority == "priority"
            and seg.rule in ("deferred", "earlier_first", "commune_order")
        ],
        "can_schedule": covers(request.user, "broadcast.schedule", station.unit),
    }
    template = (
        "broadcast/_timeline.html"
        if request.headers.get("HX-Request")
        else "broadcast/timeline.html"
    )
    return render(request, template, context)


def _plan(request):
    year = timezone.localdate().year
    try:
        target = int(request.GET.get("den_nam", "")) if request.GET.get("den_nam") else None
    except ValueError:
        target = None
    if target is not None and not (year <= target <= year + 20):
        target = None
    return conversion.build_plan(_stations(request.user), year=year, target_year=target)


@login_required
def conversion_plan(request):
    """Stations still not fully IP, ranked, with the yearly steps to 100 %."""
    return render(request, "broadcast/plan.html", {"plan": _plan(request)})


@login_required
def conversion_plan_xlsx(request):
    response = HttpResponse(conversion.plan_xlsx(_plan(request)), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="ke-hoach-chuyen-doi-ip.xlsx"'
    return response


@login_required
def bulletin_report(request):
    """Proof of play of one bulletin: which communes aired it, when, on how many clusters."""
    require(request.user, "broadcast.view")
    from django.apps import apps

    bulletins = apps.get_model("content", "Bulletin").objects.restrict(request.user, "content.view")
    try:
        bulletin_id = int(request.GET.get("ban_tin", ""))
    except ValueError:
        bulletin_id = None
    bulletin = bulletins.filter(pk=bulletin_id).first() if bulletin_id else None
    rows = []
    if bulletin is not None:
        entries = AsRunEntry.objects.restrict(request.user, "broadcast.view")
        rows = asrun.airplay(entries, asrun.items_of_bulletin(bulletin.pk))
    recent = bulletins.filter(status="published").order_by("-published_at")[:30]
    return render(
        request,
        "broadcast/report.html",
        {
            "bulletin": bulletin,
            "rows": rows,
            "recent": recent,
            "clusters": sum(r["clusters"] for r in rows),
            "aired": sum(1 for r in rows if r["state"] == "aired"),
        },
    )
