"""The media pipeline on real files: loudness, renditions, and every kind of bad upload."""

import json
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from grassroots.content.media import MediaRejected, ingest, measure_loudness
from grassroots.content.media.store import sha256_file

SENTENCE = (
    "Ủy ban nhân dân xã thông báo: từ bảy giờ ba mươi phút ngày mười lăm tháng ba, "
    "tiêm phòng dại cho chó mèo tại nhà văn hóa thôn."
)


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def probe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(out)


def stored_files():
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


@pytest.fixture
def speech_mp3(inbox):
    """A quiet recording of real speech as an officer might upload it (MP3, 44.1 kHz stereo)."""
    wav = inbox / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "160", "-w", str(wav), SENTENCE], check=True)
    mp3 = inbox / "ban-tin.mp3"
    ffmpeg("-i", str(wav), "-af", "volume=-12dB", "-ar", "44100", "-ac", "2", str(mp3))
    return mp3


def test_uploaded_audio_is_normalised_to_minus_16_lufs_opus(speech_mp3):
    result = ingest(speech_mp3, "ban-tin.mp3", "audio")

    assert result["kind"] == "audio"
    assert result["mime"] == "audio/mpeg"
    assert result["sha256"] == sha256_file(speech_mp3)
    sha = result["sha256"]
    assert result["stored_path"] == f"assets/{sha[:2]}/{sha[2:4]}/{sha}.mp3"
    assert (Path(settings.MEDIA_ROOT) / result["stored_path"]).read_bytes() == (
        speech_mp3.read_bytes()
    )
    assert 4 < result["duration_seconds"] < 15

    broadcast = result["renditions"]["broadcast"]
    opus = Path(settings.MEDIA_ROOT) / broadcast["path"]
    assert broadcast["sha256"] == sha256_file(opus)
    assert broadcast["path"].endswith(f"{broadcast['sha256']}.opus")
    assert broadcast["size"] == opus.stat().st_size
    stream = probe(opus)["streams"][0]
    assert (stream["codec_name"], stream["channels"], stream["sample_rate"]) == ("opus", 1, "48000")
    assert probe(opus)["format"]["format_name"] == "ogg"

    loudness = measure_loudness(opus)
    assert abs(loudness["integrated_lufs"] - -16.0) <= 1.0, loudness
    assert loudness["true_peak_dbtp"] <= -1.5, loudness


@pytest.mark.parametrize(
    ("name", "codec", "mime"),
    [
        ("ghi-am.m4a", "aac", "audio/mp4"),
        ("trinh-duyet.webm", "libopus", "audio/webm"),  # what a browser's recorder produces
        ("may-ghi-am.wav", "pcm_s16le", "audio/wav"),
    ],
)
def test_common_recording_formats_are_accepted(inbox, name, codec, mime):
    path = inbox / name
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:duration=3,volume=0.05",
        "-c:a", codec, str(path),
    )  # fmt: skip
    result = ingest(path, name, "audio")
    assert result["mime"] == mime and 2.5 < result["duration_seconds"] < 3.5
    loudness = measure_loudness(
        Path(settings.MEDIA_ROOT) / result["renditions"]["broadcast"]["path"]
    )
    assert abs(loudness["integrated_lufs"] - -16.0) <= 1.0, loudness


def test_ingesting_the_same_file_twice_stores_it_once(speech_mp3):
    first = ingest(speech_mp3, "a.mp3", "audio")
    count = len(stored_files())
    second = ingest(speech_mp3, "b.mp3", "audio")
    assert second["stored_path"] == first["stored_path"]
    assert len(stored_files()) == count == 2
    assert not list(Path(settings.MEDIA_ROOT).rglob(".tmp-*"))


def _rejected(path, name, kind, code):
    with pytest.raises(MediaRejected) as info:
        ingest(path, name, kind)
    assert info.value.code == code, info.value.message
    assert stored_files() == []
    return info.value.message


