"""Speech engines behind one small interface: text already normalised in, a WAV file out."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from django.conf import settings

from ..media.errors import MediaRejected

ESPEAK_VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")
MIN_SPEED, MAX_SPEED = 80, 450  # words per minute; 150 is a calm announcer
DEFAULT_SPEED = 150


class TTSError(MediaRejected):
    """Speech could not be produced; the message (Vietnamese) says what to fix."""


@runtime_checkable
class TTSEngine(Protocol):
    """What every engine does: read plain Vietnamese words into a WAV file the caller deletes."""

    name: str

    def synthesize_wav(self, reading_text: str, voice: str, speed: int) -> Path: ...


def _check_speed(speed: int) -> int:
    try:
        speed = int(speed)
    except (TypeError, ValueError) as exc:
        raise TTSError("Tốc độ đọc phải là một số (từ/phút).", code="bad_speed") from exc
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise TTSError(
            f"Tốc độ đọc {speed} từ/phút nằm ngoài khoảng cho phép {MIN_SPEED}–{MAX_SPEED}.",
            code="bad_speed",
        )
    return speed


def _tmp_wav() -> Path:
    fd, name = tempfile.mkstemp(prefix="grassroots-tts-", suffix=".wav")
    os.close(fd)
    return Path(name)


def _timeout(text: str) -> float:
    return 60 + len(text) / 50


class EspeakEngine:
    """espeak-ng (Debian package), Vietnamese voices for the North, Centre and South."""

    name = "espeak"
    voices = ESPEAK_VOICES

    def __init__(self, binary: str | None = None):
        self.binary = binary or getattr(settings, "GRASSROOTS_ESPEAK_BINARY", "espeak-ng")

    def synthesize_wav(self, reading_text: str, voice: str = "vi", speed: int = 150) -> Path:
        if voice not in self.voices:
            raise TTSError(
                f"Không có giọng đọc “{voice}”. Hãy chọn một trong: {', '.join(self.voices)}.",
                code="bad_voice",
            )
        speed = _check_speed(speed)
        if not shutil.which(self.binary):
            raise TTSError(
                "Máy chủ chưa cài espeak-ng. Quản trị viên hãy cài gói espeak-ng "
                "(apt-get install espeak-ng).",
                code="engine_missing",
            )
        out = _tmp_wav()
        cmd = [self.binary, "-v", voice, "-s", str(speed), "-w", str(out), "--stdin"]
        try:
            proc = subprocess.run(
                cmd,
                input=reading_text.encode("utf-8"),
                capture_output=True,
                timeout=_timeout(reading_text),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out.unlink(missing_ok=True)
            raise TTSError("Tổng hợp giọng nói quá thời gian cho phép.", code="timeout") from exc
        if proc.returncode != 0 or out.stat().st_size <= 44:
            out.unlink(missing_ok=True)
            raise TTSError("espeak-ng không tạo được âm thanh cho văn bản này.", code="failed")
        return out


class PiperEngine:
    """A Piper (ONNX) voice an operator installed: `piper` on PATH + GRASSROOTS_PIPER_MODEL.

    Set GRASSROOTS_PIPER_MODEL (setting or environment variable) to the .onnx file, with its
    .onnx.json next to it; GRASSROOTS_PIPER_BINARY overrides the `piper` executable. The voice
    argument is ignored (a Piper model is one voice); speed maps to Piper's length scale.
    """

    name = "piper"

    def __init__(self, model: str | None = None, binary: str | None = None):
        self.model = model or _setting("GRASSROOTS_PIPER_MODEL", "")
        self.binary = binary or _setting("GRASSROOTS_PIPER_BINARY", "piper")

    def check(self) -> None:
        """Raise TTSError (Vietnamese) when the model or the program is not installed."""
        if not self.model:
            raise TTSError(
                "Chưa cấu hình giọng đọc Piper: hãy đặt biến GRASSROOTS_PIPER_MODEL trỏ tới tệp "
                "mô hình .onnx của giọng tiếng Việt.",
                code="engine_missing",
            )
        model = Path(self.model)
        if not model.is_file():
            raise TTSError(
                f"Không tìm thấy tệp mô hình giọng đọc Piper “{model}”. Hãy chép tệp .onnx và "
                ".onnx.json của giọng đọc vào máy chủ hoặc sửa GRASSROOTS_PIPER_MODEL.",
                code="engine_missing",
            )
        if not Path(str(model) + ".json").is_file():
            raise TTSError(
                f"Thiếu tệp cấu hình “{model.name}.json” đi kèm mô hình Piper. Hãy chép cả hai "
                "tệp của giọng đọc vào cùng thư mục.",
                code="engine_missing",
            )
        if not shutil.which(self.binary):
            raise TTSError(
                f"Không tìm thấy chương trình Piper (“{self.binary}”). Quản trị viên hãy cài "
                "Piper và đặt nó trong PATH hoặc đặt GRASSROOTS_PIPER_BINARY.",
                code="engine_missing",
            )

    def synthesize_wav(self, reading_text: str, voice: str = "", speed: int = 150) -> Path:
        self.check()
        speed = _check_speed(speed)
        out = _tmp_wav()
        cmd = [
            self.binary,
            "--model",
            str(self.model),
            "--output_file",
            str(out),
            "--length_scale",
            f"{DEFAULT_SPEED / speed:.3f}",
        ]
        try:
            proc = subprocess.run(
                cmd,
                input=reading_text.encode("utf-8"),
                capture_output=True,
                timeout=_timeout(reading_text) * 5,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out.unlink(missing_ok=True)
            raise TTSError("Piper tổng hợp giọng nói quá thời gian.", code="timeout") from exc
        if proc.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
            out.unlink(missing_ok=True)
            raise TTSError("Piper không tạo được âm thanh cho văn bản này.", code="failed")
        return out


ENGINES: dict[str, type] = {"espeak": EspeakEngine, "piper": PiperEngine}


def _setting(name: str, default: str) -> str:
    return str(getattr(settings, name, None) or os.environ.get(name) or default)


def get_engine(engine: str | TTSEngine | None = None) -> TTSEngine:
    """The engine to use: an instance, a name, or GRASSROOTS_TTS_ENGINE (default "espeak")."""
    if engine is not None and not isinstance(engine, str):
        return engine
    name = (engine or _setting("GRASSROOTS_TTS_ENGINE", "espeak")).lower()
    if name not in ENGINES:
        raise TTSError(
            f"Không có bộ đọc “{name}”. Hãy chọn một trong: {', '.join(ENGINES)}.",
            code="bad_engine",
        )
    return ENGINES[name]()
