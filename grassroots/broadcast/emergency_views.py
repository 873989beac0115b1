"""Console: start an emergency broadcast, watch its delivery live, stop it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem
from grassroots.units.models import Unit

from . import emergency as actions
from .models_emergency import Emergency


@login_required
def emergency_list(request):
    require(request.user, "broadcast.view")
    units = (
        Unit.objects.restrict(request.user, "broadcast.emergency")
        .filter(valid_to__isnull=True)
        .order_by("depth", "name")
    )
    form = {"title": "", "text": "", "repeat": 2, "expires": 30, "units": []}
    if request.method == "POST":
        form = {
            "title": request.POST.get("title", ""),
            "text": request.POST.get("text", ""),
            "repeat": request.POST.get("repeat", "1"),
            "expires": request.POST.get("expires", "30"),
            "units": request.POST.getlist("units"),
        }
        try:
            e = actions.start(
                user=request.user,
                unit_codes=form["units"],
                title=form["title"],
                text=form["text"],
                repeat=int(form["repeat"] or 1),
                expires_in_minutes=int(form["expires"] or 30),
                bulletin_id=int(request.POST["bulletin_id"])
                if request.POST.get("bulletin_id")
                else None,
            )
            messages.success(request, "Đã phát lệnh khẩn cấp.")
            return redirect("emergency-detail", e.pk)
        except Problem as exc:
            messages.error(request, exc.detail)
        except ValueError:
            messages.error(request, "Số lần lặp và thời hạn phải là số.")
        except Http404:
            messages.error(request, "Có đơn vị không tồn tại hoặc ngoài phạm vi của bạn.")
    return render(
        request,
        "broadcast/emergencies.html",
        {
            "units": units[:300],
            "form": form,
            "recent": Emergency.objects.restrict(request.user, "broadcast.view")[:20],
        },
    )


@login_required
def emergency_detail(request, emergency_id: int):
    require(request.user, "broadcast.view")
    e = Emergency.objects.restrict(request.user, "broadcast.view").filter(pk=emergency_id).first()
    if e is None:
        raise Http404
    if request.method == "POST":
        try:
            if request.POST.get("action") == "resend":
                sent = actions.resend(user=request.user, emergency_id=e.pk)
                messages.success(request, f"Đã gửi lại cho {sent} thiết bị chưa xác nhận.")
            else:
                actions.stop(user=request.user, emergency_id=e.pk)
                messages.success(request, "Đã dừng phát khẩn cấp.")
        except Problem as exc:
            messages.error(request, exc.detail)
        return redirect("emergency-detail", e.pk)
    context = {"e": e, "d": actions.delivery(e)}
    template = (
        "broadcast/_delivery.html"
        if request.headers.get("HX-Request")
        else ("broadcast/emergency.html")
    )
    return render(request, template, context)
