"""Console: the fleet (map and list of devices, live state, remote commands, provisioning)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from grassroots.accounts.policies import require
from grassroots.accounts.scope import has_perm_anywhere
from grassroots.core.errors import Problem

from . import actions, faults, maps, provisioning, remote
from .fleet_api import FleetFilter, fleet_rows, unit_path
from .models import Device
from .models_fleet import DeviceEvent


@login_required
def fleet(request):
    """Every device in scope with its online state, what it plays, volume and faults."""
    require(request.user, "devices.view")
    filters = FleetFilter(
        unit=request.GET.get("unit") or None,
        kind=request.GET.get("kind") or None,
        online={"1": True, "0": False}.get(request.GET.get("online", "")),
    )
    rows = fleet_rows(request.user, filters)
    context = {
        "rows": rows,
        "online": sum(1 for r in rows if r["online"]),
        "filters": request.GET,
        "can_control": has_perm_anywhere(request.user, "devices.control"),
        "can_manage": has_perm_anywhere(request.user, "devices.manage"),
    }
    if request.headers.get("HX-Request"):  # the list's refresh every 5 s: rows only
        return render(request, "devices/_fleet_rows.html", context)
    under = unit_path(request.user, filters.unit) if filters.unit else None
    points = maps.device_points(rows)
    context["unplaced"] = len(rows) - len(points)
    context["map"] = {
        "devices": points,
        "communes": maps.commune_points(request.user, under=under),
        "tiles": maps.tile_layer(),
    }
    return render(request, "devices/fleet.html", context)


@login_required
def device_action(request, device_id: int):
    """Buttons of the fleet page: stop, volume, power, resync, authorise, revoke."""
    if request.method != "POST":
        return redirect("device-fleet")
    action = request.POST.get("action", "")
    try:
        if action in ("authorise", "revoke"):
            require(request.user, "devices.manage")
            device = provisioning.device_in_scope(request.user, device_id, "devices.manage")
            if action == "authorise":
                _, code = provisioning.authorise(user=request.user, device=device)
                messages.success(
                    request, f"Mã đăng ký của {device.name}: {code} (dùng trong 24 giờ)."
                )
            else:
                provisioning.revoke(user=request.user, device=device)
                messages.success(request, f"Đã thu hồi quyền của {device.name}.")
        else:
            remote.send_command(
                user=request.user,
                device_id=device_id,
                command_type=action,
                volume=int(request.POST.get("volume", "70")) if action == "volume.set" else None,
                power=request.POST.get("power", "on") if action == "power.set" else None,
            )
            messages.success(request, "Đã gửi lệnh tới thiết bị.")
    except (Problem, ValueError) as exc:
        messages.error(request, getattr(exc, "detail", None) or "Giá trị không hợp lệ.")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("device-fleet")


FAULTS_PER_PAGE = 50


@login_required
def fault_history(request, device_id: int):
    """One device's faults, newest first: when, the code's Vietnamese label (faults.py), the
    device's detail and whether an officer has marked it cleared. POST marks faults cleared
    (`event` ids, or `all`), for those with devices.control. 404 outside the user's scope."""
    require(request.user, "devices.view")
    device = (
        Device.objects.restrict(request.user, "devices.view")
        .select_related("unit")
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        raise Http404
    can_clear = (
        Device.objects.restrict(request.user, actions.FAULT_PERMISSION)
        .filter(pk=device.pk)
        .exists()
    )
    if request.method == "POST":
        if not can_clear:
            raise PermissionDenied("Bạn không có quyền xác nhận khắc phục lỗi của thiết bị này.")
        ids = None
        if request.POST.get("all") != "1":
            try:
                ids = [int(v) for v in request.POST.getlist("event")]
            except ValueError:
                ids = []
            if not ids:
                messages.error(request, "Hãy chọn lỗi cần đánh dấu đã khắc phục.")
                return redirect("device-faults", device_id=device.pk)
        done = actions.clear_faults(user=request.user, device=device, event_ids=ids)
        messages.success(request, f"Đã đánh dấu {done} lỗi là đã khắc phục.")
        return redirect("device-faults", device_id=device.pk)
    events = DeviceEvent.objects.filter(device=device, type="fault").select_related("cleared_by")
    page = Paginator(events, FAULTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for e in page:
        payload = e.payload if isinstance(e.payload, dict) else {}
        code = str(payload.get("code") or "")
        detail = payload.get("detail")
        rows.append(
            {
                "id": e.pk,
                "at": e.received_at,
                "code": code,
                "label": faults.label(code) or "Lỗi thiết bị không rõ mã",
                "advice": faults.advice(code),
                "detail": str(detail)[:2000] if detail else "",
                "cleared_at": e.cleared_at,
                "cleared_by": e.cleared_by,
            }
        )
    return render(
        request,
        "devices/faults.html",
        {
            "device": device,
            "rows": rows,
            "page": page,
            "open": events.filter(cleared_at__isnull=True).count(),
            "can_clear": can_clear,
        },
    )
