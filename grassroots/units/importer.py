"""Import a unit list from CSV or XLSX so a province can correct or extend its tree.

Columns (header row, any order): code, name, kind, parent_code, valid_from, valid_to, latitude,
longitude. Every row is checked first; if any row has an error nothing is saved.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from grassroots.core import audit
from grassroots.core.models import ChangeAction

from .choices import UnitKind
from .models import Unit

REQUIRED = ("code", "name", "kind")
COLUMNS = ("code", "name", "kind", "parent_code", "valid_from", "valid_to", "latitude", "longitude")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _read_rows(path: Path) -> list[dict[str, str]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        rows = list(wb.active.iter_rows(values_only=True))
        if not rows:
            return []
        header = [str(h or "").strip().lower() for h in rows[0]]
        return [
            {
                header[i]: "" if v is None else str(v).strip()
                for i, v in enumerate(r)
                if i < len(header)
            }
            for r in rows[1:]
            if any(v not in (None, "") for v in r)
        ]
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [f.strip().lower() for f in (reader.fieldnames or [])]
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def _date(value: str, col: str, errors: list[str], line: int) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        errors.append(f"Dòng {line}: cột {col} phải là ngày dạng YYYY-MM-DD, nhận '{value}'.")
        return None


def _float(value: str, col: str, lo: float, hi: float, errors: list[str], line: int):
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        errors.append(f"Dòng {line}: cột {col} phải là số, nhận '{value}'.")
        return None
    if not lo <= number <= hi:
        errors.append(f"Dòng {line}: cột {col} phải trong khoảng {lo}..{hi}.")
    return number


def import_units(path: Path, *, user=None, source: str = "") -> ImportResult:
    """Validate every row, then create or update units in one transaction (all or nothing)."""
    result = ImportResult()
    if path.suffix.lower() not in (".csv", ".xlsx"):
        result.errors.append("Tệp phải là .csv hoặc .xlsx.")
        return result
    try:
        rows = _read_rows(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        result.errors.append(f"Không đọc được tệp: {exc}")
        return result
    if not rows:
        result.errors.append("Tệp không có dòng dữ liệu nào.")
        return result
    missing = [c for c in REQUIRED if c not in rows[0]]
    if missing:
        result.errors.append(f"Thiếu cột: {', '.join(missing)}. Các cột: {', '.join(COLUMNS)}.")
        return result

    seen: set[str] = set()
    file_codes = {r.get("code", "") for r in rows}
    plan = []
    for line, row in enumerate(rows, start=2):
        errs: list[str] = []
        code = row.get("code", "")
        if not code or not code.isdigit() or len(code) > 16:
            errs.append(f"Dòng {line}: mã đơn vị '{code}' phải là dãy số.")
        if code in seen:
            errs.append(f"Dòng {line}: mã {code} bị lặp trong tệp.")
        seen.add(code)
        if not row.get("name") or len(row["name"]) > 200:
            errs.append(f"Dòng {line}: tên đơn vị trống hoặc dài quá 200 ký tự.")
        try:
            kind = UnitKind.from_label(row.get("kind", ""))
        except ValueError:
            errs.append(
                f"Dòng {line}: loại '{row.get('kind')}' không hợp lệ (xã, phường, tỉnh...)."
            )
            kind = None
        parent_code = row.get("parent_code", "")
        if (
            parent_code
            and parent_code not in file_codes
            and not Unit.objects.filter(code=parent_code, valid_to__isnull=True).exists()
        ):
            errs.append(f"Dòng {line}: đơn vị cấp trên mã {parent_code} không tồn tại.")
        valid_from = _date(row.get("valid_from", ""), "valid_from", errs, line)
        valid_to = _date(row.get("valid_to", ""), "valid_to", errs, line)
        lat = _float(row.get("latitude", ""), "latitude", -90, 90, errs, line)
        lon = _float(row.get("longitude", ""), "longitude", -180, 180, errs, line)
        result.errors.extend(errs)
        plan.append((code, row.get("name", ""), kind, parent_code, valid_from, valid_to, lat, lon))
    if result.errors:
        return result

    with transaction.atomic():
        by_code: dict[str, Unit] = {}
        # Parents first: rows whose parent is outside the file, then the rest.
        pending = list(plan)
        while pending:
            progressed = False
            for item in list(pending):
                code, name, kind, parent_code, vf, vt, lat, lon = item
                if parent_code and parent_code in file_codes and parent_code not in by_code:
                    continue
                parent = by_code.get(parent_code) or (
                    Unit.objects.filter(code=parent_code, valid_to__isnull=True).first()
                    if parent_code
                    else None
                )
                unit = Unit.objects.filter(code=code, valid_to__isnull=True).first()
                before = audit.snapshot(unit) if unit else None
                unit = unit or Unit(code=code)
                unit.name, unit.kind, unit.parent = name, kind, parent
                unit.valid_from, unit.valid_to, unit.latitude, unit.longitude = vf, vt, lat, lon
                unit.source = source or f"nhập từ {path.name}"
                unit.save()
                audit.record(
                    unit,
                    ChangeAction.UPDATE if before else ChangeAction.CREATE,
                    user=user,
                    before=before,
                )
                if before:
                    result.updated += 1
                else:
                    result.created += 1
                by_code[code] = unit
                pending.remove(item)
                progressed = True
            if not progressed:
                transaction.set_rollback(True)
                result.errors.append("Quan hệ cấp trên trong tệp bị vòng lặp.")
                result.created = result.updated = 0
                return result
    return result
