"""Console pages of bulletins: archive search, editor with TTS preview, approval queue, inbox."""

from __future__ import annotations

import html
import re
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers, has_perm_anywhere
from grassroots.core.errors import Problem
from grassroots.units.text import fold

from . import actions
from .api import get_bulletin, preview_audio_status, search_bulletins
from .choices import MediaStatus, Priority, Source, Status
from .forms import BulletinForm, SearchForm, UploadForm
from .models import Bulletin, BulletinShare, MediaAsset
from .schemas import SearchFilter

TRANSITIONS = {
    "gui-duyet": (actions.submit, "content.submit", "Đã gửi duyệt bản tin."),
    "duyet": (actions.approve, "content.approve", "Đã duyệt."),
    "yeu-cau-sua": (actions.request_changes, "content.approve", "Đã trả lại để sửa."),
    "xuat-ban": (actions.publish, "content.publish", "Đã xuất bản và chia sẻ xuống các xã."),
    "thu-hoi": (actions.withdraw, "content.view", "Đã thu hồi bản tin."),
    "luu-tru": (actions.archive, "content.publish", "Đã đưa vào lưu trữ."),
}


def error_text(exc: Exception) -> str:
    """What went wrong, in words for the officer."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
        return " ".join(exc.messages)
    if isinstance(exc, Problem):
        return exc.detail
    return str(exc) or "Bạn không có quyền thực hiện thao tác này."


def _forbidden(request, exc: PermissionDenied):
    return render(
        request,
        "core/error.html",
        {"title": "Không có quyền", "detail": error_text(exc)},
        status=403,
    )


def allowed_actions(user, bulletin: Bulletin) -> dict[str, bool]:
    """Which buttons to show; the actions check again when pressed."""
    unit, status = bulletin.unit, bulletin.status
    step_ok = False
    if status == Status.SUBMITTED and covers(user, "content.approve", unit):
        index, steps = actions.current_step(bulletin)
        step_ok = actions.can_take_step(user, bulletin, steps[index])
    publisher = covers(user, "content.publish", unit)
    return {
        "edit": status in Status.editable() and covers(user, "content.change", unit),
        "upload": status in (Status.DRAFT, Status.CHANGES_REQUESTED)
        and covers(user, "content.change", unit),
        "submit": status in (Status.DRAFT, Status.CHANGES_REQUESTED, Status.WITHDRAWN)
        and covers(user, "content.submit", unit),
        "approve": step_ok,
        "publish": status == Status.APPROVED and publisher and not bulletin.needs_reapproval,
        "withdraw": (status == Status.SUBMITTED and covers(user, "content.submit", unit))
        or (status in (Status.APPROVED, Status.PUBLISHED) and publisher),
        "archive": status in (Status.PUBLISHED, Status.EXPIRED, Status.WITHDRAWN) and publisher,
    }


@login_required
def archive(request):
    """Archive search: accent-insensitive, with unit/category/priority/status/date filters."""
    try:
        require(request.user, "content.view")
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    form = SearchForm(request.GET or None)
    filters = SearchFilter()
    if form.is_valid():
        data = form.cleaned_data
        filters = SearchFilter(
            q=data["q"],
            unit=data["unit"] or None,
            category=data["category"].slug if data["category"] else None,
            priority=data["priority"] or None,
            status=data["status"] or None,
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
    page = Paginator(search_bulletins(request.user, filters), 30).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "can_add": has_perm_anywhere(request.user, "content.add"),
    }
    partial = request.headers.get("HX-Request")
    template = "content/_results.html" if partial else "content/archive.html"
    return render(request, template, context)


def editable_body(body: str) -> str:
    """A stored body as the editor's textarea shows it: text without markup (what an officer
    typed, a bulletin received from the centre) with its characters, not their escapes (the
    sanitiser stores "&" as "&amp;"; saving it again stores the same); a body with markup
    (written through the API) keeps its tags, and its text shows its characters too, except a
    "&lt;" that would begin a tag and an "&amp;" that would begin an escape (saving would turn
    them into markup)."""
    if not re.search(r"<[A-Za-z/!]", body or ""):
        return html.unescape(body or "")
    return "".join(
        part if part.startswith("<") else _unescape_text(part)
        for part in re.split(r"(<[^>]*>)", body)
    )


def _unescape_text(text: str) -> str:
    def one(match: re.Match) -> str:
        char = html.unescape(match.group(0))
        rest = text[match.end() :]
        if char == "<" and actions.escape_text_angles("<" + html.unescape(rest[:40])).startswith(
            "<"
        ):
            return match.group(0)
        if char == "&" and re.match(r"#?[A-Za-z0-9]+;", rest):
            return match.group(0)
        return char

    return re.sub(r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);", one, text)


@login_required
def editor(request, bulletin_id: int | None = None):
    """Write or edit a bulletin, and move it through the workflow."""
    try:
        if bulletin_id is None:
            require(request.user, "content.add")
            bulletin = None
        else:
            bulletin = get_bulletin(request.user, bulletin_id)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    initial = {}
    if bulletin is not None:
        initial = {
            "unit": bulletin.unit.code,
            "title": bulletin.title,
            "body": editable_body(bulletin.body),
            "kind": bulletin.kind,
            "category": bulletin.category.slug if bulletin.category_id else None,
            "priority": bulletin.priority,
            "source": bulletin.source,
            "source_name": bulletin.source_name,
            "targets": list(bulletin.targets.values_list("code", flat=True)),
            "go_live_at": bulletin.go_live_at,
            "expire_at": bulletin.expire_at,
        }
    form = BulletinForm(request.POST or None, initial=initial, user=request.user, bulletin=bulletin)
    if request.method == "POST" and form.is_valid():
        try:
            if bulletin is None:
                bulletin = actions.create(
                    user=request.user, unit=form.cleaned_data["unit"], data=form.action_data()
                )
                messages.success(request, "Đã lưu bản nháp.")
            else:
                revision = bulletin.current_revision_id
                bulletin = actions.update(
                    bulletin=bulletin,
                    user=request.user,
                    data=form.action_data(),
                    comment=form.cleaned_data.get("comment", ""),
                )
                same = bulletin.current_revision_id == revision
                messages.success(request, "Không có thay đổi." if same else "Đã lưu phiên bản mới.")
            return redirect("bulletin-edit", bulletin_id=bulletin.pk)
        except (ValidationError, Problem, PermissionDenied) as exc:
            form.add_error(None, error_text(exc))
    context = {"form": form, "bulletin": bulletin, "upload_form": UploadForm(bulletin=bulletin)}
    if bulletin is not None:
        context.update(
            can=allowed_actions(request.user, bulletin),
            steps=_steps(bulletin),
            transitions=bulletin.transitions.select_related("revision", "user"),
            revisions=bulletin.revisions.select_related("created_by")[:20],
            media=bulletin.media.order_by("id"),
            can_delete=covers(request.user, "content.change", bulletin.unit),
            shares=BulletinShare.objects.restrict(request.user, "content.view")
            .filter(bulletin=bulletin)
            .select_related("unit", "picked_up_by")
            .order_by("unit__name"),
        )
        if bulletin.source == Source.NATIONAL:
            from grassroots.exchange.actions import pending_update

            context["central_update"] = pending_update(bulletin)
        if context["can"]["withdraw"] and bulletin.source != Source.NATIONAL:
            context["withdraw_confirm"] = _withdraw_confirm(bulletin)
        if context["can"]["publish"]:
            recipients = sorted(actions.publish_recipients(bulletin), key=lambda u: fold(u.name))
            context.update(
                recipients=recipients[:12],
                recipients_more=max(0, len(recipients) - 12),
                recipients_count=len(recipients),
                must_air=Priority.must_air(bulletin.priority),
            )
        if not context["can"]["edit"]:
            for field in form.fields.values():
                field.disabled = True
    return render(request, "content/editor.html", context)


def _withdraw_confirm(bulletin: Bulletin) -> str:
    """The question "Thu hồi" asks first when the bulletin was sent to other systems (central
    mode: the provinces): how many get a withdrawal, and whose send still waiting is cancelled;
    "" when it was sent nowhere (withdrawn at once, as before)."""
    from grassroots.exchange.actions import withdrawal_reach

    reach = withdrawal_reach(bulletin)
    if not reach["holders"] and not reach["cancelled"]:
        return ""
    parts = [gettext("Thu hồi bản tin này?")]
    if reach["holders"]:
        parts.append(
            gettext("%(n)s tỉnh đã nhận sẽ nhận lệnh thu hồi: %(names)s.")
            % {"n": len(reach["holders"]), "names": ", ".join(reach["holders"])}
        )
    if reach["cancelled"]:
        parts.append(
            gettext("Huỷ gửi tới %(n)s tỉnh chưa nhận: %(names)s.")
            % {"n": len(reach["cancelled"]), "names": ", ".join(reach["cancelled"])}
        )
    return " ".join(parts)


def _steps(bulletin: Bulletin) -> list[dict]:
    from .api import steps_of

    rows = steps_of(bulletin)
    for row, spec in zip(rows, actions.chain_steps(bulletin.unit), strict=False):
        row["unit_name"] = actions.step_unit(bulletin.unit, spec.level).name
        row["label"] = gettext(row["label"])  # the default step's name is in the catalogue
    return rows


@login_required
@require_POST
def transition(request, bulletin_id: int, name: str):
    """One workflow button: submit, approve, request changes, publish, withdraw, archive."""
    if name not in TRANSITIONS:
        raise Http404
    action, permission, done = TRANSITIONS[name]
    try:
        bulletin = get_bulletin(request.user, bulletin_id, permission)
        action(bulletin=bulletin, user=request.user, comment=request.POST.get("comment", ""))
        messages.success(request, done)
    except (ValidationError, Problem, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    next_url = request.POST.get("next", "")
    if next_url == "queue":
        return redirect("bulletin-queue")
    return redirect("bulletin-edit", bulletin_id=bulletin_id)


@login_required
@require_POST
def upload(request, bulletin_id: int):
    """Attach a file; it is processed by the worker, the page polls its status."""
    form = UploadForm(request.POST, request.FILES)
    try:
        bulletin = get_bulletin(request.user, bulletin_id, "content.change")
        if not form.is_valid():
            raise ValidationError([e for errs in form.errors.values() for e in errs])
        actions.upload_media(
            bulletin=bulletin,
            user=request.user,
            upload=form.cleaned_data["file"],
            declared_kind=form.cleaned_data["kind"],
        )
        messages.success(request, "Đã tải tệp lên; hệ thống đang xử lý.")
    except (ValidationError, Problem, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    return redirect("bulletin-edit", bulletin_id=bulletin_id)


@login_required
@require_POST
def media_delete(request, bulletin_id: int, asset_id: int):
    """Delete a rejected attachment of a bulletin."""
    try:
        bulletin = get_bulletin(request.user, bulletin_id, "content.change")
        asset = MediaAsset.objects.filter(bulletin=bulletin, pk=asset_id).first()
        if asset is None:
            raise Http404
        actions.delete_media(asset=asset, user=request.user)
        messages.success(request, "Đã xoá tệp bị từ chối.")
    except (ValidationError, Problem, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    return redirect("bulletin-edit", bulletin_id=bulletin_id)


@login_required
def media_list(request, bulletin_id: int):
    """The media table (htmx polls it while a file is being processed)."""
    bulletin = get_bulletin(request.user, bulletin_id)
    media = bulletin.media.order_by("id")
    can_delete = covers(request.user, "content.change", bulletin.unit)
    return render(
        request,
        "content/_media.html",
        {"bulletin": bulletin, "media": media, "can_delete": can_delete},
    )


def _serve(relative: str):
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if not relative or not path.is_relative_to(root) or not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"))


@login_required
def media_file(request, asset_id: int):
    """Download a processed file within scope."""
    require(request.user, "content.view")
    asset = (
        MediaAsset.objects.restrict(request.user, "content.view")
        .filter(pk=asset_id, status=MediaStatus.READY)
        .first()
    )
    if asset is None:
        raise Http404
    return _serve(asset.file or (asset.duplicate_of.file if asset.duplicate_of_id else ""))


@login_required
@require_POST
def tts_preview(request):
    """Editor preview: the reading text now, the audio from the worker (polled)."""
    text = "\n".join(p for p in (request.POST.get("title", ""), request.POST.get("body", "")) if p)
    context: dict = {}
    try:
        # A locked form (a published bulletin) sends no fields: read the stored bulletin.
        stored = request.POST.get("bulletin", "")
        bulletin = get_bulletin(request.user, int(stored)) if stored and not text else None
        voice = request.POST.get("voice", "vi") or "vi"
        part = int(request.POST.get("part", "1") or 1)
        context.update(
            actions.preview_reading(
                user=request.user, text=text, bulletin=bulletin, voice=voice, part=part
            )
        )
        context["percent"] = round(100 * context["part"] / context["parts"])
        if request.POST.get("audio"):
            context["task_id"] = actions.request_preview_audio(
                user=request.user,
                text=text,
                bulletin=bulletin,
                voice=request.POST.get("voice", "vi") or "vi",
                speed=int(request.POST.get("speed", "150") or 150),
                part=part,
            )
    except (ValidationError, Problem, PermissionDenied, ValueError) as exc:
        context["error"] = error_text(exc)
    return render(request, "content/_tts.html", context)


@login_required
def tts_audio(request, task_id: str):
    """Polling partial of a preview's audio."""
    status = preview_audio_status(request.user, task_id)
    return render(request, "content/_tts_audio.html", {"task_id": task_id, **status})


