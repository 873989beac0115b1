"""Reading the spreadsheets officers really fill in, once for every importer.

- The header row may sit under a title ("DANH SÁCH ĐƠN VỊ HÀNH CHÍNH...") and may be written in
  Vietnamese or English ("Mã", "Mã đơn vị" or "code"): each column has a list of names.
- A cell is read as Excel displays it: a code 1234 with the number format `00000` is "01234",
  a whole number stored as 1201.0 is "1201", a date is "2025-07-01".
- A merged cell ("Mã đơn vị" merged over the rows of one commune) applies to every row it covers.
- Every text is cleaned (core.text: NFC, no control characters) and converted from the legacy
  Vietnamese encodings TCVN3 and VNI; text in a legacy encoding that cannot be converted is an
  error for that row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grassroots.units.text import fold

from .text import LegacyEncodingError, clean_text, file_encoding, from_legacy

HEADER_SCAN_ROWS = 10


@dataclass
class Column:
    """One column an importer takes: its field, the header names people write, and its kind."""

    field: str
    names: tuple[str, ...]
    required: bool = False
    code: bool = False  # code-like: read as displayed, never as a number

    @property
    def title(self) -> str:
        return self.names[0]


@dataclass
class Table:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (sheet row, values)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)
    unknown_headers: list[str] = field(default_factory=list)
    header_row: int = 0


_ZEROS = re.compile(r'^"?(0+)(?:\.(0+))?"?$')


def display(value: Any, number_format: str = "General") -> str:
    """The text Excel shows for a cell value under its number format (the cases importers meet)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        fmt = (number_format or "General").split(";")[0]
        zeros = _ZEROS.match(fmt)
        if zeros:  # "00000", "000000", "0.00"
            places = len(zeros.group(2) or "")
            text = f"{value:.{places}f}"
            whole, _, frac = text.partition(".")
            sign = "-" if whole.startswith("-") else ""
            whole = whole.lstrip("-").zfill(len(zeros.group(1)))
            return sign + whole + (f".{frac}" if frac else "")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return str(value)


def _grid_xlsx(data: bytes, sheet: str | None) -> list[list[str]]:
    from openpyxl import load_workbook

    # Not read_only: merged ranges and number formats are only known to the full reader.
    wb = load_workbook(io.BytesIO(data), data_only=True)
    ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
    grid = [
        [display(c.value, c.number_format) for c in row]
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column)
    ]
    for merged in ws.merged_cells.ranges:
        top = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                grid[r - 1][c - 1] = top
    return grid


def _grid_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Legacy files saved from the old fonts are 8-bit; their letters are converted below.
        text = data.decode("cp1252", errors="replace")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _header_index(cells: list[str], columns: list[Column]) -> dict[str, int]:
    folded = [fold(clean_text(c)) for c in cells]
    index: dict[str, int] = {}
    for col in columns:
        for name in col.names:
            if fold(name) in folded and col.field not in index:
                index[col.field] = folded.index(fold(name))
                break
    return index


def read_table(
    data: bytes, columns: list[Column], *, filename: str = ".xlsx", sheet: str | None = None
) -> Table:
    """Rows of the first table in the file whose header names the required columns."""
    grid = _grid_csv(data) if filename.lower().endswith(".csv") else _grid_xlsx(data, sheet)
    out = Table()
    required = [c for c in columns if c.required]
    best: tuple[int, dict[str, int]] = (0, {})
    for i, cells in enumerate(grid[:HEADER_SCAN_ROWS]):
        index = _header_index(cells, columns)
        if all(c.field in index for c in required) and index:
            best = (i + 1, index)
            break
        if len(index) > len(best[1]):
            best = (i + 1, index)
    out.header_row, index = best
    out.header_row = out.header_row or 1
    header = grid[out.header_row - 1] if grid else []
    used = set(index.values())
    out.unknown_headers = [h for i, h in enumerate(header) if h.strip() and i not in used]
    missing = [c for c in required if c.field not in index]
    if missing:
        for c in missing:
            out.errors.append(
                (
                    out.header_row,
                    c.title,
                    f"Thiếu cột '{c.title}' (có thể ghi: {', '.join(c.names)}).",
                )
            )
        return out
    body = grid[out.header_row :]
    legacy = file_encoding(c for cells in body for c in cells if c)
    for number, cells in enumerate(body, start=out.header_row + 1):
        row: dict[str, str] = {}
        for col in columns:
            i = index.get(col.field)
            value = cells[i] if i is not None and i < len(cells) else ""
            value = clean_text(value).strip()
            try:
                value = from_legacy(value, legacy)
            except LegacyEncodingError as exc:
                out.errors.append((number, col.title, f"Dòng {number}: {exc}"))
            row[col.field] = value
        if any(row.values()):
            out.rows.append((number, row))
    return out


def read_path(path: Path, columns: list[Column], **kw) -> Table:
    return read_table(path.read_bytes(), columns, filename=path.name, **kw)
