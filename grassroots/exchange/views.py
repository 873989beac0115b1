"""Console pages of the exchange: peers and their keys, the outbox with failed messages and a
retry button, what was received and refused."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers, has_perm_anywhere
from grassroots.core.errors import Problem
from grassroots.units.models import Unit

from . import actions, keys, outbound
from .choices import DeliveryStatus, Kind
from .models import InboundMessage, OutboundMessage, Peer, PeerKey, RefusedMessage


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return " ".join(" ".join(v) for v in exc.message_dict.values())
        return " ".join(exc.messages)
    if isinstance(exc, Problem):
        return exc.detail
    return str(exc) or _("Bạn không có quyền thực hiện thao tác này.")


@login_required
def peers(request):
    """Peers with their keys; a province administrator adds peers and rotates keys here."""
    require(request.user, "exchange.view")
    may_manage = has_perm_anywhere(request.user, "exchange.manage")
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        p = request.POST
        try:
            if p.get("step") == "peer":
                unit = Unit.objects.current().filter(code=p.get("unit", "").strip()).first()
                if unit is None:
                    raise ValidationError({"unit": _("Không có đơn vị với mã đã nhập.")})
                actions.add_peer(
                    user=request.user,
                    code=p.get("code", ""),
                    name=p.get("name", ""),
                    url=p.get("url", ""),
                    unit=unit,
                    public_key=p.get("public_key", ""),
                    kinds_in=p.getlist("kinds_in"),
                    kinds_out=p.getlist("kinds_out"),
                    bulletins_need_approval=bool(p.get("approval")),
                )
                messages.success(request, _("Đã thêm hệ thống liên thông."))
            elif p.get("step") == "key":
                peer = Peer.objects.restrict(request.user, "exchange.manage").filter(
                    pk=p.get("peer") or 0
                )
                if not peer.exists():
                    raise Http404
                actions.add_key(user=request.user, peer=peer.get(), public_key=p.get("public_key"))
                messages.success(
                    request, _("Đã thêm khoá mới; khoá cũ vẫn dùng được đến khi thu hồi.")
                )
            elif p.get("step") == "settings":
                peer = Peer.objects.restrict(request.user, "exchange.manage").filter(
                    pk=p.get("peer") or 0
                )
                if not peer.exists():
                    raise Http404
                actions.set_peer(
                    user=request.user,
                    peer=peer.get(),
                    data={
                        "url": p.get("url", ""),
                        "kinds_in": p.getlist("kinds_in"),
                        "kinds_out": p.getlist("kinds_out"),
                        "active": bool(p.get("active")),
                        "pull": bool(p.get("pull")),
                        "bulletins_need_approval": bool(p.get("approval")),
                    },
                )
                messages.success(request, _("Đã lưu cài đặt của hệ thống liên thông."))
            elif p.get("step") == "revoke":
                key = PeerKey.objects.restrict(request.user, "exchange.manage").filter(
                    pk=p.get("key") or 0
                )
                if not key.exists():
                    raise Http404
                actions.revoke_key(user=request.user, key=key.get())
                messages.success(
                    request, _("Đã thu hồi khoá: thông điệp ký bằng khoá này sẽ bị từ chối.")
                )
        except (ValidationError, Problem, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        return redirect("exchange-peers")
    qs = (
        Peer.objects.restrict(request.user, "exchange.view")
        .select_related("unit")
        .prefetch_related("keys")
    )
    # a refusal of a declared peer is seen by those who see the peer; unknown senders have no
    # peer: only those who manage the exchange of the whole system (its root unit) see them
    root = Unit.objects.current().filter(parent__isnull=True).first()
    whole = root is not None and covers(request.user, "exchange.manage", root)
    refused = RefusedMessage.objects.filter(
        Q(peer__in=qs) | Q(peer__isnull=True) if whole else Q(peer__in=qs)
    )
    return render(
        request,
        "exchange/peers.html",
        {
            "peers": qs,
            "may_manage": may_manage,
            "kinds": Kind.choices,
            "own": {"source": keys.own_id(), "kid": keys.key_id(), "key": keys.public_key_b64()},
            "refused": refused.select_related("peer")[:20],
        },
    )


def site_url_warning(user) -> str:
    """A warning for the central administrator when `GRASSROOTS_SITE_URL` is unset or a
    loopback address while peers are declared: the media links of bulletins sent down are
    built on it, and a province cannot fetch them from 'localhost' (docs/exchange.md)."""
    import ipaddress
    from urllib.parse import urlsplit

    from django.conf import settings

    if not keys.is_central() or not has_perm_anywhere(user, "exchange.manage"):
        return ""
    if not Peer.objects.restrict(user, "exchange.view").filter(active=True).exists():
        return ""
    site = settings.GRASSROOTS.get("SITE_URL", "").strip()
    host = (urlsplit(site).hostname or "") if site else ""
    try:
        loopback = (
            host == "localhost"
            or host.endswith(".localhost")
            or (bool(host) and ipaddress.ip_address(host).is_loopback)
        )
    except ValueError:
        loopback = False
    if not host:
        return _(
            "Chưa đặt GRASSROOTS_SITE_URL: đường dẫn tệp đính kèm trong bản tin gửi xuống sẽ "
            "không có địa chỉ của hệ thống này, các tỉnh không tải được tệp và từ chối bản tin. "
            "Hãy đặt GRASSROOTS_SITE_URL là địa chỉ công khai (https://…) mà các tỉnh truy cập "
            "được, rồi khởi động lại."
        )
    if loopback:
        return _(
            "GRASSROOTS_SITE_URL đang là địa chỉ nội bộ (%(site)s): các tỉnh không tải được tệp "
            "đính kèm của bản tin gửi xuống. Hãy đặt địa chỉ công khai (https://…) mà các tỉnh "
            "truy cập được, rồi khởi động lại."
        ) % {"site": site[:100]}
    return ""


@login_required
def messages_page(request):
    """The outbox (with failed messages, what went wrong, what to do, a retry button where a
    retry can help, *Gửi ngay* for a message waiting in back-off) and what came in."""
    require(request.user, "exchange.view")
    status = request.GET.get("status", "")
    out = OutboundMessage.objects.restrict(request.user, "exchange.view").select_related("peer")
    if status in DeliveryStatus.values:
        out = out.filter(status=status)
    inbound = InboundMessage.objects.restrict(request.user, "exchange.view").select_related(
        "peer", "bulletin"
    )
    counts = {
        s: OutboundMessage.objects.restrict(request.user, "exchange.view").filter(status=s).count()
        for s in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    }
    rows = list(out.order_by("-id")[:100])
    for row in rows:
        row.advice = outbound.advice_for(row)
    return render(
        request,
        "exchange/messages.html",
        {
            "outbound": rows,
            "inbound": inbound[:50],
            "statuses": DeliveryStatus.choices,
            "status": status,
            "counts": counts,
            "now": timezone.now(),
            "may_manage": has_perm_anywhere(request.user, "exchange.manage"),
            "site_warning": site_url_warning(request.user),
        },
    )


def _back_to_messages(request, default: str):
    """Back to the messages page, keeping the status filter the button was pressed under."""
    status = request.POST.get("status", default)
    query = f"?status={status}" if status in DeliveryStatus.values else ""
    return redirect(f"{reverse('exchange-messages')}{query}")


@login_required
@require_POST
def retry(request, message_id: int):
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        raise Http404
    try:
        outbound.retry(message=message, user=request.user)
        messages.success(request, _("Đã đưa thông điệp vào hàng đợi gửi lại."))
    except (Problem, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
        return _back_to_messages(request, DeliveryStatus.FAILED)
    return redirect(f"{reverse('exchange-messages')}?status={DeliveryStatus.PENDING}")


@login_required
@require_POST
def send_now(request, message_id: int):
    """*Gửi ngay*: a message waiting in back-off goes in the worker's next round (a few
    seconds), with the messages of the same peer queued before it."""
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        raise Http404
    try:
        n = outbound.send_now(message=message, user=request.user)
        messages.success(
            request,
            _("Sẽ gửi trong vài giây (%(n)s thông điệp, theo đúng thứ tự).") % {"n": max(n, 1)},
        )
    except (Problem, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    return _back_to_messages(request, "")


def _central_only(request):
    """The national pages exist in central mode only (`GRASSROOTS_LEVEL=central`): a
    province is told so and sent to its exchange messages."""
    if keys.is_central():
        return None
    messages.error(
        request,
        _("Trang “Gửi xuống, số liệu toàn quốc” chỉ có ở hệ thống trung ương "
          "(GRASSROOTS_LEVEL=central). Hệ thống của tỉnh xem thông điệp gửi đi, nhận về ở "
          "trang này."),
    )  # fmt: skip
    return redirect("exchange-messages")


@login_required
def national(request):
    """Central mode: send an approved bulletin down to chosen provinces, see how far each
    bulletin sent came in each province (from the outbox and the provinces' statistics) and the
    month's national figures (per province and for the country, with the KPI indicators the
    communes' counters give)."""
    from grassroots.content.choices import Status
    from grassroots.content.models import Bulletin

    from . import querysets
    from .api import _month

    require(request.user, "exchange.view")
    if (refused := _central_only(request)) is not None:
        return refused
    may_manage = has_perm_anywhere(request.user, "exchange.manage")
    peers = Peer.objects.restrict(request.user, "exchange.view").filter(active=True)
    senders = [p for p in peers if Kind.BULLETIN in (p.kinds_out or [])]
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        bulletin = (
            Bulletin.objects.restrict(request.user, "content.publish")
            .filter(pk=request.POST.get("bulletin") or 0)
            .first()
        )
        try:
            if bulletin is None:
                raise ValidationError({"bulletin": _("Hãy chọn một bản tin đã duyệt.")})
            chosen = [p for p in senders if str(p.pk) in request.POST.getlist("peers")]
            rows = actions.send_bulletin(user=request.user, bulletin=bulletin, peers=chosen)
            messages.success(
                request,
                _("Đã đưa bản tin vào hàng đợi gửi tới %(n)s hệ thống.") % {"n": len(rows)},
            )
        except (ValidationError, Problem, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        return redirect("exchange-national")
    try:
        month = _month(request.GET.get("thang", ""))
    except Problem as exc:
        messages.error(request, exc.detail)
        month = _month("")
    bulletins = (
        Bulletin.objects.restrict(request.user, "content.publish")
        .filter(status__in=(Status.APPROVED, Status.PUBLISHED))
        .order_by("-updated_at")[:50]
        if may_manage
        else []
    )
    figures = querysets.national(request.user, month)
    return render(
        request,
        "exchange/national.html",
        {
            "senders": senders,
            "bulletins": bulletins,
            "may_manage": may_manage,
            "sent": querysets.sent_bulletins(request.user),
            "figures": figures,
            "indicator_rows": _indicator_rows(figures),
            "month": month.strftime("%Y-%m"),
            "site_warning": site_url_warning(request.user),
        },
    )


def _indicator_rows(figures: dict) -> list[dict]:
    """The national figures' KPI values as rows (indicator) × columns (provinces, country)."""
    from . import querysets

    if not figures["provinces"]:
        return []
    return [
        {
            "id": i.id,
            "name": i.name,
            "unit": i.unit,
            "fmt": i.fmt,
            "values": [p["indicators"].get(i.id) for p in figures["provinces"]],
            "country": figures["country"]["indicators"].get(i.id),
        }
        for i in querysets.national_indicators()
    ]


@login_required
def sent_bulletin(request, bulletin_id: int):
    """Central mode: one bulletin sent down, province by province: delivered, received,
    approved, placed (communes that scheduled it), aired (communes, plays), from the outbox and
    the provinces' statistics."""
    from . import querysets

    require(request.user, "exchange.view")
    if (refused := _central_only(request)) is not None:
        return refused
    rows = querysets.sent_bulletins(request.user, bulletin_id=bulletin_id)
    if not rows:
        raise Http404
    return render(
        request,
        "exchange/sent_bulletin.html",
        {"sent": rows[0], "may_manage": has_perm_anywhere(request.user, "exchange.manage")},
    )
