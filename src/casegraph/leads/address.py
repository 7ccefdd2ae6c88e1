"""Address normalisation and offline geocoding.

- Parse with ``usaddress`` (a CRF address parser), cached per distinct line; a simple regex
  is the fallback when the parser gives up (repeated labels).
- Normalise to USPS-style abbreviations (``Street`` -> ``st``, ``North`` -> ``n``) so that
  two systems writing the same place differently group together.
- Geocode offline from the ``zipcodes`` package: the ZIP's centroid, else the centroid of
  the city's ZIPs; a point carried by the record itself (latitude/longitude) wins.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import usaddress

SUFFIX_ABBR = {
    "street": "st", "str": "st", "st": "st", "avenue": "ave", "av": "ave", "ave": "ave",
    "road": "rd", "rd": "rd", "boulevard": "blvd", "blvd": "blvd", "drive": "dr", "dr": "dr",
    "lane": "ln", "ln": "ln", "court": "ct", "ct": "ct", "way": "way", "place": "pl",
    "pl": "pl", "terrace": "ter", "ter": "ter", "circle": "cir", "cir": "cir",
    "parkway": "pkwy", "pkwy": "pkwy", "highway": "hwy", "hwy": "hwy", "trail": "trl",
    "trl": "trl", "square": "sq", "sq": "sq", "loop": "loop", "plaza": "plz", "plz": "plz",
}
DIRECTION_ABBR = {"north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne",
                  "northwest": "nw", "southeast": "se", "southwest": "sw", "n": "n", "s": "s",
                  "e": "e", "w": "w", "ne": "ne", "nw": "nw", "se": "se", "sw": "sw"}
_UNIT_WORDS = r"(?:apt|apartment|unit|ste|suite|#|no|rm|room|fl|floor|bldg|lot|trlr)"
_FALLBACK = re.compile(
    rf"^\s*(?P<num>\d+[a-z]?)\s+(?P<street>.+?)(?:\s+{_UNIT_WORDS}\.?\s*(?P<unit>[\w-]+))?\s*$",
    re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w\s#-]")
_SPACES = re.compile(r"\s+")


def _clean(s: str | None) -> str:
    if not s:
        return ""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", str(s))).strip().lower()


@dataclass(frozen=True, slots=True)
class StreetLine:
    number: str
    street: str     # normalised: "n main st"
    unit: str


_DIRS = "|".join(sorted(DIRECTION_ABBR, key=len, reverse=True))
_SUFS = "|".join(sorted(SUFFIX_ABBR, key=len, reverse=True))
#: The common shape ("1200 n main street apt 4"), parsed without the CRF model.
_FAST = re.compile(
    rf"^(?P<num>\d+[a-z]?) (?:(?P<pre>{_DIRS}) )?(?P<name>[a-z0-9]+(?: [a-z0-9]+)*?) "
    rf"(?P<suf>{_SUFS})(?: (?P<post>{_DIRS}))?"
    rf"(?: (?:apt|apartment|unit|ste|suite|#|rm|room)(?: |(?=\w))?#?(?P<unit>[\w-]+)|"
    rf" #(?P<unit2>[\w-]+))?$")


@lru_cache(maxsize=500_000)
def parse_street_line(line: str) -> StreetLine:
    """Number, normalised street and unit of one street line ("1200 Main Street Apt 4").

    The common shape is read by a regular expression; anything else goes to ``usaddress``.
    """
    text = _clean(line)
    if not text:
        return StreetLine("", "", "")
    m = _FAST.match(text)
    if m and m.group("name").split()[-1] not in SUFFIX_ABBR:
        parts = [DIRECTION_ABBR[m.group("pre")]] if m.group("pre") else []
        parts += [m.group("name"), SUFFIX_ABBR[m.group("suf")]]
        if m.group("post"):
            parts.append(DIRECTION_ABBR[m.group("post")])
        return StreetLine(m.group("num"), " ".join(parts), m.group("unit") or m.group("unit2") or "")
    return _parse_slow(text)


def _parse_slow(text: str) -> StreetLine:
    try:
        tagged, _ = usaddress.tag(text)
    except usaddress.RepeatedLabelError:
        tagged = None
    if tagged:
        num = tagged.get("AddressNumber", "")
        parts = []
        for label in ("StreetNamePreDirectional", "StreetNamePreModifier", "StreetNamePreType",
                      "StreetName", "StreetNamePostType", "StreetNamePostDirectional"):
            v = tagged.get(label)
            if not v:
                continue
            if label.endswith("Directional"):
                v = DIRECTION_ABBR.get(v, v)
            elif label == "StreetNamePostType":
                v = SUFFIX_ABBR.get(v.rstrip("."), v)
            parts.append(v)
        unit = (tagged.get("OccupancyIdentifier") or tagged.get("SubaddressIdentifier") or "")
        if parts or num:
            return StreetLine(num, " ".join(parts), unit.lstrip("#").strip())
    m = _FALLBACK.match(text)
    if m:
        words = m.group("street").split()
        if words:
            words[-1] = SUFFIX_ABBR.get(words[-1], words[-1])
        return StreetLine(m.group("num"), " ".join(words), (m.group("unit") or "").lstrip("#"))
    return StreetLine("", text, "")


@dataclass(frozen=True, slots=True)
class Address:
    """A normalised address: the grouping keys, a display form and a geocoded point."""

    number: str
    street: str
    unit: str
    city: str
    state: str
    zip5: str
    latitude: float | None
    longitude: float | None
    precision: str | None       # "point" (from the record), "zip", "city" or None

    @property
    def building_key(self) -> str:
        where = self.zip5 or f"{self.city}|{self.state}"
        return f"{self.number}|{self.street}|{where}"

    @property
    def unit_key(self) -> str:
        return f"{self.building_key}|{self.unit}"

    @property
    def display(self) -> str:
        line = " ".join(x for x in (self.number, self.street.upper() if self.street else "") if x)
        if self.unit:
            line += f" APT {self.unit.upper()}"
        tail = " ".join(x for x in (self.state.upper(), self.zip5) if x)
        parts = [p for p in (line, self.city.upper(), tail) if p]
        return ", ".join(parts)

    @property
    def usable(self) -> bool:
        """Enough to go to: a street, and a ZIP or a city."""
        return bool(self.street) and bool(self.zip5 or self.city)


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, tuple[float, float, str, str]],
                          dict[tuple[str, str], tuple[float, float]]]:
    """ZIP -> (lat, lon, city, state) and (city, state) -> centroid, from ``zipcodes``."""
    import zipcodes

    by_zip: dict[str, tuple[float, float, str, str]] = {}
    acc: dict[tuple[str, str], list[float]] = {}
    for r in zipcodes.list_all():
        if not r.get("lat") or not r.get("long"):
            continue
        lat, lon = float(r["lat"]), float(r["long"])
        city, state = r["city"].lower(), r["state"].lower()
        by_zip[r["zip_code"]] = (lat, lon, city, state)
        a = acc.setdefault((city, state), [0.0, 0.0, 0])
        a[0] += lat
        a[1] += lon
        a[2] += 1
    by_city = {k: (v[0] / v[2], v[1] / v[2]) for k, v in acc.items()}
    return by_zip, by_city


_ZIP = re.compile(r"\d{5}")


def normalise_address(rec: dict[str, Any]) -> Address | None:
    """The normalised, geocoded address of a record's address fields (None when it has none)."""
    line = rec.get("street_address")
    if not line:
        line = " ".join(str(x) for x in (rec.get("street_number"), rec.get("street")) if x)
    zm = _ZIP.match(str(rec.get("postcode") or "").strip())
    zip5 = zm.group(0) if zm else ""
    city = _clean(rec.get("locality"))
    state = _clean(rec.get("region"))
    if not line and not zip5 and not city:
        return None
    sl = parse_street_line(line or "")
    unit = _clean(rec.get("unit")).lstrip("#").strip() or sl.unit
    for w in ("apt ", "unit ", "ste ", "suite ", "# "):
        unit = unit.removeprefix(w)
    by_zip, by_city = _gazetteer()
    lat = rec.get("latitude")
    lon = rec.get("longitude")
    precision = None
    if lat is not None and lon is not None:
        precision = "point"
    if zip5 and zip5 in by_zip:
        z = by_zip[zip5]
        if not city:
            city = z[2]
        if not state:
            state = z[3]
        if precision is None:
            lat, lon, precision = z[0], z[1], "zip"
    if precision is None and city and state and (city, state) in by_city:
        lat, lon = by_city[(city, state)]
        precision = "city"
    return Address(sl.number, sl.street, unit, city, state, zip5,
                   float(lat) if lat is not None else None,
                   float(lon) if lon is not None else None, precision)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(a)))


