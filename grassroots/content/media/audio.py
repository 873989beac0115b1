"""Loudness normalisation (EBU R128) and Opus encoding for broadcast audio."""

from __future__ import annotations

import json
import logging
import re
import subprocess
from pathlib import Path

from .errors import MediaRejected
from .limits import LOUDNESS_TARGET, opus_bitrate, opus_complexity

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
# Peak ceiling (sample peak, dBFS) of the limiter that runs before the loudnorm measure pass.
# Speech (espeak especially) has a peak-to-loudness ratio near 19 dB; loudnorm can stay in its
# linear (gain only) mode only when the ratio is below 14.5 dB (-1.5 dBTP - -16 LUFS), otherwise
# it falls back to dynamic mode and misses the target (-17.1 LUFS in performance.md).
LIMITER_CEILING_DB = -3.5
# loudnorm's own true-peak target sits below the contract's -1.5 dBTP because Opus adds about a
# decibel of overshoot; the encoded file is then measured and trimmed if still over OUTPUT_TP_MAX.
LOUDNORM_TP = -2.5
OUTPUT_TP_MAX = -1.6

_MEASURE_KEYS = ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")


def _run(cmd: list[str], *, timeout: float, what: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        log.warning("ffmpeg timed out during %s: %s", what, cmd)
        raise MediaRejected(
            "Xử lý tệp quá thời gian cho phép; tệp có thể bị hỏng hoặc quá dài. "
            "Hãy kiểm tra lại tệp và tải lên lần nữa.",
            code="timeout",
        ) from exc


def _ffmpeg(*args: str) -> list[str]:
    return ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-y", *args]


def _input_args(path: Path, demuxer: str | None) -> list[str]:
    args = ["-protocol_whitelist", "file"]
    if demuxer:
        args += ["-f", demuxer]
    return [*args, "-i", "file:" + str(path)]


def _timeout(seconds: float | None) -> float:
    # Generous: decoding runs at hundreds of times real time; only a stuck process is stopped.
    return 60 + 2 * (seconds or 600)


def _loudnorm_json(stderr: str) -> dict:
    start = stderr.rfind("{")
    end = stderr.rfind("}")
    if start < 0 or end < start:
        raise MediaRejected("Không đo được độ lớn âm thanh; tệp có thể bị hỏng.", code="corrupt")
    return json.loads(stderr[start : end + 1])


def _progress_seconds(stdout: str) -> float:
    found = re.findall(r"out_time_us=(\d+)", stdout)
    return int(found[-1]) / 1e6 if found else 0.0


def _decode_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "[error]" in line or "[fatal]" in line]


def measure_loudness(path: Path | str) -> dict:
    """Integrated loudness (LUFS), true peak (dBTP) and LRA of a file, with ffmpeg's ebur128."""
    proc = _run(
        _ffmpeg("-i", str(path), "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"),
        timeout=600,
        what="measure",
    )
    text = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise MediaRejected("Không đo được độ lớn âm thanh của tệp.", code="corrupt")
    summary = text[text.rfind("Summary:") :]

    def grab(pattern: str) -> float:
        match = re.search(pattern, summary)
        if not match:
            return float("nan")
        value = match.group(1)
        return float("-inf") if value == "-inf" else float(value)

    return {
        "integrated_lufs": grab(r"I:\s+(-?[\d.]+|-inf) LUFS"),
        "true_peak_dbtp": grab(r"Peak:\s+(-?[\d.]+|-inf) dBFS"),
        "lra_lu": grab(r"LRA:\s+(-?[\d.]+) LU"),
    }


