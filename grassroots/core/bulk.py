"""Many rows in one prepared statement: the gateway's hot path.

`QuerySet.bulk_create` builds every value of every row through the field machinery (model
instances, `get_db_prep_save`, per-value SQL fragments); for the gateway's batches of device
events, acks and states that was two fifths of its CPU. `insert_rows` converts only the column
types that need it (datetimes, UUIDs on SQLite), takes JSON as text, and runs one
`INSERT ... ON CONFLICT` with `executemany`.

`ON CONFLICT (...) DO NOTHING | DO UPDATE SET c = excluded.c` is accepted by both databases the
platform runs on (SQLite 3.24+, PostgreSQL 9.5+); on any other backend this falls back to
`bulk_create` (architecture.md: no raw SQL that only one of them accepts, unless guarded).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

PORTABLE_VENDORS = {"sqlite", "postgresql"}


def json_text(value: Any, raw: bytes | None = None) -> str:
    """A JSON column's value for `insert_rows`: the message's own bytes when given (they were
    parsed as JSON already), so a payload is not serialised a second time."""
    if raw is not None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return json.dumps(value)


def _to_db(field: Field) -> Callable[[Any], Any]:
    """How one column's values become what the database driver takes (the few types the
    gateway writes; everything else goes as it is)."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        adapt = connection.ops.adapt_datetimefield_value
        last: list = [None, None]  # a batch's rows mostly share one moment: adapt it once

        def moment(value):
            if value is not None and value is not last[0]:
                last[:] = [value, adapt(value)]
            return None if value is None else last[1]

        return moment
    if kind == "UUIDField" and not connection.features.has_native_uuid_field:
        return lambda v: None if v is None else v.hex
    return lambda v: v


def insert_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """INSERT `rows` (values in the order of `fields`) into `model`'s table.

    Values are Python values, except that a JSON column takes JSON text (`json_text`). On a
    conflict on the `conflict` fields (or any unique constraint when empty) the row is skipped,
    or, with `update`, those fields take the new row's values.
    """
    if not rows:
        return
    if connection.vendor not in PORTABLE_VENDORS:
        _fallback(model, fields, rows, conflict=conflict, update=update)
        return
    meta = model._meta
    qn = connection.ops.quote_name
    columns = [meta.get_field(f).column for f in fields]
    convert = [_to_db(meta.get_field(f)) for f in fields]
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
        cursor.executemany(
            sql, [tuple(c(v) for c, v in zip(convert, row, strict=True)) for row in rows]
        )


def _fallback(model, fields, rows, *, conflict, update) -> None:
    """The ORM's way, for a backend the portable statement was not written for."""
    meta = model._meta
    names = [meta.get_field(f).attname for f in fields]
    json_columns = {
        i for i, f in enumerate(fields) if meta.get_field(f).get_internal_type() == "JSONField"
    }
    objs = [
        model(
            **{
                n: json.loads(v) if i in json_columns else v
                for i, (n, v) in enumerate(zip(names, row, strict=True))
            }
        )
        for row in rows
    ]
    if update:
        model.objects.bulk_create(
            objs, update_conflicts=True, unique_fields=list(conflict), update_fields=list(update)
        )
    else:
        model.objects.bulk_create(objs, ignore_conflicts=True)
