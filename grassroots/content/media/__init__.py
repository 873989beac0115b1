"""The media pipeline: probe, check, normalise, transcode and store uploads by SHA-256.

Pure functions meant to run in a worker task, never inside a web request:

- ``ingest(path, original_name, declared_kind)`` checks an upload (magic bytes, ffprobe /
  Pillow, size and duration limits from ``settings.GRASSROOTS_MEDIA_LIMITS``), builds renditions
  (audio: Opus at -16 LUFS; image: board + thumbnail JPEG without EXIF; video: H.264 MP4) and
  stores them under ``MEDIA_ROOT/assets/ab/cd/<sha256>.<ext>``; raises ``MediaRejected`` with a
  Vietnamese reason otherwise, leaving nothing stored.
- ``normalize_audio(src, dst)`` runs the loudness + Opus pipeline on any audio file.
- ``measure_loudness(path)`` reports integrated loudness and true peak (ffmpeg ebur128).
"""

from .audio import measure_loudness, normalize_to_opus
from .errors import MediaRejected
from .ingest import ingest
from .limits import DEFAULT_LIMITS, limits_for

__all__ = [
    "DEFAULT_LIMITS",
    "MediaRejected",
    "ingest",
    "limits_for",
    "measure_loudness",
    "normalize_audio",
    "normalize_to_opus",
]


def normalize_audio(src, dst) -> dict:
    """Loudness-normalise any audio file and write mono Opus to dst (no storage, no limits)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="grassroots-audio-") as tmp:
        return normalize_to_opus(Path(src), Path(dst), Path(tmp))
