"""Console: prepare an emergency broadcast, confirm what will be read where, watch its delivery
live, confirm it as the second officer (two-person rule), stop it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

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


def _cap_preview(form: dict, plan: dict, expires_minutes: int) -> str:
    """The CAP 1.2 message the province will publish for this emergency (CAP out)."""
    import datetime

    from django.utils import timezone

    from .cap import export
    from .cap.ingest import province

    now = timezone.now()
    return export.build(
        province_code=province().code,
        number="…",
        title=(form["title"] or "").strip(),
        text=(form["text"] or "").strip(),
        units=plan["units"],
        sent=now,
        expires=now + datetime.timedelta(minutes=expires_minutes),
    ).decode()


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
                    request,
                    "alerts/emergency_confirm.html",
                    {"form": form, "plan": plan, "cap": _cap_preview(form, plan, expires)},
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


@require_GET
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


@login_required
def cap_alerts(request):
    """Received CAP alerts with what they became (on air, waiting, archived, refused) and why."""
    from .models import CapAlert, CapState

    require(request.user, "broadcast.view")
    qs = CapAlert.objects.restrict(request.user, "broadcast.view").select_related("emergency")
    state = request.GET.get("state", "")
    if state in CapState.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "alerts/cap_alerts.html",
        {"alerts": qs[:100], "states": CapState.choices, "state": state},
    )


@login_required
def cap_alert_detail(request, alert_id: int):
    """One received alert: its values, communes, the reason, the XML as received, and the CAP
    the platform publishes for the emergency it started."""
    from lxml import etree

    from .cap import export
    from .cap.parse import hardened_parser
    from .models import CapAlert

    require(request.user, "broadcast.view")
    alert = CapAlert.objects.restrict(request.user, "broadcast.view").filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    try:
        # as text (not ASCII bytes): Vietnamese stays readable, not &#361; references
        pretty = etree.tostring(
            etree.fromstring(alert.xml.encode(), hardened_parser()),
            pretty_print=True,
            encoding="unicode",
        )
    except etree.XMLSyntaxError:
        pretty = alert.xml
    published = export.message(alert.emergency).decode() if alert.emergency_id else ""
    return render(
        request,
        "alerts/cap_alert.html",
        {
            "a": alert,
            "units": alert.units.order_by("name"),
            "xml": pretty,
            "published": published,
        },
    )


def _pk(value) -> int:
    return int(value) if value and str(value).isdigit() and len(str(value)) < 10 else 0


@login_required
def cap_settings(request):
    """Sender rules and polled feeds; province administrators change them."""
    from .cap import config
    from .models import CERTAINTIES, SEVERITIES, URGENCIES, CapFeed, CapSender

    require(request.user, "broadcast.view")
    can_manage = has_perm_anywhere(request.user, "accounts.manage")
    if request.method == "POST":
        step = request.POST.get("step", "")
        try:
            if step == "sender":
                p = request.POST
                config.save_sender(
                    user=request.user,
                    sender=p.get("sender", ""),
                    name=p.get("name", ""),
                    trusted=bool(p.get("trusted")),
                    live=(p.get("live_severity", ""), p.get("live_urgency", ""),
                          p.get("live_certainty", "")),
                    priority=(p.get("priority_severity", ""), p.get("priority_urgency", ""),
                              p.get("priority_certainty", "")),
                    repeat=_int(p.get("repeat"), "Số lần lặp"),
                    repeat_every_minutes=_int(p.get("repeat_every") or "0", "Chu kỳ nhắc lại"),
                )  # fmt: skip
                messages.success(request, "Đã lưu quy tắc của nguồn cảnh báo.")
            elif step == "feed":
                config.save_feed(
                    user=request.user,
                    name=request.POST.get("name", ""),
                    url=request.POST.get("url", ""),
                    interval_seconds=_int(request.POST.get("interval"), "Chu kỳ"),
                    enabled=bool(request.POST.get("enabled")),
                    own_hosts=[request.get_host()],
                )
                messages.success(request, "Đã lưu luồng cảnh báo; hệ thống sẽ đọc luồng ngay.")
            elif step == "delete_sender":
                config.delete_sender(user=request.user, pk=_pk(request.POST.get("id")))
                messages.success(request, "Đã xoá quy tắc của nguồn cảnh báo.")
            elif step == "delete_feed":
                config.delete_feed(user=request.user, pk=_pk(request.POST.get("id")))
                messages.success(request, "Đã xoá luồng cảnh báo.")
        except Problem as exc:
            messages.error(request, exc.detail)
        except Http404:
            messages.error(request, "Chỉ quản trị cấp tỉnh được sửa cài đặt cảnh báo CAP.")
        return redirect("cap-settings")
    senders = CapSender.objects.restrict(request.user, "broadcast.view").order_by("name")
    feeds = CapFeed.objects.restrict(request.user, "broadcast.view").order_by("name")
    edit_sender = edit_feed = None
    if can_manage:  # "Sửa": the form below is filled with the chosen row
        edit_sender = senders.filter(pk=_pk(request.GET.get("sua-nguon"))).first()
        edit_feed = feeds.filter(pk=_pk(request.GET.get("sua-luong"))).first()
    return render(
        request,
        "alerts/cap_settings.html",
        {
            "senders": senders,
            "feeds": feeds,
            "edit_sender": edit_sender,
            "edit_feed": edit_feed,
            "can_manage": can_manage,
            "severities": SEVERITIES,
            "urgencies": URGENCIES,
            "certainties": CERTAINTIES,
        },
    )
