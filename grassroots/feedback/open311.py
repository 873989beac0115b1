"""Open311 GeoReport v2 at /open311/v2/: discovery, services, requests, tokens; JSON and XML.

Plain Django views (not the ninja API): the spec fixes its own URL shapes, the `.json`/`.xml`
suffix, form-encoded POST with an `api_key`, and its own error format
`[{"code": 400, "description": "..."}]` / `<errors><error>...</error></errors>`.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from grassroots.core.dates import DateParseError, parse_instant
from grassroots.core.text import clean_data, xml_text
from grassroots.units.text import fold

from . import actions, geo, ratelimit
from .choices import Channel, ReportStatus
from .models import Category, Report

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
MAX_RESULTS = 1000
DEFAULT_DAYS = 90


class Open311Error(Exception):
    """Raised inside a view: answered in the spec's error format."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


# --- serialisation -------------------------------------------------------------------------------

# Plural container -> element name of its items, as the spec writes them.
ITEM_NAMES = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "services": "service",
    "service_requests": "request",
    "errors": "error",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(elem: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _fill(ET.SubElement(elem, key), sub)
    elif isinstance(value, list):
        item = ITEM_NAMES.get(elem.tag, "item")
        for sub in value:
            _fill(ET.SubElement(elem, item), sub)
    else:
        elem.text = xml_text(_text(value))  # rows stored before the cleaning still parse


def render(fmt: str, root: str, data: Any, status: int = 200):
    """Serialise `data` as JSON, or as XML under `root` with the spec's element names."""
    from django.http import HttpResponse

    if fmt == "xml":
        elem = ET.Element(root)
        _fill(elem, data)
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(elem, encoding="utf-8")
        return HttpResponse(body, status=status, content_type=XML_TYPE)
    return HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=JSON_TYPE)


def error(fmt: str, status: int, description: str):
    """The spec's error body: a list of {code, description}."""
    return render(fmt, "errors", [{"code": status, "description": description}], status=status)


def endpoint(methods=("GET",)):
    """Wrap a view: method check, spec-format errors, CSRF exemption (keys, not cookies)."""

    def wrap(func):
        @csrf_exempt
        def view(request, fmt, **kwargs):
            if request.method not in methods:
                return error(fmt, 405, "Phương thức HTTP này không được hỗ trợ ở địa chỉ này.")
            try:
                return func(request, fmt, **kwargs)
            except Open311Error as exc:
                return error(fmt, exc.status, exc.description)

        view.__name__ = func.__name__
        view.__doc__ = func.__doc__
        return view

    return wrap


