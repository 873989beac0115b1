"""The board player page (/board/), its service worker, and the console pages for e-boards."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin

from grassroots.accounts.policies import require
from grassroots.accounts.scope import has_perm_anywhere
from grassroots.core.errors import Problem
from grassroots.devices.choices import DeviceKind
from grassroots.devices.models import Device
from grassroots.units.models import Unit

from . import actions
from .coverage import coverage
from .forms import LayoutEditForm, LayoutForm, PairForm
from .models import Board, DisplayProof, Layout, Playlist
from .querysets import display_report, is_online

SHELL_FILES = ("signage/board.css", "signage/board.js", "signage/vendor/mqtt.min.js")


def _csp(response, *, preview: bool = False) -> HttpResponse:
    """A strict policy: only our own scripts run, media only from here or blob: URLs."""
    connect = ["'self'"]
    ws = urlparse(settings.MQTT_WS_URL or "")
    if ws.scheme in ("ws", "wss") and ws.netloc:
        connect.append(f"{ws.scheme}://{ws.netloc}")
    response["Content-Security-Policy"] = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob: data:",
            "media-src 'self' blob:",
            f"connect-src {' '.join(connect)}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
            "frame-ancestors 'self'" if preview else "frame-ancestors 'none'",
        ]
    )
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@lru_cache(maxsize=1)
def _shell_version() -> str:
    digest = hashlib.sha256()
    for name in SHELL_FILES:
        path = finders.find(name)
        if path:
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]


@never_cache
def player(request):
    """The board player: pairing code when it has no credential, then the rotating board."""
    response = render(
        request,
        "signage/player.html",
        {"mode": "board", "version": _shell_version(), "device_id": ""},
    )
    return _csp(response)


@never_cache
def service_worker(request):
    """The service worker (scope /board/), with the shell's URLs and version written in."""
    shell = ["/board/", *[static(name) for name in SHELL_FILES]]
    response = render(
        request,
        "signage/sw.js",
        {"version": _shell_version(), "shell": shell},
        content_type="application/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/board/"
    return response


# --- console ---------------------------------------------------------------------------------


def _boards(user, permission: str = actions.VIEW):
    return Board.objects.restrict(user, permission).select_related("device", "device__unit")


def _forbidden(request, exc):
    return render(
        request, "core/error.html", {"title": "Không có quyền", "detail": str(exc)}, status=403
    )


def _error_text(exc) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
        return " ".join(exc.messages)
    if isinstance(exc, Problem):
        return exc.detail
    return str(exc)


def _root_unit(user) -> Unit | None:
    if user.is_superuser:
        return Unit.objects.current().filter(depth=0).order_by("pk").first()
    from grassroots.accounts.scope import scope_paths

    paths = scope_paths(user, actions.VIEW)
    return Unit.objects.filter(path=min(paths, key=len)).first() if paths else None


@login_required
def console(request):
    """Boards in scope with their state, coverage per unit, and the pairing form."""
    try:
        require(request.user, actions.VIEW)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    can_manage = Unit.objects.restrict(request.user, actions.MANAGE).exists()
    form = PairForm(user=request.user, data=request.POST or None)
    if request.method == "POST" and can_manage and form.is_valid():
        data = form.cleaned_data
        try:
            device = actions.approve_pairing(
                user=request.user,
                code=data["code"],
                device=data.get("device"),
                unit=data.get("unit"),
                name=data.get("name") or "",
            )
        except (ValidationError, Problem, PermissionDenied, Http404) as exc:
            form.add_error(None, _error_text(exc) or "Không tìm thấy trong phạm vi của bạn.")
        else:
            messages.success(
                request,
                f"Đã ghép nối: bảng tin '{device.name}' sẽ tự nhận cấu hình trong vài giây.",
            )
            return redirect("signage-board", device_id=device.pk)
    boards = list(_boards(request.user).order_by("device__unit__path", "device__name")[:1000])
    for board in boards:
        board.online = is_online(board)
    root = _root_unit(request.user)
    cov = coverage(root) if root else None
    return render(
        request,
        "signage/console.html",
        {
            "boards": boards,
            "form": form,
            "can_manage": can_manage,
            "coverage": cov,
            "root": root,
        },
    )


@login_required
def board_detail(request, device_id: int):
    try:
        require(request.user, actions.VIEW)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    board = get_object_or_404(_boards(request.user), pk=device_id)
    if request.method == "POST":
        try:
            if "screenshot" in request.POST:
                actions.request_screenshot(user=request.user, board=board)
                messages.info(request, "Đã gửi yêu cầu chụp màn hình; ảnh sẽ hiện sau vài giây.")
            elif "revoke" in request.POST:
                actions.revoke(user=request.user, board=board)
                messages.warning(request, "Đã thu hồi bảng tin; cần ghép nối lại để dùng tiếp.")
            elif "layout" in request.POST:
                actions.configure_board(
                    user=request.user,
                    board=board,
                    data={
                        "layout": request.POST.get("layout") or None,
                        "auto_unit_bulletins": request.POST.get("auto") == "on",
                    },
                )
                messages.success(request, "Đã lưu cấu hình bảng tin.")
        except (ValidationError, Problem, PermissionDenied, Http404) as exc:
            messages.error(request, _error_text(exc) or "Không tìm thấy trong phạm vi của bạn.")
        return redirect("signage-board", device_id=device_id)
    unit_ids = [u.pk for u in board.device.unit.ancestors(include_self=True)]
    proofs = DisplayProof.objects.filter(device_id=board.device_id)
    offset = ((board.state or {}).get("clock") or {}).get("offset_s")
    return render(
        request,
        "signage/board.html",
        {
            "board": board,
            "online": is_online(board),
            # the board's state: offset_s is server − board (negative: the board is ahead)
            "clock_offset": offset,
            "clock_off": offset is not None and abs(offset) > 60,
            "clock_ahead": offset is not None and offset < 0,
            "clock_seconds": round(abs(offset)) if offset is not None else None,
            "layouts": Layout.objects.filter(unit_id__in=unit_ids),
            "recent": proofs.select_related("bulletin")[:20],
            "report": display_report(proofs),
            "can_manage": Board.objects.restrict(request.user, actions.MANAGE)
            .filter(pk=board.pk)
            .exists(),
        },
    )


@xframe_options_sameorigin
@login_required
def board_preview(request, device_id: int):
    """Exactly what the board shows: the same player, page and manifest, without side effects."""
    try:
        require(request.user, actions.VIEW)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    board = get_object_or_404(_boards(request.user), pk=device_id)
    response = render(
        request,
        "signage/player.html",
        {"mode": "preview", "version": _shell_version(), "device_id": board.device_id},
    )
    return _csp(response, preview=True)


@xframe_options_sameorigin
@login_required
def bulletin_preview(request, bulletin_id: int):
    """A bulletin as a 16:9 board will show it (same player, paging and all), before it is
    published: what the editor checks that nothing is cut off."""
    from grassroots.content.models import Bulletin

    from .manifests import layout_payload, preview_item

    try:
        require(request.user, "content.view")
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    bulletin = get_object_or_404(
        Bulletin.objects.restrict(request.user, "content.view"), pk=bulletin_id
    )
    manifest = {
        "unit": {"name": bulletin.unit.name},
        "layout": layout_payload(None),
        "items": [preview_item(bulletin, layout_payload(None))],
    }
    response = render(
        request,
        "signage/player.html",
        {"mode": "item", "version": _shell_version(), "device_id": "", "preview_item": manifest},
    )
    return _csp(response, preview=True)


@login_required
def screenshot_file(request, device_id: int):
    from django.http import FileResponse

    board = get_object_or_404(_boards(request.user), pk=device_id)
    if not board.screenshot:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / board.screenshot
    if not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def layouts_playlists(request):
    """Layouts and playlists of the units in scope; a new layout from the form."""
    try:
        require(request.user, actions.VIEW)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    form = LayoutForm(user=request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        unit = data.pop("unit")
        try:
            actions.save_layout(user=request.user, unit=unit, data=data)
        except (ValidationError, Problem, PermissionDenied, Http404) as exc:
            form.add_error(None, _error_text(exc) or "Không tìm thấy trong phạm vi của bạn.")
        else:
            messages.success(request, "Đã tạo bố cục.")
            return redirect("signage-layouts")
    manageable = set(
        Layout.objects.restrict(request.user, actions.MANAGE).values_list("pk", flat=True)
    )
    layouts = Layout.objects.restrict(request.user, actions.VIEW).select_related("unit")
    in_use = {x.pk: len(actions.boards_using(x)) for x in layouts}
    return render(
        request,
        "signage/layouts.html",
        {
            "form": form,
            "can_manage": has_perm_anywhere(request.user, actions.MANAGE),
            "layouts": [
                {"layout": x, "manage": x.pk in manageable, "boards": in_use.get(x.pk, 0)}
                for x in layouts
            ],
            "playlists": Playlist.objects.restrict(request.user, actions.VIEW)
            .select_related("unit")
            .prefetch_related("items__bulletin", "boards"),
        },
    )


def _layout(user, layout_id: int) -> Layout:
    return get_object_or_404(
        Layout.objects.restrict(user, actions.MANAGE).select_related("unit"), pk=layout_id
    )


@login_required
def layout_edit(request, layout_id: int):
    """Change a layout; the boards that use it are listed (and refresh when it is saved)."""
    try:
        require(request.user, actions.MANAGE)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    layout = _layout(request.user, layout_id)
    initial = {f: getattr(layout, f) for f in actions.LAYOUT_FIELDS}
    form = LayoutEditForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_layout(
                user=request.user, unit=layout.unit, data=dict(form.cleaned_data), layout=layout
            )
        except (ValidationError, Problem, PermissionDenied, Http404) as exc:
            form.add_error(None, _error_text(exc) or "Không tìm thấy trong phạm vi của bạn.")
        else:
            messages.success(request, f"Đã lưu bố cục '{layout.name}'; bảng tin cập nhật ngay.")
            return redirect("signage-layouts")
    return render(
        request,
        "signage/layout_form.html",
        {"form": form, "layout": layout, "boards": list(actions.boards_using(layout))},
    )


@login_required
def layout_delete(request, layout_id: int):
    """POST: delete a layout; one in use needs `detach` (its boards go back to the default)."""
    try:
        require(request.user, actions.MANAGE)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    layout = _layout(request.user, layout_id)
    if request.method != "POST":
        return redirect("signage-layout", layout_id=layout.pk)
    try:
        detached = actions.delete_layout(
            user=request.user, layout=layout, detach=bool(request.POST.get("detach"))
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("signage-layout", layout_id=layout.pk)
    text = f"Đã xoá bố cục '{layout.name}'."
    if detached:
        text += f" {len(detached)} bảng tin đã về bố cục mặc định."
    messages.success(request, text)
    return redirect("signage-layouts")


def board_devices(user):
    return Device.objects.restrict(user, actions.MANAGE).filter(kind=DeviceKind.BOARD)


WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def _approved_bulletins(user):
    from grassroots.content.choices import Status
    from grassroots.content.models import Bulletin

    return (
        Bulletin.objects.visible_to(user)
        .filter(status__in=[Status.APPROVED, Status.PUBLISHED], approved_revision__isnull=False)
        .select_related("unit")
        .order_by("-updated_at")[:200]
    )


def _parse_playlist(post, candidates) -> dict:
    """The playlist form's fields as the action's `data` (validation is the action's)."""
    from django.utils.dateparse import parse_datetime, parse_time

    def number(name, default=None):
        raw = (post.get(name) or "").strip()
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise ValidationError({name: "Hãy nhập một số nguyên."}) from exc

    def moment(name):
        raw = (post.get(name) or "").strip()
        if not raw:
            return None
        value = parse_datetime(raw)
        if value is None:
            raise ValidationError({name: "Ngày giờ chưa đúng định dạng."})
        from django.utils import timezone

        return timezone.make_aware(value) if timezone.is_naive(value) else value

    items = []
    for b in candidates:
        if post.get(f"item_{b.pk}"):
            items.append(
                (
                    number(f"pos_{b.pk}", 0),
                    {
                        "bulletin": b.pk,
                        "duration": number(f"dur_{b.pk}"),
                        "allow_sound": bool(post.get(f"sound_{b.pk}")),
                    },
                )
            )
    items.sort(key=lambda pair: pair[0])
    start, end = post.get("start_time") or "", post.get("end_time") or ""
    return {
        "name": (post.get("name") or "").strip(),
        "active": bool(post.get("active")),
        "weekdays": [int(d) for d in post.getlist("weekdays") if d.isdigit()],
        "start_time": parse_time(start) if start else None,
        "end_time": parse_time(end) if end else None,
        "valid_from": moment("valid_from"),
        "valid_until": moment("valid_until"),
        "order": number("order", 0),
        "boards": [int(d) for d in post.getlist("boards") if d.isdigit()],
        "items": [item for _pos, item in items],
    }


@login_required
def playlist_edit(request, playlist_id: int | None = None):
    """Create or edit a playlist: approved bulletins, durations, daypart, targeted boards."""
    try:
        require(request.user, actions.MANAGE)
    except PermissionDenied as exc:
        return _forbidden(request, exc)
    playlist = None
    if playlist_id:
        playlist = get_object_or_404(
            Playlist.objects.restrict(request.user, actions.MANAGE).select_related("unit"),
            pk=playlist_id,
        )
    candidates = list(_approved_bulletins(request.user))
    units = Unit.objects.restrict(request.user, actions.MANAGE).current().order_by("path")
    error = ""
    if request.method == "POST":
        try:
            data = _parse_playlist(request.POST, candidates)
            if playlist is None:
                unit = units.filter(code=request.POST.get("unit", "")).first()
                if unit is None:
                    raise ValidationError({"unit": "Hãy chọn đơn vị."})
                playlist = actions.save_playlist(user=request.user, unit=unit, data=data)
            else:
                # Cleared fields: the action skips None, so empty inputs are applied here.
                for key in ("start_time", "end_time", "valid_from", "valid_until"):
                    if data[key] is None:
                        setattr(playlist, key, None)
                playlist = actions.save_playlist(
                    user=request.user, unit=playlist.unit, data=data, playlist=playlist
                )
        except (ValidationError, Problem, PermissionDenied, Http404) as exc:
            error = _error_text(exc) or "Không tìm thấy trong phạm vi của bạn."
        else:
            messages.success(
                request, "Đã lưu danh sách hiển thị; bảng tin cập nhật trong vài giây."
            )
            return redirect("signage-playlist", playlist_id=playlist.pk)
    chosen = {}
    if playlist is not None and playlist.pk:
        chosen = {i.bulletin_id: i for i in playlist.items.all()}
    rows = [{"bulletin": b, "item": chosen.get(b.pk)} for b in candidates]
    return render(
        request,
        "signage/playlist.html",
        {
            "playlist": playlist,
            "units": units[:500],
            "rows": rows,
            "weekdays": list(enumerate(WEEKDAYS)),
            "selected_days": playlist.weekdays if playlist else list(range(7)),
            "boards": Board.objects.restrict(request.user, actions.MANAGE)
            .filter(token_hash__isnull=False)
            .select_related("device__unit"),
            "selected_boards": set(playlist.boards.values_list("pk", flat=True))
            if playlist and playlist.pk
            else set(),
            "error": error,
        },
    )