def normalize_to_opus(
    src: Path,
    dst: Path,
    work: Path,
    *,
    demuxer: str | None = None,
    expected_seconds: float | None = None,
    max_seconds: float | None = None,
) -> dict:
    """Decode any audio, bring it to -16 LUFS / under -1.5 dBTP and encode mono Opus into dst.

    (1) decode + integrated loudness, which also proves the file decodes to the end (truncation,
    decode errors, silence, real duration); (2) gain to the target and a peak limiter, corrected
    with one or two cheap loudness measurements; (3) loudnorm's measure pass on that conditioned
    signal (kept as a float WAV); (4) loudnorm's second pass (a linear gain when loudnorm's linear
    mode applies, else loudnorm's dynamic pass) + Opus; (5) the Opus file is measured with ebur128
    and, if its true peak is over -1.6 dBTP, encoded once more slightly quieter.
    Returns the decoded duration, the mode used and the measured loudness of the output.
    """
    t_in = _input_args(src, demuxer)
    limit = ["-t", f"{max_seconds + 1:.3f}"] if max_seconds else []
    fmt = f"aresample={SAMPLE_RATE},aformat=sample_fmts=flt:channel_layouts=mono"

    # Pass 1: decode everything, integrated loudness only (no true-peak oversampling: cheap).
    proc = _run(
        _ffmpeg(
            "-loglevel",
            "level+info",
            *t_in,
            *limit,
            "-map",
            "0:a:0",
            "-af",
            f"{fmt},ebur128=framelog=verbose:peak=sample",
            "-f",
            "null",
            "-",
            "-progress",
            "pipe:1",
        ),
        timeout=_timeout(expected_seconds),
        what="decode",
    )
    stderr = proc.stderr.decode("utf-8", "replace")
    decoded = _progress_seconds(proc.stdout.decode("ascii", "replace"))
    errors = _decode_errors(stderr)
    if proc.returncode != 0 or decoded <= 0:
        raise MediaRejected(
            "Tệp âm thanh bị hỏng, không giải mã được. Hãy xuất lại tệp và tải lên lần nữa.",
            code="corrupt",
        )
    if max_seconds and decoded > max_seconds:
        raise MediaRejected(
            f"Âm thanh dài hơn giới hạn {_minutes(max_seconds)}. Hãy cắt ngắn hoặc chia thành "
            "nhiều bản tin.",
            code="too_long",
        )
    if expected_seconds and decoded < 0.9 * expected_seconds - 0.5:
        raise MediaRejected(
            f"Tệp âm thanh bị cắt cụt: phần đầu tệp ghi dài {expected_seconds:.0f} giây nhưng chỉ "
            f"giải mã được {decoded:.0f} giây. Tệp có thể chưa tải lên hết hoặc bị hỏng; hãy tải "
            "lại tệp gốc.",
            code="truncated",
        )
    if len(errors) > 3:
        log.info("decode errors in %s: %s", src, errors[:5])
        raise MediaRejected(
            "Tệp âm thanh có nhiều đoạn bị hỏng, không giải mã được trọn vẹn. Hãy xuất lại tệp "
            "và tải lên lần nữa.",
            code="corrupt",
        )
    integrated = _summary_value(stderr, r"I:\s+(-?[\d.]+|-inf) LUFS")
    if not integrated > -70:
        raise MediaRejected(
            "Tệp âm thanh chỉ có im lặng (không có tiếng). Hãy kiểm tra micro hoặc tệp ghi âm.",
            code="silent",
        )

    # Gain to the target, then a peak limiter. The limiter takes loudness away with the peaks, so
    # the gain is corrected with cheap measurements (no true-peak oversampling) until the limited
    # signal sits on the target; loudnorm's second pass then only has a fraction of a dB to add
    # and stays in linear mode.
    ceiling = 10 ** (LIMITER_CEILING_DB / 20)
    gain = max(-30.0, min(30.0, LOUDNESS_TARGET["I"] - integrated))
    peak = _summary_value(stderr, r"Peak:\s+(-?[\d.]+|-inf) dBFS")
    if peak + gain > LIMITER_CEILING_DB:
        for _ in range(2):
            limited = _limited_loudness(t_in, limit, fmt, gain, ceiling, decoded)
            miss = LOUDNESS_TARGET["I"] - limited
            gain = max(-30.0, min(30.0, gain + miss))
            if abs(miss) <= 0.5:
                break

    # Pass 2: the conditioned signal, measured by loudnorm (first pass) and kept as float WAV.
    conditioned = work / "conditioned.wav"
    target = f"I={LOUDNESS_TARGET['I']}:TP={LOUDNORM_TP}:LRA={LOUDNESS_TARGET['LRA']}"
    condition = f"{fmt},volume={gain:.2f}dB,{_limiter(ceiling)}"
    graph = f"[0:a:0]{condition},asplit[m][w];[m]loudnorm={target}:print_format=json[mo]"
    proc = _run(
        _ffmpeg(
            *t_in,
            *limit,
            "-filter_complex",
            graph,
            "-map",
            "[mo]",
            "-f",
            "null",
            "-",
            "-map",
            "[w]",
            "-c:a",
            "pcm_f32le",
            str(conditioned),
        ),
        timeout=_timeout(decoded),
        what="measure",
    )
    if proc.returncode != 0:
        raise MediaRejected("Không xử lý được độ lớn âm thanh của tệp.", code="corrupt")
    measured = _loudnorm_json(proc.stderr.decode("utf-8", "replace"))

    # Pass 3: loudnorm's second pass, then Opus. When loudnorm's linear mode applies (the gain
    # keeps the true peak under the target and LRA is in range) that pass is exactly a gain of
    # target - measured integrated loudness, so it is applied with `volume` rather than through
    # loudnorm's 192 kHz processing (half the encode time). Otherwise loudnorm runs its dynamic
    # second pass with the measured values.
    m_i, m_tp = float(measured["input_i"]), float(measured["input_tp"])
    m_lra = float(measured["input_lra"])
    linear_gain = LOUDNESS_TARGET["I"] - m_i
    if m_tp + linear_gain <= LOUDNORM_TP and m_lra <= LOUDNESS_TARGET["LRA"]:
        mode, level = "linear", f"volume={linear_gain:.2f}dB"
    else:
        mode = "dynamic"
        second = ":".join(
            [
                target,
                f"measured_I={m_i}",
                f"measured_TP={m_tp}",
                f"measured_LRA={max(m_lra, 0.1)}",
                f"measured_thresh={measured['input_thresh']}",
                f"offset={measured['target_offset']}",
                "linear=true",
            ]
        )
        level = f"loudnorm={second},aresample={SAMPLE_RATE}"
    _encode_opus(conditioned, dst, level, decoded)
    # Opus adds up to ~1.5 dB of true-peak overshoot at these bitrates: check the real output and,
    # if it is over the ceiling, encode once more a little quieter (still within ±1 LU).
    out = measure_loudness(dst)
    if out["true_peak_dbtp"] > OUTPUT_TP_MAX:
        trim = out["true_peak_dbtp"] - OUTPUT_TP_MAX + 0.2
        _encode_opus(conditioned, dst, f"{level},volume=-{trim:.2f}dB", decoded)
        out = measure_loudness(dst)
        mode += "+trim"
    conditioned.unlink(missing_ok=True)
    return {
        "duration_seconds": round(decoded, 3),
        "source_lufs": integrated,
        "gain_db": round(gain + (linear_gain if mode.startswith("linear") else 0), 2),
        "normalization_type": mode,
        "integrated_lufs": out["integrated_lufs"],
        "true_peak_dbtp": out["true_peak_dbtp"],
    }


