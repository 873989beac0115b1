"""Remote control of a device (stop, volume, power, resync): one action for console and API."""

from __future__ import annotations

from django.db import transaction

from grassroots.accounts.policies import require
from grassroots.core import audit
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction

from . import protocol, provisioning
from .models import Device

COMMANDS = ("stop", "volume.set", "power.set", "resync")


@transaction.atomic
def send_command(
    *,
    user,
    device_id: int,
    command_type: str,
    volume: int | None = None,
    power: str | None = None,
) -> dict:
    """Sign a command to one device in the user's scope; a new volume is also kept on record."""
    require(user, "devices.control")
    device = provisioning.device_in_scope(user, device_id, "devices.control")
    body: dict = {}
    if command_type == "volume.set":
        if volume is None or not 0 <= volume <= 100:
            raise Problem(422, "Lệnh đặt âm lượng cần trường 'volume' từ 0 đến 100.")
        body = {"volume": volume}
    elif command_type == "power.set":
        if power not in ("on", "off"):
            raise Problem(422, "Lệnh bật/tắt cần trường 'power' là 'on' hoặc 'off'.")
        body = {"power": power}
    elif command_type not in COMMANDS:
        raise Problem(422, f"Lệnh không hợp lệ; chọn một trong: {', '.join(COMMANDS)}.")
    before = audit.snapshot(device)
    if command_type == "volume.set":
        device.volume = volume
        device.save(update_fields=["volume", "updated_at"])
        Device.objects.filter(pk=device.pk).mark_dirty()
    envelope, _ = protocol.send_to_device(device.pk, command_type, body)
    audit.record(
        device, ChangeAction.UPDATE, user=user, before=before, comment=f"command {command_type}"
    )
    return envelope["payload"]
