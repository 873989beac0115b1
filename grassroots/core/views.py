"""Probes, the console home and error pages."""

import socket
import sys
import time
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from grassroots.accounts.policies import require
from grassroots.accounts.scope import permission_paths
from grassroots.units.models import Unit

from . import slowclient, workqueue
from .errors import (
    DATABASE_RETRY_AFTER,
    database_detail,
    database_unavailable,
    database_unavailable_response,
    problem_response,
)
from .models import ObjectChange


def favicon(request):
    """Clients that ask for /favicon.ico get the console's icon, not a 404."""
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("core/favicon.svg"))


@never_cache
def healthz(request):
    """The process is alive (no dependencies checked)."""
    return JsonResponse({"status": "ok"})


def _check_db() -> tuple[bool, str]:
    """The database answers a read, and (SQLite) no other writer holds its write lock.

    A read works in WAL mode while an import, backup or migration holds `BEGIN IMMEDIATE`, but
    every write then waits and fails: the platform is not ready, and the probe says why.
    """
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - the probe reports any failure
        return False, str(exc)[:200]
    # (inside a transaction, IMMEDIATE mode: this connection holds the write lock itself)
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        locked = _sqlite_write_locked(connection.settings_dict["NAME"])
        if locked:
            return False, locked
    return True, connection.vendor


def _sqlite_write_locked(path) -> str:
    """'' when a write could start now; otherwise what stops it (on its own short connection,
    so the probe never waits the request connection's busy_timeout)."""
    import sqlite3

    try:
        probe = sqlite3.connect(str(path), timeout=0.2, isolation_level=None)
    except sqlite3.Error as exc:
        return f"sqlite: {exc}"
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return (
                "cơ sở dữ liệu đang bị khoá ghi (database is locked): một thao tác dài "
                "(nhập dữ liệu, sao lưu, nâng cấp) đang giữ khoá; mọi thao tác ghi phải chờ"
            )
        return f"sqlite: {exc}"
    finally:
        probe.close()
    return ""


def _check_broker() -> tuple[bool, str]:
    url = urlparse(settings.MQTT_URL)
    host, port = url.hostname or "127.0.0.1", url.port or 1883
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True, f"{host}:{port}"
    except OSError as exc:
        return False, f"{host}:{port}: {exc}"


def _check_processes() -> dict | None:
    """What `grassroots run` supervises (embedded default only): which child is down."""
    from pathlib import Path

    from .supervisor import read_status

    status = read_status(Path(settings.GRASSROOTS["HOME"]) / "run")
    if status is None:
        return None
    down = {
        name: child
        for name, child in status["children"].items()
        if not child["running"] and name != "web"
    }
    info = ", ".join(
        f"{name}: đang khởi động lại (lỗi {c['failures_in_a_row']} lần liên tiếp, "
        f"mã thoát {c['last_exit']})"
        for name, c in down.items()
    )
    return {"ok": not down, "info": info or "đang chạy", "children": status["children"]}


@never_cache
def readyz(request):
    """Ready to serve: the database takes reads and writes, the MQTT broker accepts connections.

    503 (with `Retry-After`) names what is not ready. A background process (worker, gateway)
    being restarted does not take the web out of service: it shows as `degraded`.
    """
    start = time.monotonic()
    db_ok, db_info = _check_db()
    mq_ok, mq_info = _check_broker()
    ok = db_ok and mq_ok
    checks = {
        "database": {"ok": db_ok, "info": db_info},
        "broker": {"ok": mq_ok, "info": mq_info},
    }
    processes = _check_processes()
    if processes is not None:
        checks["processes"] = processes
    status = "ok" if ok else "unavailable"
    if ok and processes is not None and not processes["ok"]:
        status = "degraded"
    body = {
        "status": status,
        "not_ready": [name for name, check in checks.items() if not check["ok"]],
        "checks": checks,
        "elapsed_ms": round((time.monotonic() - start) * 1000, 1),
    }
    response = JsonResponse(
        body, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False}
    )
    if not ok:
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


@login_required
def home(request):
    """The console's landing page: the work waiting for this user, each kind linked to the work."""
    from grassroots.accounts.choices import PERMISSIONS
    from grassroots.accounts.models import RoleAssignment

    work = workqueue.for_user(request.user)
    assignments = (
        RoleAssignment.objects.filter(user=request.user)
        .select_related("role", "unit")
        .order_by("unit__depth", "unit__name")
    )
    paths = permission_paths(request.user)
    granted = sorted(
        (str(label) for perm, label in PERMISSIONS.items() if perm in paths),
        key=lambda s: s.lower(),
    )
    scope = []
    for a in assignments:
        communes = Unit.objects.current().filter(
            path__startswith=a.unit.path, depth__gt=a.unit.depth
        )
        scope.append({"role": a.role.name, "unit": a.unit, "below": communes.count()})
    return render(
        request,
        "core/home.html",
        {
            # waiting work first, empty kinds after
            "work": sorted(work.values(), key=lambda w: w.count == 0),
            "returned": work.get("returned"),
            "scope": scope,
            "granted": granted,
            "is_superuser": request.user.is_superuser,
            "central": settings.GRASSROOTS.get("LEVEL") == "central",
        },
    )


