"""Find out what an uploaded file really is: magic bytes first, then ffprobe / Pillow."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import MediaRejected

FFPROBE_TIMEOUT = 30


@dataclass(frozen=True)
class Family:
    """A container family recognised from magic bytes."""

    name: str  # our id, e.g. "mp3"
    label: str  # what we tell the officer, e.g. "âm thanh MP3"
    kind: str  # "audio", "video", "image", "av" (audio or video: decided by ffprobe) or "bad"
    mime: str
    demuxer: str | None = None  # forced ffmpeg demuxer (never let ffmpeg guess from content)


FAMILIES = {
    f.name: f
    for f in [
        Family("mp3", "âm thanh MP3", "audio", "audio/mpeg", "mp3"),
        Family("aac", "âm thanh AAC", "audio", "audio/aac", "aac"),
        Family("wav", "âm thanh WAV", "audio", "audio/wav", "wav"),
        Family("flac", "âm thanh FLAC", "audio", "audio/flac", "flac"),
        Family("ogg", "âm thanh Ogg", "audio", "audio/ogg", "ogg"),
        Family("amr", "ghi âm AMR", "audio", "audio/amr", "amr"),
        Family("asf", "tệp WMA/WMV", "av", "audio/x-ms-wma", "asf"),
        Family("aiff", "âm thanh AIFF", "audio", "audio/aiff", "aiff"),
        Family("caf", "âm thanh CAF (iPhone)", "audio", "audio/x-caf", "caf"),
        Family("ac3", "âm thanh AC-3", "audio", "audio/ac3", "ac3"),
        Family("mp4", "tệp MP4/M4A", "av", "video/mp4", "mov"),
        Family("matroska", "tệp WebM/MKV", "av", "video/webm", "matroska"),
        Family("avi", "video AVI", "video", "video/x-msvideo", "avi"),
        Family("png", "ảnh PNG", "image", "image/png"),
        Family("jpeg", "ảnh JPEG", "image", "image/jpeg"),
        Family("gif", "ảnh GIF", "image", "image/gif"),
        Family("webp", "ảnh WebP", "image", "image/webp"),
        Family("bmp", "ảnh BMP", "image", "image/bmp"),
        Family("tiff", "ảnh TIFF", "image", "image/tiff"),
        Family("heic", "ảnh HEIC (iPhone)", "bad", "image/heic"),
        Family("pdf", "tài liệu PDF", "bad", "application/pdf"),
        Family("zip", "tệp nén hoặc tài liệu Office", "bad", "application/zip"),
        Family("exe", "chương trình máy tính", "bad", "application/octet-stream"),
        Family("svg", "ảnh SVG", "bad", "image/svg+xml"),
        Family("html", "trang web HTML", "bad", "text/html"),
    ]
}

# Extension -> families whose content may legitimately carry that extension.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "mp3": ("mp3",),
    "aac": ("aac",),
    "wav": ("wav",),
    "flac": ("flac",),
    "ogg": ("ogg",),
    "oga": ("ogg",),
    "opus": ("ogg",),
    "amr": ("amr",),
    "wma": ("asf",),
    "asf": ("asf",),
    "wmv": ("asf",),
    "aif": ("aiff",),
    "aiff": ("aiff",),
    "aifc": ("aiff",),
    "caf": ("caf",),
    "ac3": ("ac3",),
    "3ga": ("mp4", "amr"),
    "3g2": ("mp4",),
    "m4b": ("mp4",),
    "mpga": ("mp3",),
    "m4a": ("mp4",),
    "mp4": ("mp4",),
    "m4v": ("mp4",),
    "mov": ("mp4",),
    "3gp": ("mp4",),
    "webm": ("matroska",),
    "mkv": ("matroska",),
    "avi": ("avi",),
    "png": ("png",),
    "jpg": ("jpeg",),
    "jpeg": ("jpeg",),
    "gif": ("gif",),
    "webp": ("webp",),
    "bmp": ("bmp",),
    "tif": ("tiff",),
    "tiff": ("tiff",),
}

# What kind an extension promises, for the "content does not match the name" message.
EXTENSION_KIND = {
    **dict.fromkeys(
        ["mp3", "aac", "wav", "flac", "ogg", "oga", "opus", "amr", "m4a", "wma", "aif", "aiff"]
        + ["aifc", "caf", "ac3", "3ga", "m4b", "mpga"],
        "audio",
    ),
    **dict.fromkeys(
        ["mp4", "m4v", "mov", "3gp", "3g2", "webm", "mkv", "avi", "asf", "wmv"], "video"
    ),
    **dict.fromkeys(["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"], "image"),
}

KIND_LABEL = {"audio": "âm thanh", "video": "video", "image": "ảnh"}


def sniff(path: Path) -> Family | None:
    """The container family from the first bytes of the file, or None when unknown."""
    with path.open("rb") as fh:
        head = fh.read(64)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FAMILIES["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return FAMILIES["jpeg"]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FAMILIES["gif"]
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FAMILIES["webp"]
    if head.startswith((b"RIFF", b"RF64")) and head[8:12] == b"WAVE":
        return FAMILIES["wav"]
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return FAMILIES["avi"]
    if head.startswith(b"BM") and len(head) > 14:
        return FAMILIES["bmp"]
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return FAMILIES["tiff"]
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return FAMILIES["asf"]
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return FAMILIES["aiff"]
    if head.startswith(b"caff"):
        return FAMILIES["caf"]
    if head.startswith(b"\x0b\x77"):
        return FAMILIES["ac3"]
    if head.startswith(b"OggS"):
        return FAMILIES["ogg"]
    if head.startswith(b"fLaC"):
        return FAMILIES["flac"]
    if head.startswith(b"#!AMR"):
        return FAMILIES["amr"]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return FAMILIES["matroska"]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif"):
            return FAMILIES["heic"]
        return FAMILIES["mp4"]
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return FAMILIES["mp4"]
    if head.startswith(b"ID3"):
        return FAMILIES["mp3"]
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x03
        if layer == 0:  # ADTS (AAC) uses layer bits 00; MPEG audio layer III is 01
            return FAMILIES["aac"]
        return FAMILIES["mp3"]
    if head.startswith(b"%PDF"):
        return FAMILIES["pdf"]
    if head.startswith(b"PK\x03\x04"):
        return FAMILIES["zip"]
    if head.startswith(b"MZ") or head.startswith(b"\x7fELF"):
        return FAMILIES["exe"]
    text = head.lstrip().lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"svg" in head.lower()):
        return FAMILIES["svg"]
    if text.startswith((b"<!doctype html", b"<html")):
        return FAMILIES["html"]
    return None


def ffprobe(path: Path, demuxer: str | None) -> dict:
    """ffprobe's JSON (format + streams) for a file, with the demuxer forced when known."""
    cmd = ["ffprobe", "-v", "warning", "-protocol_whitelist", "file"]
    if demuxer:
        cmd += ["-f", demuxer]
    cmd += ["-show_format", "-show_streams", "-of", "json", "file:" + str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=FFPROBE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MediaRejected(
            "Không đọc được thông tin tệp trong thời gian cho phép; tệp có thể bị hỏng. "
            "Hãy xuất lại tệp và tải lên lần nữa.",
            code="probe_timeout",
        ) from exc
    if proc.returncode != 0:
        raise MediaRejected(
            "Tệp bị hỏng hoặc không đọc được (ffprobe báo lỗi). "
            "Hãy xuất lại tệp từ phần mềm ghi âm/dựng hình và tải lên lần nữa.",
            code="corrupt",
        )
    try:
        info = json.loads(proc.stdout or b"{}")
    except ValueError as exc:
        raise MediaRejected("Tệp bị hỏng hoặc không đọc được.", code="corrupt") from exc
    # A VBR MP3 without a Xing header has no stated length: ffprobe guesses it from the bitrate,
    # and the guess must not be taken for proof of truncation.
    info["duration_estimated"] = b"Estimating duration from bitrate" in proc.stderr
    return info


# ffprobe's own format names we take when the first bytes did not tell (an MP3 behind a junk
# header, a recorder's odd container). Playlists and other formats that open further files
# (hls, concat, sdp...) are never on it.
PROBED_FORMATS = {
    "mp3": "mp3", "aac": "aac", "wav": "wav", "w64": "wav", "flac": "flac", "ogg": "ogg",
    "amr": "amr", "amrnb": "amr", "amrwb": "amr", "mov": "mp4", "matroska": "matroska",
    "asf": "asf", "aiff": "aiff", "caf": "caf", "ac3": "ac3", "eac3": "ac3", "wv": "wav",
    "ape": "wav", "au": "wav", "mpeg": "mp3", "mpegts": "mp4", "avi": "avi",
}  # fmt: skip


def probe_unknown(path: Path) -> tuple[Family, dict] | None:
    """Let ffprobe recognise an audio/video file our magic bytes do not know; None if it cannot.

    Text files are not offered to ffprobe (a playlist would make it open other files).
    """
    with path.open("rb") as fh:
        head = fh.read(512)
    if not head or all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return None
    cmd = ["ffprobe", "-v", "error", "-protocol_whitelist", "file", "-show_format"]
    cmd += ["-show_streams", "-of", "json", "file:" + str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=FFPROBE_TIMEOUT, check=False)
        info = json.loads(proc.stdout or b"{}") if proc.returncode == 0 else {}
    except (subprocess.TimeoutExpired, ValueError):
        return None
    demuxer = (info.get("format", {}).get("format_name") or "").split(",")[0]
    if demuxer not in PROBED_FORMATS:
        return None
    if not (real_streams(info, "audio") or real_streams(info, "video")):
        return None
    base = FAMILIES.get(PROBED_FORMATS[demuxer]) or FAMILIES["mp4"]
    family = Family(base.name, base.label, base.kind, base.mime, demuxer)
    info["duration_estimated"] = False
    return family, info


def real_streams(info: dict, codec_type: str) -> list[dict]:
    """Streams of one type, leaving out cover art attached to audio files."""
    return [
        s
        for s in info.get("streams", [])
        if s.get("codec_type") == codec_type
        and not (s.get("disposition") or {}).get("attached_pic")
    ]


def duration_of(info: dict) -> float | None:
    """The duration ffprobe reports (format first, then the longest stream)."""
    values = []
    for value in [info.get("format", {}).get("duration")] + [
        s.get("duration") for s in info.get("streams", [])
    ]:
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            continue
    return max(values) if values else None
