"""H.264 MP4 rendition of uploaded video for e-boards (browsers play it everywhere)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .errors import MediaRejected
from .limits import LOUDNESS_TARGET

MAX_W, MAX_H = 1920, 1080


def board_rendition(src: Path, dst: Path, *, demuxer: str | None, seconds: float | None) -> dict:
    """Encode H.264 (yuv420p, faststart, at most 1080p) + AAC into dst; return its facts."""
    scale = (
        f"scale=w='min({MAX_W},iw)':h='min({MAX_H},ih)':force_original_aspect_ratio=decrease,"
        "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p"
    )
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-y", "-loglevel", "error"]
    cmd += ["-protocol_whitelist", "file"]
    if demuxer:
        cmd += ["-f", demuxer]
    cmd += ["-i", "file:" + str(src), "-map", "0:v:0", "-map", "0:a:0?", "-vf", scale]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high"]
    cmd += ["-pix_fmt", "yuv420p", "-movflags", "+faststart", "-map_metadata", "-1"]
    # One-pass loudnorm for the soundtrack: boards play video sound rarely and briefly.
    target = f"I={LOUDNESS_TARGET['I']}:TP={LOUDNESS_TARGET['TP']}:LRA={LOUDNESS_TARGET['LRA']}"
    cmd += [
        "-af",
        f"loudnorm={target},aresample=48000,aformat=channel_layouts=stereo",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
    ]
    cmd += ["-f", "mp4", str(dst)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, timeout=120 + 10 * (seconds or 600), check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaRejected(
            "Chuyển đổi video quá thời gian cho phép. Hãy rút ngắn video hoặc giảm độ phân giải.",
            code="timeout",
        ) from exc
    if proc.returncode != 0 or not dst.exists() or dst.stat().st_size == 0:
        raise MediaRejected(
            "Video bị hỏng hoặc không chuyển đổi được. Hãy xuất lại video (MP4, H.264) và tải lên "
            "lần nữa.",
            code="corrupt",
        )
    return {"mime": "video/mp4", "codec": "h264"}


def poster(src: Path, dst: Path, *, demuxer: str | None, at: float) -> bool:
    """A JPEG still from the video (for the console and as the board's poster image)."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-y", "-loglevel", "error"]
    cmd += ["-protocol_whitelist", "file", "-ss", f"{at:.2f}"]
    if demuxer:
        cmd += ["-f", demuxer]
    cmd += ["-i", "file:" + str(src), "-frames:v", "1", "-vf", "scale=320:-2", "-map_metadata"]
    cmd += ["-1", "-q:v", "4", str(dst)]
    proc = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    return proc.returncode == 0 and dst.exists() and dst.stat().st_size > 0
