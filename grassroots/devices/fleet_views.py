"""Console: the fleet (map and list of devices, live state, remote commands, provisioning)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from grassroots.accounts.policies import require
from grassroots.accounts.scope import has_perm_anywhere
from grassroots.core.errors import Problem

from . import provisioning, remote
from .fleet_api import FleetFilter, fleet_rows


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
        "points": [
            {
                "id": r["id"],
                "name": r["name"],
                "lat": r["latitude"],
                "lon": r["longitude"],
                "online": r["online"],
                "unit": r["unit_name"],
            }
            for r in rows
            if r["latitude"] is not None
        ],
    }
    template = (
        "devices/_fleet_rows.html" if request.headers.get("HX-Request") else ("devices/fleet.html")
    )
    return render(request, template, context)


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
