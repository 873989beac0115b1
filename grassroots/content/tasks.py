"""Worker tasks of the content app: media ingest, TTS, expiry. Never run inside a request."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django_tasks import task

from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.core.periodic import every

from .choices import BulletinKind, MediaStatus
from .models import Bulletin, BulletinRevision, MediaAsset

log = logging.getLogger("grassroots.content")

FAILED_MESSAGE = (
    "Hệ thống gặp lỗi khi xử lý tệp này; hãy thử tải lên lại, nếu vẫn lỗi hãy báo quản trị viên."
)


def _reject(asset: MediaAsset, message: str) -> None:
    with transaction.atomic():
        before = audit.snapshot(asset)
        asset.status = MediaStatus.REJECTED
        asset.error = message[:2000]
        asset.save(update_fields=["status", "error", "updated_at"])
        audit.record(asset, ChangeAction.UPDATE, before=before, comment="Từ chối tệp")


def _accept(asset: MediaAsset, info: dict[str, Any]) -> None:
    """Store what the pipeline found; a second copy of known bytes points at the first."""
    with transaction.atomic():
        before = audit.snapshot(asset)
        asset.kind = info.get("kind") or asset.declared_kind
        asset.mime = (info.get("mime") or "")[:100]
        asset.size = info.get("size")
        asset.duration_seconds = info.get("duration_seconds")
        asset.file = info.get("stored_path") or ""
        asset.renditions = info.get("renditions") or {}
        asset.status = MediaStatus.READY
        asset.error = ""
        sha = info["sha256"]
        first = MediaAsset.objects.filter(sha256=sha).exclude(pk=asset.pk).first()
        if first is None:
            asset.sha256 = sha
            try:
                with transaction.atomic():
                    asset.save()
            except IntegrityError:  # the same bytes landed concurrently
                asset.sha256 = None
                first = MediaAsset.objects.get(sha256=sha)
        if first is not None:
            asset.duplicate_of = first
            asset.save()
        audit.record(asset, ChangeAction.UPDATE, before=before, comment="Tệp sẵn sàng")


@task()
def process_media(asset_id: int) -> dict[str, Any]:
    """Probe, check and convert one upload; the incoming file is removed whatever happens."""
    from .actions import media_module

    asset = MediaAsset.objects.filter(pk=asset_id).first()
    if asset is None or asset.status != MediaStatus.PENDING:
        return {"asset": asset_id, "status": "skipped"}
    media = media_module()
    if media is None:
        # Keep the upload: the pipeline is not installed yet, a later retry can still process it.
        raise RuntimeError("grassroots.content.media is not installed")
    source = Path(settings.MEDIA_ROOT) / asset.upload_path
    try:
        if not asset.upload_path or not source.is_file():
            _reject(asset, "Không tìm thấy tệp đã tải lên; hãy tải lên lại.")
            return {"asset": asset_id, "status": MediaStatus.REJECTED}
        try:
            info = media.ingest(source, asset.original_name, asset.declared_kind)
        except media.MediaRejected as exc:
            _reject(asset, getattr(exc, "message", None) or str(exc))
            return {"asset": asset_id, "status": MediaStatus.REJECTED, "error": asset.error}
        except Exception:
            log.exception("media ingest failed for asset %s", asset_id)
            _reject(asset, FAILED_MESSAGE)
            return {"asset": asset_id, "status": MediaStatus.REJECTED, "error": asset.error}
        _accept(asset, info)
        return {"asset": asset_id, "status": MediaStatus.READY, "sha256": info["sha256"]}
    finally:
        source.unlink(missing_ok=True)


@task()
def synthesize_preview(*, text: str, voice: str, speed: int, user_id: int) -> dict[str, Any]:
    """Read a preview aloud for the editor (the result is polled by the requesting user)."""
    from .actions import tts_module

    tts = tts_module()
    if tts is None:
        raise RuntimeError("grassroots.content.tts is not installed")
    out = tts.synthesize(text, voice=voice, speed=speed)
    return {
        "user_id": user_id,
        "path": out["stored_path"],
        "sha256": out["sha256"],
        "mime": out.get("mime", "audio/ogg"),
        "duration_seconds": out.get("duration_seconds"),
    }


@task()
def voice_revision(revision_id: int) -> dict[str, Any]:
    """Turn an approved text bulletin into broadcast audio (a synthesised MediaAsset)."""
    from .actions import plain_text, tts_module

    revision = BulletinRevision.objects.select_related("bulletin").filter(pk=revision_id).first()
    tts = tts_module()
    if revision is None or tts is None:
        return {"revision": revision_id, "status": "skipped"}
    if revision.voices.filter(status=MediaStatus.READY).exists():
        return {"revision": revision_id, "status": "skipped"}
    bulletin: Bulletin = revision.bulletin
    text = f"{revision.data.get('title', '')}.\n{plain_text(revision.data.get('body', ''))}"
    asset = MediaAsset.objects.create(
        unit=bulletin.unit,
        bulletin=bulletin,
        declared_kind=BulletinKind.AUDIO,
        synthesized=True,
        revision=revision,
        original_name=f"tts-{bulletin.pk}-v{revision.number}.opus",
    )
    try:
        info = tts.synthesize(text)
    except Exception as exc:
        log.exception("TTS failed for revision %s", revision_id)
        _reject(asset, getattr(exc, "message", None) or FAILED_MESSAGE)
        return {"revision": revision_id, "status": MediaStatus.REJECTED}
    _accept(asset, info)
    return {"revision": revision_id, "asset": asset.pk, "status": MediaStatus.READY}


@every(60)
def expire_bulletins() -> int:
    """Published bulletins past their expiry become expired."""
    from .actions import expire_due

    return expire_due()
