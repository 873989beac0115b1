"""From a CAP area (CAP 1.2 §3.2.4) to the province's communes.

* `geocode` values that are administrative unit codes of the province (any `valueName`: the
  code is what counts) name those units; a unit above commune level stands for its communes.
* `polygon` and `circle` take the communes whose **real boundary** (`units.UnitBoundary`,
  loaded with `grassroots units boundaries FILE.geojson`) overlaps the area (shapely; an area
  that only touches a commune's edge does not reach it). A commune with no loaded boundary
  falls back to its **centroid** (latitude/longitude from the seed data): it is in when its
  centre is inside, an approximation that misses a commune crossed by the edge of the area.
  Circles become 64-sided polygons (great-circle offsets), an error under 0.2 % of the radius.
"""

from __future__ import annotations

import math

from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

from .parse import Area

EARTH_KM = 6371.0088


def inside_polygon(lat: float, lon: float, ring: list[tuple[float, float]]) -> bool:
    """Even-odd ray casting on (lat, lon) points; a CAP polygon repeats its first point."""
    inside = False
    n = len(ring)
    for i in range(n):
        y1, x1 = ring[i]
        y2, x2 = ring[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x:
                inside = not inside
    return inside


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def communes(province: Unit):
    """The current commune-level units of the province."""
    return (
        Unit.objects.current()
        .filter(path__startswith=province.path, kind__in=UnitKind.commune_level())
        .order_by("name")
    )


def circle_ring(lat: float, lon: float, km: float, sides: int = 64) -> list[tuple[float, float]]:
    """(lon, lat) points of a circle of `km` around (lat, lon): great-circle destinations."""
    d = km / EARTH_KM
    p1, l1 = math.radians(lat), math.radians(lon)
    ring = []
    for k in range(sides):
        b = 2 * math.pi * k / sides
        p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
        l2 = l1 + math.atan2(
            math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
        )
        ring.append((math.degrees(l2), math.degrees(p2)))
    return ring


def area_shape(areas: list[Area]):
    """The union of the areas' polygons and circles as one shapely geometry (lon/lat), or None."""
    from shapely import make_valid
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    parts = []
    for a in areas:
        for ring in a.polygons:
            if len(ring) >= 3:
                poly = Polygon([(lon, lat) for lat, lon in ring])
                parts.append(poly if poly.is_valid else make_valid(poly))
        for lat, lon, km in a.circles:
            if km > 0:
                parts.append(Polygon(circle_ring(lat, lon, km)))
    return unary_union(parts) if parts else None


def _overlapping(communes_: list[Unit], shape) -> set[int]:
    """Communes with a loaded boundary that the area overlaps (more than touching its edge),
    among `communes_`; the bounding boxes rule out the far ones first."""
    from shapely.prepared import prep

    from grassroots.units.boundaries import shape_of
    from grassroots.units.models import UnitBoundary

    west, south, east, north = shape.bounds
    near = UnitBoundary.objects.filter(
        unit__in=communes_, south__lte=north, north__gte=south, west__lte=east, east__gte=west
    ).values_list("unit_id", "geometry")
    area = prep(shape)
    hit = set()
    for unit_id, geometry in near:
        boundary = shape_of(geometry)
        if area.intersects(boundary) and not shape.touches(boundary):
            hit.add(unit_id)
    return hit


def resolve(province: Unit, areas: list[Area]) -> list[Unit]:
    """The communes of `province` covered by any of `areas` (empty: outside the province)."""
    all_communes = list(communes(province))
    by_code = {u.code: u for u in all_communes}
    found: dict[int, Unit] = {}
    codes = {value.strip() for a in areas for _, value in a.geocodes if value.strip()}
    if codes:
        named = Unit.objects.current().filter(code__in=codes, path__startswith=province.path)
        for unit in named:
            if unit.code in by_code:
                found[unit.pk] = unit
            else:
                for c in all_communes:
                    if c.path.startswith(unit.path):
                        found[c.pk] = c
    shapes = [(a.polygons, a.circles) for a in areas if a.polygons or a.circles]
    if shapes:
        from grassroots.units.models import UnitBoundary

        bounded = set(
            UnitBoundary.objects.filter(unit__in=all_communes).values_list("unit_id", flat=True)
        )
        if bounded:
            shape = area_shape(areas)
            hits = _overlapping(all_communes, shape) if shape is not None else set()
            for c in all_communes:
                if c.pk in hits:
                    found[c.pk] = c
        for c in all_communes:
            if c.pk in found or c.pk in bounded or c.latitude is None or c.longitude is None:
                continue
            for polygons, circles in shapes:
                if any(inside_polygon(c.latitude, c.longitude, p) for p in polygons) or any(
                    distance_km(c.latitude, c.longitude, lat, lon) <= r for lat, lon, r in circles
                ):
                    found[c.pk] = c
                    break
    return sorted(found.values(), key=lambda u: u.name)


def centroid_polygon(units: list[Unit], *, km: float = 1.5) -> list[tuple[float, float]]:
    """A small closed square around each commune's centroid, as one bounding polygon of all of
    them: the CAP `polygon` the platform publishes (documented approximation)."""
    pts = [(u.latitude, u.longitude) for u in units if u.latitude is not None]
    if not pts:
        return []
    d = km / 111.0
    south = min(p[0] for p in pts) - d
    north = max(p[0] for p in pts) + d
    west = min(p[1] for p in pts) - d
    east = max(p[1] for p in pts) + d
    return [(south, west), (north, west), (north, east), (south, east), (south, west)]
