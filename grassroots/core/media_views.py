"""Serving stored media to devices and officers: content-addressed files with HTTP Range.

Files live under MEDIA_ROOT/assets/ab/cd/<sha256>.<ext>. A device (bearer `gd_` token) or a
signed-in officer may fetch them; `Range: bytes=N-` resumes an interrupted download.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_GET

_ASSET = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]{2,5}$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def _authorised(request) -> bool:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        raw = header[7:].strip()
        if raw.startswith("gd_"):
            from grassroots.devices.provisioning import authenticate_token

            return authenticate_token(raw) is not None
        from grassroots.accounts.models import ApiToken

        return ApiToken.objects.authenticate(raw) is not None
    return request.user.is_authenticated


@require_GET
def asset(request, path: str):
    if not _ASSET.match(path):
        raise Http404
    if not _authorised(request):
        response = HttpResponse("Cần xác thực (Bearer token của thiết bị).", status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    file = Path(settings.MEDIA_ROOT) / "assets" / path
    if not file.is_file():
        raise Http404
    size = file.stat().st_size
    ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    match = _RANGE.match(request.headers.get("Range", ""))
    if match:
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else size - 1
        if start >= size or end < start:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        end = min(end, size - 1)
        with file.open("rb") as fh:
            fh.seek(start)
            body = fh.read(end - start + 1)
        response = HttpResponse(body, status=206, content_type=ctype)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(file.open("rb"), content_type=ctype)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = f'"{file.stem}"'
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
