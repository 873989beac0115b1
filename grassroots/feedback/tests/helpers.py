"""Test helpers: reports made through the same action the citizen app uses, and images."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from grassroots.core.testing import COMMUNE_A, unit
from grassroots.feedback import actions
from grassroots.feedback.models import Category, Report


def category(code: str = "moi-truong") -> Category:
    actions.ensure_default_categories()  # a transactional test elsewhere may have flushed them
    return Category.objects.get(code=code)


def make_report(unit_code: str = COMMUNE_A, text: str = "Rác thải ở đầu ngõ 5", **kw) -> Report:
    kw.setdefault("category", category())
    return actions.submit_report(text=text, unit=unit(unit_code), **kw)


def jpeg_bytes(size=(640, 480), color=(30, 120, 200), gps: bool = False) -> bytes:
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    if gps:
        exif[0x8825] = {
            1: "N",
            2: (20.0, 40.0, 30.0),
            3: "E",
            4: (106.0, 3.0, 0.0),
        }
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(data: bytes | None = None, name: str = "anh.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else jpeg_bytes(), content_type)
