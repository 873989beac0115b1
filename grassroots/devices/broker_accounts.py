"""Broker logins of enrolled devices: own `cmd` and unit `cmd` topics to read, own `state` and
`events` to write (the ACL of architecture.md, from the rule table in core.mqtt_acl)."""

from __future__ import annotations

from collections.abc import Iterator

from grassroots.core import mqtt_acl
from grassroots.core.broker import Account
from grassroots.units.models import Unit

from .models_fleet import DeviceCredential


def account_for(device_id: int, password_hash: str, codes: list[str]) -> Account:
    return Account.for_client(
        mqtt_acl.DEVICE, f"dev-{device_id}", password_hash, device_id=device_id, units=codes
    )


def accounts() -> Iterator[Account]:
    creds = (
        DeviceCredential.objects.filter(revoked_at__isnull=True, enrolled_at__isnull=False)
        .exclude(mqtt_password_hash="")
        .values_list("device_id", "mqtt_password_hash", "device__unit__path")
    )
    code_of = dict(Unit.objects.values_list("pk", "code"))
    for device_id, pw_hash, path in creds:
        codes = [code_of[int(p)] for p in path.strip("/").split("/") if p]
        yield account_for(device_id, pw_hash, codes)
