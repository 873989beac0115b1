"""Import a unit list from CSV or XLSX so a province can correct or extend its tree.

Columns (header row, any order, in English or Vietnamese, a title above is fine): code, name,
kind, parent_code, valid_from, valid_to, latitude, longitude (Mã, Tên, Loại, Mã cấp trên,
Hiệu lực từ, Hiệu lực đến, Vĩ độ, Kinh độ). Every row is checked first; if any row has an
error nothing is saved. Reading (codes as displayed, merged cells, legacy encodings): core.sheets.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.core.sheets import Column, read_path

from .choices import UnitKind
from .models import Unit

REQUIRED = ("code", "name", "kind")
COLUMNS = ("code", "name", "kind", "parent_code", "valid_from", "valid_to", "latitude", "longitude")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


TABLE = [
    Column("code", ("code", "Mã", "Mã đơn vị", "Mã ĐVHC", "Mã số"), required=True, code=True),
    Column("name", ("name", "Tên", "Tên đơn vị", "Tên ĐVHC"), required=True),
    Column("kind", ("kind", "Loại", "Cấp", "Loại đơn vị"), required=True),
    Column(
        "parent_code",
        ("parent_code", "Mã cấp trên", "Mã đơn vị cấp trên", "Mã tỉnh"),
        code=True,
    ),
    Column("valid_from", ("valid_from", "Hiệu lực từ", "Từ ngày", "Ngày hiệu lực")),
    Column("valid_to", ("valid_to", "Hiệu lực đến", "Đến ngày", "Ngày hết hiệu lực")),
    Column("latitude", ("latitude", "Vĩ độ", "lat")),
    Column("longitude", ("longitude", "Kinh độ", "long", "lon")),
]


def _read_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    table = read_path(path, TABLE)
    return table.rows, [message for _row, _col, message in table.errors]


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
        rows, errors = _read_rows(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        result.errors.append(f"Không đọc được tệp: {exc}")
        return result
    if errors and not rows:
        result.errors.extend(errors)
        result.errors.append(f"Các cột: {', '.join(COLUMNS)} (hoặc tên tiếng Việt: Mã, Tên, Loại).")
        return result
    if not rows:
        result.errors.append("Tệp không có dòng dữ liệu nào.")
        return result
    result.errors.extend(errors)

    seen: set[str] = set()
    file_codes = {r.get("code", "") for _line, r in rows}
    plan = []
    for line, row in rows:
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
