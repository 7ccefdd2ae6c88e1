"""Plain objects of the logistics room: detainees, facilities, transport legs.

Dataclasses (not pydantic): a plan handles tens of thousands of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Facility:
    facility_id: str
    name: str | None = None
    capacity: int | None = None
    locality: str | None = None
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Leg:
    """A transport leg: ``seats`` seats from ``origin`` to ``destination_country``."""

    leg_id: str
    destination_country: str
    departs_at: dt.datetime
    seats: int
    origin: str | None = None
    mode: str | None = None
    cost: float | None = None
    origin_locality: str | None = None
    origin_region: str | None = None


@dataclass(frozen=True, slots=True)
class Detainee:
    """One person in custody, with what the planner needs to know about them.

    ``blocking_gates`` are the policy gates, other than the custody gate, that do not
    pass (fail or need review): a detainee with any is not scheduled.
    ``eligibility_known`` is False when no policy decision exists for the person.
    ``book_out_date`` is the last day in custody (the record's book-out day minus one), or
    None while the stay is open.
    """

    person_id: str
    facility_id: str
    book_in_date: dt.date
    nationality: str | None = None
    record_key: str | None = None
    book_out_date: dt.date | None = None
    travel_document: str | None = None
    medical_hold: bool = False
    legal_hold: bool = False
    blocking_gates: tuple[str, ...] = ()
    gate_reasons: tuple[str, ...] = ()
    eligibility_known: bool = True
    full_name: str | None = None


def pre_screen(d: Detainee) -> list[tuple[str, str]]:
    """Every reason, in binding order, that keeps ``d`` off any leg whatever the legs are."""
    out: list[tuple[str, str]] = []
    if not d.eligibility_known:
        out.append(("not_eligible", d.gate_reasons[0] if d.gate_reasons
                    else "no eligibility decision for this person (run `casegraph score`)"))
    elif d.blocking_gates:
        detail = ", ".join(d.blocking_gates)
        if d.gate_reasons:
            detail += " (" + "; ".join(r for r in d.gate_reasons if r) + ")"
        out.append(("not_eligible", f"gate {detail}"))
    holds = [h for h, on in (("medical", d.medical_hold), ("legal", d.legal_hold)) if on]
    if holds:
        out.append(("hold", " and ".join(holds) + " hold"))
    if (d.travel_document or "none") != "ready":
        out.append(("document_not_ready", f"travel document {d.travel_document or 'none'}"))
    return out


REASON_LABELS = {
    "not_eligible": "not eligible",
    "hold": "hold",
    "document_not_ready": "document not ready",
    "no_leg_to_country": "no leg to that country",
    "unreachable": "unreachable in time",
    "capacity": "capacity",
    "not_planned": "not planned (solver time limit)",
}


@dataclass(slots=True)
class Unassigned:
    person_id: str
    reason: str  # one of REASON_LABELS
    detail: str
    all_reasons: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{REASON_LABELS.get(self.reason, self.reason)}: {self.detail}"
