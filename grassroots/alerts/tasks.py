"""Worker side of emergencies: read a text emergency by TTS then send it; expire old ones."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django_tasks import task

from grassroots.core.periodic import every

from . import actions as emergency_actions
from .models import Emergency, EmergencyStatus

log = logging.getLogger("grassroots.alerts")


# The highest priority django-tasks allows: the worker takes it before any queued bulletin voicing
# or transcode (it cannot interrupt one already running).
@task(priority=100)
def prepare_emergency(emergency_id: int) -> None:
    """Synthesize the emergency text (normalised Opus, one ffmpeg pass) and send `play.now`."""
    from grassroots.content import tts

    emergency = Emergency.objects.get(pk=emergency_id)
    if emergency.status != EmergencyStatus.PREPARING:
        return
    error = ""
    try:
        # one ffmpeg pass (one-pass loudness normalisation): the alert's way to the air
        began = time.perf_counter()
        audio = tts.synthesize_quick(f"{emergency.title}. {emergency.text}")
        log.info("emergency %s: TTS in %.2f s", emergency_id, time.perf_counter() - began)
    except Exception as exc:  # noqa: BLE001 - reported on the emergency, never lost
        log.exception("emergency %s: TTS failed", emergency_id)
        error = f"Không đọc được nội dung bằng TTS: {exc}"[:500]
        audio = None
    with transaction.atomic():
        emergency = Emergency.objects.select_for_update().get(pk=emergency_id)
        if emergency.status != EmergencyStatus.PREPARING:
            return
        emergency.error = error
        if not audio and not emergency.media:
            # `play.now` needs at least one file (protocol); a loudspeaker cannot play text.
            # The officer sees why at once instead of an emergency stuck in "preparing".
            emergency.status = EmergencyStatus.FAILED
            emergency.error = (
                f"{error} Chưa phát gì: hãy chọn một bản tin có tệp âm thanh (hoặc tải tệp "
                "ghi âm) rồi phát lại."
            )[:500]
            emergency.save(update_fields=["status", "error", "updated_at"])
            return
        if audio:
            rendition = audio
            emergency.media = [
                {
                    "url": f"{settings.MEDIA_URL}{rendition['stored_path']}",
                    "sha256": rendition["sha256"],
                    "size": rendition["size"],
                    "duration": rendition.get("duration_seconds") or 0,
                }
            ]
        emergency_actions.send(emergency)
        emergency.save(update_fields=["media", "error"])


@every(15)
def expire_emergencies() -> None:
    emergency_actions.expire_due()


@every(5)
def repeat_emergencies() -> None:
    """Emergencies on air again at their interval, until they expire."""
    emergency_actions.repeat_due()


@every(15)
def poll_cap_feeds() -> None:
    """Poll the CAP feeds whose interval has passed (network I/O stays in the worker)."""
    from .cap.feeds import poll_due

    poll_due()
