"""Serving stored media to devices and officers: content-addressed files with HTTP Range.

Files live under MEDIA_ROOT/assets/ab/cd/<sha256>.<ext>. Knowing a hash is not enough: the
caller must be entitled to the file (a scope check, not signed URLs, so the URLs in signed
manifests stay stable and cacheable):

* a device (bearer `gd_` token) gets the files of its own stored manifest and of emergencies
  sent to its area;
* an officer (bearer token or console session) gets the files of media assets, schedules and
  emergencies they may see, of bulletins shared into their units, and of the stored manifests
  of the devices they see (listen-in: what a cluster airs): never another commune's drafts.

`Range: bytes=N-` resumes an interrupted download. Anything else answers 404, as for a file
that does not exist.
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


def _caller(request):
    """("device", Device) or ("user", User) for the credentials sent, or None."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        raw = header[7:].strip()
        if raw.startswith("gd_"):
            from grassroots.devices.provisioning import authenticate_token

            device = authenticate_token(raw)
            return ("device", device) if device is not None else None
        from grassroots.accounts.models import ApiToken

        found = ApiToken.objects.authenticate(raw)
        return ("user", found.user) if found is not None else None
    if request.user.is_authenticated:
        return ("user", request.user)
    return None


def _device_may_fetch(device, sha: str) -> bool:
    from grassroots.alerts.models import Emergency
    from grassroots.broadcast.models import Manifest

    if Manifest.objects.filter(device=device, body__contains=sha).exists():
        return True
    above = [int(p) for p in device.unit.path.strip("/").split("/") if p]
    return Emergency.objects.filter(area__in=above, media__icontains=sha).exists()


def _user_may_fetch(user, sha: str) -> bool:
    from django.db.models import Q

    from grassroots.accounts.scope import has_perm_anywhere
    from grassroots.alerts.models import Emergency
    from grassroots.broadcast.models import ScheduleItem
    from grassroots.content.models import BulletinShare, MediaAsset

    of_file = Q(sha256=sha) | Q(duplicate_of__sha256=sha) | Q(renditions__icontains=sha)
    if has_perm_anywhere(user, "devices.view"):
        # listen-in (devices.listen): what a device the officer sees has on its schedule
        from grassroots.broadcast.models import Manifest

        if Manifest.objects.restrict(user, "devices.view").filter(body__contains=sha).exists():
            return True
    if has_perm_anywhere(user, "content.view"):
        if MediaAsset.objects.restrict(user, "content.view").filter(of_file).exists():
            return True
        shared = BulletinShare.objects.restrict(user, "content.view").filter(
            withdrawn_at__isnull=True
        )
        if (
            MediaAsset.objects.filter(of_file, status="ready")
            .filter(bulletin_id__in=shared.values("bulletin_id"))
            .exists()
        ):
            return True
    if has_perm_anywhere(user, "broadcast.view"):
        if (
            ScheduleItem.objects.restrict(user, "broadcast.view")
            .filter(media__icontains=sha)
            .exists()
        ):
            return True
        if Emergency.objects.restrict(user, "broadcast.view").filter(media__icontains=sha).exists():
            return True
    return False


@require_GET
def asset(request, path: str):
    if not _ASSET.match(path):
        raise Http404
    caller = _caller(request)
    if caller is None:
        response = HttpResponse("Cần xác thực (Bearer token của thiết bị).", status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    sha = path.rsplit("/", 1)[-1].split(".", 1)[0]
    kind, who = caller
    allowed = _device_may_fetch(who, sha) if kind == "device" else _user_may_fetch(who, sha)
    if not allowed:
        raise Http404
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
