"""A picked-up shared bulletin onto the station ("Phát trên loa…") or the boards
("Lên bảng tin…")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers
from grassroots.core.errors import Problem

from .. import actions
from ..choices import ProposalStatus
from ..models import Proposal
from .common import (
    SCHEDULE,
    _forbidden,
    error_text,
)


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
