"""The fleet map's data: commune points from the unit tree, device points, and the optional
base layer of a tile server the province runs (the map needs no network without one).

Setting (environment): `GRASSROOTS_MAP_TILES`, an XYZ tile URL template such as
`https://tiles.example.vn/{z}/{x}/{y}.png`, with `GRASSROOTS_MAP_ATTRIBUTION` (text shown in
the map's corner) and `GRASSROOTS_MAP_MAX_ZOOM` (default 18). Unset: no base layer, a plain
background with commune points and names. See docs/operations.md, "Fleet map".
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from grassroots.units.choices import UnitKind

TILE_FIELDS = ("{z}", "{x}", "{y}")


def tile_problem(url: str) -> str:
    """Why a tile URL template cannot be used (Vietnamese, for the operator), or ""."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "GRASSROOTS_MAP_TILES phải là địa chỉ http(s)://… của máy chủ bản đồ nền."
    missing = [f for f in TILE_FIELDS if f not in url]
    if missing:
        return (
            "GRASSROOTS_MAP_TILES thiếu " + ", ".join(missing) + " (mẫu: "
            "https://tiles.example.vn/{z}/{x}/{y}.png)."
        )
    return ""


def tile_layer() -> dict | None:
    """{"url", "attribution", "max_zoom"} of the configured base layer, or None (unset or
    unusable: the system check reports why)."""
    conf = settings.GRASSROOTS
    url = (conf.get("MAP_TILES") or "").strip()
    if not url or tile_problem(url):
        return None
    try:
        max_zoom = max(1, min(int(conf.get("MAP_MAX_ZOOM") or 18), 22))
    except ValueError:
        max_zoom = 18
    return {"url": url, "attribution": conf.get("MAP_ATTRIBUTION") or "", "max_zoom": max_zoom}


def tile_origin() -> str:
    """scheme://host[:port] of the tile server (for the Content-Security-Policy), or ""."""
    layer = tile_layer()
    if layer is None:
        return ""
    parts = urlsplit(layer["url"])
    return f"{parts.scheme}://{parts.netloc}"


@checks.register(checks.Tags.compatibility)
def check_tiles(app_configs=None, **kwargs):
    """`grassroots check` (and every start) says when the tile setting cannot be used."""
    url = (settings.GRASSROOTS.get("MAP_TILES") or "").strip()
    problem = tile_problem(url) if url else ""
    if not problem:
        return []
    return [checks.Warning(problem, hint="Bản đồ sẽ vẽ không có lớp nền.", id="devices.W001")]


def commune_points(user, *, under: str | None = None) -> list[dict]:
    """Commune-level units in force in the user's `devices.view` scope (under the path `under`
    if given) that have a centroid: [{"code", "name", "lat", "lon"}], sorted by name.
    Centroids come from the unit seed (vietnamadminunits) or the unit import."""
    from grassroots.units.models import Unit

    qs = (
        Unit.objects.restrict(user, "devices.view")
        .current()
        .filter(kind__in=UnitKind.commune_level(), latitude__isnull=False, longitude__isnull=False)
        .order_by("name_folded", "code")
    )
    if under:
        qs = qs.filter(path__startswith=under)
    return [
        {"code": u.code, "name": u.name, "lat": u.latitude, "lon": u.longitude}
        for u in qs.only("code", "name", "latitude", "longitude")
    ]


def device_points(rows: list[dict]) -> list[dict]:
    """The fleet rows that have a position (their own, else their unit's centroid)."""
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "kind": r["kind"],
            "lat": r["latitude"],
            "lon": r["longitude"],
            "online": r["online"],
            "faults": r["faults"],
            "unit": r["unit_name"],
        }
        for r in rows
        if r["latitude"] is not None and r["longitude"] is not None
    ]
