"""Probes, the console home and error pages."""

import socket
import time
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from grassroots.accounts.policies import require
from grassroots.accounts.scope import permission_paths, scope_paths
from grassroots.units.models import Unit

from .errors import problem_response
from .models import ObjectChange


@never_cache
def healthz(request):
    """The process is alive (no dependencies checked)."""
    return JsonResponse({"status": "ok"})


def _check_db() -> tuple[bool, str]:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:  # noqa: BLE001 - the probe reports any failure
        return False, str(exc)[:200]


def _check_broker() -> tuple[bool, str]:
    url = urlparse(settings.MQTT_URL)
    host, port = url.hostname or "127.0.0.1", url.port or 1883
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True, f"{host}:{port}"
    except OSError as exc:
        return False, f"{host}:{port}: {exc}"


@never_cache
def readyz(request):
    """Ready to serve: the database answers and the MQTT broker accepts connections."""
    start = time.monotonic()
    db_ok, db_info = _check_db()
    mq_ok, mq_info = _check_broker()
    ok = db_ok and mq_ok
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {
            "database": {"ok": db_ok, "info": db_info},
            "broker": {"ok": mq_ok, "info": mq_info},
        },
        "elapsed_ms": round((time.monotonic() - start) * 1000, 1),
    }
    return JsonResponse(body, status=200 if ok else 503)


@login_required
def home(request):
    """The console's landing page: the user's units and what they may do."""
    units = Unit.objects.restrict(request.user, "units.view").filter(valid_to__isnull=True)
    if request.user.is_superuser:
        roots = units.filter(depth=0)
    else:
        roots = Unit.objects.filter(path__in=scope_paths(request.user, "units.view"))
    return render(
        request,
        "core/home.html",
        {
            "roots": roots.order_by("name")[:10],
            "unit_count": units.count(),
            "permissions": sorted(permission_paths(request.user)),
        },
    )


@login_required
def audit_log(request):
    """Audit trail, filtered by unit and object, for those allowed to read it."""
    require(request.user, "core.audit")
    qs = ObjectChange.objects.restrict(request.user, "core.audit").select_related(
        "content_type", "unit"
    )
    unit_code = request.GET.get("unit", "").strip()
    if unit_code:
        qs = qs.filter(unit__code=unit_code)
    obj = request.GET.get("object", "").strip()
    if obj:
        qs = qs.filter(object_repr__icontains=obj[:100])
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"page": page, "unit": unit_code, "object": obj})


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
