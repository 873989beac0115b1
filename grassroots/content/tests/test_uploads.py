"""Uploads through the API: stored to incoming, queued, processed by the worker task."""

import io
import math
import struct
import wave
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult

from grassroots.content.choices import MediaStatus, Status
from grassroots.content.models import MediaAsset
from grassroots.content.tasks import process_media
from grassroots.core.testing import COMMUNE_A, assert_problem, call, token_for

from .conftest import make_bulletin

pytestmark = pytest.mark.django_db


def tone_wav(seconds: float = 2.0, freq: float = 440.0) -> bytes:
    """A real 16-bit mono WAV: a sine tone at a moderate level."""
    rate = 16000
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate)))
            for i in range(int(rate * seconds))
        )
        w.writeframes(frames)
    return buf.getvalue()


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, "PNG")
    return buf.getvalue()


def upload(client, user, bulletin, name, content, kind="audio"):
    return client.post(
        f"/api/v1/bulletins/{bulletin.pk}/media",
        {"file": SimpleUploadedFile(name, content), "kind": kind},
        HTTP_AUTHORIZATION=f"Bearer {token_for(user)}",
    )


def files_under(folder: str = "") -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / folder
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_upload_is_stored_and_queued_not_processed(client, users):
    bulletin = make_bulletin(COMMUNE_A, by=users["operator"])
    response = upload(client, users["operator"], bulletin, "thong-bao.wav", tone_wav())
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "pending" and data["sha256"] is None
    asset = MediaAsset.objects.get(pk=data["id"])
    assert asset.unit.code == COMMUNE_A and asset.bulletin == bulletin
    incoming = files_under("incoming")
    assert len(incoming) == 1 and incoming[0].suffix == ".wav"
    queued = DBTaskResult.objects.get(id=asset.task_id)
    assert queued.task_path.endswith("process_media")
    assert queued.args_kwargs["args"] == [asset.pk]
    # While a file is being processed the bulletin cannot go to approval.
    body = assert_problem(
        call(client, "post", f"/api/v1/bulletins/{bulletin.pk}/submit", user=users["operator"]),
        409,
    )
    assert "đang xử lý" in body["detail"]


def test_upload_scope_and_validation(client, users):
    other = make_bulletin("11977", by=users["operator2"])
    assert_problem(upload(client, users["operator"], other, "a.wav", tone_wav(0.2)), 404)
    mine = make_bulletin(COMMUNE_A, by=users["operator"])
    body = assert_problem(upload(client, users["operator"], mine, "a.wav", b""), 422)
    assert "0 byte" in body["detail"]
    body = assert_problem(upload(client, users["operator"], mine, "a.wav", b"x", kind="text"), 422)
    assert "Loại tệp" in body["detail"]
    submitted = make_bulletin(COMMUNE_A, status=Status.SUBMITTED)
    assert_problem(upload(client, users["operator"], submitted, "a.wav", tone_wav(0.2)), 409)
    assert files_under("incoming") == []
    assert not MediaAsset.objects.exists()


def test_worker_processes_the_upload(client, users):
    operator = users["operator"]
    bulletin = make_bulletin(COMMUNE_A, by=operator)
    asset_id = upload(client, operator, bulletin, "thong-bao.wav", tone_wav()).json()["id"]
    result = process_media.call(asset_id)
    assert result["status"] == MediaStatus.READY
    asset = MediaAsset.objects.get(pk=asset_id)
    assert asset.status == MediaStatus.READY and len(asset.sha256) == 64
    assert asset.kind == "audio" and 1.5 < asset.duration_seconds < 2.5
    assert (Path(settings.MEDIA_ROOT) / asset.file).is_file()
    assert "broadcast" in asset.renditions
    assert files_under("incoming") == []
    detail = call(client, "get", f"/api/v1/bulletins/media/{asset_id}", user=operator).json()
    assert detail["status"] == "ready" and detail["sha256"] == asset.sha256
    assert_problem(
        call(client, "get", f"/api/v1/bulletins/media/{asset_id}", user=users["operator2"]), 404
    )

    # Ready media are part of the content: the next revision carries their hash.
    submitted = call(client, "post", f"/api/v1/bulletins/{bulletin.pk}/submit", user=operator)
    assert submitted.status_code == 200, submitted.content
    bulletin.refresh_from_db()
    assert bulletin.current_revision.number == 2
    assert bulletin.current_revision.data["media"][0]["sha256"] == asset.sha256
    assert list(MediaAsset.objects.for_revision(bulletin.current_revision)) == [asset]

    # The same bytes again: stored once, the new row points at the first.
    second = make_bulletin(COMMUNE_A, by=operator, title="Tin khác")
    again = upload(client, operator, second, "ban-sao.wav", tone_wav()).json()["id"]
    process_media.call(again)
    copy = MediaAsset.objects.get(pk=again)
    assert copy.status == MediaStatus.READY and copy.sha256 is None
    assert copy.duplicate_of_id == asset_id and copy.content_sha256 == asset.sha256


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("anh.mp3", png_bytes(), "PNG"),
        ("hong.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40, "hỏng"),
    ],
)
def test_bad_upload_is_rejected_with_a_reason_and_nothing_stored(
    client, users, name, content, words
):
    operator = users["operator"]
    bulletin = make_bulletin(COMMUNE_A, by=operator)
    before = files_under()
    asset_id = upload(client, operator, bulletin, name, content).json()["id"]
    result = process_media.call(asset_id)
    asset = MediaAsset.objects.get(pk=asset_id)
    assert result["status"] == MediaStatus.REJECTED and asset.status == MediaStatus.REJECTED
    assert words in asset.error
    assert asset.sha256 is None and asset.file == ""
    # Neither the upload nor any half-made rendition is left behind.
    assert files_under() == [p for p in before if "incoming" not in p.parts]
    # A rejected file does not block the bulletin (it is not part of the content).
    response = call(client, "post", f"/api/v1/bulletins/{bulletin.pk}/submit", user=operator)
    assert response.status_code == 200
    detail = call(client, "get", f"/api/v1/bulletins/{bulletin.pk}", user=operator).json()
    assert detail["media"][0]["status"] == "rejected" and detail["media"][0]["error"]


def test_task_skips_unknown_or_finished_assets(users):
    assert process_media.call(999999)["status"] == "skipped"
