"""GPS position to commune: the nearest centroid among commune-level units in force."""

from __future__ import annotations

import math

from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit

EARTH_KM = 6371.0
MAX_DISTANCE_KM = 25.0  # farther than this from every commune centroid: outside the province


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def communes():
    """Commune-level units in force today that have a centroid."""
    return (
        Unit.objects.current()
        .filter(kind__in=UnitKind.commune_level(), latitude__isnull=False, longitude__isnull=False)
        .order_by("name")
    )


def nearest_commune(lat: float, lon: float) -> Unit | None:
    """The commune whose centroid is nearest, or None when the point is outside the province."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    best, best_km = None, MAX_DISTANCE_KM
    for unit in communes().only("id", "code", "name", "latitude", "longitude", "path"):
        km = haversine_km(lat, lon, unit.latitude, unit.longitude)
        if km < best_km:
            best, best_km = unit, km
    return best
