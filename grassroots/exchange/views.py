"""Console pages of the exchange: peers and their keys, the outbox with failed messages and a
retry button, what was received and refused."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
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


PEER_FIELDS = ("code", "name", "url", "unit", "public_key", "kid")


def _error_fields(exc: Exception) -> dict[str, list[str]]:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return {k: list(v) for k, v in exc.message_dict.items()}
    return {}


def _manageable_peer(request):
    peer = (
        Peer.objects.restrict(request.user, "exchange.manage")
        .filter(pk=request.POST.get("peer") or 0)
        .first()
    )
    if peer is None:
        raise Http404
    return peer


def _peer_step(request) -> None:
    p = request.POST
    code = p.get("unit", "").strip()
    unit = (
        Unit.objects.restrict(request.user, "exchange.manage").current().filter(code=code).first()
        if code
        else None
    )
    if code and unit is None:
        raise ValidationError({"unit": _("Đơn vị đã chọn không thuộc phạm vi quản lý của bạn.")})
    peer = actions.add_peer(
        user=request.user,
        code=p.get("code", ""),
        name=p.get("name", ""),
        url=p.get("url", ""),
        unit=unit,
        public_key=p.get("public_key", ""),
        kid=p.get("kid", ""),
        kinds_in=p.getlist("kinds_in"),
        kinds_out=p.getlist("kinds_out"),
        bulletins_need_approval=bool(p.get("approval")),
    )
    if peer.redeclared:
        messages.success(
            request,
            _("Đã khai báo lại hệ thống %(code)s với khoá %(kid)s; lịch sử thông điệp được giữ.")
            % {"code": peer.code, "kid": peer.active_keys().first().kid},
        )
    else:
        messages.success(request, _("Đã thêm hệ thống liên thông."))


def _key_step(request) -> None:
    peer = _manageable_peer(request)
    row = actions.add_key(
        user=request.user,
        peer=peer,
        public_key=request.POST.get("public_key", ""),
        kid=request.POST.get("kid", ""),
    )
    if row.outcome == "reinstated":
        messages.success(
            request,
            _("Đã thêm lại khoá %(kid)s của %(peer)s (khoá này từng bị thu hồi): thông điệp ký "
              "bằng khoá này được nhận lại từ bây giờ.") % {"kid": row.kid, "peer": peer.name},
        )  # fmt: skip
    elif row.outcome == "exists":
        messages.info(request, _("Khoá %(kid)s đang được dùng; không có gì thay đổi.") % {
            "kid": row.kid})  # fmt: skip
    else:
        messages.success(request, _("Đã thêm khoá mới; khoá cũ vẫn dùng được đến khi thu hồi."))


@login_required
def peers(request):
    """Peers with their keys; a province administrator adds, retires and deletes peers,
    rotates, revokes and adds back keys here. A form refused is shown again with what was
    typed and the error beside each field."""
    require(request.user, "exchange.view")
    may_manage = has_perm_anywhere(request.user, "exchange.manage")
    form: dict = {}
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        p = request.POST
        step = p.get("step")
        try:
            if step == "peer":
                _peer_step(request)
            elif step == "key":
                _key_step(request)
            elif step == "settings":
                actions.set_peer(
                    user=request.user,
                    peer=_manageable_peer(request),
                    data={
                        "url": p.get("url", ""),
                        "kinds_in": p.getlist("kinds_in"),
                        "kinds_out": p.getlist("kinds_out"),
                        "active": bool(p.get("active")),
                        "pull": bool(p.get("pull")),
                        "bulletins_need_approval": bool(p.get("approval")),
                        # a form without the field (a page older than it) keeps the name
                        **({"name": p["name"]} if "name" in p else {}),
                    },
                )
                messages.success(request, _("Đã lưu cài đặt của hệ thống liên thông."))
            elif step == "revoke":
                key = PeerKey.objects.restrict(request.user, "exchange.manage").filter(
                    pk=p.get("key") or 0
                )
                if not key.exists():
                    raise Http404
                key = actions.revoke_key(user=request.user, key=key.get())
                messages.success(
                    request,
                    _("Đã thu hồi khoá %(kid)s của %(peer)s: thông điệp ký bằng khoá này bị từ "
                      "chối từ bây giờ. Thu hồi nhầm thì thêm lại chính khoá đó.")
                    % {"kid": key.kid, "peer": key.peer.name},
                )  # fmt: skip
            elif step == "retire":
                peer = actions.retire_peer(user=request.user, peer=_manageable_peer(request))
                messages.success(
                    request,
                    _("Đã ngừng hẳn liên thông với %(peer)s; các thông điệp đã trao đổi vẫn được "
                      "giữ. Khai báo lại mã %(code)s khi cần.")
                    % {"peer": peer.name, "code": peer.code},
                )  # fmt: skip
            elif step == "delete":
                peer = _manageable_peer(request)
                actions.delete_peer(user=request.user, peer=peer)
                messages.success(request, _("Đã xoá hệ thống %(code)s.") % {"code": peer.code})
            return redirect("exchange-peers")
        except (ValidationError, Problem, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
            form = {
                "step": step,
                "peer": p.get("peer", ""),
                "values": {f: p.get(f, "") for f in PEER_FIELDS},
                "kinds_in": p.getlist("kinds_in"),
                "kinds_out": p.getlist("kinds_out"),
                "approval": bool(p.get("approval")),
                "errors": _error_fields(exc),
            }
    elif request.GET.get("khai-bao-lai"):
        # "declare again": the add form filled with a retired peer's settings (a new key needed)
        old = (
            Peer.objects.restrict(request.user, "exchange.manage")
            .filter(code=request.GET["khai-bao-lai"], retired_at__isnull=False)
            .select_related("unit")
            .first()
        )
        if old is not None:
            form = {
                "step": "peer",
                "values": {"code": old.code, "name": old.name, "url": old.url,
                           "unit": old.unit.code},
                "kinds_in": old.kinds_in,
                "kinds_out": old.kinds_out,
                "approval": old.bulletins_need_approval,
                "errors": {},
            }  # fmt: skip
    return render(request, "exchange/peers.html", _peers_context(request, may_manage, form))


def _peers_context(request, may_manage: bool, form: dict) -> dict:
    from django.db.models import Exists, OuterRef

    history = [
        Exists(model.objects.filter(peer=OuterRef("pk")))
        for model in (OutboundMessage, InboundMessage, RefusedMessage)
    ]
    qs = (
        Peer.objects.restrict(request.user, "exchange.view")
        .select_related("unit")
        .prefetch_related("keys")
        .annotate(sent=history[0], received=history[1], refused_any=history[2])
    )
    in_service = [p for p in qs if p.retired_at is None]
    for p in in_service:
        p.in_use = [k for k in p.keys.all() if k.revoked_at is None]
        p.deletable = not (p.sent or p.received or p.refused_any)
    own_next = keys.next_key()
    default_in, default_out = actions.default_kinds()
    if form and form.get("step") == "peer" and not form.get("kinds_in") and not form.get("errors"):
        form["kinds_in"] = default_in
    units = (
        Unit.objects.restrict(request.user, "exchange.manage").current()
        if may_manage
        else Unit.objects.none()
    )
    return {
        "peers": in_service,
        "retired": [p for p in qs if p.retired_at is not None],
        "may_manage": may_manage,
        "kinds": Kind.choices,
        "own": keys.describe(keys.private_key()),
        "own_next": keys.describe(own_next) if own_next is not None else None,
        "refused": RefusedMessage.objects.restrict(request.user).select_related("peer")[:20],
        "form": form,
        "units": units,
        # the usual scope (the centre's: the whole province) chosen until another is picked
        "default_unit": units.order_by("depth").values_list("code", flat=True).first() or "",
        "all_kinds": list(Kind.values),
        "default_in": default_in,
        "default_out": default_out,
        "central": keys.is_central(),
    }


def site_url_warning(user) -> str:
    """A warning for those who manage the exchange of the central system when
    `GRASSROOTS_SITE_URL` is unset or a loopback address while peers are declared: the media
    links of bulletins sent down are built on it, and a province cannot fetch them from
    'localhost' (docs/exchange.md); a bulletin with media is refused until it is set
    (`actions.send_bulletin`). Shown on the send-down and messages pages only."""
    from django.conf import settings

    if not keys.is_central() or not has_perm_anywhere(user, "exchange.manage"):
        return ""
    if not Peer.objects.restrict(user, "exchange.view").filter(active=True).exists():
        return ""
    problem = actions.site_url_problem()
    if problem == "unset":
        return _(
            "Địa chỉ công khai của hệ thống (GRASSROOTS_SITE_URL) chưa đặt: tệp đính kèm của bản "
            "tin gửi xuống sẽ không có đường dẫn các tỉnh tải được, nên bản tin có tệp đính kèm "
            "chưa gửi xuống được. Hãy đặt địa chỉ công khai (https://…) mà các tỉnh truy cập "
            "được, rồi khởi động lại hệ thống."
        )
    if problem == "loopback":
        return _(
            "Địa chỉ công khai của hệ thống (GRASSROOTS_SITE_URL) đang là địa chỉ nội bộ "
            "(%(site)s): các tỉnh không tải được tệp đính kèm, nên bản tin có tệp đính kèm chưa "
            "gửi xuống được. Hãy đặt địa chỉ công khai (https://…) mà các tỉnh truy cập được, "
            "rồi khởi động lại hệ thống."
        ) % {"site": settings.GRASSROOTS.get("SITE_URL", "").strip()[:100]}
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
            "status": status if status in DeliveryStatus.values else "",
            "status_label": DeliveryStatus(status).label if status in DeliveryStatus.values else "",
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
    message = OutboundMessage.objects.filter(pk=message_id).select_related("peer").first()
    if message is None:
        raise Http404
    try:
        outbound.retry(message=message, user=request.user)
    except (Problem, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
        return _back_to_messages(request, DeliveryStatus.FAILED)
    messages.success(
        request,
        _("Đã đưa «%(title)s» gửi tới %(peer)s vào hàng đợi gửi lại; hệ thống gửi trong vài "
          "giây, trạng thái cập nhật ở danh sách dưới đây.")
        % {"title": message.title or message.message_id, "peer": message.peer.name},
    )  # fmt: skip
    # the whole list: under the filter it was pressed in (Gửi lỗi) or "Chờ gửi" the message
    # would soon be gone from the page, delivered
    return redirect(f"{reverse('exchange-messages')}#message-{message.pk}")


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
    form: dict = {"bulletin": "", "peers": [], "errors": {}}
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        form = {
            "bulletin": request.POST.get("bulletin", ""),
            "peers": request.POST.getlist("peers"),
            "errors": {},
        }
        if _send_down(request, senders, form):
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
            "form": form,
            "sent": querysets.sent_bulletins(request.user),
            "figures": figures,
            "indicator_rows": _indicator_rows(figures),
            "month": month.strftime("%Y-%m"),
            "site_warning": site_url_warning(request.user),
        },
    )


def _send_down(request, senders: list[Peer], form: dict) -> bool:
    """*Gửi xuống*: the chosen bulletin to the ticked provinces. True when it went (the page
    redirects); else `form["errors"]` says, by field (`bulletin`, `peers`), what to choose and
    the page is shown again with what was chosen."""
    from grassroots.content.models import Bulletin

    errors = form["errors"]
    bulletin = (
        Bulletin.objects.restrict(request.user, "content.publish")
        .filter(pk=form["bulletin"] if form["bulletin"].isdigit() else 0)
        .first()
    )
    if bulletin is None:
        errors["bulletin"] = [_("Hãy chọn bản tin đã duyệt cần gửi xuống.")]
    chosen = [p for p in senders if str(p.pk) in form["peers"]]
    if not chosen:
        errors["peers"] = [_("Hãy đánh dấu ít nhất một tỉnh nhận bản tin.")]
    if errors:
        return False
    try:
        sending = actions.send_bulletin(user=request.user, bulletin=bulletin, peers=chosen)
    except ValidationError as exc:
        for field, texts in _error_fields(exc).items():
            errors.setdefault(field if field in ("bulletin", "peers") else "bulletin", []).extend(
                texts
            )
        if not errors:
            errors["bulletin"] = [_error_text(exc)]
        return False
    except (Problem, PermissionDenied) as exc:
        errors["bulletin"] = [_error_text(exc)]
        return False
    queued = [*sending.queued, *sending.requeued]
    if queued:
        messages.success(
            request,
            _("Đã đưa bản tin vào hàng đợi gửi tới %(n)s hệ thống: %(names)s.")
            % {"n": len(queued), "names": ", ".join(r.peer.name for r in queued)},
        )
    if sending.unchanged:
        messages.info(
            request,
            _("Không gửi lại tới %(names)s: đã gửi trước đó, nội dung không đổi.")
            % {"names": ", ".join(r.peer.name for r in sending.unchanged)},
        )
    return True


def _indicator_rows(figures: dict) -> list[dict]:
    """The national figures' KPI values as rows (indicator) × columns (provinces, country),
    each value with its base where it counts communes, staff or devices (`querysets.bases`)."""
    from . import querysets

    if not figures["provinces"]:
        return []
    return [
        {
            "id": i.id,
            "name": i.name,
            "unit": i.unit,
            "fmt": i.fmt,
            "values": [
                (p["indicators"].get(i.id), p["bases"].get(i.id)) for p in figures["provinces"]
            ],
            "country": figures["country"]["indicators"].get(i.id),
            "country_base": figures["country"]["bases"].get(i.id),
            "base_unit": querysets.BASE_UNITS.get(i.id, ""),
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


def _changes(bulletin, body) -> list[dict]:
    """What the centre's newer version changes, field by field, against the bulletin as it is
    approved here: [{"field", "label", "before", "after"}], the text as a line diff
    (`lines`: [(mark, line)] with mark "+", "-" or " ")."""
    import difflib

    from grassroots.content.choices import Priority
    from grassroots.units.models import Unit

    from .actions import bulletin_text

    data = bulletin.approved_revision.data if bulletin.approved_revision_id else {}
    priorities = dict(Priority.choices)
    now_targets = sorted(data.get("targets") or [])
    new_targets = sorted(body.targets) or [bulletin.unit.code]
    names = dict(
        Unit.objects.filter(code__in=[*now_targets, *new_targets]).values_list("code", "name")
    )

    def when(value) -> str:
        import datetime

        if not value:
            return "—"
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        from django.utils import timezone

        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")

    rows = [
        ("title", _("Tiêu đề"), data.get("title", ""), body.title),
        (
            "priority",
            _("Mức ưu tiên"),
            str(priorities.get(data.get("priority"), data.get("priority"))),
            str(priorities.get(body.priority, body.priority)),
        ),
        ("go_live_at", _("Hiệu lực từ"), when(data.get("go_live_at")), when(body.valid_from)),
        ("expire_at", _("Hết hiệu lực lúc"), when(data.get("expire_at")), when(body.valid_to)),
        (
            "targets",
            _("Đơn vị nhận"),
            ", ".join(names.get(c, c) for c in now_targets),
            ", ".join(names.get(c, c) for c in new_targets),
        ),
        (
            "media",
            _("Tệp đính kèm"),
            ", ".join(
                bulletin.media.filter(synthesized=False)
                .order_by("id")
                .values_list("original_name", flat=True)
            ),
            ", ".join(m.name or m.url.rsplit("/", 1)[-1] for m in body.media),
        ),
    ]
    out = [
        {"field": f, "label": label, "before": before, "after": after}
        for f, label, before, after in rows
        if before != after
    ]
    before = bulletin_text(data.get("body") or "").split("\n")
    after = (body.text or "").split("\n")
    if before != after:
        # Blank lines stay (unmarked): they separate the paragraphs, as on the air.
        lines = [
            (line[0] if line[2:].strip() else " ", line[2:])
            for line in difflib.ndiff(before, after)
            if line[:1] in ("+", "-", " ")
        ]
        while lines and not lines[-1][1].strip():
            lines.pop()
        out.append({"field": "text", "label": _("Nội dung"), "lines": lines})
    return out


@login_required
def bulletin_update(request, bulletin_id: int):
    """A bulletin received from the centre, approved or published here, that the centre changed
    since: what is on air, what changes, and the approver's choice (take the new version, or
    keep what is on air)."""
    from django.shortcuts import get_object_or_404

    from grassroots.content import actions as content
    from grassroots.content.models import Bulletin

    from . import federation

    require(request.user, "content.approve")
    bulletin = get_object_or_404(
        Bulletin.objects.visible_to(request.user).select_related("unit", "approved_revision"),
        pk=bulletin_id,
    )
    if not covers(request.user, "content.approve", bulletin.unit):
        raise PermissionDenied
    if request.method == "POST":
        try:
            if request.POST.get("action") == "accept":
                actions.accept_update(
                    user=request.user, bulletin=bulletin, comment=request.POST.get("comment", "")
                )
                messages.success(
                    request, _("Đã duyệt bản sửa của trung ương; các xã nhận bản mới.")
                )
            elif request.POST.get("action") == "keep":
                actions.keep_current(
                    user=request.user, bulletin=bulletin, comment=request.POST.get("comment", "")
                )
                messages.success(request, _("Đã giữ bản đang phát."))
            else:
                choose = _("Hãy chọn duyệt bản sửa hoặc giữ bản đang phát.")
                raise ValidationError({"action": choose})
        except (ValidationError, Problem, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
            return redirect("exchange-bulletin-update", bulletin_id=bulletin.pk)
        return redirect("bulletin-edit", bulletin_id=bulletin.pk)
    record = actions.pending_update(bulletin)
    changes, may_decide = [], False
    if record is not None:
        body = federation.BulletinBody.model_validate(record.pending_body)
        changes = _changes(bulletin, body)
        _index, steps = content.current_step(bulletin)
        may_decide = content.can_take_step(request.user, bulletin, steps[-1])
    return render(
        request,
        "exchange/bulletin_update.html",
        {"bulletin": bulletin, "record": record, "changes": changes, "may_decide": may_decide},
    )
