"""The /api/v1 NinjaAPI: one router per app, problem+json errors everywhere."""

import importlib
import importlib.util
import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from grassroots.core import bounds, slowclient
from grassroots.core.auth import API_AUTH
from grassroots.core.errors import (
    Problem,
    database_unavailable_response,
    problem_response,
    validation_errors,
)
from grassroots.core.text import clean_data

log = logging.getLogger("grassroots.api")


class CleanParser(Parser):
    """JSON bodies enter clean: NFC, no control characters (core.text), like form fields."""

    def parse_body(self, request):
        return clean_data(super().parse_body(request))


api = NinjaAPI(
    parser=CleanParser(),
    title="grassroots API",
    version="1",
    description="Hệ thống thông tin cơ sở: API phiên bản 1. Xác thực: Bearer token "
    "(POST /api/v1/auth/token) hoặc phiên đăng nhập của bảng điều khiển.",
    auth=API_AUTH,
    urls_namespace="api",
    docs=Swagger(settings={"persistAuthorization": True}),
)


@api.exception_handler(Problem)
def _problem(request, exc: Problem):
    return problem_response(exc.status, exc.detail, title=exc.title, request=request, **exc.extra)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    resp = problem_response(
        401,
        "Cần đăng nhập: gửi header 'Authorization: Bearer <token>' "
        "(lấy token tại POST /api/v1/auth/token).",
        request=request,
    )
    resp["WWW-Authenticate"] = "Bearer"
    return resp


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = validation_errors(exc.errors)
    # one full stop at the end, not a second one after a message that has its own
    detail = "; ".join(f"{e['field']}: {e['message'].rstrip('.')}" for e in errors[:5])
    return problem_response(
        422, f"Dữ liệu gửi lên chưa đúng: {detail}.", request=request, errors=errors
    )


@api.exception_handler(DjangoValidationError)
def _django_invalid(request, exc: DjangoValidationError):
    if hasattr(exc, "message_dict"):
        errors = [{"field": f, "message": " ".join(m)} for f, m in exc.message_dict.items()]
    else:
        errors = [{"field": "body", "message": m} for m in exc.messages]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(422, f"Dữ liệu chưa đúng: {detail}", request=request, errors=errors)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(
        404,
        "Không tìm thấy đối tượng này, hoặc nó nằm ngoài phạm vi đơn vị của bạn.",
        request=request,
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    detail = str(exc) or "Tài khoản của bạn không có quyền thực hiện thao tác này."
    return problem_response(403, detail, request=request)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:
        detail = (
            "Không đọc được nội dung yêu cầu: hãy gửi JSON hợp lệ (Content-Type: application/json)."
        )
    elif exc.status_code == 405:
        detail = "Phương thức HTTP này không được hỗ trợ ở địa chỉ này."
    elif exc.status_code == 429:
        detail = "Bạn gửi quá nhiều yêu cầu; hãy đợi một lát rồi thử lại."
    else:
        detail = str(exc)
    return problem_response(exc.status_code, detail, request=request)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request, exc):
    return database_unavailable_response(request, exc)


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
@api.exception_handler(ValueError)
def _out_of_range(request, exc):
    """A number or text the database cannot hold that slipped past `bounds` (e.g. offset +
    limit, or a NUL character read from the request outside the validated arguments)."""
    message = str(exc)
    if isinstance(exc, DataError | ValueError) and not (
        "out of range" in message or "NUL" in message
    ):
        return _crash(request, exc)  # another data error is a bug, not bad input
    log.warning("value out of range on %s: %s", request.path, exc)
    return problem_response(
        422,
        "Một giá trị số trong yêu cầu vượt quá giới hạn mà hệ thống lưu được. Hãy dùng số nhỏ hơn.",
        request=request,
    )


@api.exception_handler(Exception)
def _crash(request, exc):
    if slowclient.is_slow_client(exc):
        response = problem_response(408, slowclient.DETAIL, title=slowclient.TITLE, request=request)
        response["Connection"] = "close"
        return response
    log.exception("unhandled API error on %s", request.path)
    return problem_response(
        500,
        "Máy chủ gặp lỗi không mong muốn. Hãy thử lại; nếu vẫn lỗi, "
        "báo quản trị viên kèm mã yêu cầu.",
        request=request,
    )


# Modules that add their own router: `router` in `grassroots.<module>`, mounted at `PREFIX` ("/").
APP_ROUTERS = (
    "content.api",
    "broadcast.api",
    "alerts.api",
    "alerts.cap_api",
    "live.api",
    "devices.fleet_api",  # before devices.api: /devices/enrol must win over /devices/{id}
    "devices.api",
    "devices.hooks",
    "signage.api",
    "feedback.api",
    "training.api",
    "planning.api",
    "kpi.api",
    "exchange.api",
)


def _mount() -> None:
    from grassroots.accounts.api import router as accounts_router
    from grassroots.core.api import router as core_router
    from grassroots.units.api import router as units_router

    api.add_router("/", core_router)
    api.add_router("/", accounts_router)
    api.add_router("/units", units_router)
    for module_name in APP_ROUTERS:
        name = f"grassroots.{module_name}"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        api.add_router(getattr(module, "PREFIX", "/"), module.router)


_mount()
# Integers beyond 64 bits and non-finite floats are refused (422) before any view runs.
bounds.bound_operations(api)
