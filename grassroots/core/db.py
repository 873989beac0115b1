"""Database helpers for writes that must never hold a request up (bookkeeping on reads)."""

from __future__ import annotations

import contextlib
import logging

from django.db import DatabaseError, connection, transaction

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _sqlite_busy_timeout(ms: int):
    connection.ensure_connection()
    with connection.cursor() as cur:
        cur.execute("PRAGMA busy_timeout")
        before = int(cur.fetchone()[0])
        cur.execute(f"PRAGMA busy_timeout = {int(ms)}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA busy_timeout = {before}")


def update_if_free(queryset, **values) -> bool:
    """`queryset.update(**values)` unless another writer holds the lock right now.

    For bookkeeping such as a token's "last used" time: a read must not wait for, or fail on,
    the write lock of a long import, backup or migration. Returns whether the row was written.
    """
    try:
        if connection.vendor == "sqlite":
            if connection.in_atomic_block:
                # transaction_mode IMMEDIATE: this transaction already holds the write lock
                queryset.update(**values)
            else:
                with _sqlite_busy_timeout(0):
                    queryset.update(**values)
        elif connection.vendor == "postgresql" and not connection.in_atomic_block:
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute("SET LOCAL lock_timeout = '100ms'")
                queryset.update(**values)
        else:
            with transaction.atomic():  # a savepoint: a failure leaves the outer one usable
                queryset.update(**values)
    except DatabaseError as exc:
        log.info("skipped a bookkeeping write on %s: %s", queryset.model.__name__, exc)
        return False
    return True
