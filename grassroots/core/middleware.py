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
        translation.activate(language)
        request.LANGUAGE_CODE = language
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
