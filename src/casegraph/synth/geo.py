"""Places for the synthetic agency: real US ZIP codes (``zipcodes`` package), streets,
facilities, removal-flight airports and the sensitive sites near residences.

Real ZIP codes with their own city and state make every generated address geocodable
against the ZIP-centroid gazetteer the location room uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: Share of the synthetic population by state (immigrant population, roughly).
STATE_WEIGHTS: dict[str, float] = {
    "CA": 0.22, "TX": 0.17, "FL": 0.10, "NY": 0.08, "NJ": 0.05, "IL": 0.05, "GA": 0.04,
    "NC": 0.03, "AZ": 0.03, "MA": 0.03, "VA": 0.03, "WA": 0.03, "MD": 0.02, "NV": 0.02,
    "CO": 0.02, "PA": 0.02, "TN": 0.01, "LA": 0.01, "OR": 0.01, "UT": 0.01, "MN": 0.01,
    "OH": 0.01, "NM": 0.004, "MS": 0.003, "AL": 0.003,
}

STREETS = (
    "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lincoln", "Park", "Lake",
    "Hill", "Sunset", "Jefferson", "Franklin", "Madison", "Jackson", "Highland", "Church",
    "Center", "Walnut", "Spring", "Ridge", "River", "Mill", "Chestnut", "Willow", "Cherry",
    "Adams", "Lakeview", "Broadway", "Market", "Grand", "Central", "Orchard", "Valley",
    "Meadow", "Forest", "Hillside", "Fairview", "Pleasant", "Union", "Prospect", "Magnolia",
    "Palm", "Mesquite", "Cypress", "Dogwood", "Hickory", "Sycamore", "Poplar", "Laurel",
    "Bayview", "Harbor", "Canyon", "Vista", "Del Mar", "El Camino", "Alameda", "San Pedro",
    "Santa Rosa", "Rio Grande", "Martin Luther King Jr", "Kennedy", "Roosevelt", "Wilson",
    "Garfield", "Monroe", "Dr Martin", "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th",
    "9th", "10th", "11th", "12th", "14th", "16th", "18th", "21st", "23rd", "32nd", "45th",
)
SUFFIXES = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Way", "Pl", "Ter", "Cir", "Pkwy")
#: Long forms some systems write instead of the USPS abbreviation.
SUFFIX_LONG = {"St": "Street", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard",
               "Dr": "Drive", "Ln": "Lane", "Ct": "Court", "Way": "Way", "Pl": "Place",
               "Ter": "Terrace", "Cir": "Circle", "Pkwy": "Parkway"}

#: Removal-flight origins (ICE Air hubs and large airports): code, city, state, lat, lon.
AIRPORTS = (
    ("AEX", "Alexandria", "LA", 31.3274, -92.5486),
    ("HRL", "Harlingen", "TX", 26.2285, -97.6544),
    ("ELP", "El Paso", "TX", 31.8072, -106.3778),
    ("SAT", "San Antonio", "TX", 29.5337, -98.4698),
    ("IAH", "Houston", "TX", 29.9902, -95.3368),
    ("MIA", "Miami", "FL", 25.7959, -80.2870),
    ("AZA", "Mesa", "AZ", 33.3078, -111.6556),
    ("SAN", "San Diego", "CA", 32.7338, -117.1933),
    ("ATL", "Atlanta", "GA", 33.6407, -84.4277),
    ("JFK", "New York", "NY", 40.6413, -73.7781),
)

FACILITY_STYLES = ("Processing Center", "Detention Facility", "Service Processing Center",
                   "County Detention Center", "Correctional Center", "Contract Detention Facility")
FACILITY_STATES = ("TX", "TX", "TX", "LA", "LA", "GA", "AZ", "AZ", "CA", "CA", "FL", "NM",
                   "NJ", "NY", "WA", "CO", "MS", "PA", "OH", "AL")

SITE_NAMES = {
    "school": ("Elementary School", "Middle School", "High School", "Academy",
               "Community College", "Head Start Center"),
    "hospital": ("Medical Center", "Community Hospital", "Health Clinic",
                 "Regional Hospital", "Urgent Care"),
    "place_of_worship": ("Catholic Church", "Baptist Church", "Mosque", "Temple",
                         "Iglesia Evangélica", "Gurdwara", "Pagoda", "Synagogue"),
    "courthouse": ("County Courthouse", "Municipal Court"),
    "shelter": ("Family Shelter", "Community Shelter"),
}


@dataclass(frozen=True)
class ZipPool:
    """Active standard ZIP codes with their city, state and centroid, and sampling weights."""

    zip: np.ndarray
    city: np.ndarray
    state: np.ndarray
    county: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray


@lru_cache(maxsize=1)
def zip_pool() -> ZipPool:
    import zipcodes

    rows = [r for r in zipcodes.list_all()
            if r["zip_code_type"] == "STANDARD" and r["active"] and r["state"] in STATE_WEIGHTS
            and r["lat"] and r["long"]]
    rows.sort(key=lambda r: r["zip_code"])
    state = np.array([r["state"] for r in rows], dtype=object)
    counts = {s: int((state == s).sum()) for s in STATE_WEIGHTS}
    w = np.array([STATE_WEIGHTS[s] / counts[s] for s in state])
    return ZipPool(
        zip=np.array([r["zip_code"] for r in rows], dtype=object),
        city=np.array([r["city"] for r in rows], dtype=object),
        state=state,
        county=np.array([r.get("county") or f"{r['city']} County" for r in rows], dtype=object),
        lat=np.array([float(r["lat"]) for r in rows]),
        lon=np.array([float(r["long"]) for r in rows]),
        weight=w / w.sum(),
    )


def sample_zips(rng: np.random.Generator, n: int) -> np.ndarray:
    pool = zip_pool()
    return rng.choice(len(pool.zip), size=n, p=pool.weight)


def zips_in_state(state: str) -> np.ndarray:
    pool = zip_pool()
    return np.flatnonzero(pool.state == state)