def test_empty_file_is_rejected(inbox):
    empty = inbox / "empty.mp3"
    empty.touch()
    message = _rejected(empty, "thong-bao.mp3", "audio", "empty")
    assert "rỗng (0 byte)" in message


def test_truncated_mp3_is_rejected(speech_mp3, inbox):
    data = speech_mp3.read_bytes()
    cut = inbox / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    message = _rejected(cut, "thong-bao.mp3", "audio", "truncated")
    assert "bị cắt cụt" in message


def test_garbage_after_an_mp3_header_is_rejected(inbox):
    bad = inbox / "bad.mp3"
    bad.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40)
    message = _rejected(bad, "thong-bao.mp3", "audio", "corrupt")
    assert "hỏng" in message


def test_png_renamed_mp3_is_rejected(inbox):
    png = inbox / "anh.mp3"
    Image.new("RGB", (40, 30), "red").save(png, "PNG")
    message = _rejected(png, "thong-bao.mp3", "audio", "mismatch")
    assert "đuôi .mp3" in message and "ảnh PNG" in message


def test_audio_declared_as_image_is_rejected(speech_mp3):
    message = _rejected(speech_mp3, "ban-tin.mp3", "image", "mismatch")
    assert "là âm thanh" in message


def test_oversized_file_is_rejected_before_reading_it(inbox):
    big = inbox / "big.mp3"
    with big.open("wb") as fh:  # sparse: 201 MB on paper, nothing on disk
        fh.write(b"ID3")
        fh.truncate(201 * 1024 * 1024)
    message = _rejected(big, "ghi-am.mp3", "audio", "too_large")
    assert "quá lớn" in message and "200.0 MB" in message


def test_three_hour_audio_is_rejected(inbox):
    long_wav = inbox / "long.wav"
    rate, seconds = 8000, 3 * 3600
    data = rate * seconds  # 8-bit mono
    header = (
        b"RIFF"
        + (36 + data).to_bytes(4, "little")
        + b"WAVEfmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")  # PCM
        + (1).to_bytes(2, "little")  # mono
        + rate.to_bytes(4, "little")
        + rate.to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (8).to_bytes(2, "little")
        + b"data"
        + data.to_bytes(4, "little")
    )
    with long_wav.open("wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + data)  # sparse silence, 3 hours long
    message = _rejected(long_wav, "hoi-nghi.wav", "audio", "too_long")
    assert "3 giờ" in message and "vượt giới hạn 1.5 giờ" in message


def test_duration_limit_comes_from_settings(speech_mp3, settings):
    settings.GRASSROOTS_MEDIA_LIMITS = {"audio": {"max_seconds": 2}}
    _rejected(speech_mp3, "ban-tin.mp3", "audio", "too_long")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("bao-cao.pdf", b"%PDF-1.7\n...", "Không hỗ trợ tệp đuôi “.pdf”"),
        ("bao-cao.mp3", b"%PDF-1.7\n" + b"x" * 100, "tài liệu PDF"),
        ("ghi-chu.txt", b"hello", "Không hỗ trợ tệp đuôi “.txt”"),
        ("anh.jpg", b"\x00\x01\x02 random bytes" * 10, "Không nhận ra nội dung tệp"),
    ],
)
def test_unsupported_files_are_rejected(inbox, name, content, needle):
    path = inbox / "upload.bin"
    path.write_bytes(content)
    message = _rejected(path, name, "audio" if name.endswith(".mp3") else "image", "unsupported")
    assert needle in message


