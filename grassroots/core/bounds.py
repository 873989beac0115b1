"""Input bounds every API route gets for free: integers fit a 64-bit column, floats are finite,
text holds no NUL character.

Pydantic accepts any Python integer (and "1e300" or "NaN" as a float). Such a value is valid
input for the schema but not for the database: SQLite cannot bind an integer of 2^63 or more
(OverflowError), PostgreSQL refuses it as OFFSET or in a bigint column (DataError), and a NaN
breaks comparisons. PostgreSQL cannot hold a NUL character in text at all (psycopg raises
ValueError), even in a WHERE clause. Every route's validated arguments are checked once, after
pydantic and before the view, so a route added tomorrow is covered without a line of its own.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from pydantic import BaseModel

from .errors import Problem

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 20


def _out_of_bounds(value: Any, path: str, depth: int = 0) -> str | None:
    """The dotted name of the first value that no database column could hold, or None."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return path if not INT_MIN <= value <= INT_MAX else None
    if isinstance(value, float):
        return path if not math.isfinite(value) else None
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, BaseModel):
        items = ((k, getattr(value, k, None)) for k in type(value).model_fields)
    elif isinstance(value, dict):
        if any(isinstance(k, str) and "\x00" in k for k in value):
            return path or "body"
        items = value.items()
    elif isinstance(value, list | tuple | set | frozenset):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _out_of_bounds(item, f"{path}.{key}" if path else str(key), depth + 1)
        if found is not None:
            return found
    return None


def check(values: dict[str, Any]) -> None:
    """Raise a 422 problem naming the field whose number no column can hold."""
    found = _out_of_bounds(values, "")
    if found is None:
        return
    field = found.split(".", 1)[-1] if "." in found else found
    detail = (
        f"Giá trị của '{field}' nằm ngoài giới hạn: số nguyên phải từ -2^63 đến 2^63-1 "
        "(tối đa 9223372036854775807), số thực phải hữu hạn, văn bản không được chứa ký tự NUL "
        "(\\0). Hãy kiểm tra lại giá trị đã nhập."
    )
    raise Problem(422, detail, errors=[{"field": field, "message": "nằm ngoài giới hạn"}])


def bound_view(view):
    """Wrap a ninja view function so its validated arguments are checked first."""

    @functools.wraps(view)
    def bounded(request, **values):
        check(values)
        return view(request, **values)

    return bounded


def bound_operations(api) -> int:
    """Wrap every operation of a mounted NinjaAPI; returns how many were wrapped."""
    count = 0
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                if not getattr(operation.view_func, "_grassroots_bounded", False):
                    operation.view_func = bound_view(operation.view_func)
                    operation.view_func._grassroots_bounded = True
                    count += 1
    return count
