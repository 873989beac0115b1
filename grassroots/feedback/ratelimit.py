"""Rate limits kept in the database, so every web process and every server shares the count.

Django's default cache is per process (locmem); a limit there would be multiplied by the number of
gunicorn workers. One upsert per hit on a tiny indexed table is cheap enough for citizen traffic.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from .models import RateCounter

# (limit, window in seconds) per kind of key; override with GRASSROOTS["FEEDBACK_LIMITS"].
DEFAULT_LIMITS: dict[str, list[tuple[int, int]]] = {
    "ip": [(5, 600), (30, 86400)],
    "phone": [(3, 3600), (10, 86400)],
    "open311": [(120, 3600)],
    "rating": [(20, 3600)],
    "lookup_miss": [(20, 3600)],  # guessing tracking codes
}


def limits(kind: str) -> list[tuple[int, int]]:
    """The (limit, window seconds) pairs for one kind of key."""
    custom = settings.GRASSROOTS.get("FEEDBACK_LIMITS", {})
    return [tuple(x) for x in custom.get(kind, DEFAULT_LIMITS.get(kind, []))]


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


def hit(kind: str, value: str, now: float | None = None) -> bool:
    """Count one hit; False when any window of this kind is already full (the hit is refused)."""
    if not value:
        return True
    now = time.time() if now is None else now
    key = _key(kind, value)
    allowed = True
    for limit, window in limits(kind):
        bucket = int(now // window) * window
        wkey = f"{key}:{window}"
        with transaction.atomic():
            updated = RateCounter.objects.filter(key=wkey, window=bucket).update(
                count=F("count") + 1
            )
            if not updated:
                try:
                    with transaction.atomic():
                        RateCounter.objects.create(key=wkey, window=bucket, count=1)
                except IntegrityError:
                    RateCounter.objects.filter(key=wkey, window=bucket).update(count=F("count") + 1)
            count = RateCounter.objects.filter(key=wkey, window=bucket).values_list(
                "count", flat=True
            )[0]
        if count > limit:
            allowed = False
    return allowed


def purge(now: float | None = None) -> int:
    """Drop counters whose window ended more than a day ago."""
    now = time.time() if now is None else now
    return RateCounter.objects.filter(window__lt=now - 2 * 86400).delete()[0]
