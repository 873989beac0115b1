"""Real unit boundaries from a GeoJSON file: load them (all or nothing) and read them as shapes.

The file is a GeoJSON FeatureCollection (RFC 7946: WGS 84, [longitude, latitude]) whose
features are Polygon or MultiPolygon geometries with the unit's administrative code in a
property (`code` unless told otherwise). Shapes are checked with shapely: valid (a
self-intersecting ring is repaired with `make_valid` when the result is still polygonal), and
near the unit's own centroid (a file with latitude and longitude swapped, or codes of another
province, is refused rather than silently moving alerts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .models import Unit, UnitBoundary

MAX_BYTES = 200 * 1024 * 1024
# how far (km) the unit's seed centroid may lie outside its loaded boundary
CENTROID_SLACK_KM = 5.0


class BoundaryError(ValueError):
    """The file cannot be loaded; the message (Vietnamese) says what to fix."""


@dataclass
class Loaded:
    loaded: int = 0
    skipped: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def shape_of(geometry: dict):
    """The shapely geometry of a stored GeoJSON geometry."""
    from shapely.geometry import shape

    return shape(geometry)


def _features(path: Path) -> list[dict]:
    if path.stat().st_size > MAX_BYTES:
        raise BoundaryError(f"Tệp {path.name} lớn hơn {MAX_BYTES // 1024 // 1024} MB.")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryError(f"Tệp {path.name} không phải GeoJSON (JSON UTF-8): {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise BoundaryError("Tệp phải là một GeoJSON FeatureCollection.")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryError("FeatureCollection không có feature nào.")
    return features


def load(path: Path | str, *, code_property: str = "code", skip_unknown: bool = False) -> Loaded:
    """Load (or replace) the boundaries of the units named in the file; all or nothing."""
    from shapely import make_valid
    from shapely.geometry import Point, mapping, shape

    path = Path(path)
    units = {u.code: u for u in Unit.objects.current()}
    result, errors, rows = Loaded(), [], []
    for n, feature in enumerate(_features(path), start=1):
        props = (feature or {}).get("properties") or {}
        code = str(props.get(code_property, "")).strip()
        where = f"feature {n}" + (f" (mã {code})" if code else "")
        if not code:
            errors.append(f"{where}: thiếu thuộc tính '{code_property}' (mã đơn vị).")
            continue
        unit = units.get(code)
        if unit is None:
            if skip_unknown:
                result.skipped.append(code)
            else:
                errors.append(f"{where}: không có đơn vị hiện hành mang mã này.")
            continue
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            errors.append(f"{where}: hình phải là Polygon hoặc MultiPolygon.")
            continue
        try:
            shp = shape(geometry)
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
            errors.append(f"{where}: toạ độ sai định dạng ({exc}).")
            continue
        if shp.is_empty:
            errors.append(f"{where}: hình rỗng.")
            continue
        west, south, east, north = shp.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            errors.append(
                f"{where}: toạ độ ngoài khoảng kinh độ/vĩ độ (WGS 84); GeoJSON ghi "
                "[kinh độ, vĩ độ], tệp có thể đảo kinh độ/vĩ độ."
            )
            continue
        if not shp.is_valid:
            shp = make_valid(shp)
            if shp.geom_type not in ("Polygon", "MultiPolygon"):
                errors.append(f"{where}: hình tự cắt, không sửa được thành đa giác.")
                continue
            result.repaired.append(code)
            west, south, east, north = shp.bounds
        if unit.latitude is not None and unit.longitude is not None:
            # degrees to km near the equator's scale: enough to catch swapped axes
            off = shp.distance(Point(unit.longitude, unit.latitude)) * 111.0
            if off > CENTROID_SLACK_KM:
                errors.append(
                    f"{where}: tâm của {unit.name} cách ranh giới {off:.0f} km; tệp có thể "
                    "đảo kinh độ/vĩ độ hoặc sai mã đơn vị."
                )
                continue
        rows.append((unit, mapping(shp), (south, west, north, east)))
    if errors:
        raise BoundaryError("Không nạp ranh giới nào:\n" + "\n".join(errors[:50]))
    with transaction.atomic():
        for unit, geometry, (south, west, north, east) in rows:
            UnitBoundary.objects.update_or_create(
                unit=unit,
                defaults={
                    "geometry": json.loads(json.dumps(geometry)),  # tuples to lists
                    "south": south,
                    "west": west,
                    "north": north,
                    "east": east,
                    "source": path.name[:200],
                },
            )
    result.loaded = len(rows)
    return result
