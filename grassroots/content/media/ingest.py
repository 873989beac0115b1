"""Check an uploaded file, build its renditions and store everything by SHA-256."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from . import audio, image, video
from .errors import MediaRejected
from .limits import limits_for
from .probe import (
    EXTENSION_KIND,
    EXTENSIONS,
    KIND_LABEL,
    duration_of,
    ffprobe,
    probe_unknown,
    real_streams,
    sniff,
)
from .store import Transaction, sha256_file

log = logging.getLogger(__name__)

KINDS = ("audio", "video", "image")
# Extension given to each stored original, by family (never the uploader's extension).
FAMILY_EXT = {
    "mp3": "mp3",
    "aac": "aac",
    "wav": "wav",
    "flac": "flac",
    "ogg": "ogg",
    "amr": "amr",
    "asf": "wma",
    "aiff": "aif",
    "caf": "caf",
    "ac3": "ac3",
    "mp4": "mp4",
    "matroska": "mkv",
    "avi": "avi",
    "png": "png",
    "jpeg": "jpg",
    "gif": "gif",
    "webp": "webp",
    "bmp": "bmp",
    "tiff": "tif",
}


def _human_bytes(size: float) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    if size >= 1024**2:
        return f"{size / 1024**2:.1f} MB"
    return f"{size / 1024:.0f} KB"


def _extension(name: str) -> str:
    return Path(name).suffix.lower().lstrip(".")


def ingest(
    path: Path, original_name: str, declared_kind: str, *, keep_original: bool = True
) -> dict:
    """Validate an upload and store it with its renditions; raise MediaRejected (Vietnamese).

    Returns {"sha256", "kind", "mime", "size", "duration_seconds", "stored_path",
    "renditions": {name: {"path", "sha256", "size", "mime", ...}}}; paths are relative to
    MEDIA_ROOT. Audio gets a "broadcast" rendition (Opus, -16 LUFS); images "board" and "thumb";
    video "board" (H.264 MP4) and "thumb". With keep_original=False (TTS output) only the
    renditions are stored and the primary file is the broadcast rendition.
    """
    path = Path(path)
    declared_kind = (declared_kind or "").lower()
    if declared_kind not in KINDS:
        raise MediaRejected(
            f"Loại nội dung “{declared_kind}” không nhận tệp đính kèm; chỉ nhận âm thanh, video "
            "hoặc ảnh.",
            code="unsupported",
        )
    ext = _extension(original_name)
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected(
            f"Tệp “{original_name}” rỗng (0 byte), có thể tải lên bị lỗi. Hãy chọn lại tệp và "
            "tải lên lần nữa.",
            code="empty",
        )
    limits = limits_for(declared_kind)
    max_bytes = limits.get("max_bytes")
    if max_bytes and size > max_bytes:
        raise MediaRejected(
            f"Tệp quá lớn: {_human_bytes(size)}, giới hạn cho {KIND_LABEL[declared_kind]} là "
            f"{_human_bytes(max_bytes)}. Hãy nén hoặc cắt ngắn rồi tải lên lại.",
            code="too_large",
        )

    # The content decides what a file is; its name only explains a refusal.
    family, info = sniff(path), None
    if family is None and declared_kind in ("audio", "video"):
        family, info = probe_unknown(path) or (None, None)
    if (family is None or family.kind == "bad") and ext not in EXTENSIONS:
        raise MediaRejected(
            f"Không hỗ trợ tệp đuôi “.{ext}”. Hãy dùng âm thanh MP3/WAV/M4A/OGG, video MP4/WebM "
            "hoặc ảnh JPEG/PNG/WebP."
            if ext
            else "Tệp không có phần mở rộng (đuôi) nên không "
            "biết là loại gì. Hãy đặt tên tệp có đuôi, ví dụ .mp3, .mp4, .jpg.",
            code="unsupported",
        )
    if family is None:
        raise MediaRejected(
            f"Không nhận ra nội dung tệp “{original_name}”: đây không phải âm thanh, video hay "
            "ảnh mà hệ thống đọc được. Hãy kiểm tra đã chọn đúng tệp.",
            code="unsupported",
        )
    if family.kind == "bad":
        raise MediaRejected(
            f"Tệp “{original_name}” thực chất là {family.label}, hệ thống chưa hỗ trợ. "
            + (
                "Hãy chuyển ảnh sang JPEG (trên iPhone: Cài đặt › Camera › Định dạng › "
                "Tương thích nhất) rồi tải lên lại."
                if family.name == "heic"
                else "Hãy tải lên tệp âm thanh, video hoặc ảnh."
            ),
            code="unsupported",
        )
    ext_kind = EXTENSION_KIND.get(ext)
    # Recorders name their files loosely (AAC in .mp3, MP4 in .aac, AMR in .3ga): audio or video
    # under any audio/video name is judged by its content. An image under a sound's name, or
    # the reverse, is a wrong file.
    if ext_kind and (ext_kind == "image") != (family.kind == "image"):
        raise MediaRejected(
            f"Nội dung tệp không khớp với tên: “{original_name}” có đuôi .{ext} "
            f"({KIND_LABEL[ext_kind]}) nhưng thực chất là {family.label}. Hãy kiểm tra lại và "
            "tải lên đúng tệp.",
            code="mismatch",
        )

    with tempfile.TemporaryDirectory(prefix="grassroots-media-") as tmp:
        work = Path(tmp)
        if family.kind == "image":
            kind = "image"
        else:
            if info is None:
                try:
                    info = ffprobe(path, family.demuxer)
                except MediaRejected:
                    # Damaged only if ffprobe cannot read it in any container it may be in.
                    found = probe_unknown(path)
                    if found is None:
                        raise
                    family, info = found
            has_video = bool(real_streams(info, "video"))
            has_audio = bool(real_streams(info, "audio"))
            kind = "video" if has_video else "audio" if has_audio else ""
            if not kind:
                raise MediaRejected(
                    "Tệp không có luồng âm thanh hay hình ảnh nào đọc được; tệp có thể bị hỏng.",
                    code="corrupt",
                )
        if kind != declared_kind:
            raise MediaRejected(
                f"Tệp “{original_name}” là {KIND_LABEL[kind]} ({family.label}) nhưng bản tin "
                f"đang chọn loại {KIND_LABEL[declared_kind]}. Hãy chọn đúng loại bản tin hoặc "
                "đúng tệp.",
                code="mismatch",
            )
        if kind == "image":
            return _ingest_image(path, family, size, work, keep_original)
        return _ingest_av(path, family, kind, info, size, work, keep_original)


def _too_long(seconds: float, limit: float, kind: str) -> MediaRejected:
    return MediaRejected(
        f"{KIND_LABEL[kind].capitalize()} dài {audio._minutes(round(seconds))}, vượt giới hạn "
        f"{audio._minutes(limit)}. Hãy cắt ngắn hoặc chia thành nhiều bản tin.",
        code="too_long",
    )


def _ingest_av(path, family, kind, info, size, work, keep_original) -> dict:
    limits = limits_for(kind)
    max_seconds = limits.get("max_seconds")
    duration = duration_of(info)
    if max_seconds and duration and duration > max_seconds:
        raise _too_long(duration, max_seconds, kind)
    renditions: dict[str, tuple[Path, dict]] = {}
    if kind == "audio":
        opus = work / "broadcast.opus"
        facts = audio.normalize_to_opus(
            path,
            opus,
            work,
            demuxer=family.demuxer,
            expected_seconds=None if info.get("duration_estimated") else duration,
            max_seconds=max_seconds,
        )
        duration = facts.pop("duration_seconds")
        renditions["broadcast"] = (
            opus,
            {"mime": "audio/ogg; codecs=opus", "codec": "opus", "duration_seconds": duration}
            | {
                k: facts[k]
                for k in ("normalization_type", "gain_db", "integrated_lufs", "true_peak_dbtp")
            },
        )
        mime = {"mp4": "audio/mp4", "matroska": "audio/webm"}.get(family.name, family.mime)
    else:
        mp4 = work / "board.mp4"
        facts = video.board_rendition(path, mp4, demuxer=family.demuxer, seconds=duration)
        renditions["board"] = (mp4, facts)
        thumb = work / "thumb.jpg"
        if video.poster(path, thumb, demuxer=family.demuxer, at=min(1.0, (duration or 0) / 2)):
            renditions["thumb"] = (thumb, {"mime": "image/jpeg"})
        mime = family.mime
    return _commit(path, family, kind, mime, size, duration, renditions, keep_original)


def _ingest_image(path, family, size, work, keep_original) -> dict:
    limits = limits_for("image")
    max_pixels = int(limits.get("max_pixels", 50_000_000))
    max_memory = int(limits.get("max_decoded_bytes", 0)) or None
    image.check(path, family.name, max_pixels, max_memory)
    renditions = image.renditions(path, work)
    clean = work / f"original.{FAMILY_EXT[family.name]}"
    if image.strip_metadata(path, clean, family.name):
        image.check(clean, family.name, max_pixels, max_memory)
        path, size = clean, clean.stat().st_size
    return _commit(path, family, "image", family.mime, size, None, renditions, keep_original)


def _commit(path, family, kind, mime, size, duration, renditions, keep_original) -> dict:
    """Hash and store the original and the renditions; all or nothing."""
    txn = Transaction()
    try:
        stored = {}
        for name, (file, facts) in renditions.items():
            digest = sha256_file(file)
            ext = file.suffix.lstrip(".")
            stored[name] = {
                "path": txn.put(file, digest, ext),
                "sha256": digest,
                "size": file.stat().st_size,
                **facts,
            }
        if keep_original:
            digest = sha256_file(path)
            stored_path = txn.put(path, digest, FAMILY_EXT[family.name])
        else:
            primary = stored["broadcast"] if "broadcast" in stored else next(iter(stored.values()))
            digest, stored_path, size = primary["sha256"], primary["path"], primary["size"]
            mime = primary["mime"]
    except BaseException:
        txn.rollback()
        raise
    return {
        "sha256": digest,
        "kind": kind,
        "mime": mime,
        "size": size,
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "stored_path": stored_path,
        "renditions": stored,
    }
