"""Probes, the console home and error pages."""

import socket
import time
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from grassroots.accounts.policies import require
from grassroots.accounts.scope import permission_paths
from grassroots.units.models import Unit

from . import workqueue
from .errors import problem_response
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
