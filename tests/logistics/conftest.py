"""Crafted logistics worlds: facilities, legs and detainees as canonical records, linked
to persons, with removal orders so that the real policy gates pass (except custody)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from casegraph.policy.testing import add_person, insert_record
from casegraph.workspace import Workspace

D = dt.date
DAY0 = D(2026, 3, 2)
FEB1 = D(2026, 2, 1)


def final_order() -> dict[str, Any]:
    return {"kind": "removal_order", "order_date": D(2024, 1, 10), "order_type": "removal"}


def add_detainee(ws: Workspace, pid: str, *, nat: str = "MX", facility: str = "F-HOU",
                 book_in: D = FEB1, doc: str | None = "ready", medical: bool = False,
                 legal: bool = False, book_out: D | None = None,
                 extra: list[dict[str, Any]] | None = None) -> None:
    add_person(ws, pid, [final_order(), {
        "kind": "detention", "facility_id": facility, "book_in_date": book_in,
        "book_out_date": book_out, "travel_document": doc, "medical_hold": medical,
        "legal_hold": legal, "nationality": nat, "full_name": f"Person {pid}"},
        *(extra or [])], nationality=nat, given_name="Person", family_name=pid)


def add_facility(ws: Workspace, fid: str, capacity: int = 100, locality: str = "Houston",
                 region: str = "TX") -> None:
    insert_record(ws, {"source": "facilities", "record_id": fid, "kind": "facility",
                       "facility_id": fid, "name": f"{locality} Processing Center",
                       "capacity": capacity, "locality": locality, "region": region})


def add_leg(ws: Workspace, lid: str, dest: str = "MX", day: int = 1, seats: int = 10,
            origin: str = "IAH", hour: int = 12, cost: float = 50_000.0,
            mode: str = "charter_air") -> None:
    insert_record(ws, {"source": "legs", "record_id": lid, "kind": "transport_leg",
                       "leg_id": lid, "mode": mode, "origin": origin,
                       "destination_country": dest, "seats": seats, "cost": cost,
                       "departs_at": dt.datetime.combine(DAY0 + dt.timedelta(days=day),
                                                         dt.time(hour))})


@pytest.fixture()
def world(ws: Workspace) -> Workspace:
    """Two facilities, three legs, six detainees with one reason each to stay."""
    add_facility(ws, "F-HOU", capacity=5, locality="Houston", region="TX")
    add_facility(ws, "F-ATL", capacity=10, locality="Atlanta", region="GA")
    add_leg(ws, "L-MX-1", "MX", day=1, seats=2)
    add_leg(ws, "L-MX-3", "MX", day=3, seats=1)
    add_leg(ws, "L-HN-1", "HN", day=1, seats=3, origin="IAH")
    add_detainee(ws, "P-001", book_in=D(2026, 1, 1))              # MX, on a leg
    add_detainee(ws, "P-002", book_in=D(2026, 1, 2))              # MX, on a leg
    add_detainee(ws, "P-003", book_in=D(2026, 1, 3))              # MX, on a leg
    add_detainee(ws, "P-004", book_in=D(2026, 1, 4))              # MX: capacity
    add_detainee(ws, "P-005", doc="requested")                    # document not ready
    add_detainee(ws, "P-006", medical=True)                       # hold
    add_detainee(ws, "P-007", nat="CN")                           # no leg to CN
    add_detainee(ws, "P-008", nat="HN", facility="F-ATL")         # unreachable (48 h)
    add_detainee(ws, "P-009", book_in=D(2025, 6, 1), book_out=D(2025, 9, 1))  # released
    return ws
