"""Provisioning: authorise a device, let it enrol with a one-time code, revoke it.

Only hashes of secrets are stored. Enrolment returns the device's MQTT login and HTTP token
once; the broker's password/ACL files are rewritten after the transaction commits.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from grassroots.core import audit, broker, signing
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots_protocol import messages as wire

from .models import Device
from .models_fleet import DeviceCredential

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
ENROLMENT_TTL = datetime.timedelta(hours=24)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_code(length: int = 8) -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    clean = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{clean[:4]}-{clean[4:]}" if len(clean) == 8 else clean


def _sync_broker() -> None:
    transaction.on_commit(broker.sync)


def device_in_scope(user, device_id: int, action: str) -> Device:
    device = Device.objects.restrict(user, action).filter(pk=device_id).first()
    if device is None:
        raise Http404
    return device


@transaction.atomic
def authorise(*, user, device: Device) -> tuple[DeviceCredential, str]:
    """Authorise a registered device; returns the one-time enrolment code (valid 24 h)."""
    device = device_in_scope(user, device.pk, "devices.manage")
    cred, _ = DeviceCredential.objects.get_or_create(device=device)
    before = audit.snapshot(cred)
    code = new_code()
    cred.enrolment_code_hash = _hash(code)
    cred.enrolment_expires_at = timezone.now() + ENROLMENT_TTL
    cred.authorised_at = timezone.now()
    cred.authorised_by = user
    cred.revoked_at = None
    cred.save()
    audit.record(cred, ChangeAction.UPDATE, user=user, before=before, comment="authorise")
    return cred, code


def unit_codes(device: Device) -> list[str]:
    """The device's unit and its ancestors: the unit topics it listens to."""
    return list(device.unit.ancestors(include_self=True).values_list("code", flat=True))


def public_mqtt_url() -> str:
    """The broker address devices use (no server credentials in it)."""
    public = getattr(settings, "MQTT_PUBLIC_URL", "") or settings.MQTT_URL
    parsed = urlparse(public)
    return f"{parsed.scheme}://{parsed.hostname}:{parsed.port or 1883}"


@transaction.atomic
def enrol(*, code: str, server_url: str = "") -> dict[str, Any]:
    """Exchange a one-time code for the device's credentials and configuration."""
    cred = (
        DeviceCredential.objects.select_for_update(of=("self",))
        .select_related("device__unit")
        .filter(enrolment_code_hash=_hash(normalise_code(code)), revoked_at__isnull=True)
        .first()
    )
    if cred is None or not cred.enrolment_expires_at or cred.enrolment_expires_at < timezone.now():
        raise Problem(404, "Mã đăng ký không đúng hoặc đã hết hạn; xin quản trị viên cấp mã mới.")
    mqtt_password = secrets.token_urlsafe(24)
    token = "gd_" + secrets.token_urlsafe(32)
    cred.mqtt_password_hash = broker.password_hash(mqtt_password)
    cred.token_hash = _hash(token)
    cred.enrolment_code_hash = ""
    cred.enrolment_expires_at = None
    cred.enrolled_at = timezone.now()
    cred.save()
    device = cred.device
    audit.record(cred, ChangeAction.UPDATE, before=None, comment="enrol")
    _sync_broker()
    answer = {
        "device_id": device.pk,
        "kind": device.kind,
        "units": unit_codes(device),
        "mqtt_url": public_mqtt_url(),
        "mqtt_ws_url": settings.MQTT_WS_URL,
        "mqtt_username": cred.mqtt_username,
        "mqtt_password": mqtt_password,
        "token": token,
        "server_url": server_url,
        "trusted_keys": {k["kid"]: k["public_key"] for k in signing.published_keys()},
        "server_time": wire.format_time(timezone.now()),
    }
    wire.EnrolmentAnswer.model_validate(answer)  # what the agent's enrolment reads
    return answer


@transaction.atomic
def revoke(*, user, device: Device) -> DeviceCredential:
    """Cut a device off: its MQTT login and token stop working at once."""
    device = device_in_scope(user, device.pk, "devices.manage")
    cred, _ = DeviceCredential.objects.get_or_create(device=device)
    before = audit.snapshot(cred)
    cred.revoked_at = timezone.now()
    cred.mqtt_password_hash = ""
    cred.token_hash = ""
    cred.enrolment_code_hash = ""
    cred.save()
    audit.record(cred, ChangeAction.UPDATE, user=user, before=before, comment="revoke")
    _sync_broker()
    return cred


def authenticate_token(raw: str) -> Device | None:
    """The device that holds this bearer token, if it is enrolled and not revoked."""
    if not raw or not raw.startswith("gd_") or len(raw) > 200:
        return None
    cred = (
        DeviceCredential.objects.select_related("device__unit")
        .filter(token_hash=_hash(raw), revoked_at__isnull=True, enrolled_at__isnull=False)
        .first()
    )
    return cred.device if cred else None