@login_required
def audit_log(request):
    """Audit trail, filtered by unit and object, for those allowed to read it."""
    require(request.user, "core.audit")
    qs = ObjectChange.objects.restrict(request.user, "core.audit").select_related(
        "content_type", "unit", "user"
    )
    unit_code = request.GET.get("unit", "").strip()
    if unit_code:
        qs = qs.filter(unit__code=unit_code)
    obj = request.GET.get("object", "").strip()
    if obj:
        qs = qs.filter(object_repr__icontains=obj[:100])
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for change in page:
        model = change.content_type.model_class() if change.content_type_id else None
        change.kind = model._meta.verbose_name if model else change.content_type.model
    units = Unit.objects.restrict(request.user, "core.audit").current().order_by("depth", "name")
    return render(
        request,
        "core/audit.html",
        {"page": page, "unit": unit_code, "object": obj, "units": units},
    )


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")


def not_found(request, exception=None):
    if _wants_json(request):
        return problem_response(404, "Không tìm thấy địa chỉ này.", request=request)
    return render(
        request,
        "core/error.html",
        {
            "title": "Không tìm thấy",
            "detail": "Trang bạn tìm không có, hoặc nằm ngoài phạm vi đơn vị của bạn.",
        },
        status=404,
    )


def server_error(request):
    exc = sys.exc_info()[1]  # Django calls this inside its `except`
    if slowclient.is_slow_client(exc):
        # the client's upload trickled or stalled (core.slowclient): say so, in Vietnamese
        if _wants_json(request):
            response = problem_response(
                408, slowclient.DETAIL, title=slowclient.TITLE, request=request
            )
        else:
            response = HttpResponse(
                f'<!doctype html><html lang="vi"><meta charset="utf-8">'
                f"<title>{slowclient.TITLE}</title><h1>{slowclient.TITLE}</h1>"
                f"<p>{slowclient.DETAIL}</p></html>",
                status=408,
            )
        response["Connection"] = "close"
        return response
    if database_unavailable(exc):
        if _wants_json(request):
            return database_unavailable_response(request, exc)
        title, detail = "Hệ thống đang bận", database_detail(exc)
        try:
            response = render(
                request, "core/error.html", {"title": title, "detail": detail}, status=503
            )
        except Exception:  # noqa: BLE001 - the page's own lookups may need the database too
            response = HttpResponse(
                f'<!doctype html><html lang="vi"><meta charset="utf-8"><title>{title}</title>'
                f"<h1>{title}</h1><p>{detail}</p></html>",
                status=503,
            )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    if _wants_json(request):
        return problem_response(500, "Máy chủ gặp lỗi không mong muốn.", request=request)
    return render(
        request,
        "core/error.html",
        {"title": "Lỗi máy chủ", "detail": "Hệ thống gặp lỗi không mong muốn. Hãy thử lại."},
        status=500,
    )


def forbidden(request, exception=None):
    detail = str(exception) if exception and str(exception) else "Bạn không có quyền làm việc này."
    if _wants_json(request):
        return problem_response(403, detail, request=request)
    return render(
        request, "core/error.html", {"title": "Không có quyền", "detail": detail}, status=403
    )


def csrf_failure(request, reason: str = ""):
    """CSRF refusal in Vietnamese (console and citizen forms alike), never Django's English page."""
    detail = (
        "Phiên làm việc của biểu mẫu đã hết hạn hoặc trình duyệt chặn cookie, nên yêu cầu "
        "không được chấp nhận. Hãy tải lại trang (F5), bật cookie cho trang này rồi gửi lại."
    )
    if _wants_json(request):
        return problem_response(403, detail, title="Yêu cầu bị từ chối (CSRF)", request=request)
    return render(
        request,
        "core/error.html",
        {"title": "Không gửi được biểu mẫu", "detail": detail},
        status=403,
    )


def out_of_range(request):
    """A number in the address that no record can have (2^63 or more), or a NUL character."""
    detail = (
        "Địa chỉ hoặc dữ liệu gửi lên có giá trị không hợp lệ (số quá lớn hoặc ký tự NUL): "
        "không có mục nào như vậy. Hãy kiểm tra lại đường dẫn."
    )
    if _wants_json(request):
        return problem_response(400, detail, request=request)
    return render(
        request, "core/error.html", {"title": "Địa chỉ không hợp lệ", "detail": detail}, status=400
    )
