"""Finding 14.8: limits act before reading.

A 200 MB body declared as an image was read in full before the 413; a 212 KB PNG of 7070×7070
RGBA took the task worker from 93 MB to 923 MB; a 1,000-character file name gave 500.
"""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from grassroots.content.media import MediaRejected, ingest
from grassroots.core.testing import COMMUNE_A, assert_problem, call, token_for

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


@pytest.fixture
def draft(client, users):
    body = {"unit_code": COMMUNE_A, "title": "Thông báo", "body": "<p>Nội dung</p>"}
    res = call(client, "post", "/api/v1/bulletins", user=users["operator"], body=body)
    assert res.status_code == 201, res.content
    return res.json()["id"]


def test_declared_length_over_the_limit_is_refused_before_reading(client, users, draft):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(users['operator'])}"}
    # The client claims 200 MB (as an image) but sends a few bytes: nothing may wait for them.
    small = encode_multipart(BOUNDARY, {"kind": "image"})
    res = client.generic(
        "POST",
        f"/api/v1/bulletins/{draft}/media?kind=image",
        small,
        content_type=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(200 * MB),
        **auth,
    )
    assert "25 MB" in assert_problem(res, 413)["detail"]
    # Anywhere else the ceiling is small: a 200 MB JSON body is refused from its header.
    res = client.generic(
        "POST",
        "/api/v1/schedules",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(200 * MB),
        **auth,
    )
    assert_problem(res, 413)


class CountingPayload(io.BytesIO):
    """The request body as the server reads it, counting the bytes taken."""

    taken = 0

    def read(self, size=-1):
        data = super().read(size)
        self.taken += len(data)
        return data


def test_an_image_part_stops_streaming_at_the_image_limit(client, users, draft, settings):
    settings.GRASSROOTS_MEDIA_LIMITS = {"image": {"max_bytes": 2 * MB}}
    body = _multipart(
        {"kind": "image"}, "file", "anh.png", b"\x89PNG" + b"\0" * (8 * MB), "image/png"
    )
    payload = CountingPayload(body)
    res = client.generic(
        "POST",
        f"/api/v1/bulletins/{draft}/media",
        b"",
        CONTENT_TYPE=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(len(body)),
        HTTP_AUTHORIZATION=f"Bearer {token_for(users['operator'])}",
        **{"wsgi.input": payload},
    )
    assert "2 MB" in assert_problem(res, 413)["detail"]
    assert payload.taken < 3 * MB, f"read {payload.taken} of {len(body)} bytes"


def _multipart(fields: dict, file_field: str, file_name: str, data: bytes, ctype: str) -> bytes:
    """A multipart body written by hand: Django's test client would cut the name to 255."""
    lines = []
    for key, value in fields.items():
        lines += [f"--{BOUNDARY}", f'Content-Disposition: form-data; name="{key}"', "", value]
    head = "\r\n".join(
        [
            *lines,
            f"--{BOUNDARY}",
            f'Content-Disposition: form-data; name="{file_field}"; filename="{file_name}"',
            f"Content-Type: {ctype}",
            "",
            "",
        ]
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("length, status", [(400, 422), (1000, 400)])
def test_a_very_long_file_name_is_answered_in_vietnamese(client, users, draft, length, status):
    name = "x." + "a" * length
    body = _multipart({"kind": "audio"}, "file", name, b"ID3" + b"\0" * 100, "audio/mpeg")
    res = client.generic(
        "POST",
        f"/api/v1/bulletins/{draft}/media",
        body,
        content_type=MULTIPART_CONTENT,
        HTTP_AUTHORIZATION=f"Bearer {token_for(users['operator'])}",
    )
    assert "ên tệp" in assert_problem(res, status)["detail"]
    # The citizen form too: a page in Vietnamese, never a 500.
    name = "b" * length + ".jpg"
    body = _multipart({"text": "Cống tắc"}, "photos", name, b"\xff\xd8", "image/jpeg")
    res = client.generic("POST", "/phan-anh/", body, content_type=MULTIPART_CONTENT)
    assert res.status_code == status and "ên tệp" in res.content.decode()


def _png_header_only_bomb(width: int, height: int) -> bytes:
    """A valid RGBA PNG of width×height whose pixels are all zero, built row by row so the test
    itself never holds the decoded image (7070×7070 RGBA is 200 MB decoded, ~200 KB on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\0" * (1 + width * 4)
    out = io.BytesIO()
    for _ in range(height):
        out.write(comp.compress(row))
    out.write(comp.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", out.getvalue())
        + chunk(b"IEND", b"")
    )


def test_decoded_memory_is_bounded_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only_bomb(7070, 7070))
    assert path.stat().st_size < 1 * MB
    with pytest.raises(MediaRejected) as info:
        ingest(path, "bomb.png", "image")
    assert info.value.code == "too_much_memory", info.value.message
    assert "7070×7070" in info.value.message


def test_citizen_photo_memory_is_bounded(client):
    from django.core.exceptions import ValidationError

    from grassroots.feedback import photos

    data = _png_header_only_bomb(6000, 6000)  # 36 MP: under the pixel limit, 144 MB decoded
    upload = SimpleUploadedFile("x.png", data, content_type="image/png")
    with pytest.raises(ValidationError):
        photos.process(upload, keep_location=False)
