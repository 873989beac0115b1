"""Media pipeline: seconds per minute of audio (normalise + encode) and the TTS real-time factor.

- Upload: 60 s of real speech (espeak-ng, re-encoded as a 44.1 kHz stereo MP3 at a modest level,
  like a phone recording), through the platform's pipeline (measure, gain + limiter, two-pass
  loudnorm, Opus) and, as the floor, through a plain two-pass loudnorm + Opus with ffmpeg alone.
- TTS: a ~1,000-word bulletin: normaliser time, espeak-ng synthesis real-time factor, and the
  whole synthesize() (normalise, speak, loudness, Opus, store) real-time factor.
Each timing is the median of 3 runs; the output's loudness is measured with ebur128.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

RUNS = 3

SENTENCES = [
    "UBND xã thông báo: từ 7h30 ngày 15/3/2025, tiêm phòng dại cho chó mèo tại NVH các thôn.",
    "Thực hiện Nghị định 49/2024/NĐ-CP của Chính phủ, mỗi hộ nghèo được hỗ trợ 1.500.000 đồng/hộ.",
    "Đề nghị bà con mang theo CCCD và thẻ BHYT khi đến TYT xã làm thủ tục.",
    "Trong tháng 4/2025, toàn xã gieo cấy 320 ha lúa xuân, năng suất ước đạt 6,5 tấn/ha.",
    "Mọi thông tin chi tiết xin liên hệ SĐT 0221.3862.456 hoặc đồng chí trưởng thôn.",
    "Ban chỉ huy quân sự xã nhắc nhở các gia đình có con em trong độ tuổi 18-25 đăng ký NVQS.",
    "Lượng mưa dự báo từ 50-100 mm, gió giật cấp 8, bà con chủ động chằng chống nhà cửa.",
    "HĐND xã khóa XXI tổ chức kỳ họp thứ 4 vào lúc 14h00 ngày 20/6/2025 tại hội trường UBND.",
    "Mức phạt đối với hành vi đốt rơm rạ gây ô nhiễm là từ 500.000 đồng đến 1 triệu đồng.",
    "Các hộ chăn nuôi cần phun khử trùng chuồng trại 2 lần/tuần để phòng dịch tả lợn châu Phi.",
]


def _bulletin(words: int = 1000) -> str:
    out, count, i = [], 0, 0
    while count < words:
        sentence = SENTENCES[i % len(SENTENCES)]
        out.append(sentence)
        count += len(sentence.split())
        i += 1
    return " ".join(out)


def _median_time(fn, runs: int = RUNS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _ffmpeg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-y", *args],
        capture_output=True,
        check=True,
    )


def _speech_minute(work: Path) -> Path:
    """60 s of speech as an officer's MP3 upload."""
    wav = work / "speech.wav"
    text = " ".join(SENTENCES)
    from grassroots.content.tts import normalize

    subprocess.run(
        ["espeak-ng", "-v", "vi", "-s", "150", "-w", str(wav), "--stdin"],
        input=normalize(text).encode(),
        check=True,
        capture_output=True,
    )
    mp3 = work / "minute.mp3"
    _ffmpeg(
        "-stream_loop", "-1", "-i", str(wav), "-t", "60", "-af", "volume=-9dB",
        "-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", str(mp3),
    )  # fmt: skip
    return mp3


def _raw_two_pass(src: Path, dst: Path) -> None:
    """The floor: ffmpeg's textbook two-pass loudnorm + Opus 24 kb/s, nothing else."""
    target = "I=-16:TP=-1.5:LRA=11"
    first = _ffmpeg(
        "-i", str(src), "-af", f"loudnorm={target}:print_format=json", "-f", "null", "-"
    )
    err = first.stderr.decode()
    m = json.loads(err[err.rfind("{") : err.rfind("}") + 1])
    second = (
        f"loudnorm={target}:measured_I={m['input_i']}:measured_TP={m['input_tp']}:"
        f"measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}:"
        f"offset={m['target_offset']}:linear=true"
    )
    _ffmpeg("-i", str(src), "-af", second, "-ac", "1", "-ar", "48000", "-c:a", "libopus",
            "-b:a", "24k", str(dst))  # fmt: skip


def run() -> dict:
    from django.test import override_settings

    from grassroots.content.media import ingest, measure_loudness, normalize_audio
    from grassroots.content.tts import EspeakEngine, normalize, synthesize

    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
        work = Path(tmp)
        minute = _speech_minute(work)
        opus = work / "out.opus"
        pipeline_s, facts = _median_time(lambda: normalize_audio(minute, opus))
        out_loudness = measure_loudness(opus)
        raw = work / "raw.opus"
        raw_s, _ = _median_time(lambda: _raw_two_pass(minute, raw))
        raw_loudness = measure_loudness(raw)

        with override_settings(MEDIA_ROOT=work / "media"):
            ingest_s, _ = _median_time(lambda: ingest(minute, "minute.mp3", "audio"), runs=1)

            text = _bulletin(1000)
            words = len(text.split())
            normalize_s, reading = _median_time(lambda: normalize(text))
            engine = EspeakEngine()

            def speak():
                wav = engine.synthesize_wav(reading, "vi", 150)
                seconds = float(
                    subprocess.run(
                        [
                            "ffprobe",
                            "-v",
                            "error",
                            "-show_entries",
                            "format=duration",
                            "-of",
                            "csv=p=0",
                            str(wav),
                        ],  # fmt: skip
                        capture_output=True,
                        check=True,
                    ).stdout
                )
                wav.unlink()
                return seconds

            espeak_s, audio_s = _median_time(speak)
            synth_s, synth = _median_time(lambda: synthesize(text), runs=1)
            synth_path = work / "media" / synth["stored_path"]
            tts_loudness = measure_loudness(synth_path)

    minutes = facts["duration_seconds"] / 60
    return {
        "upload_audio_seconds": facts["duration_seconds"],
        "normalise_encode_s_per_audio_min": round(pipeline_s / minutes, 3),
        "ingest_s_per_audio_min": round(ingest_s / minutes, 3),
        "raw_two_pass_s_per_audio_min": round(raw_s / minutes, 3),
        "pipeline_vs_raw_ratio": round(pipeline_s / raw_s, 2),
        "upload_output_lufs": out_loudness["integrated_lufs"],
        "upload_output_dbtp": out_loudness["true_peak_dbtp"],
        "upload_normalization_type": facts["normalization_type"],
        "raw_output_lufs": raw_loudness["integrated_lufs"],
        "raw_output_dbtp": raw_loudness["true_peak_dbtp"],
        "tts_words": words,
        "tts_normalize_s": round(normalize_s, 4),
        "tts_audio_seconds": round(audio_s, 1),
        "tts_espeak_s": round(espeak_s, 3),
        "tts_espeak_rtf": round(espeak_s / audio_s, 4),
        "tts_synthesize_s": round(synth_s, 2),
        "tts_synthesize_rtf": round(synth_s / synth["duration_seconds"], 4),
        "tts_output_lufs": tts_loudness["integrated_lufs"],
        "tts_output_dbtp": tts_loudness["true_peak_dbtp"],
        "tts_reading_has_digits": bool(re.search(r"\d", reading)),
    }
