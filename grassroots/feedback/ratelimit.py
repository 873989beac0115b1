"""Sliding-window rate limits kept in the database, so every web process and server shares them.

Why not a library: django-ratelimit counts fixed windows in Django's cache, and the default cache
is per process (locmem), so the limit would be multiplied by the number of gunicorn workers unless
a shared cache service (Redis, memcached) is added; the platform runs on SQLite or PostgreSQL with
no other service. Two small buckets per key and window in one indexed table do the job on both.
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
    "enrol_miss": [(10, 3600)],  # guessing device enrolment codes
}


def limits(kind: str) -> list[tuple[int, int]]:
    """The (limit, window seconds) pairs for one kind of key."""
    custom = settings.GRASSROOTS.get("FEEDBACK_LIMITS", {})
    return [tuple(x) for x in custom.get(kind, DEFAULT_LIMITS.get(kind, []))]


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


def _bump(wkey: str, bucket: int, by: int) -> int:
    """Add `by` to one bucket's count (created at 0 when missing); returns the new count."""
    updated = RateCounter.objects.filter(key=wkey, window=bucket).update(count=F("count") + by)
    if not updated and by > 0:
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=wkey, window=bucket, count=by)
        except IntegrityError:
            RateCounter.objects.filter(key=wkey, window=bucket).update(count=F("count") + by)
    return RateCounter.objects.filter(key=wkey, window=bucket).values_list("count", flat=True)[0]


def check(kind: str, value: str, now: float | None = None) -> tuple[bool, int]:
    """Count one hit in a sliding window; (allowed, seconds to wait when refused).

    A sliding-window counter: the estimate over the last `window` seconds is this bucket's count
    plus the previous bucket's count weighted by how much of it still lies inside the window.
    A fixed window let twice the limit through around its edge (5 just before, 5 just after).
    A refused hit is not counted, so a person who waits gets in again.
    """
    if not value:
        return True, 0
    now = time.time() if now is None else now
    key = _key(kind, value)
    bumped: list[tuple[str, int]] = []
    wait = 0
    with transaction.atomic():
        for limit, window in limits(kind):
            bucket = int(now // window) * window
            wkey = f"{key}:{window}"
            current = _bump(wkey, bucket, 1)
            bumped.append((wkey, bucket))
            previous = (
                RateCounter.objects.filter(key=wkey, window=bucket - window)
                .values_list("count", flat=True)
                .first()
                or 0
            )
            weight = 1 - (now - bucket) / window
            if current + previous * weight > limit:
                # When enough of the previous bucket will have slid out (or this one ended).
                need = current + previous * weight - limit
                if previous:
                    wait = max(wait, int(min(need / previous * window, bucket + window - now)) + 1)
                else:
                    wait = max(wait, int(bucket + window - now) + 1)
        if wait:
            for wkey, bucket in bumped:
                _bump(wkey, bucket, -1)
            return False, wait
    return True, 0


def hit(kind: str, value: str, now: float | None = None) -> bool:
    """Count one hit; False when the sliding window of this kind is already full."""
    return check(kind, value, now)[0]


def blocked(kind: str, value: str, now: float | None = None) -> bool:
    """Whether one more hit would be refused, without counting one (for lookups that only
    count their misses)."""
    if not value:
        return False
    now = time.time() if now is None else now
    key = _key(kind, value)
    for limit, window in limits(kind):
        bucket = int(now // window) * window
        rows = dict(
            RateCounter.objects.filter(
                key=f"{key}:{window}", window__in=[bucket, bucket - window]
            ).values_list("window", "count")
        )
        weight = 1 - (now - bucket) / window
        if rows.get(bucket, 0) + 1 + rows.get(bucket - window, 0) * weight > limit:
            return True
    return False


def purge(now: float | None = None) -> int:
    """Drop counters whose window ended more than a day ago."""
    now = time.time() if now is None else now
    return RateCounter.objects.filter(window__lt=now - 2 * 86400).delete()[0]
