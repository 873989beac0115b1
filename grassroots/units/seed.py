"""Seed data for the unit tree: generated from the `vietnamadminunits` package, loaded idempotently.

`generate()` reads the package's bundled dataset (MIT licence) and writes a JSON file that records
its source; `load()` reads that JSON into the database and can be run any number of times.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from django.db import transaction

from .choices import UnitKind
from .models import Unit, UnitChange

SEED_DIR = Path(__file__).parent / "seed"
REFORM_DATE = "2025-07-01"
REFORM_RESOLUTION = "Nghị quyết 1666/NQ-UBTVQH15 ngày 16/6/2025"
PROVINCE_RESOLUTION = "Nghị quyết 202/2025/QH15 ngày 12/6/2025"
PACKAGE = "vietnamadminunits"


def seed_path(province_code: str) -> Path:
    return SEED_DIR / f"units-{province_code}.json"


def _rows(sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    db = resources.files(PACKAGE) / "data" / "dataset.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def _converter() -> dict[str, Any]:
    path = resources.files(PACKAGE) / "data" / "converter_2025.json"
    return json.loads(path.read_text(encoding="utf-8"))


def generate(province_code: str = "33") -> dict[str, Any]:
    """Build the seed for one (new) province, with the former provinces it absorbed as history."""
    version = metadata.version(PACKAGE)
    current = _rows(
        "SELECT DISTINCT * FROM admin_units WHERE provinceCode = ? ORDER BY wardCode",
        (province_code,),
    )
    if not current:
        raise ValueError(f"Không có dữ liệu cho tỉnh mã {province_code} trong {PACKAGE}.")
    head = current[0]
    units: list[dict[str, Any]] = [
        {
            "key": province_code,
            "code": province_code,
            "name": head["province"],
            "kind": UnitKind.PROVINCE,
            "parent": None,
            "lat": head["provinceLat"],
            "lon": head["provinceLon"],
            "valid_from": REFORM_DATE,
        }
    ]
    new_by_key: dict[str, str] = {}
    for row in current:
        units.append(
            {
                "key": row["wardCode"],
                "code": row["wardCode"],
                "name": row["ward"],
                "kind": UnitKind.from_label(row["wardType"]),
                "parent": province_code,
                "lat": row["wardLat"],
                "lon": row["wardLon"],
                "area_km2": row["wardAreaKm2"],
                "valid_from": REFORM_DATE,
            }
        )
        new_by_key[row["wardKey"]] = row["wardCode"]

    conv = _converter()
    province_key = head["provinceKey"]
    old_province_keys = conv["DICT_PROVINCE"][province_key]
    placeholders = ",".join("?" * len(old_province_keys))  # only "?" marks, values bound
    legacy = _rows(
        f"SELECT DISTINCT * FROM admin_units_legacy WHERE provinceKey IN ({placeholders}) "  # noqa: S608
        "ORDER BY wardCode",
        tuple(old_province_keys),
    )
    changes: list[dict[str, Any]] = []
    seen: set[str] = set()
    legacy_key_of: dict[str, str] = {}
    for row in legacy:
        pkey = f"L{row['provinceCode']}"
        if pkey not in seen:
            seen.add(pkey)
            units.append(
                {
                    "key": pkey,
                    "code": row["provinceCode"],
                    "name": row["province"],
                    "kind": UnitKind.PROVINCE,
                    "parent": None,
                    "lat": row["provinceLat"],
                    "lon": row["provinceLon"],
                    "valid_to": REFORM_DATE,
                }
            )
            changes.append(
                {
                    "from": pkey,
                    "to": province_code,
                    "partial": False,
                    "resolution": PROVINCE_RESOLUTION,
                }
            )
        dkey = f"L{row['districtCode']}"
        if dkey not in seen:
            seen.add(dkey)
            units.append(
                {
                    "key": dkey,
                    "code": row["districtCode"],
                    "name": row["district"],
                    "kind": UnitKind.from_label(row["districtType"]),
                    "parent": pkey,
                    "lat": row["districtLat"],
                    "lon": row["districtLon"],
                    "valid_to": REFORM_DATE,
                }
            )
        if not row["wardCode"]:
            continue
        wkey = f"L{row['wardCode']}"
        units.append(
            {
                "key": wkey,
                "code": row["wardCode"],
                "name": row["ward"],
                "kind": UnitKind.from_label(row["wardType"]),
                "parent": dkey,
                "lat": row["wardLat"],
                "lon": row["wardLon"],
                "valid_to": REFORM_DATE,
            }
        )
        legacy_key_of[f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}"] = wkey

    for new_key, olds in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].get(province_key, {}).items():
        for old in olds:
            if old in legacy_key_of and new_key in new_by_key:
                changes.append(
                    {
                        "from": legacy_key_of[old],
                        "to": new_by_key[new_key],
                        "partial": False,
                        "resolution": REFORM_RESOLUTION,
                    }
                )
    for old, targets in conv["DICT_PROVINCE_WARD_DIVIDED"].get(province_key, {}).items():
        for target in targets:
            if old in legacy_key_of and target["newWardKey"] in new_by_key:
                changes.append(
                    {
                        "from": legacy_key_of[old],
                        "to": new_by_key[target["newWardKey"]],
                        "partial": True,
                        "resolution": REFORM_RESOLUTION,
                    }
                )
    return {
        "source": f"{PACKAGE} {version} (MIT), bảng admin_units, admin_units_legacy và "
        "converter_2025.json",
        "generated_at": datetime.date.today().isoformat(),
        "province": province_code,
        "units": units,
        "changes": changes,
    }


def write(province_code: str = "33", path: Path | None = None) -> Path:
    data = generate(province_code)
    path = path or seed_path(province_code)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


@transaction.atomic
def load(path: Path) -> dict[str, int]:
    """Create or update the units and changes of a seed file; returns counts of what it did."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    source = data["source"]
    by_key: dict[str, Unit] = {}
    created = updated = 0
    for item in data["units"]:
        valid_to = _date(item.get("valid_to"))
        parent = by_key[item["parent"]] if item.get("parent") else None
        fields = {
            "name": item["name"],
            "kind": item["kind"],
            "parent": parent,
            "valid_from": _date(item.get("valid_from")),
            "latitude": item.get("lat"),
            "longitude": item.get("lon"),
            "area_km2": item.get("area_km2"),
            "source": source,
        }
        unit = Unit.objects.filter(code=item["code"], valid_to=valid_to).first()
        if unit is None:
            unit = Unit(code=item["code"], valid_to=valid_to, **fields)
            unit.save()
            created += 1
        else:
            dirty = [k for k, v in fields.items() if getattr(unit, k) != v]
            if dirty:
                for k in dirty:
                    setattr(unit, k, fields[k])
                unit.save()
                updated += 1
        by_key[item["key"]] = unit
    links = 0
    for change in data.get("changes", []):
        _, made = UnitChange.objects.get_or_create(
            predecessor=by_key[change["from"]],
            successor=by_key[change["to"]],
            defaults={
                "date": _date(REFORM_DATE),
                "resolution": change.get("resolution", ""),
                "partial": change.get("partial", False),
                "source": source,
            },
        )
        links += int(made)
    return {"created": created, "updated": updated, "links": links}
