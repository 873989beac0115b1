"""What the KPI and yearly-report tests share: the report year, the closing texts, the people who
write and review on the hand-made province of dataset.py, and the PDF read back as text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from grassroots.core.testing import make_user

from .dataset import build_all

YEAR = 2026
CLOSING = {"assessment": "Hoàn thành cơ bản.", "next_year": "Lắp thêm bảng tin.",
           "proposals": "Đề nghị hỗ trợ kinh phí."}  # fmt: skip


@pytest.fixture
def world():
    """dataset.build_all() with the yearly report's people: a ward writer, a second
    commune's writer and the province reviewer."""
    w = build_all()
    w.writer = make_user("canbo-phuong", permissions=["kpi.view", "kpi.report"],
                         unit_code="99001")  # fmt: skip
    w.writer.email = "canbo@phuongmot.example"
    w.writer.save()
    w.other = make_user("canbo-xa-hai", permissions=["kpi.view", "kpi.report"],
                        unit_code="99002")  # fmt: skip
    w.reviewer = make_user("so-vhttdl", permissions=["kpi.view", "kpi.review", "kpi.report"],
                           unit_code="99")  # fmt: skip
    w.reviewer.email = "tonghop@sovhttdl.example"
    w.reviewer.save()
    return w


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext lays it out (poppler-utils)."""
    path = tmp_path / "bao-cao.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")
