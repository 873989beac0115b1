"""The attendance list a training unit keeps (danh sách học viên), read from XLSX.

Read through core.sheets: the header may sit under a title, headers are Vietnamese (with or
without diacritics), merged cells ("Mã đơn vị" merged over one commune's rows) apply to every
row they cover, dates may be real dates or text typed as 05/03/2026. Every row is checked and
every error returned at once, in Vietnamese, with its sheet row; the caller saves nothing unless
the whole file is clean.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from grassroots.core.sheets import Column, read_table
from grassroots.units.text import fold

from .choices import Result

MAX_ROWS = 2_000
COLUMNS = [
    Column("number", ("STT", "Số thứ tự", "TT")),
    Column("unit_code", ("Mã đơn vị", "Mã ĐVHC", "Mã xã", "unit_code"), required=True, code=True),
    Column("unit_name", ("Tên đơn vị", "Đơn vị", "Xã, phường", "Xã/phường")),
    Column("full_name", ("Họ và tên", "Họ tên", "Học viên", "full_name"), required=True),
    Column("job_title", ("Chức danh", "Chức vụ")),
    Column("attended_on", ("Ngày dự", "Ngày học", "Ngày")),
    Column("result", ("Kết quả", "Kết quả học", "result"), required=True),
    Column("score", ("Điểm", "Điểm kiểm tra")),
    Column("note", ("Ghi chú",)),
    Column("signature", ("Ký tên", "Ký nhận", "Chữ ký")),
]
HEADERS = [
    "STT",
    "Mã đơn vị",
    "Tên đơn vị",
    "Họ và tên",
    "Chức danh",
    "Ngày dự",
    "Kết quả",
    "Điểm",
    "Ghi chú",
    "Ký tên",
]
RESULTS = (
    {fold(str(label)): value for value, label in Result.choices}
    | {fold(value): value for value in Result.values}
    | {"hoan thanh": Result.PASSED, "dat yeu cau": Result.PASSED, "khong hoan thanh": Result.FAILED}
)
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.column, "message": self.message}


@dataclass
class Row:
    number: int
    unit_code: str
    full_name: str
    result: str
    attended_on: dt.date | None = None
    score: Decimal | None = None
    note: str = ""


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_day(text: str) -> dt.date:
    """A day written as Excel shows a date cell (2026-03-05) or as an officer types it
    (05/03/2026, 5-3-2026, 05.03.2026: day first, as in Vietnam). ValueError otherwise."""
    text = text.strip()
    m = _DMY.match(text)
    if m:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text[:10]):
        return dt.date.fromisoformat(text[:10])
    raise ValueError(text)


def read(data: bytes, *, filename: str = ".xlsx") -> Parsed:
    """Rows of the attendance list, or every error found (row, column, Vietnamese message)."""
    out = Parsed()
    try:
        table = read_table(data, COLUMNS, filename=filename)
    except Exception:  # noqa: BLE001 - any unreadable upload gets the same answer
        out.errors.append(
            RowError(0, "tệp", "Không đọc được tệp: hãy tải lên tệp Excel .xlsx (không mật khẩu).")
        )
        return out
    for row, column, message in table.errors:
        if not table.rows:
            message += f" Mẫu danh sách có các cột: {', '.join(HEADERS)}."
        out.errors.append(RowError(row, column, message))
    for h in table.unknown_headers:
        out.errors.append(
            RowError(
                table.header_row,
                h,
                f"Cột '{h}' không có trong mẫu danh sách học viên; hãy xoá cột này hoặc đổi tên "
                f"cho đúng mẫu ({', '.join(HEADERS)}).",
            )
        )
    if table.unknown_headers or (out.errors and not table.rows):
        return out
    if not table.rows:
        out.errors.append(RowError(table.header_row, "", "Danh sách không có học viên nào."))
        return out
    for number, raw in table.rows:
        if len(out.rows) >= MAX_ROWS:
            out.errors.append(RowError(number, "", f"Tệp quá {MAX_ROWS} dòng; hãy chia nhỏ."))
            break
        row = _row(number, raw, out.errors)
        if row is not None:
            out.rows.append(row)
    return out


def _row(number: int, raw: dict[str, str], errors: list[RowError]) -> Row | None:
    before = len(errors)

    def err(column: str, message: str) -> None:
        errors.append(RowError(number, column, f"Dòng {number}: {message}"))

    if not raw.get("full_name") and not raw.get("result") and raw.get("number", "") == "":
        return None  # a line holding only a merged unit code or a signature: not a trainee
    for fname, title in (
        ("unit_code", "Mã đơn vị"),
        ("full_name", "Họ và tên"),
        ("result", "Kết quả"),
    ):
        if not raw.get(fname):
            err(title, f"cột '{title}' không được để trống.")
    result = RESULTS.get(fold(raw.get("result", ""))) if raw.get("result") else None
    if raw.get("result") and result is None:
        err(
            "Kết quả",
            f"'{raw['result']}' không hợp lệ ở cột 'Kết quả' (ghi: Đạt, Không đạt hoặc Vắng).",
        )
    attended_on = None
    if raw.get("attended_on"):
        try:
            attended_on = parse_day(raw["attended_on"])
        except ValueError:
            err(
                "Ngày dự",
                f"'{raw['attended_on']}' không phải ngày có thật; hãy ghi ngày dạng "
                "ngày/tháng/năm, ví dụ 05/03/2026.",
            )
    score = None
    if raw.get("score"):
        try:
            score = Decimal(raw["score"].replace(",", "."))
            if not Decimal(0) <= score <= Decimal(10):
                raise InvalidOperation
        except InvalidOperation:
            err("Điểm", f"'{raw['score']}' không hợp lệ ở cột 'Điểm' (số từ 0 đến 10, ví dụ 8,5).")
    if len(raw.get("full_name", "")) > 200:
        err("Họ và tên", "họ và tên dài quá 200 ký tự.")
    if len(errors) > before:
        return None
    return Row(
        number=number,
        unit_code=raw["unit_code"],
        full_name=" ".join(raw["full_name"].split()),
        result=result,
        attended_on=attended_on,
        score=score,
        note=raw.get("note", "")[:500],
    )


def template() -> bytes:
    """An empty attendance list with the headers `read` expects (to hand to training units)."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách học viên"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, w in enumerate([6, 12, 26, 28, 24, 12, 12, 8, 24, 12]):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
