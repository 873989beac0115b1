"""Audio uploads judged by their content (ffprobe), not by their file name."""

import subprocess

import pytest

from grassroots.content.media import MediaRejected, ingest


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def tone(path, *codec):
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=3,volume=0.05", *codec, str(path))
    return path


@pytest.mark.parametrize(
    ("made_as", "codec", "uploaded_as"),
    [
        ("rec.m4a", ("-c:a", "aac"), "ghi-am.mp3"),  # phone recorder: AAC in MP4 named .mp3
        ("rec.m4a", ("-c:a", "aac"), "ghi-am.aac"),
        ("rec.3gp", ("-c:a", "aac"), "Voice 001.3ga"),  # Samsung voice recorder
        ("rec.mp3", ("-c:a", "libmp3lame"), "ghi-am.m4a"),
        ("rec.wma", ("-c:a", "wmav2"), "hop-thon.wma"),  # Windows recorder
        ("rec.aif", ("-c:a", "pcm_s16be"), "phong-van.aif"),  # field recorder / Mac
        ("rec.caf", ("-c:a", "pcm_s16le"), "ghi-am.caf"),  # iPhone
        ("rec.wav", ("-c:a", "pcm_s16le"), "ZOOM0001.WAV.bak"),  # odd extension, real WAV
        ("rec.wav", ("-c:a", "pcm_s16le"), "ghi am"),  # no extension at all
    ],
)
def test_speech_in_common_containers_is_accepted_by_content(tmp_path, made_as, codec, uploaded_as):
    path = tone(tmp_path / made_as, *codec)
    result = ingest(path, uploaded_as, "audio")
    assert result["kind"] == "audio" and 2.5 < result["duration_seconds"] < 3.5
    assert result["renditions"]["broadcast"]["codec"] == "opus"


def test_mp3_behind_a_junk_header_is_recognised_by_ffprobe(tmp_path):
    mp3 = tone(tmp_path / "a.mp3", "-c:a", "libmp3lame")
    odd = tmp_path / "odd.mp3"
    odd.write_bytes(b"\x00" * 300 + mp3.read_bytes())
    assert ingest(odd, "odd.mp3", "audio")["kind"] == "audio"


def test_damaged_means_damaged_and_unknown_is_not_called_damaged(tmp_path):
    mp3 = tone(tmp_path / "a.mp3", "-c:a", "libmp3lame")
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(mp3.read_bytes()[:400])
    with pytest.raises(MediaRejected) as exc:
        ingest(broken, "broken.mp3", "audio")
    assert exc.value.code in ("corrupt", "truncated")
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(bytes(range(7, 250)) * 40)
    with pytest.raises(MediaRejected) as exc:
        ingest(noise, "noise.mp3", "audio")
    assert exc.value.code == "unsupported" and "hỏng" not in str(exc.value)


def test_a_playlist_is_never_handed_to_ffprobe(tmp_path):
    playlist = tmp_path / "list.m3u8"
    playlist.write_text("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    with pytest.raises(MediaRejected) as exc:
        ingest(playlist, "list.mp3", "audio")
    assert exc.value.code == "unsupported"
