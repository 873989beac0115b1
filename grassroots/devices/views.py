"""Console: the device registry, inventory export and import with row-level errors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem

from . import actions, inventory
from .choices import Technology
from .forms import InventoryUploadForm
from .models import Device

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _devices(request):
    require(request.user, "devices.view")
    qs = Device.objects.restrict(request.user, "devices.view").select_related("unit", "station")
    unit = request.GET.get("unit", "").strip()[:16]
    if unit:  # the unit and every unit under it
        from grassroots.units.models import Unit

        chosen = Unit.objects.filter(code=unit, valid_to__isnull=True).first()
        qs = qs.filter(unit__path__startswith=chosen.path) if chosen else qs.none()
    tech = request.GET.get("technology", "")
    if tech in Technology.values:
        qs = qs.filter(technology=tech)
    return qs


@login_required
def device_list(request):
    """Devices in scope; operators can upload the inventory workbook."""
    errors: list[dict] = []
    form = InventoryUploadForm()
    if request.method == "POST":
        form = InventoryUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = actions.import_inventory(user=request.user, data=upload.read())
            except Problem as exc:
                errors = exc.extra.get("errors", [{"row": "", "message": exc.detail}])
                messages.error(request, exc.detail)
            else:
                messages.success(
                    request,
                    f"Đã nhập: {result.created} thiết bị mới, cập nhật {result.updated} thiết bị.",
                )
                return redirect("device-list")
    page = Paginator(_devices(request), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "devices/list.html",
        {"page": page, "form": form, "errors": errors, "technologies": Technology.choices},
    )


@login_required
def device_export(request):
    """The inventory workbook of the devices in scope (the same format the import reads)."""
    data = inventory.write(_devices(request).order_by("unit__code", "serial"))
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="kiem-ke-thiet-bi.xlsx"'
    return response
