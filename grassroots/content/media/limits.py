"""Upload limits per kind; operators override them with settings.GRASSROOTS_MEDIA_LIMITS."""

from __future__ import annotations

from django.conf import settings

MB = 1024 * 1024

DEFAULT_LIMITS: dict[str, dict[str, float]] = {
    # A bulletin or a recorded programme; a whole afternoon of audio is a mistake, not a bulletin.
    "audio": {"max_bytes": 200 * MB, "max_seconds": 90 * 60},
    "video": {"max_bytes": 1024 * MB, "max_seconds": 30 * 60},
    # max_pixels guards against decompression bombs (a tiny PNG that expands to gigabytes);
    # max_decoded_bytes bounds the memory one decoded frame takes (RGB/RGBA: 4 bytes a pixel),
    # checked from the header before decoding: 128 MB is a 32-megapixel photo.
    "image": {"max_bytes": 25 * MB, "max_pixels": 50_000_000, "max_decoded_bytes": 128 * MB},
}

# Opus bitrate for speech on loudspeakers (the architecture says 24–32 kb/s mono).
DEFAULT_OPUS_BITRATE = "32k"
LOUDNESS_TARGET = {"I": -16.0, "TP": -1.5, "LRA": 11.0}


def limits_for(kind: str) -> dict[str, float]:
    """The effective limits for one kind: defaults merged with settings overrides."""
    merged = dict(DEFAULT_LIMITS.get(kind, {}))
    overrides = getattr(settings, "GRASSROOTS_MEDIA_LIMITS", None) or {}
    merged.update(overrides.get(kind, {}))
    return merged


def opus_bitrate() -> str:
    """The configured Opus bitrate (settings.GRASSROOTS_OPUS_BITRATE, default 32k)."""
    return str(getattr(settings, "GRASSROOTS_OPUS_BITRATE", DEFAULT_OPUS_BITRATE))


def opus_complexity() -> int:
    """libopus complexity (settings.GRASSROOTS_OPUS_COMPLEXITY, default 5).

    Measured on a 2-core machine: complexity 10 encodes 7.5 min of speech in 14.5 s, complexity 5
    in 2.8 s; for mono speech at 32 kb/s the audible difference is negligible.
    """
    return int(getattr(settings, "GRASSROOTS_OPUS_COMPLEXITY", 5))
