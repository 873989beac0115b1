"""Request size limits applied before a byte of the body is read.

Django reads a multipart body in full (to memory or a temporary file) before any view can look
at it, so a 200 MB "image" used to be written to disk before the 413. Here:

* `Content-Length` above the route's ceiling answers 413 at once (WSGI bodies never run past
  their declared length: Django reads through a stream capped at it);
* each uploaded file is counted as it streams in, against the limit of what it claims to be
  (part content type or file extension, or `?kind=` on the upload URL), and the upload stops
  at the first byte over it;
* file names longer than `MAX_FILE_NAME` are refused with a Vietnamese message, never a 500.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

from .errors import Problem

MB = 1024 * 1024
# Routes that take big media uploads (bulletin files); everything else has the small ceiling.
UPLOAD_ROUTES = (
    re.compile(r"^/api/v1/bulletins/\d+/media$"),
    re.compile(r"^/ban-tin/\d+/tai-len/$"),
)
DEFAULT_MAX_BODY = 40 * MB  # a citizen report with three phone photos, with room to spare
MAX_FILE_NAME = 255

_IMAGE_EXT = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic"}
_AUDIO_EXT = {".mp3", ".wav", ".ogg", ".opus", ".m4a", ".aac", ".flac", ".wma", ".amr"}
_VIDEO_EXT = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".3gp"}


class RequestTooLarge(Problem):
    """413 problem raised before (or while) the body is read."""

    def __init__(self, detail: str):
        super().__init__(413, detail)


class BadFileName(Problem):
    def __init__(self, detail: str):
        super().__init__(422, detail, errors=[{"field": "file", "message": detail}])


def _mb(n: int) -> str:
    return f"{n / MB:.0f} MB"


def max_body() -> int:
    return int(settings.GRASSROOTS.get("MAX_BODY_BYTES", DEFAULT_MAX_BODY))


def media_limit(kind: str) -> int | None:
    from grassroots.content.media.limits import limits_for

    value = limits_for(kind).get("max_bytes")
    return int(value) if value else None


def largest_media_limit() -> int:
    return max(media_limit(k) or 0 for k in ("audio", "video", "image")) or max_body()


def is_upload_route(path: str) -> bool:
    return any(r.match(path) for r in UPLOAD_ROUTES)


def body_limit(request) -> int:
    """The most this request may send: a kind's limit on upload routes, else the small one."""
    if not is_upload_route(request.path_info):
        return max_body()
    kind = request.GET.get("kind", "")
    return (media_limit(kind) if kind in ("audio", "video", "image") else None) or (
        largest_media_limit()
    )


def kind_of_file(file_name: str, content_type: str) -> str:
    """What a file claims to be, from its part content type or its extension."""
    family = (content_type or "").split("/", 1)[0].lower()
    if family in ("image", "audio", "video"):
        return family
    ext = PurePath(file_name or "").suffix.lower()
    for kind, exts in (("image", _IMAGE_EXT), ("audio", _AUDIO_EXT), ("video", _VIDEO_EXT)):
        if ext in exts:
            return kind
    return ""


class LimitedUploadHandler(FileUploadHandler):
    """First upload handler: refuses long names and stops a file at its limit while it streams."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = body_limit(request) if request is not None else max_body()
        self.seen = 0

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        if file_name and len(file_name) > MAX_FILE_NAME:
            raise BadFileName(
                f"Tên tệp dài {len(file_name)} ký tự; tối đa {MAX_FILE_NAME} ký tự. "
                "Hãy đổi tên tệp cho ngắn lại rồi tải lên lần nữa."
            )
        self.seen = 0
        self.file_limit = self.limit
        kind = kind_of_file(file_name, content_type)
        if kind and is_upload_route(self.request.path_info):
            self.file_limit = min(self.limit, media_limit(kind) or self.limit)
        self.kind = kind
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.seen += len(raw_data)
        if self.seen > self.file_limit:
            what = {"image": "ảnh", "audio": "âm thanh", "video": "video"}.get(self.kind, "")
            raise RequestTooLarge(
                f"Tệp {what} quá lớn: giới hạn là {_mb(self.file_limit)}. ".replace("  ", " ")
                + "Hãy nén hoặc cắt ngắn tệp rồi tải lên lại."
            )
        return raw_data

    def file_complete(self, file_size):
        return None
