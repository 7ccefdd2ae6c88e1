"""The detained population: who is where since when, documents, holds, eligibility, status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from casegraph.logistics.config import LogisticsConfig, load_config
from casegraph.logistics.data import apply_eligibility, detainee_eligibility, load_detainees
from casegraph.logistics.model import REASON_LABELS, pre_screen
from casegraph.logistics.plans import detainee_status
from casegraph.workspace import Workspace


def detained_population(ws: Workspace, as_of: dt.date | None = None, *,
                        facility_id: str | None = None,
                        config: LogisticsConfig | None = None) -> list[dict[str, Any]]:
    """Everyone in custody on ``as_of`` (default today), longest detained first.

    Each row: ``person_id, full_name, nationality, facility_id, book_in_date,
    days_in_custody, travel_document, medical_hold, legal_hold, schedulable`` (no gate
    other than custody blocks, no hold, document ready), ``eligible`` (gates other than
    custody), ``blocking_gates``, ``reason`` (why not schedulable, binding reason first),
    ``status`` (``scheduled`` on a published plan, else ``in custody``), ``leg_id``.
    """
    cfg = config or load_config(ws)
    as_of = as_of or dt.date.today()
    people = load_detainees(ws, as_of, as_of)
    people = [d for d in people if d.book_in_date <= as_of]
    if facility_id:
        people = [d for d in people if d.facility_id == facility_id]
    info = detainee_eligibility(ws, [d.person_id for d in people], as_of, cfg)
    people = apply_eligibility(people, info)
    status = detainee_status(ws)
    out = []
    for d in people:
        reasons = pre_screen(d)
        st = status.get(d.person_id) or {}
        out.append({
            "person_id": d.person_id, "full_name": d.full_name, "nationality": d.nationality,
            "facility_id": d.facility_id, "book_in_date": d.book_in_date,
            "days_in_custody": (as_of - d.book_in_date).days,
            "travel_document": d.travel_document or "none", "medical_hold": d.medical_hold,
            "legal_hold": d.legal_hold,
            "eligible": d.eligibility_known and not d.blocking_gates,
            "blocking_gates": list(d.blocking_gates),
            "schedulable": not reasons,
            "reason": "; ".join(f"{REASON_LABELS[c]}: {t}" for c, t in reasons),
            "reason_short": ", ".join(
                (f"gate {', '.join(d.blocking_gates)}" if c == "not_eligible" and d.blocking_gates
                 else REASON_LABELS[c]) for c, _ in reasons),
            "status": st.get("status") or "in custody", "leg_id": st.get("leg_id"),
            "departs_at": st.get("departs_at"), "record_key": d.record_key,
        })
    out.sort(key=lambda r: (r["book_in_date"], r["person_id"]))
    return out
