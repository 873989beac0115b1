"""Unit imports with the spreadsheets officers really have (core.sheets at the boundary)."""

import unicodedata

import pytest
from openpyxl import Workbook

from grassroots.units import importer
from grassroots.units.models import Unit


def xlsx(path, rows, formats=None):
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    wb.save(path)
    return path


@pytest.mark.django_db
def test_decomposed_unicode_kind_and_name_are_nfc(demo, tmp_path):
    nfd = unicodedata.normalize("NFD", "Xã")
    path = xlsx(
        tmp_path / "u.xlsx",
        [["code", "name", "kind", "parent_code"], ["99011", f"{nfd} Thử", nfd, "33"]],
    )
    result = importer.import_units(path)
    assert result.errors == []
    unit = Unit.objects.get(code="99011")
    assert unit.kind == "xa" and unit.name == "Xã Thử"


@pytest.mark.parametrize(
    ("name", "kind", "unicode"),
    [
        ("X· Hßa Héi", "X·", "Xã Hòa Hội"),  # TCVN3 (.VnTime)
        ("Xaõ Thaùi Hoøa", "Xaõ", "Xã Thái Hòa"),  # VNI-Times
    ],
    ids=["TCVN3", "VNI"],
)
@pytest.mark.django_db
def test_legacy_encodings_are_converted(demo, tmp_path, name, kind, unicode):
    path = xlsx(
        tmp_path / "u.xlsx",
        [["code", "name", "kind", "parent_code"], ["99012", name, kind, "33"]],
    )
    result = importer.import_units(path)
    assert result.errors == []
    assert Unit.objects.get(code="99012").name == unicode


@pytest.mark.django_db
def test_unconvertible_legacy_text_refuses_the_row_saying_so(demo, tmp_path):
    path = xlsx(
        tmp_path / "u.xlsx",
        [["code", "name", "kind", "parent_code"], ["99014", "X· H\xdfa ¿", "Xã", "33"]],
    )
    result = importer.import_units(path)
    assert any("Dòng 2" in e and "bảng mã cũ" in e for e in result.errors)
    assert not Unit.objects.filter(code="99014").exists()


@pytest.mark.django_db
def test_code_cells_are_read_as_excel_displays_them(demo, tmp_path):
    path = xlsx(
        tmp_path / "u.xlsx",
        [["code", "name", "kind", "parent_code"], [1234, "Xã Số Không", "Xã", 33]],
        formats={"A2": "00000", "D2": "00"},
    )
    result = importer.import_units(path)
    assert result.errors == []
    unit = Unit.objects.get(code="01234")
    assert unit.parent.code == "33"


@pytest.mark.django_db
def test_vietnamese_headers_under_a_title_row(demo, tmp_path):
    path = xlsx(
        tmp_path / "u.xlsx",
        [
            ["DANH SÁCH ĐƠN VỊ HÀNH CHÍNH CẤP XÃ (kèm theo Quyết định số 12/QĐ-UBND)"],
            [],
            ["Mã", "Tên", "Loại", "Mã cấp trên", "Vĩ độ", "Kinh độ"],
            ["99015", "Xã Tiêu Đề", "Xã", "33", 20.6, 106.1],
        ],
    )
    result = importer.import_units(path)
    assert result.errors == []
    assert Unit.objects.get(code="99015").latitude == pytest.approx(20.6)
    csv = tmp_path / "u.csv"
    csv.write_text("Danh sách\nMã,Tên,Loại,Mã cấp trên\n99016,Xã Csv,xã,33\n", encoding="utf-8")
    assert importer.import_units(csv).errors == []
    assert Unit.objects.filter(code="99016").exists()
