"""Long bulletins are previewable part by part; the CLI prints only what it was asked."""

import os
import subprocess
import sys

import pytest

from grassroots.content.actions import MAX_BODY, MAX_TTS_TEXT, preview_parts
from grassroots.core.testing import assert_problem, call

pytestmark = pytest.mark.django_db

PARAGRAPH = "Ủy ban nhân dân xã thông báo lịch tiêm phòng cho đàn gia súc tại các thôn. " * 20
LONG = "\n".join(f"Mục {i}. {PARAGRAPH}" for i in range(1, 34))  # about 50,000 characters


def test_parts_cover_the_whole_text_at_sentence_ends():
    assert 45_000 < len(LONG) <= MAX_BODY
    parts = preview_parts(LONG)
    assert len(parts) >= 10 and all(len(p) <= MAX_TTS_TEXT for p in parts)
    assert " ".join(parts).split() == LONG.split()
    assert all(p.endswith(".") for p in parts)


def test_api_previews_a_50000_character_bulletin_in_parts(client, users):
    def preview(part):
        return call(
            client,
            "post",
            "/api/v1/bulletins/tts/preview",
            user=users["editor"],
            body={"text": LONG, "part": part},
        )

    first = preview(1)
    assert first.status_code == 200, first.content
    parts = first.json()["parts"]
    assert parts == len(preview_parts(LONG)) and first.json()["part"] == 1
    last = preview(parts).json()
    assert last["part"] == parts and "mục ba mươi ba" in last["reading_text"].lower()
    assert "vượt" not in last["reading_text"]
    assert "chọn từ 1 đến" in assert_problem(preview(parts + 1), 422)["detail"]


def test_console_preview_shows_progress_and_next_part(client, users):
    client.force_login(users["editor"])
    page = client.post("/ban-tin/doc-thu/", {"title": "Lịch tiêm", "body": LONG}).content.decode()
    assert 'id="tts-reading"' in page and 'id="tts-next"' in page and "Phần 1/" in page
    page = client.post("/ban-tin/doc-thu/", {"body": LONG, "part": "3"}).content.decode()
    assert "Phần 3/" in page and "Phần trước" in page


def test_cli_prints_only_the_reading_text():
    env = {**os.environ, "LOG_LEVEL": "INFO"}
    proc = subprocess.run(
        [sys.executable, "-m", "grassroots", "tts", "normalize", "UBND xã họp lúc 14h30"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert proc.stdout.strip() == "Ủy ban nhân dân xã họp lúc mười bốn giờ ba mươi phút"
    assert proc.stderr == ""