def _opus_args() -> list[str]:
    """Mono Opus for speech on loudspeakers, bit-exact (the same input gives the same bytes,
    hence the same SHA-256, so re-ingesting a file stores nothing new)."""
    return [
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-c:a",
        "libopus",
        "-b:a",
        opus_bitrate(),
        "-vbr",
        "on",
        "-application",
        "audio",
        "-frame_duration",
        "20",
        "-compression_level",
        str(opus_complexity()),
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-f",
        "ogg",
    ]


def _encode_opus(src: Path, dst: Path, level: str, seconds: float) -> None:
    proc = _run(
        _ffmpeg("-i", str(src), "-af", level, *_opus_args(), str(dst)),
        timeout=_timeout(seconds),
        what="encode",
    )
    if proc.returncode != 0:
        raise MediaRejected("Không mã hoá được âm thanh sang Opus.", code="encode_failed")


def _limiter(ceiling: float) -> str:
    return f"alimiter=limit={ceiling:.4f}:level=disabled:attack=2:release=60"


def _summary_value(stderr: str, pattern: str) -> float:
    match = re.search(pattern, stderr[stderr.rfind("Summary:") :])
    if not match:
        return float("nan")
    return float("-inf") if match.group(1) == "-inf" else float(match.group(1))


def _limited_loudness(
    t_in: list[str], limit: list[str], fmt: str, gain: float, ceiling: float, seconds: float
) -> float:
    """Integrated loudness after gain + limiter (sample-peak measure only: fast)."""
    proc = _run(
        _ffmpeg(
            *t_in,
            *limit,
            "-map",
            "0:a:0",
            "-af",
            f"{fmt},volume={gain:.2f}dB,{_limiter(ceiling)},ebur128=framelog=verbose",
            "-f",
            "null",
            "-",
        ),
        timeout=_timeout(seconds),
        what="limit",
    )
    value = _summary_value(proc.stderr.decode("utf-8", "replace"), r"I:\s+(-?[\d.]+|-inf) LUFS")
    if proc.returncode != 0 or not value > -70:
        raise MediaRejected("Không xử lý được độ lớn âm thanh của tệp.", code="corrupt")
    return value


