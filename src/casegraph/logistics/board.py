"""The logistics board read by the web UI (``casegraph.web.data.logistics_board``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from casegraph.logistics.data import load_legs
from casegraph.logistics.occupancy import facility_occupancy
from casegraph.logistics.plans import PlanError, get_plan, plan_assignments, plan_legs
from casegraph.workspace import Workspace


def board(ws: Workspace, as_of: dt.date | None = None) -> dict[str, Any]:
    """Facilities with occupancy, legs with seats filled by the latest plan, that plan."""
    out: dict[str, Any] = {"facilities": [], "legs": [], "plan": None, "assignments": []}
    if not ws.has_table("current_records"):
        out["missing"] = ["records"]
        return out
    out["facilities"] = facility_occupancy(ws, as_of)
    try:
        p = get_plan(ws)
    except PlanError:
        p = None
    if p is None:
        out["legs"] = [{**vars_(leg), "filled": 0} for leg in load_legs(ws)]
        return out
    out["plan"] = {k: p[k] for k in (
        "plan_id", "version", "status", "objective", "date_from", "date_to", "solver_status",
        "detainees", "moved", "unassigned", "seat_utilisation", "flown_utilisation",
        "legs_flown", "legs_to_cancel", "legs_to_merge", "max_flow_bound", "greedy_moved",
        "created_at", "created_by", "published_at", "published_by")}
    out["legs"] = [{**r, "filled": r["assigned"]} for r in plan_legs(ws, p["plan_id"])]
    out["assignments"] = plan_assignments(ws, p["plan_id"])[:200]
    return out


def vars_(leg: Any) -> dict[str, Any]:
    return {k: getattr(leg, k) for k in ("leg_id", "mode", "origin", "destination_country",
                                          "departs_at", "seats", "cost")}
