"""Console: prepare an emergency broadcast, confirm what will be read where, watch its delivery
live, confirm it as the second officer (two-person rule), stop it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from grassroots.accounts.policies import require
from grassroots.accounts.scope import has_perm_anywhere
from grassroots.core.errors import Problem
from grassroots.units.models import Unit

from . import actions
from .models import Emergency, EmergencyPolicy, EmergencyStatus


def _form(post) -> dict:
    bulletin = (post.get("bulletin_id") or "").strip()
    return {
        "title": post.get("title", ""),
        "text": post.get("text", ""),
        "repeat": post.get("repeat", "1"),
        "expires": post.get("expires", "30"),
        "units": post.getlist("units"),
        "bulletin_id": bulletin if bulletin.isdigit() else "",
    }


def _int(value, what: str) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        raise Problem(422, f"{what} phải là số.") from None


@login_required
def emergency_list(request):
    """Prepare an emergency: area, text or bulletin; then a confirmation page names the area,
    the number of devices and the text to be read, with an audio preview, before it goes out."""
    require(request.user, "broadcast.view")
    can_start = has_perm_anywhere(request.user, "broadcast.emergency")
    units = (
        Unit.objects.restrict(request.user, "broadcast.emergency")
        .current()
        .order_by("depth", "name")
    )
    form = {"title": "", "text": "", "repeat": 2, "expires": 30, "units": [], "bulletin_id": ""}
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step == "policy":
        try:
            actions.set_policy(
                user=request.user,
                unit_code=request.POST.get("unit", ""),
                two_person=bool(request.POST.get("two_person")),
                confirm_minutes=_int(request.POST.get("minutes"), "Thời hạn xác nhận"),
            )
            messages.success(request, "Đã lưu quy tắc phát khẩn cấp của đơn vị.")
        except Problem as exc:
            messages.error(request, exc.detail)
        except Http404:
            messages.error(request, "Hãy chọn một đơn vị trong phạm vi quản trị của bạn.")
        return redirect("emergency-list")
    if step in ("review", "send", "edit"):
        form = _form(request.POST)
        bulletin_id = int(form["bulletin_id"]) if form["bulletin_id"] else None
        try:
            repeat = _int(form["repeat"], "Số lần lặp")
            expires = _int(form["expires"], "Thời hạn")
            if step == "send":
                e = actions.start(
                    user=request.user,
                    unit_codes=form["units"],
                    title=form["title"],
                    text=form["text"],
                    repeat=repeat,
                    expires_in_minutes=expires,
                    bulletin_id=bulletin_id,
                )
                if e.status == EmergencyStatus.AWAITING:
                    messages.warning(
                        request,
                        "Lệnh phát đang chờ cán bộ thứ hai xác nhận; chưa có gì được phát.",
                    )
                else:
                    messages.success(request, "Đã phát lệnh khẩn cấp.")
                return redirect("emergency-detail", e.pk)
            if step == "review":
                plan = actions.plan(
                    user=request.user, unit_codes=form["units"], bulletin_id=bulletin_id
                )
                if not (form["title"] or "").strip():
                    raise Problem(422, "Cần nhập tiêu đề cho bản tin khẩn cấp.")
                if not plan["bulletin"] and not form["text"].strip():
                    raise Problem(
                        422, "Cần chọn một bản tin đã duyệt hoặc nhập nội dung để đọc (TTS)."
                    )
                if not (1 <= repeat <= 10):
                    raise Problem(422, "Số lần lặp phải từ 1 đến 10.")
                if not (1 <= expires <= actions.MAX_MINUTES):
                    raise Problem(422, f"Thời hạn phải từ 1 đến {actions.MAX_MINUTES} phút.")
                return render(
                    request, "alerts/emergency_confirm.html", {"form": form, "plan": plan}
                )
        except Problem as exc:
            messages.error(request, exc.detail)
        except Http404:
            messages.error(request, "Có đơn vị không tồn tại hoặc nằm ngoài phạm vi của bạn.")
    bulletin = None
    if form["bulletin_id"]:
        from grassroots.content.models import Bulletin

        bulletin = Bulletin.objects.visible_to(request.user).filter(pk=form["bulletin_id"]).first()
    can_policy = has_perm_anywhere(request.user, "accounts.manage")
    return render(
        request,
        "alerts/emergencies.html",
        {
            "units": units,
            "form": form,
            "bulletin": bulletin,
            "can_start": can_start,
            "can_policy": can_policy,
            "policy_units": Unit.objects.restrict(request.user, "accounts.manage")
            .current()
            .order_by("depth", "name")
            if can_policy
            else [],
            "policies": EmergencyPolicy.objects.restrict(request.user, "broadcast.view")
            .filter(two_person=True)
            .select_related("unit")[:50],
            "recent": Emergency.objects.restrict(request.user, "broadcast.view")[:20],
        },
    )


@login_required
def bulletin_search(request):
    """The emergency form's bulletin chooser: approved bulletins found by their title."""
    require(request.user, "broadcast.emergency")
    from grassroots.content.models import Bulletin

    q = request.GET.get("q", "").strip()[:100]
    found = []
    if q:
        found = list(
            Bulletin.objects.visible_to(request.user)
            .filter(approved_revision__isnull=False)
            .search(q)
            .select_related("unit")
            .order_by("-updated_at")[:10]
        )
    return render(request, "alerts/_emergency_bulletins.html", {"found": found, "q": q})


@login_required
def emergency_detail(request, emergency_id: int):
    require(request.user, "broadcast.view")
    e = Emergency.objects.restrict(request.user, "broadcast.view").filter(pk=emergency_id).first()
    if e is None:
        raise Http404
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "resend":
                sent = actions.resend(user=request.user, emergency_id=e.pk)
                messages.success(request, f"Đã gửi lại cho {sent} thiết bị chưa xác nhận.")
            elif action == "confirm":
                actions.confirm(user=request.user, emergency_id=e.pk)
                messages.success(request, "Đã xác nhận; lệnh khẩn cấp được phát.")
            else:
                actions.stop(user=request.user, emergency_id=e.pk)
                messages.success(request, "Đã dừng phát khẩn cấp.")
        except Problem as exc:
            messages.error(request, exc.detail)
        except Http404:
            messages.error(request, "Bạn không có quyền phát khẩn cấp ở vùng này.")
        return redirect("emergency-detail", e.pk)
    context = {
        "e": e,
        "d": actions.delivery(e),
        "area": e.area.order_by("name"),
        "can_act": has_perm_anywhere(request.user, "broadcast.emergency"),
    }
    template = (
        "alerts/_delivery.html" if request.headers.get("HX-Request") else "alerts/emergency.html"
    )
    return render(request, template, context)


def cap_feed(request):
    """`/feeds/cap.atom`: the province's emergencies (on air or ended) as CAP 1.2 in Atom."""
    from django.http import HttpResponse

    from .cap import export
    from .cap.ingest import province
    from .cap_api import PUBLISHED

    rows = (
        Emergency.objects.filter(status__in=PUBLISHED)
        .select_related("unit")
        .order_by("-updated_at")[:50]
    )
    base = request.build_absolute_uri("/").rstrip("/")
    body = export.atom(rows, base_url=base, province_code=province().code)
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