@login_required
def tts_audio_file(request, task_id: str):
    status = preview_audio_status(request.user, task_id)
    if status["status"] != "ready":
        raise Http404
    return _serve(status["audio_url"].removeprefix(settings.MEDIA_URL))


@login_required
def queue(request):
    """Bulletins waiting for a step this user may take."""
    try:
        require(request.user, "content.approve")
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    waiting = (
        Bulletin.objects.restrict(request.user, "content.approve")
        .filter(status=Status.SUBMITTED)
        .select_related("unit", "category")
        .order_by("updated_at")[:500]
    )
    rows = []
    for b in waiting:
        index, steps = actions.current_step(b)
        if actions.can_take_step(request.user, b, steps[index]):
            rows.append(
                {"bulletin": b, "step": index + 1, "steps": len(steps), "spec": steps[index]}
            )
    from grassroots.exchange.models import InboundMessage

    updates = (
        Bulletin.objects.restrict(request.user, "content.approve")
        .filter(
            pk__in=InboundMessage.objects.filter(pending_version__isnull=False).values("bulletin")
        )
        .select_related("unit")
        .order_by("updated_at")[:100]
    )
    return render(request, "content/queue.html", {"rows": rows, "updates": updates})


@login_required
def inbox(request):
    """A commune's inbox; upper levels see which communes took up what."""
    try:
        require(request.user, "content.view")
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    shares = BulletinShare.objects.inbox(request.user).select_related("picked_up_by")
    if request.GET.get("chua-nhan"):
        shares = shares.filter(picked_up_at__isnull=True)
    rows = list(shares[:300])
    for share in rows:
        share.can_pick = not share.withdrawn_at and covers(
            request.user, "broadcast.schedule", share.unit
        )
    _placements(rows)
    uptake = (
        Bulletin.objects.visible_to(request.user)
        .filter(shares__isnull=False)
        .annotate(
            total=Count("shares", distinct=True),
            picked=Count("shares", filter=Q(shares__picked_up_at__isnull=False), distinct=True),
        )
        .order_by("-published_at")[:50]
        if has_perm_anywhere(request.user, "content.publish")
        else []
    )
    return render(
        request,
        "content/inbox.html",
        {"shares": rows, "uptake": uptake},
    )


