"""The inventory workbook (rà soát thực trạng) a commune fills in: columns, reading, writing.

Reading goes through core.sheets: a title above the header, Vietnamese or English headers,
codes as Excel shows them, merged cells on every row they cover, legacy encodings converted.

Reading checks every row and returns all errors at once; the caller saves nothing unless the
whole file is clean.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from grassroots.core.sheets import Column, read_table
from grassroots.core.text import xml_text
from grassroots.units.text import fold

from .choices import Condition, DeviceKind, Technology

SHEET = "Thiết bị"
COLUMNS: list[tuple[str, str, bool]] = [
    # (field, header, required)
    ("unit_code", "Mã đơn vị", True),
    ("unit_name", "Tên đơn vị", False),
    ("kind", "Loại thiết bị", True),
    ("name", "Tên thiết bị", True),
    ("serial", "Số sê-ri", True),
    ("technology", "Công nghệ", True),
    ("condition", "Tình trạng", False),
    ("latitude", "Vĩ độ", False),
    ("longitude", "Kinh độ", False),
    ("install_year", "Năm lắp đặt", False),
    ("supplier", "Nhà cung cấp", False),
    ("sim_network", "SIM/mạng", False),
    ("notes", "Ghi chú", False),
]
HEADERS = [h for _f, h, _r in COLUMNS]
MAX_ROWS = 20_000


def _lookup(choices) -> dict[str, str]:
    table = {}
    for value, label in choices.choices:
        table[fold(str(value))] = value
        table[fold(str(label))] = value
    return table


KINDS = {**_lookup(DeviceKind), "loa": DeviceKind.SPEAKER, "bang tin": DeviceKind.BOARD}
TECHS = {
    **_lookup(Technology),
    "ip": Technology.IP_4G,
    "4g": Technology.IP_4G,
    "ip 4g": Technology.IP_4G,
    "ung dung cntt-vt": Technology.IP_4G,
    "day": Technology.WIRED,
    "huu tuyen": Technology.WIRED,
    "khong day fm": Technology.FM,
}
CONDITIONS = {**_lookup(Condition), "tot": Condition.WORKING, "hong hoc": Condition.BROKEN}


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.column, "message": self.message}


@dataclass
class Parsed:
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# Other names people give the columns (English field names, short Vietnamese forms).
ALIASES: dict[str, tuple[str, ...]] = {
    "unit_code": ("Mã", "Mã xã", "Mã ĐVHC"),
    "unit_name": ("Tên", "Tên xã", "Tên ĐVHC", "Đơn vị"),
    "kind": ("Loại",),
    "name": ("Thiết bị",),
    "serial": ("Sê-ri", "Số seri", "Serial", "Số serial"),
    "install_year": ("Năm lắp",),
    "sim_network": ("Mạng", "SIM"),
}
CODE_COLUMNS = ("unit_code", "serial")
TABLE = [
    Column(f, (title, f, *ALIASES.get(f, ())), required=required, code=f in CODE_COLUMNS)
    for f, title, required in COLUMNS
]


def read(data: bytes) -> Parsed:
    """Parse the workbook into row dicts (choices resolved), collecting every error."""
    out = Parsed()
    try:
        table = read_table(data, TABLE, sheet=SHEET)
    except Exception:  # noqa: BLE001 - any unreadable upload gets the same answer
        out.errors.append(RowError(0, "tệp", "Không đọc được tệp: hãy tải lên tệp Excel .xlsx."))
        return out
    for row, column, message in table.errors:
        if not table.rows:  # the header itself is wrong
            message += f" Hãy dùng đúng mẫu: {', '.join(HEADERS)}."
        out.errors.append(RowError(row, column, message))
    for h in table.unknown_headers:
        out.errors.append(
            RowError(
                table.header_row,
                h,
                f"Cột '{h}' không có trong mẫu; hãy xoá cột này hoặc dùng đúng mẫu.",
            )
        )
    if out.errors and not table.rows or table.unknown_headers:
        return out
    for number, raw in table.rows:
        if number > MAX_ROWS:
            out.errors.append(RowError(number, "", f"Tệp quá {MAX_ROWS} dòng; hãy chia nhỏ."))
            break
        out.rows.append((number, _row(number, raw, out.errors)))
    return out


def _row(number: int, raw: dict[str, Any], errors: list[RowError]) -> dict[str, Any]:
    row: dict[str, Any] = {}

    def err(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    for fname, title, required in COLUMNS:
        value = _text(raw.get(fname))
        if required and not value:
            err(title, f"Dòng {number}: cột '{title}' không được để trống.")
        row[fname] = value
    for fname, table, title, allowed in (
        ("kind", KINDS, "Loại thiết bị", "Cụm loa, Bảng tin điện tử"),
        ("technology", TECHS, "Công nghệ", "IP/4G, Có dây, FM, Khác"),
        ("condition", CONDITIONS, "Tình trạng", "Hoạt động tốt, Xuống cấp, Hỏng"),
    ):
        if not row[fname]:
            continue
        value = table.get(fold(row[fname]))
        if value is None:
            err(title, f"Dòng {number}: '{row[fname]}' không hợp lệ ở cột '{title}' ({allowed}).")
        row[fname] = value
    for fname, title, lo, hi in (("latitude", "Vĩ độ", 8, 24), ("longitude", "Kinh độ", 102, 110)):
        if row[fname]:
            try:
                row[fname] = float(row[fname].replace(",", "."))
                if not lo <= row[fname] <= hi:
                    raise ValueError
            except ValueError:
                err(title, f"Dòng {number}: '{title}' phải là số thập phân trong Việt Nam.")
        else:
            row[fname] = None
    if row["install_year"]:
        try:
            row["install_year"] = int(row["install_year"])
            if not 1950 <= row["install_year"] <= 2100:
                raise ValueError
        except ValueError:
            err("Năm lắp đặt", f"Dòng {number}: năm lắp đặt phải là năm, ví dụ 2021.")
    else:
        row["install_year"] = None
    if len(row["serial"]) > 100:
        err("Số sê-ri", f"Dòng {number}: số sê-ri dài quá 100 ký tự.")
    row["name"] = row["name"][:200]
    return row


def write(devices) -> bytes:
    """The inventory workbook for these devices, in the same format `read` accepts."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for d in devices:
        values = [
            d.unit.code,
            d.unit.name,
            d.get_kind_display(),
            d.name,
            d.serial,
            d.get_technology_display(),
            d.get_condition_display(),
            d.latitude,
            d.longitude,
            d.install_year,
            d.supplier,
            d.sim_network,
            d.notes,
        ]
        # A row stored before text was cleaned at entry must not break the workbook's XML.
        ws.append([xml_text(v) if isinstance(v, str) else v for v in values])
    for col, choices in (("C", DeviceKind), ("F", Technology), ("G", Condition)):
        labels = ",".join(str(label) for _v, label in choices.choices)
        dv = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True)
        dv.add(f"{col}2:{col}{MAX_ROWS}")
        ws.add_data_validation(dv)
    widths = [10, 28, 16, 30, 20, 12, 15, 10, 10, 12, 24, 16, 30]
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