def _when(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- discovery and services ----------------------------------------------------------------------


@endpoint()
def discovery(request, fmt):
    """Where the API is and what it speaks."""
    base = request.build_absolute_uri("/open311/v2/")
    changeset = Category.objects.order_by("-updated_at").values_list("updated_at", flat=True)
    stamp = _when(changeset.first()) or _when(timezone.now())
    return render(
        fmt,
        "discovery",
        {
            "changeset": stamp,
            "contact": "Sở Văn hoá, Thể thao và Du lịch tỉnh Hưng Yên",
            "key_service": "Khoá api_key do quản trị viên cấp trong bảng điều khiển.",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base.rstrip("/"),
                    "changeset": stamp,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


def _service(c: Category) -> dict:
    return {
        "service_code": c.code,
        "service_name": c.name,
        "description": c.description,
        "metadata": False,
        "type": "realtime",
        "keywords": c.keywords,
        "group": c.group,
    }


@endpoint()
def services(request, fmt):
    """Every active category is a service."""
    return render(fmt, "services", [_service(c) for c in Category.objects.filter(is_active=True)])


def _category(code: str) -> Category:
    if not code:
        raise Open311Error(400, "Thiếu service_code.")
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise Open311Error(404, f"Không có dịch vụ (service_code) '{code[:50]}'.")
    return category


@endpoint()
def service_definition(request, fmt, code):
    """No extra attributes: the report text says it all."""
    category = _category(code)
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": []})


# --- requests ------------------------------------------------------------------------------------


def _request_row(request, r: Report) -> dict:
    photo = next(iter(r.photos.all()), None)  # prefetched: no query per row
    if r.public_answer:
        notes = r.public_answer
    elif r.resolution:
        notes = r.get_resolution_display()
    else:
        notes = r.get_status_display()
    return {
        "service_request_id": str(r.pk),
        "status": "closed" if r.status == ReportStatus.CLOSED else "open",
        "status_notes": notes,
        "service_name": r.category.name,
        "service_code": r.category.code,
        "description": r.text,
        "agency_responsible": r.unit.name,
        "service_notice": "",
        "requested_datetime": _when(r.created_at),
        "updated_datetime": _when(r.updated_at),
        "expected_datetime": _when(r.due_at),
        "address": r.address or r.origin_unit.name,
        "address_id": r.origin_unit.code,
        "zipcode": "",
        "lat": r.latitude if r.share_location else None,
        "long": r.longitude if r.share_location else None,
        "media_url": request.build_absolute_uri(f"/phan-anh/anh/{photo.token}.jpg")
        if photo
        else "",
        "extended_attributes": {
            "state": r.status,
            "state_label": r.get_status_display(),
            "resolution": r.resolution,
            "resolution_label": r.get_resolution_display() if r.resolution else "",
            "unit_code": r.unit.code,
            "escalation_level": r.escalation_level,
            "merged_into": str(r.merged_into_id) if r.merged_into_id else "",
        },
    }


def _public():
    return (
        Report.objects.public()
        .select_related("category", "unit", "origin_unit")
        .prefetch_related("photos")
    )


def _parse_when(name: str, value: str) -> dt.datetime:
    try:
        return parse_instant(value, field=name)
    except DateParseError as exc:
        raise Open311Error(400, str(exc)) from exc


def _list_requests(request, fmt):
    params = request.GET
    qs = _public()
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        # The spec: with ids given, every other filter is ignored.
        qs = qs.filter(pk__in=[int(i) for i in ids if i.isdigit()])
    else:
        codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category__code__in=codes)
        statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status chỉ nhận 'open' hoặc 'closed'.")
        if statuses == {"open"}:
            qs = qs.exclude(status=ReportStatus.CLOSED)
        elif statuses == {"closed"}:
            qs = qs.filter(status=ReportStatus.CLOSED)
        start = params.get("start_date")
        end = params.get("end_date")
        start_at = _parse_when("start_date", start) if start else None
        end_at = _parse_when("end_date", end) if end else None
        if start_at is None and end_at is None:
            start_at = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
        if start_at:
            qs = qs.filter(created_at__gte=start_at)
        if end_at:
            qs = qs.filter(created_at__lte=end_at)
    return render(
        fmt,
        "service_requests",
        [_request_row(request, r) for r in qs.order_by("-created_at")[:MAX_RESULTS]],
    )


def _location(params) -> tuple:
    lat_raw, lon_raw = params.get("lat", "").strip(), params.get("long", "").strip()
    address_id = params.get("address_id", "").strip()
    address = params.get("address_string", "").strip()[:300]
    lat = lon = None
    if lat_raw or lon_raw:
        try:
            lat, lon = float(lat_raw), float(lon_raw)
        except ValueError as exc:
            raise Open311Error(400, "lat và long phải là số thập phân (WGS84).") from exc
    try:
        if address_id:
            unit = actions.resolve_unit(unit_code=address_id)
        elif lat is not None:
            unit = actions.resolve_unit(latitude=lat, longitude=lon)
        elif address:
            folded = fold(address)
            found = [u for u in geo.communes() if u.name_folded and u.name_folded in folded]
            if len(found) != 1:
                raise Open311Error(
                    400,
                    "Không xác định được xã/phường từ address_string; hãy gửi lat/long "
                    "hoặc address_id (mã xã/phường).",
                )
            unit = found[0]
        else:
            raise Open311Error(
                400, "Cần vị trí: lat và long, hoặc address_id (mã xã/phường), hoặc address_string."
            )
    except ValidationError as exc:
        raise Open311Error(400, " ".join(exc.messages)) from exc
    return unit, lat, lon, address


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _post_params(request) -> dict:
    """The POST fields: form-encoded as the spec says, or a JSON object with the same names."""
    if request.content_type in FORM_TYPES:
        return request.POST
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise Open311Error(400, "Thân yêu cầu không phải JSON hợp lệ.") from exc
        if not isinstance(body, dict):
            raise Open311Error(
                400, 'Thân JSON phải là một đối tượng, ví dụ {"api_key": "...", ...}.'
            )
        # Same names and the same cleaning as form fields; numbers are taken as their text.
        return {
            k: v if isinstance(v, str) else json.dumps(v) if v is not None else ""
            for k, v in clean_data(body).items()
        }
    raise Open311Error(
        415,
        "Kiểu nội dung không được hỗ trợ: hãy gửi application/x-www-form-urlencoded "
        "(như đặc tả Open311 GeoReport v2) hoặc application/json.",
    )


def _create_request(request, fmt):
    params = _post_params(request)
    raw_key = params.get("api_key", "").strip()
    if not raw_key:
        raise Open311Error(403, "Thiếu api_key: hãy gửi api_key do quản trị viên cấp.")
    key = actions.authenticate_open311(raw_key)
    if key is None:
        raise Open311Error(403, "api_key không hợp lệ hoặc đã bị thu hồi.")
    if not ratelimit.hit("open311", str(key.pk)):
        raise Open311Error(429, "Ứng dụng gửi quá nhiều phản ánh; hãy đợi rồi thử lại.")
    category = _category(params.get("service_code", "").strip())
    unit, lat, lon, address = _location(params)
    try:
        text = actions.clean_text(params.get("description", ""))
    except ValidationError as exc:
        raise Open311Error(400, " ".join(exc.messages)) from exc
    email = params.get("email", "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise Open311Error(400, "email không hợp lệ.") from exc
    phone = "".join(ch for ch in params.get("phone", "") if ch.isdigit() or ch == "+")[:20]
    if phone and not ratelimit.hit("phone", phone):
        raise Open311Error(429, "Số điện thoại này đã gửi quá nhiều phản ánh; hãy thử lại sau.")
    name = f"{params.get('first_name', '')} {params.get('last_name', '')}".strip()
    report = actions.submit_report(
        category=category,
        text=text,
        unit=unit,
        latitude=lat,
        longitude=lon,
        share_location=lat is not None,
        address=address,
        name=name,
        phone=phone,
        email=email,
        channel=Channel.OPEN311,
        ip=request.META.get("REMOTE_ADDR"),
        open311_key=key,
    )
    return render(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": str(report.pk),
                "token": report.open311_token,
                "tracking_code": report.tracking_code,
                "service_notice": f"Đã tiếp nhận; mã theo dõi {report.tracking_code}, "
                f"hạn xử lý {timezone.localtime(report.due_at):%d/%m/%Y}.",
                "account_id": params.get("account_id", "")[:100],
            }
        ],
        status=201,
    )


@endpoint(methods=("GET", "POST"))
def requests_view(request, fmt):
    """GET: list public requests with the spec's filters; POST: file one (with api_key)."""
    if request.method == "POST":
        return _create_request(request, fmt)
    return _list_requests(request, fmt)


@endpoint()
def request_detail(request, fmt, request_id):
    """One request, as a list of one (as the spec writes it)."""
    report = _public().filter(pk=request_id).first() if request_id.isdigit() else None
    if report is None:
        raise Open311Error(404, f"Không có phản ánh (service_request_id) '{request_id[:30]}'.")
    return render(fmt, "service_requests", [_request_row(request, report)])


@endpoint()
def token_detail(request, fmt, token):
    """The request id behind a token returned by POST."""
    report = Report.objects.filter(open311_token=token[:40]).only("pk", "open311_token").first()
    if report is None:
        raise Open311Error(404, "Không có mã token này.")
    return render(
        fmt,
        "service_requests",
        [{"service_request_id": str(report.pk), "token": report.open311_token}],
    )
