"""Many rows in one prepared statement: the gateway's hot path.

`QuerySet.bulk_create` builds every value of every row through the field machinery (model
instances, `get_db_prep_save`, per-value SQL fragments); for the gateway's batches of device
events, acks and states that was two fifths of its CPU. `insert_rows` takes values already in
database form and runs one `INSERT ... ON CONFLICT` with `executemany`.

`ON CONFLICT (...) DO NOTHING | DO UPDATE SET c = excluded.c` is accepted by both databases the
platform runs on (SQLite 3.24+, PostgreSQL 9.5+); on any other backend this falls back to
`bulk_create` (architecture.md: no raw SQL that only one of them accepts, unless guarded).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

PORTABLE_VENDORS = {"sqlite", "postgresql"}


def db_datetime(moment: datetime.datetime) -> Any:
    """A datetime as the current database stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(moment)


def db_json(value: Any, raw: bytes | None = None) -> str:
    """A JSONField value as text: the message's own bytes when given (they were parsed as
    JSON already), so a payload is not serialised a second time."""
    if raw is not None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return json.dumps(value)


def insert_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """INSERT `rows` (values in database form, in the order of `fields`) into `model`'s table.

    On a conflict on the `conflict` fields (or any unique constraint when empty) the row is
    skipped, or, with `update`, those fields take the new row's values.
    """
    if not rows:
        return
    if connection.vendor not in PORTABLE_VENDORS:
        _fallback(model, fields, rows, conflict=conflict, update=update)
        return
    meta = model._meta
    qn = connection.ops.quote_name
    columns = [meta.get_field(f).column for f in fields]
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    target = f" ({', '.join(qn(meta.get_field(f).column) for f in conflict)})" if conflict else ""
    if update:
        assignments = ", ".join(
            f"{qn(c)} = excluded.{qn(c)}" for c in (meta.get_field(f).column for f in update)
        )
        sql += f" ON CONFLICT{target} DO UPDATE SET {assignments}"
    else:
        sql += f" ON CONFLICT{target} DO NOTHING"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [tuple(r) for r in rows])


def _fallback(model, fields, rows, *, conflict, update) -> None:
    """The ORM's way, for a backend the portable statement was not written for."""
    objs = []
    for row in rows:
        values = dict(zip(fields, row, strict=True))
        for name in fields:
            field = model._meta.get_field(name)
            if field.get_internal_type() == "JSONField" and isinstance(values[name], str):
                values[name] = json.loads(values[name])
        objs.append(model(**{model._meta.get_field(k).attname: v for k, v in values.items()}))
    if update:
        model.objects.bulk_create(
            objs, update_conflicts=True, unique_fields=list(conflict), update_fields=list(update)
        )
    else:
        model.objects.bulk_create(objs, ignore_conflicts=True)