def test_truncated_jpeg_is_rejected(inbox):
    photo = inbox / "photo.jpg"
    Image.effect_noise((400, 300), 64).convert("RGB").save(photo, "JPEG")
    data = photo.read_bytes()
    photo.write_bytes(data[: len(data) // 3])
    message = _rejected(photo, "anh.jpg", "image", "corrupt")
    assert "Tệp ảnh bị hỏng" in message


def test_decompression_bomb_is_rejected(inbox, settings):
    settings.GRASSROOTS_MEDIA_LIMITS = {"image": {"max_pixels": 1_000_000}}
    png = inbox / "bomb.png"
    Image.new("1", (2000, 2000)).save(png, "PNG")  # a few KB that decode to 4 megapixels
    message = _rejected(png, "anh.png", "image", "too_many_pixels")
    assert "2000×2000" in message


def test_image_renditions_fit_the_board_and_carry_no_exif(inbox):
    photo = inbox / "photo.jpg"
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "Camera app"  # Software
    Image.new("RGB", (3000, 2000), (30, 120, 200)).save(photo, "JPEG", exif=exif)
    assert Image.open(photo).getexif()

    result = ingest(photo, "IMG_0001.JPG", "image")

    assert result["kind"] == "image" and result["mime"] == "image/jpeg"
    assert result["duration_seconds"] is None
    sizes = {}
    for name, rendition in result["renditions"].items():
        path = Path(settings.MEDIA_ROOT) / rendition["path"]
        with Image.open(path) as img:
            sizes[name] = img.size
            assert img.format == "JPEG"
            assert not img.getexif()
        assert b"Exif" not in path.read_bytes()
        assert (rendition["width"], rendition["height"]) == sizes[name]
    assert sizes == {"board": (1620, 1080), "thumb": (320, 213)}
    original = Path(settings.MEDIA_ROOT) / result["stored_path"]
    assert result["sha256"] == sha256_file(original) and result["size"] == original.stat().st_size
    with Image.open(original) as img:
        assert img.size == (3000, 2000) and not img.getexif()
    assert b"PhoneMaker" not in original.read_bytes()


def test_original_photo_keeps_its_orientation_but_loses_the_rest(inbox):
    photo = inbox / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (400, 300), "green").save(photo, "JPEG", exif=exif)

    result = ingest(photo, "portrait.jpg", "image")

    original = Path(settings.MEDIA_ROOT) / result["stored_path"]
    with Image.open(original) as img:
        assert dict(img.getexif()) == {0x0112: 6}
        img.load()
    assert b"PhoneMaker" not in original.read_bytes()
    board = result["renditions"]["board"]
    assert (board["width"], board["height"]) == (300, 400)  # upright on the board


def test_small_png_with_alpha_is_not_upscaled(inbox):
    png = inbox / "logo.png"
    Image.new("RGBA", (200, 100), (255, 0, 0, 128)).save(png, "PNG")
    result = ingest(png, "logo.png", "image")
    assert result["stored_path"].endswith(".png")
    assert result["renditions"]["board"]["width"] == 200


def test_video_gets_an_h264_rendition(inbox):
    clip = inbox / "clip.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=500:duration=2",
        "-c:v", "mpeg4", "-c:a", "aac", "-shortest", str(clip),
    )  # fmt: skip
    result = ingest(clip, "clip.mp4", "video")

    assert result["kind"] == "video"
    assert 1.5 < result["duration_seconds"] < 2.5
    board = Path(settings.MEDIA_ROOT) / result["renditions"]["board"]["path"]
    info = probe(board)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    assert (video["width"], video["height"]) == (320, 240)
    assert audio["codec_name"] == "aac"
    head = board.read_bytes()[:100_000]
    assert head.find(b"moov") < head.find(b"mdat")  # faststart: playable while downloading
    assert "thumb" in result["renditions"]


def test_truncated_jpeg_is_rejected_after_weasyprint_is_imported(inbox):
    """WeasyPrint (the yearly report's PDF) switches Pillow to pad truncated images when it is
    imported; a worker that made a PDF must still refuse a half-uploaded photo."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # as WeasyPrint leaves it
    try:
        photo = inbox / "photo.jpg"
        Image.effect_noise((400, 300), 64).convert("RGB").save(photo, "JPEG")
        photo.write_bytes(photo.read_bytes()[:5000])
        assert "Tệp ảnh bị hỏng" in _rejected(photo, "anh.jpg", "image", "corrupt")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
