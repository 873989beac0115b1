"""Every dashboard table as XLSX (openpyxl) or CSV (UTF-8 with BOM, so Excel reads Vietnamese)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from django.http import HttpResponse
from django.utils import timezone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("xlsx", "csv")


def _cell(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # never a formula in a spreadsheet a person opens
    return value


def response(fmt: str, filename: str, title: str, headers: list[str], rows) -> HttpResponse:
    """The table as a download; `fmt` is 'xlsx' or 'csv' (checked by the caller)."""
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        out = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook(write_only=False)
        ws = wb.active
        ws.title = title[:31]
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(v) for v in row])
        for i, header in enumerate(headers, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(header) + 2)
        buffer = io.BytesIO()
        wb.save(buffer)
        out = HttpResponse(buffer.getvalue(), content_type=XLSX)
    out["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return out
