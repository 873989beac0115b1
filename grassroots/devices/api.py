"""Devices API: the registry, inventory workbook, signed manifests, as-run upload, keys."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from grassroots.accounts.policies import require
from grassroots.core import signing
from grassroots.core.auth import API_AUTH
from grassroots.core.errors import Problem
from grassroots_protocol import messages as wire

from . import actions, inventory
from .models import Device
from .schemas import (
    DeviceRead,
    DeviceUpdate,
    ImportResultRead,
    KeyRead,
)

PREFIX = "/"
router = Router(tags=["devices"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 5 * 1024 * 1024


def _device_auth() -> list:
    """A device's own token (from enrolment) first, then the user token or console session."""
    try:
        from .auth import DeviceTokenAuth
    except ImportError:  # provisioning not installed: users in scope only
        return list(API_AUTH)
    return [DeviceTokenAuth(), *API_AUTH]


DEVICE_AUTH = _device_auth()


def _device_only_auth() -> list:
    """Only a device's own token: what a device reports (as-run) is no officer's to write."""
    from .auth import DeviceTokenAuth

    return [DeviceTokenAuth()]


DEVICE_ONLY_AUTH = _device_only_auth()


def _acting_target(request, device_id: int) -> Device:
    """The device a device-channel route acts on: itself for a device token, else in scope."""
    acting = getattr(request, "device", None)
    if acting is not None:
        if acting.pk != device_id:
            raise Http404
        return Device.objects.select_related("unit").get(pk=acting.pk)
    return get_object_or_404(_devices(request.user), pk=device_id)


def device_read(d: Device) -> dict:
    return {
        "id": d.pk,
        "kind": d.kind,
        "unit_code": d.unit.code,
        "station": d.station_id,
        "name": d.name,
        "serial": d.serial,
        "technology": d.technology,
        "condition": d.condition,
        "latitude": d.latitude,
        "longitude": d.longitude,
        "install_year": d.install_year,
        "supplier": d.supplier,
        "sim_network": d.sim_network,
        "notes": d.notes,
        "volume": d.volume,
        "enabled": d.enabled,
        "manifest_etag": d.manifest_etag,
        "compiled_at": d.compiled_at,
    }


def _devices(user, permission: str = "devices.view"):
    require(user, permission)
    return Device.objects.restrict(user, permission).select_related("unit")


class DeviceFilter(Schema):
    unit: str | None = None
    kind: str | None = None
    technology: str | None = None
    limit: int = 500


@router.get("/devices", response=list[DeviceRead], summary="Thiết bị trong phạm vi")
def list_devices(request, unit: str | None = None, kind: str | None = None, limit: int = 500):
    qs = _devices(request.user)
    if unit:
        from grassroots.units.api import get_unit

        qs = qs.filter(
            unit__path__startswith=get_unit(request.user, unit, action="devices.view").path
        )
    if kind:
        qs = qs.filter(kind=kind)
    return [device_read(d) for d in qs[: max(1, min(limit, 5000))]]


@router.get("/devices/inventory.xlsx", summary="Xuất bảng kiểm kê thiết bị (Excel)")
def export_inventory(request, unit: str | None = None):
    qs = _devices(request.user)
    if unit:
        from grassroots.units.api import get_unit

        qs = qs.filter(
            unit__path__startswith=get_unit(request.user, unit, action="devices.view").path
        )
    response = HttpResponse(inventory.write(qs.order_by("unit__code", "serial")), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="kiem-ke-thiet-bi.xlsx"'
    return response


@router.post(
    "/devices/inventory", response={200: ImportResultRead}, summary="Nhập bảng kiểm kê (Excel)"
)
def import_inventory(request, file: File[UploadedFile]):
    if file.size and file.size > MAX_UPLOAD:
        raise Problem(413, "Tệp lớn hơn 5 MB; hãy chia nhỏ bảng kiểm kê.")
    result = actions.import_inventory(user=request.user, data=file.read())
    return {"created": result.created, "updated": result.updated}


@router.get("/devices/{device_id}", response=DeviceRead, summary="Một thiết bị")
def device_detail(request, device_id: int):
    return device_read(get_object_or_404(_devices(request.user), pk=device_id))


@router.patch("/devices/{device_id}", response=DeviceRead, summary="Sửa thiết bị (âm lượng…)")
def device_update(request, device_id: int, data: DeviceUpdate):
    device = get_object_or_404(_devices(request.user, "devices.control"), pk=device_id)
    fields = data.dict(exclude_unset=True)
    return device_read(actions.update_device(user=request.user, device=device, **fields))


@router.get(
    "/devices/{device_id}/manifest",
    summary="Lịch phát đã ký của thiết bị (ETag/304)",
    response={200: dict, 304: None},
    auth=DEVICE_AUTH,
)
def manifest(request, device_id: int):
    from grassroots.broadcast.manifests import manifest_for

    device = _acting_target(request, device_id)
    if not device.receives_manifest:
        raise Problem(
            409,
            "Thiết bị này không nhận lịch phát loa: chưa dùng công nghệ IP, đang tắt, "
            "hoặc là bảng tin điện tử (dùng lịch của bảng tin).",
        )
    m = manifest_for(device)
    etag = f'"{m.etag}"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(m.body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


@router.post(
    "/devices/{device_id}/asrun",
    response=wire.AsRunUploadAnswer,
    summary="Thiết bị gửi nhật ký phát (chỉ token của chính thiết bị)",
    auth=DEVICE_ONLY_AUTH,
)
def post_asrun(request, device_id: int, data: wire.AsRunUpload):
    """The body and answer are the protocol's (grassroots_protocol.AsRunUpload); each entry is
    checked on its own (docs/protocol/asrun-entry.schema.json), so one bad entry is rejected
    with its reason and the others are stored."""
    from grassroots.broadcast import asrun

    if len(data.entries) > asrun.MAX_ENTRIES:
        raise Problem(413, f"Gửi tối đa {asrun.MAX_ENTRIES} mục nhật ký mỗi lần.")
    device = _acting_target(request, device_id)
    accepted, rejected = asrun.record(device=device, entries=data.entries)
    return {"accepted": accepted, "rejected": [r.__dict__ for r in rejected]}


@router.get("/keys", response=list[KeyRead], auth=None, summary="Khoá công khai để kiểm chữ ký")
def keys(request):
    return signing.published_keys()
