"""Vietnamese text-to-speech: text -> reading text -> speech -> the broadcast audio pipeline.

- ``normalize(text)``: the reading text (abbreviations, numbers, dates, times, money, phone
  numbers, units in words), from the project's table (``abbreviations.json`` + operator
  overrides in ``$GRASSROOTS_HOME/tts-abbreviations.json``, see ``load_table``) on top of
  g2p-hamster.
- ``synthesize(text, voice=, speed=, engine=)``: speech normalised to -16 LUFS, Opus, stored by
  SHA-256; returns the same dict as ``media.ingest`` plus the reading text.
- Engines: ``EspeakEngine`` (default) and ``PiperEngine`` (operator-installed ONNX voice),
  chosen with GRASSROOTS_TTS_ENGINE.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..media import ingest, normalize_to_opus
from ..media.audio import speech_to_opus
from ..media.store import Transaction, sha256_file
from .engines import (
    DEFAULT_SPEED,
    ESPEAK_VOICES,
    EspeakEngine,
    PiperEngine,
    TTSEngine,
    TTSError,
    get_engine,
)
from .normalizer import normalize as _normalize
from .normalizer import spell
from .table import load_table

__all__ = [
    "ESPEAK_VOICES",
    "EspeakEngine",
    "PiperEngine",
    "TTSEngine",
    "TTSError",
    "get_engine",
    "load_table",
    "normalize",
    "preview",
    "spell",
    "synthesize",
    "synthesize_quick",
    "synthesize_to_file",
]


def _dialect(voice: str) -> str:
    return "south" if voice == "vi-vn-x-south" else "north"


def normalize(text: str, *, voice: str = "vi") -> str:
    """The reading text for a bulletin; the southern voice reads "linh"/"ngàn"."""
    return _normalize(text, dialect=_dialect(voice))


def _speech(text: str, voice: str, speed: int, engine) -> tuple[str, Path, TTSEngine]:
    reading = normalize(text, voice=voice)
    if not reading.strip():
        raise TTSError("Văn bản trống: hãy nhập nội dung cần đọc.", code="empty")
    chosen = get_engine(engine)
    return reading, chosen.synthesize_wav(reading, voice, speed), chosen


def synthesize(text: str, *, voice: str = "vi", speed: int = DEFAULT_SPEED, engine=None) -> dict:
    """Speak a bulletin and store the broadcast-ready Opus; same dict as media.ingest()."""
    reading, wav, chosen = _speech(text, voice, speed, engine)
    try:
        result = ingest(wav, "tts.wav", "audio", keep_original=False)
    finally:
        wav.unlink(missing_ok=True)
    return result | {
        "reading_text": reading,
        "voice": voice,
        "speed": speed,
        "engine": chosen.name,
    }


def synthesize_quick(
    text: str, *, voice: str = "vi", speed: int = DEFAULT_SPEED, engine=None
) -> dict:
    """Speak an emergency as fast as possible: one ffmpeg process (one-pass loudness
    normalisation, see media.audio.speech_to_opus) instead of the upload pipeline's checks and
    two-pass normalisation; our own engine's WAV needs no probing. Same dict as synthesize()."""
    reading, wav, chosen = _speech(text, voice, speed, engine)
    try:
        with tempfile.TemporaryDirectory(prefix="grassroots-tts-") as tmp:
            opus = Path(tmp) / "speech.opus"
            facts = speech_to_opus(wav, opus)
            digest, size = sha256_file(opus), opus.stat().st_size
            stored = Transaction().put(opus, digest, "opus")
    finally:
        wav.unlink(missing_ok=True)
    rendition = {"path": stored, "sha256": digest, "size": size, "mime": "audio/ogg; codecs=opus"}
    return {
        "sha256": digest,
        "kind": "audio",
        "mime": rendition["mime"],
        "size": size,
        "duration_seconds": facts["duration_seconds"],
        "stored_path": stored,
        "renditions": {"broadcast": rendition | facts},
        "reading_text": reading,
        "voice": voice,
        "speed": speed,
        "engine": chosen.name,
    }


def preview(text: str, voice: str = "vi", speed: int = DEFAULT_SPEED, engine=None) -> dict:
    """What the editor plays before saving: the same as synthesize (stored once, by hash)."""
    return synthesize(text, voice=voice, speed=speed, engine=engine)


def synthesize_to_file(
    text: str, dst: Path | str, *, voice: str = "vi", speed: int = DEFAULT_SPEED, engine=None
) -> dict:
    """Speak into a file of one's own (Opus, or WAV when dst ends in .wav); nothing stored."""
    dst = Path(dst)
    reading, wav, chosen = _speech(text, voice, speed, engine)
    try:
        with tempfile.TemporaryDirectory(prefix="grassroots-tts-") as tmp:
            opus = Path(tmp) / "speech.opus"
            facts = normalize_to_opus(wav, opus, Path(tmp), demuxer="wav")
            if dst.suffix.lower() == ".wav":
                pcm = Path(tmp) / "speech.wav"
                subprocess.run(
                    ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(opus)]
                    + ["-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le", str(pcm)],
                    check=True,
                    timeout=300,
                )
                shutil.move(pcm, dst)
            else:
                shutil.move(opus, dst)
    finally:
        wav.unlink(missing_ok=True)
    return facts | {"reading_text": reading, "engine": chosen.name, "path": str(dst)}
