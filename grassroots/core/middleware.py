"""Request-id middleware: every request gets an id that audit rows and logs carry."""

import re
import uuid

from .context import request_id_var

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Take a sane X-Request-ID from the client or make one; echo it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        request.request_id = rid
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class LanguageMiddleware:
    """Vietnamese unless the person chose another language (the `set_language` cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, and a kiosk or an
    officer's PC set up in English would then show the console in English; the product speaks
    Vietnamese by default.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # only for this request: the thread (a worker, a test) goes back to what it had
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class CleanTextMiddleware:
    """Query strings and form fields enter clean (core.text.clean_text): the one boundary for
    every console form, citizen page and form-encoded client (Open311). JSON bodies of /api/v1
    are cleaned by the API's parser; passwords are left exactly as typed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.GET = _cleaned(request.GET)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            request.POST = _cleaned(request.POST)
        return self.get_response(request)


def _cleaned(query):
    from .text import clean_text

    if not any(
        clean_text(k) != k or (v and clean_text(v) != v)
        for k, values in query.lists()
        for v in values
        if "password" not in k
    ):
        return query
    out = query.copy()  # a mutable copy; made immutable again below
    for key, values in query.lists():
        if "password" in key:
            continue
        out.setlist(clean_text(key), [clean_text(v) for v in values])
        if clean_text(key) != key:
            del out[key]
    out._mutable = False
    return out


class OutOfRangeMiddleware:
    """A console or citizen page given an id of 2^63 or more (or text with a NUL character,
    which PostgreSQL cannot hold) answers 400, not 500.

    SQLite cannot bind such an integer (OverflowError) and PostgreSQL refuses it in some places
    (DataError); the API checks its arguments up front (`core.bounds`), pages catch it here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import DataError

        if (
            isinstance(exception, OverflowError)
            or (isinstance(exception, DataError) and "out of range" in str(exception))
            or (isinstance(exception, ValueError | DataError) and "NUL" in str(exception))
        ):
            from .views import out_of_range

            return out_of_range(request)
        return None


def content_security_policy() -> str:
    """The policy of every page: scripts only from this site, never inline or from attributes.

    Styles may be inline (`style=""` attributes in templates, Leaflet and Swagger UI); scripts
    may not, which is what stops injected markup from running. The board player sets its own,
    stricter policy and keeps it.
    """
    from urllib.parse import urlparse

    from django.conf import settings

    connect = ["'self'"]
    ws = urlparse(getattr(settings, "MQTT_WS_URL", "") or "")
    if ws.scheme in ("ws", "wss") and ws.netloc:
        connect.append(f"{ws.scheme}://{ws.netloc}")
    img = ["'self'", "data:", "blob:"]
    media = ["'self'", "blob:"]
    ice = urlparse(getattr(settings, "ICECAST_URL", "") or "")
    if ice.scheme in ("http", "https") and ice.netloc:  # officers listen in to live sessions
        media.append(f"{ice.scheme}://{ice.netloc}")
    from grassroots.devices.maps import tile_origin

    if tiles := tile_origin():  # the province's own tile server, when it configures one
        img.append(tiles)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(img)}",
            f"media-src {' '.join(media)}",
            "font-src 'self' data:",
            f"connect-src {' '.join(connect)}",
            "frame-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy on every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class RequestLimitsMiddleware:
    """Refuse an oversized body from its Content-Length, and stream-check every uploaded file.

    Multipart bodies are parsed here, inside this middleware, so that a file over its limit or
    with an overlong name becomes a Vietnamese 413/422 (the CSRF check parses the form later
    otherwise, where an error could only become a 500).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http.multipartparser import MultiPartParserError

        from . import limits

        limit = limits.body_limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return self._refuse(
                request,
                413,
                f"Dữ liệu gửi lên quá lớn ({length / limits.MB:.0f} MB); giới hạn ở đây là "
                f"{limit / limits.MB:.0f} MB. Hãy gửi tệp nhỏ hơn.",
            )
        request.upload_handlers.insert(0, limits.LimitedUploadHandler(request))
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                request.POST  # noqa: B018 - parse now, with the limits in place
            except (limits.RequestTooLarge, limits.BadFileName) as exc:
                return self._refuse(request, exc.status, exc.detail)
            except MultiPartParserError:
                # e.g. a part header over Django's 1 KB (a file name of ~1,000 characters)
                return self._refuse(
                    request,
                    400,
                    "Không đọc được dữ liệu tải lên: tên tệp quá dài (tối đa "
                    f"{limits.MAX_FILE_NAME} ký tự) hoặc biểu mẫu bị hỏng. Hãy đổi tên tệp cho "
                    "ngắn lại rồi gửi lại.",
                )
        return self.get_response(request)

    @staticmethod
    def _refuse(request, status: int, detail: str):
        from django.shortcuts import render

        from .errors import TITLES, problem_response
        from .views import _wants_json

        if _wants_json(request):
            return problem_response(status, detail, request=request)
        response = render(
            request,
            "core/error.html",
            {"title": TITLES.get(status, "Lỗi"), "detail": detail},
            status=status,
        )
        return response


class OneLineForbidden:
    """Logging filter: a refused request (403) is one line with the user and the reason, not a
    traceback; a 403 is an answer, not an error of the platform."""

    def filter(self, record) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            exc = record.exc_info[1]
            request = getattr(record, "request", None)
            user = getattr(getattr(request, "user", None), "username", "") or "-"
            line = record.getMessage()
            record.msg = "%s (user=%s): %s"
            record.args = (line, user, str(exc) or type(exc).__name__)
            record.exc_info = None
            record.exc_text = None
        return True