class SiteIndex:
    """Sensitive sites in a coarse lat/lon grid for distance queries."""

    def __init__(self, sites: list[dict[str, Any]], radius_m: float) -> None:
        self.radius = radius_m
        self.cell = max(radius_m / 111_000.0, 0.005)
        self.grid: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for s in sites:
            if s.get("latitude") is None or s.get("longitude") is None:
                continue
            k = (math.floor(s["latitude"] / self.cell),
                 math.floor(s["longitude"] / self.cell))
            self.grid.setdefault(k, []).append(s)

    def __len__(self) -> int:
        return sum(len(v) for v in self.grid.values())

    def near(self, lat: float, lon: float) -> list[tuple[float, dict[str, Any]]]:
        """Sites within the radius, nearest first, as (distance_m, site)."""
        ci, cj = math.floor(lat / self.cell), math.floor(lon / self.cell)
        # longitude cells shrink with latitude: widen the search accordingly
        span = 1 + int(1 / max(math.cos(math.radians(lat)), 0.2))
        out = []
        for i in (ci - 1, ci, ci + 1):
            for j in range(cj - span, cj + span + 1):
                for s in self.grid.get((i, j), ()):
                    d = haversine_m(lat, lon, s["latitude"], s["longitude"])
                    if d <= self.radius:
                        out.append((d, s))
        out.sort(key=lambda x: x[0])
        return out
