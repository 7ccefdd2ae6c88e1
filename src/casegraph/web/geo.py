"""US state outlines and points as SVG, with no internet and no JavaScript map library.

The geometry is the public-domain ``us-atlas`` 3.0.1 ``states-10m.json`` TopoJSON (Census
Bureau cartographic boundaries, unprojected lon/lat), committed under ``static/geo/``.
This module decodes the TopoJSON arcs and projects them with a small re-implementation of
d3's ``geoAlbersUsa`` (conic equal-area for the lower 48, with Alaska and Hawaii insets),
so outlines and lead points share one projection and the browser only draws SVG.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

GEO_FILE = Path(__file__).parent / "static" / "geo" / "us-states-10m.json"

#: SVG viewport used by every map (d3's AlbersUsa defaults: scale 1070, translate 480,250).
WIDTH, HEIGHT = 960, 600
SCALE = 1070.0
TX, TY = 480.0, 250.0

FIPS_TO_POSTAL = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY",
}
POSTALS = frozenset(FIPS_TO_POSTAL.values())


class ConicEqualArea:
    """Albers conic equal-area projection (spherical), as d3-geo computes it."""

    def __init__(self, parallels: tuple[float, float], rotate_lon: float,
                 center: tuple[float, float], scale: float, translate: tuple[float, float]):
        phi0, phi1 = (math.radians(p) for p in parallels)
        sy0 = math.sin(phi0)
        self.n = (sy0 + math.sin(phi1)) / 2
        self.c = 1 + sy0 * (2 * self.n - sy0)
        self.r0 = math.sqrt(self.c) / self.n
        self.rotate_lon = rotate_lon
        self.k = scale
        # d3 centres the projection so that `center` lands on `translate`
        cx, cy = self._raw(center[0], center[1], rotated=True)
        self.dx = translate[0] - scale * cx
        self.dy = translate[1] + scale * cy

    def _raw(self, lon: float, lat: float, *, rotated: bool = False) -> tuple[float, float]:
        lam = lon if rotated else lon + self.rotate_lon
        lam = (lam + 180.0) % 360.0 - 180.0
        lam, phi = math.radians(lam), math.radians(lat)
        r = math.sqrt(max(0.0, self.c - 2 * self.n * math.sin(phi))) / self.n
        return r * math.sin(lam * self.n), self.r0 - r * math.cos(lam * self.n)

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self._raw(lon, lat)
        return self.dx + self.k * x, self.dy - self.k * y


_LOWER48 = ConicEqualArea((29.5, 45.5), 96.0, (-0.6, 38.7), SCALE, (TX, TY))
_ALASKA = ConicEqualArea((55.0, 65.0), 154.0, (-2.0, 58.5), SCALE * 0.35,
                         (TX - 0.307 * SCALE, TY + 0.201 * SCALE))
_HAWAII = ConicEqualArea((8.0, 18.0), 157.0, (-3.0, 19.9), SCALE,
                         (TX - 0.205 * SCALE, TY + 0.212 * SCALE))


def _projection_for(lon: float, lat: float):
    if lat >= 50.0 and (lon <= -129.0 or lon >= 170.0):
        return _ALASKA
    if 18.0 <= lat <= 23.5 and -161.5 <= lon <= -154.0:
        return _HAWAII
    return _LOWER48


def project(lon: float | None, lat: float | None) -> tuple[float, float] | None:
    """Screen position (in the 960×600 map viewport) of a lon/lat, or None if off the map."""
    if lon is None or lat is None:
        return None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    x, y = _projection_for(lon, lat)(lon, lat)
    if not (-20 <= x <= WIDTH + 20 and -20 <= y <= HEIGHT + 20):
        return None
    return round(x, 1), round(y, 1)


def _decode_arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def _ring(arcs: list[list[tuple[float, float]]], idxs: list[int]) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    for i in idxs:
        a = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(a if not pts else a[1:])
    return pts


def _path(rings: list[list[tuple[float, float]]], proj) -> str:
    parts = []
    for ring in rings:
        last = None
        seg = []
        for lon, lat in ring:
            x, y = proj(lon, lat)
            p = (round(x), round(y))
            if p != last:
                seg.append(f"{p[0]},{p[1]}")
                last = p
        if len(seg) >= 3:
            parts.append("M" + "L".join(seg) + "Z")
    return "".join(parts)


@lru_cache(maxsize=1)
def _states() -> tuple[tuple[str, str, str, list[list[tuple[float, float]]], Any], ...]:
    topo = json.loads(GEO_FILE.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topo)
    out = []
    for g in topo["objects"]["states"]["geometries"]:
        fips = g["id"]
        if fips not in FIPS_TO_POSTAL:
            continue  # territories are off the AlbersUsa map
        proj = _ALASKA if fips == "02" else _HAWAII if fips == "15" else _LOWER48
        polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        rings = [_ring(arcs, r) for poly in polys for r in poly]
        out.append((FIPS_TO_POSTAL[fips], g["properties"]["name"], fips, rings, proj))
    return tuple(out)


@lru_cache(maxsize=1)
def state_paths() -> tuple[dict[str, str], ...]:
    """Every state (50 + DC) as ``{postal, name, fips, d}`` with an SVG path in map pixels."""
    out = [{"postal": postal, "name": name, "fips": fips, "d": _path(rings, proj)}
           for postal, name, fips, rings, proj in _states()]
    out.sort(key=lambda s: s["name"])
    return tuple(out)


def _inside(lon: float, lat: float, ring: list[tuple[float, float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / ((yj - yi) or 1e-12) + xi:
            inside = not inside
        j = i
    return inside


@lru_cache(maxsize=1)
def _bboxes() -> tuple[tuple[str, float, float, float, float, list], ...]:
    out = []
    for postal, _name, _fips, rings, _proj in _states():
        for ring in rings:
            xs = [p[0] for p in ring]
            ys = [p[1] for p in ring]
            out.append((postal, min(xs), max(xs), min(ys), max(ys), ring))
    return tuple(out)


_STATE_IN_ADDRESS = re.compile(r"\b([A-Z]{2})(?:\s+\d{5}(?:-\d{4})?)?\s*$")


def region_of(address: str | None, lon: Any = None, lat: Any = None) -> str | None:
    """The two-letter state of a place: from the address text, else from its coordinates."""
    if address:
        m = _STATE_IN_ADDRESS.search(str(address).strip().rstrip(".").upper())
        if m and m.group(1) in POSTALS:
            return m.group(1)
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    hits: dict[str, int] = {}
    for postal, x0, x1, y0, y1, ring in _bboxes():
        if x0 <= x <= x1 and y0 <= y <= y1 and _inside(x, y, ring):
            hits[postal] = hits.get(postal, 0) + 1
    odd = [p for p, n in hits.items() if n % 2 == 1]  # holes cancel out
    return odd[0] if odd else None
