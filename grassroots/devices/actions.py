"""Business rules of the device registry: inventory import, device changes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers
from grassroots.core import audit
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

from . import inventory
from .choices import Condition
from .models import Device
from .models_fleet import DeviceEvent

# Editing the inventory is the commune operator's job; provisioning credentials (devices.manage)
# belongs to the provisioning work.
INVENTORY_PERMISSION = "devices.control"


@dataclass
class ImportResult:
    created: int
    updated: int


def _station_for(unit: Unit, cache: dict, user):
    from grassroots.broadcast.actions import ensure_station
    from grassroots.broadcast.models import Station

    if unit.pk not in cache:
        ids = [int(p) for p in unit.path.strip("/").split("/") if p]
        station = Station.objects.filter(unit_id__in=ids).order_by("-unit__depth").first()
        if station is None:
            commune = (
                Unit.objects.filter(pk__in=ids, kind__in=UnitKind.commune_level())
                .order_by("-depth")
                .first()
            )
            station = ensure_station(commune, user=user) if commune else None
        cache[unit.pk] = station
    return cache[unit.pk]


def import_inventory(*, user, data: bytes) -> ImportResult:
    """Create or update devices from the inventory workbook; any error saves nothing (422)."""
    require(user, INVENTORY_PERMISSION)
    parsed = inventory.read(data)
    errors = parsed.errors
    codes = {row["unit_code"] for _n, row in parsed.rows if row["unit_code"]}
    units = {u.code: u for u in Unit.objects.filter(code__in=codes, valid_to__isnull=True)}
    serials = [row["serial"] for _n, row in parsed.rows if row["serial"]]
    existing = {
        d.serial: d for d in Device.objects.filter(serial__in=serials).select_related("unit")
    }
    seen: dict[str, int] = {}
    for number, row in parsed.rows:
        unit = units.get(row["unit_code"])
        if row["unit_code"] and unit is None:
            errors.append(
                inventory.RowError(
                    number,
                    "Mã đơn vị",
                    f"Dòng {number}: không có đơn vị mã '{row['unit_code']}' đang có hiệu lực. "
                    "Hãy dùng mã đơn vị hành chính mới (sau sáp nhập 2025).",
                )
            )
        elif unit is not None and not covers(user, INVENTORY_PERMISSION, unit):
            errors.append(
                inventory.RowError(
                    number,
                    "Mã đơn vị",
                    f"Dòng {number}: đơn vị {unit.name} nằm ngoài phạm vi quản lý của bạn.",
                )
            )
        serial = row["serial"]
        if serial in seen:
            errors.append(
                inventory.RowError(
                    number,
                    "Số sê-ri",
                    f"Dòng {number}: số sê-ri '{serial}' trùng với dòng {seen[serial]}; "
                    "mỗi thiết bị chỉ khai một dòng.",
                )
            )
        elif serial:
            seen[serial] = number
        old = existing.get(serial)
        if old is not None and not covers(user, INVENTORY_PERMISSION, old.unit):
            errors.append(
                inventory.RowError(
                    number,
                    "Số sê-ri",
                    f"Dòng {number}: thiết bị số sê-ri '{serial}' đã được khai ở đơn vị khác "
                    "(ngoài phạm vi của bạn). Hãy kiểm tra lại số sê-ri.",
                )
            )
    if errors:
        errors.sort(key=lambda e: e.row)
        first = "; ".join(e.message for e in errors[:3])
        raise Problem(
            422,
            f"Tệp có {len(errors)} lỗi, chưa lưu thiết bị nào. {first}",
            title="Tệp kiểm kê thiết bị có lỗi",
            errors=[e.as_dict() for e in errors],
        )
    created = updated = 0
    stations: dict = {}
    with transaction.atomic():
        for _number, row in parsed.rows:
            unit = units[row["unit_code"]]
            fields = {
                "unit": unit,
                "station": _station_for(unit, stations, user),
                "kind": row["kind"],
                "name": row["name"],
                "technology": row["technology"],
                "condition": row["condition"] or Condition.WORKING,
                "latitude": row["latitude"],
                "longitude": row["longitude"],
                "install_year": row["install_year"],
                "supplier": row["supplier"][:200],
                "sim_network": row["sim_network"][:100],
                "notes": row["notes"],
            }
            device = existing.get(row["serial"])
            if device is None:
                device = Device.objects.create(serial=row["serial"], **fields)
                audit.record(device, ChangeAction.CREATE, user=user, comment="nhập từ tệp kiểm kê")
                created += 1
                continue
            if all(getattr(device, key) == value for key, value in fields.items()):
                continue
            before = audit.snapshot(device)
            for key, value in fields.items():
                setattr(device, key, value)
            device.manifest_dirty = device.receives_manifest
            device.save()
            audit.record(device, ChangeAction.UPDATE, user=user, before=before)
            updated += 1
        if not Device.objects.restrict(user, INVENTORY_PERMISSION).filter(
            serial__in=serials
        ).count() == len(serials):
            raise Problem(404, "Có thiết bị nằm ngoài phạm vi của bạn.")
    return ImportResult(created, updated)


EDITABLE = ("name", "volume", "enabled", "condition", "notes", "supplier", "sim_network")


def update_device(*, user, device: Device, **fields) -> Device:
    """Change a device's settings (volume, enabled…); its manifest is recompiled."""
    from django.core.exceptions import ValidationError

    require(user, "devices.control")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise Problem(422, f"Không sửa được các trường: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        before = audit.snapshot(device)
        for key, value in fields.items():
            setattr(device, key, value)
        try:
            device.full_clean(exclude=["unit", "station"])
        except ValidationError as exc:
            raise Problem(
                422,
                "Dữ liệu thiết bị chưa đúng: "
                + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            ) from exc
        device.manifest_dirty = device.receives_manifest
        device.save()
        audit.record(device, ChangeAction.UPDATE, user=user, before=before)
        if not Device.objects.restrict(user, "devices.control").filter(pk=device.pk).exists():
            raise Problem(404, "Không tìm thấy thiết bị trong phạm vi của bạn.")
    return device


FAULT_PERMISSION = "devices.control"
"""Who marks a device's faults cleared: whoever may control the device (commune operators)."""


@transaction.atomic
def clear_faults(*, user, device: Device, event_ids: list[int] | None = None) -> int:
    """Mark open faults of `device` cleared (all of them when `event_ids` is None); returns how
    many. Each one is audited with its before/after. 404 for a device outside the user's scope
    for `devices.control`; ids of other devices' events or of cleared faults are ignored."""
    require(user, FAULT_PERMISSION)
    if not Device.objects.restrict(user, FAULT_PERMISSION).filter(pk=device.pk).exists():
        raise Http404
    faults = DeviceEvent.objects.select_for_update().filter(
        device=device, type="fault", cleared_at__isnull=True
    )
    if event_ids is not None:
        faults = faults.filter(pk__in=event_ids)
    now = timezone.now()
    done = 0
    for event in faults:
        before = audit.snapshot(event)
        event.cleared_at = now
        event.cleared_by = user
        event.save(update_fields=["cleared_at", "cleared_by"])
        audit.record(event, ChangeAction.UPDATE, user=user, before=before, comment="fault cleared")
        done += 1
    return done
