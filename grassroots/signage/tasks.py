"""Timed work of e-boards in the worker: forget pairing codes nobody used."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from grassroots.core.periodic import every


@every(3600)
def purge_pairing_codes() -> int:
    """Pairing codes expired for a day are deleted (claimed ones are kept in the audit trail)."""
    from .models import PairingCode

    cutoff = timezone.now() - timedelta(days=1)
    return PairingCode.objects.filter(expires_at__lt=cutoff).delete()[0]