def _placements(shares: list[BulletinShare]) -> None:
    """Where each picked-up bulletin already is in its commune: the station's slots
    (`share.slots`, active, with the time in words) and the boards' playlists
    (`share.playlists`). Two queries for the whole inbox."""
    from grassroots.broadcast.choices import ItemStatus
    from grassroots.broadcast.models import ScheduleItem, Station
    from grassroots.broadcast.recurrence import describe
    from grassroots.signage.models import PlaylistItem

    picked = [s for s in shares if s.picked_up_at and not s.withdrawn_at]
    for share in shares:
        share.slots, share.playlists = [], []
    if not picked:
        return
    units = {s.unit_id for s in picked}
    bulletins = {s.bulletin_id for s in picked}
    stations = dict(Station.objects.filter(unit_id__in=units).values_list("unit_id", "pk"))
    slots: dict[tuple[int, int], list] = {}
    for item in (
        ScheduleItem.objects.filter(
            unit_id__in=units, revision__bulletin_id__in=bulletins, status=ItemStatus.ACTIVE
        )
        .order_by("starts_at")
        .values("unit_id", "revision__bulletin_id", "starts_at", "rrule")
    ):
        start = timezone.localtime(item["starts_at"])
        slots.setdefault((item["unit_id"], item["revision__bulletin_id"]), []).append(
            {
                "when": describe(item["rrule"], start) if item["rrule"] else None,
                "at": start,
                "station": stations.get(item["unit_id"]),
            }
        )
    boards: dict[tuple[int, int], list] = {}
    for row in (
        PlaylistItem.objects.filter(playlist__unit_id__in=units, bulletin_id__in=bulletins)
        .order_by("playlist__name")
        .values("playlist__unit_id", "bulletin_id", "playlist_id", "playlist__name")
    ):
        boards.setdefault((row["playlist__unit_id"], row["bulletin_id"]), []).append(
            {"id": row["playlist_id"], "name": row["playlist__name"]}
        )
    for share in picked:
        share.slots = slots.get((share.unit_id, share.bulletin_id), [])
        share.playlists = boards.get((share.unit_id, share.bulletin_id), [])


@login_required
@require_POST
def pick_up(request, share_id: int):
    try:
        require(request.user, "broadcast.schedule")
        visible = BulletinShare.objects.restrict(request.user, "content.view")
        share = visible.filter(pk=share_id).first()
        if share is None:
            raise Http404
        actions.pick_up(share=share, user=request.user)
        messages.success(request, "Đã nhận bản tin.")
    except (Problem, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    return redirect("bulletin-inbox")
