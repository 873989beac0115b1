"""RFC 7807 problem+json responses with Vietnamese text a person can act on."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpResponse

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"

# Default titles by status, in Vietnamese.
TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Chưa đăng nhập",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Phương thức không được hỗ trợ",
    409: "Xung đột dữ liệu",
    413: "Dữ liệu quá lớn",
    415: "Định dạng không được hỗ trợ",
    422: "Dữ liệu không hợp lệ",
    429: "Quá nhiều yêu cầu",
    500: "Lỗi máy chủ",
    503: "Dịch vụ tạm thời không sẵn sàng",
}


class Problem(Exception):
    """Raise from an action or route to answer a problem+json with this status and text."""

    def __init__(self, status: int, detail: str, *, title: str | None = None, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Lỗi")
        self.extra = extra


def problem_response(
    status: int, detail: str, *, title: str | None = None, request=None, **extra: Any
) -> HttpResponse:
    """Build the problem+json response; `extra` adds members such as `errors`."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Lỗi"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.path
        rid = getattr(request, "request_id", "")
        if rid:
            body["request_id"] = rid
    body.update(extra)
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE
    )


def _loc(loc: list | tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload")]
    return ".".join(parts) or "body"


_MESSAGES = {
    "missing": "bắt buộc phải có",
    "string_too_long": "quá dài",
    "string_too_short": "quá ngắn",
    "int_parsing": "phải là số nguyên",
    "float_parsing": "phải là số",
    "bool_parsing": "phải là true/false",
    "datetime_parsing": "phải là ngày giờ ISO 8601 (ví dụ 2026-01-31T06:00:00+07:00)",
    "datetime_from_date_parsing": "phải là ngày giờ ISO 8601 (ví dụ 2026-01-31T06:00:00+07:00)",
    "date_parsing": "phải là ngày dạng YYYY-MM-DD",
    "date_from_datetime_parsing": "phải là ngày dạng YYYY-MM-DD",
    "string_type": "phải là chuỗi ký tự",
    "int_type": "phải là số nguyên",
    "list_type": "phải là danh sách",
    "dict_type": "phải là đối tượng JSON",
    "model_attributes_type": "phải là đối tượng JSON",
    "literal_error": "không thuộc các giá trị cho phép",
    "enum": "không thuộc các giá trị cho phép",
    "greater_than_equal": "quá nhỏ",
    "less_than_equal": "quá lớn",
    "value_error": "không hợp lệ",
    "url_parsing": "phải là địa chỉ URL",
}


def validation_errors(errors: list[dict]) -> list[dict[str, str]]:
    """Turn pydantic errors into [{field, message}] with Vietnamese messages."""
    out = []
    for err in errors:
        kind = err.get("type", "")
        msg = _MESSAGES.get(kind)
        if kind == "value_error" and err.get("msg"):
            msg = str(err["msg"]).removeprefix("Value error, ")
        # a bound says what it is (a person fixes "phải từ 1 trở lên", not "quá nhỏ")
        ctx = err.get("ctx") or {}
        if kind == "greater_than_equal" and "ge" in ctx:
            msg = f"phải từ {ctx['ge']} trở lên"
        elif kind == "less_than_equal" and "le" in ctx:
            msg = f"tối đa là {ctx['le']}"
        out.append({"field": _loc(err.get("loc", ())), "message": msg or "không hợp lệ"})
    return out


# How long a client should wait before retrying when the database is busy or away.
DATABASE_RETRY_AFTER = 5


def database_unavailable(exc: BaseException | None) -> bool:
    """Is this the database being locked or unreachable (not a bug in a query)?"""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def database_detail(exc: BaseException) -> str:
    text = str(exc).lower()
    if "locked" in text or "lock timeout" in text or "busy" in text:
        return (
            "Cơ sở dữ liệu đang bận: một thao tác ghi dài (nhập dữ liệu, sao lưu hoặc nâng cấp) "
            f"đang giữ khoá. Hãy thử lại sau khoảng {DATABASE_RETRY_AFTER} giây."
        )
    return (
        "Tạm thời không kết nối được cơ sở dữ liệu. Hãy thử lại sau ít phút; "
        "nếu vẫn lỗi, báo quản trị viên."
    )


def database_unavailable_response(request, exc: BaseException) -> HttpResponse:
    """503 problem+json with `Retry-After`, after the bounded wait (SQLite busy_timeout) ran out."""
    log.warning("database unavailable on %s: %s", getattr(request, "path", "?"), exc)
    response = problem_response(503, database_detail(exc), request=request)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
