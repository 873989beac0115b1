"""A simulated fleet for demos and benchmarks: registered, enrolled devices and their logins.

Creates (once) `n` enabled IP loudspeaker clusters spread over the province's communes, gives
each an MQTT login and token, keeps the plaintext secrets in `$GRASSROOTS_HOME/simulator/`
(mode 0600, for the simulator only) and rewrites the private broker's accounts.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from grassroots.core import broker, signing
from grassroots.units.models import Unit

from .models import Device
from .models_fleet import DeviceCredential
from .provisioning import _hash

PREFIX = "SIM"


def _secrets_path() -> Path:
    path = Path(settings.GRASSROOTS["HOME"]) / "simulator" / "credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def ensure_fleet(n: int, *, prefix: str = PREFIX) -> list[dict]:
    """`n` enrolled simulated devices (others with the prefix are disabled); their specs."""
    communes = list(
        Unit.objects.filter(
            parent__code=settings.GRASSROOTS["PROVINCE_CODE"], valid_to__isnull=True
        ).order_by("code")
    )
    existing = {d.serial: d for d in Device.objects.filter(serial__startswith=f"{prefix}-")}
    new = [
        Device(
            kind="speaker",
            unit=communes[i % len(communes)],
            name=f"Cụm loa mô phỏng {i}",
            serial=f"{prefix}-{i:05d}",
            technology="ip_4g",
        )
        for i in range(n)
        if f"{prefix}-{i:05d}" not in existing
    ]
    Device.objects.bulk_create(new, batch_size=1000)
    # each cluster belongs to its commune's station (the timeline, the airplay report and the
    # conversion plan count it there)
    from grassroots.broadcast.actions import ensure_station

    used = {communes[i % len(communes)].pk: communes[i % len(communes)] for i in range(n)}
    for unit_id, commune in used.items():
        Device.objects.filter(
            serial__startswith=f"{prefix}-", unit_id=unit_id, station__isnull=True
        ).update(station=ensure_station(commune), manifest_dirty=True)
    devices = list(
        Device.objects.filter(serial__startswith=f"{prefix}-")
        .select_related("unit")
        .order_by("serial")
    )
    wanted = {f"{prefix}-{i:05d}" for i in range(n)}
    Device.objects.filter(serial__startswith=f"{prefix}-").exclude(serial__in=wanted).update(
        enabled=False
    )
    Device.objects.filter(serial__in=wanted, enabled=False).update(enabled=True)

    path = _secrets_path()
    stored = json.loads(path.read_text()) if path.exists() else {}
    creds = {c.device_id: c for c in DeviceCredential.objects.filter(device__in=devices)}
    code_of = dict(Unit.objects.values_list("pk", "code"))
    now = timezone.now()
    specs, to_create, to_update = [], [], []
    for device in devices:
        if device.serial not in wanted:
            continue
        secret = stored.get(str(device.pk))
        cred = creds.get(device.pk)
        # the secrets file outlives a database (another DATABASE_URL, a reset): a secret is
        # reused only for the very credential it was made for
        if (
            not secret
            or cred is None
            or not cred.active
            or secret.get("hash") != cred.mqtt_password_hash
        ):
            password = secrets.token_urlsafe(18)
            secret = {
                "password": password,
                "token": "gd_" + secrets.token_urlsafe(32),
                "hash": broker.password_hash(password),
            }
            stored[str(device.pk)] = secret
            fields = {
                "mqtt_password_hash": secret["hash"],
                "token_hash": _hash(secret["token"]),
                "authorised_at": now,
                "enrolled_at": now,
                "revoked_at": None,
            }
            if cred is None:
                to_create.append(DeviceCredential(device=device, **fields))
            else:
                for k, v in fields.items():
                    setattr(cred, k, v)
                to_update.append(cred)
        units = [code_of[int(p)] for p in device.unit.path.strip("/").split("/") if p]
        specs.append(
            {
                "id": str(device.pk),
                "units": list(reversed(units)),
                "username": f"dev-{device.pk}",
                "password": secret["password"],
                "token": secret["token"],
            }
        )
    DeviceCredential.objects.bulk_create(to_create, batch_size=1000)
    DeviceCredential.objects.bulk_update(
        to_update,
        ["mqtt_password_hash", "token_hash", "authorised_at", "enrolled_at", "revoked_at"],
        batch_size=1000,
    )
    path.write_text(json.dumps(stored))
    path.chmod(0o600)
    return specs


def trusted_keys() -> dict[str, str]:
    return {k["kid"]: k["public_key"] for k in signing.published_keys()}