def _minutes(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} giờ"
    if seconds >= 60:
        return f"{seconds / 60:g} phút"
    return f"{seconds:g} giây"


# Pre-gain into the limiter of the one-pass path, over the source's sample peak: speech then
# reaches loudnorm with a peak-to-loudness ratio under its 14.5 dB, and loudnorm's one (live)
# pass lands within about 0.5 LU of -16 LUFS (espeak-ng: -16.1 LUFS, -1.8 dBTP after Opus).
QUICK_HEADROOM_DB = 4.0


def wav_peak_db(path: Path) -> float:
    """Sample peak (dBFS) of a 16-bit PCM WAV (what the TTS engines write); 0.0 otherwise."""
    import array
    import math
    import sys
    import wave

    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2:
                return 0.0
            samples = array.array("h", wav.readframes(wav.getnframes()))
    except (wave.Error, EOFError, OSError):
        return 0.0
    if sys.byteorder == "big":
        samples.byteswap()
    peak = max(max(samples, default=0), -min(samples, default=0))
    return 20 * math.log10(peak / 32768) if peak else -96.0


def speech_to_opus(src: Path, dst: Path, *, seconds_hint: float | None = None) -> dict:
    """Speech our own TTS engine wrote (a WAV) to broadcast Opus in ONE ffmpeg process.

    The emergency path (a CAP alert going on air: every tenth of a second counts) instead of
    normalize_to_opus's five to seven passes: gain by the sample peak, the same peak limiter,
    loudnorm's one-pass (dynamic) mode to -16 LUFS, Opus. Nothing is measured on the way (an
    ebur128 true-peak meter would add a fifth of the CPU time); the tests measure the result.
    """
    gain = max(-30.0, min(30.0, QUICK_HEADROOM_DB - wav_peak_db(src)))
    fmt = f"aresample={SAMPLE_RATE},aformat=sample_fmts=flt:channel_layouts=mono"
    ceiling = 10 ** (LIMITER_CEILING_DB / 20)
    target = f"I={LOUDNESS_TARGET['I']}:TP={LOUDNORM_TP}:LRA={LOUDNESS_TARGET['LRA']}"
    chain = (
        f"{fmt},volume={gain:.2f}dB,{_limiter(ceiling)},loudnorm={target},aresample={SAMPLE_RATE}"
    )
    proc = _run(
        _ffmpeg(
            *_input_args(src, "wav"),
            "-af",
            chain,
            *_opus_args(),
            str(dst),
            "-progress",
            "pipe:1",
        ),
        timeout=_timeout(seconds_hint),
        what="speech",
    )
    if proc.returncode != 0 or not dst.exists():
        raise MediaRejected("Không mã hoá được giọng đọc sang Opus.", code="encode_failed")
    return {
        "duration_seconds": round(_progress_seconds(proc.stdout.decode("ascii", "replace")), 3),
        "gain_db": round(gain, 2),
        "normalization_type": "one-pass",
    }
