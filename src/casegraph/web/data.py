"""Read models of the pages: warehouse tables shaped for templates.

Reads only the tables listed in ``docs/architecture.md`` and tolerates every one of them
being missing (a page then shows an empty state saying which step produces the data).
Writes never happen here: they go through the cases/governance/resolve services (see
``backend.py``) so pages and API run the same code.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import duckdb

from casegraph.workspace import Workspace

#: Serialises the web requests that call room code reading through the workspace's one
#: shared DuckDB connection (``ws.con``/``ws.query``) instead of a cursor.
SHARED_CONNECTION = threading.RLock()

#: Which pipeline step produces a table (for empty states).
PRODUCED_BY = {
    "records": "`casegraph ingest`",
    "current_records": "`casegraph ingest`",
    "persons": "`casegraph resolve`",
    "person_records": "`casegraph resolve`",
    "identity_review": "`casegraph resolve`",
    "gate_results": "`casegraph score`",
    "eligibility": "`casegraph score`",
    "priority": "`casegraph score`",
    "score_runs": "`casegraph score`",
    "leads": "`casegraph leads`",
    "departure_status": "`casegraph departures`",
}

IDENTITY_CARD_FIELDS = (
    ("full_name", "Name"), ("given_name", "Given name"), ("middle_name", "Middle name"),
    ("family_name", "Family name"), ("name_aliases", "Aliases"), ("birth_date", "Birth date"),
    ("sex", "Sex"), ("nationality", "Nationality"), ("birth_country", "Birth country"),
    ("a_number", "A-number"), ("fbi_number", "FBI number"), ("passport_number", "Passport"),
    ("passport_country", "Passport country"), ("national_id", "National id"),
    ("driver_licence", "Driver licence"), ("phone", "Phone"), ("email", "Email"),
    ("street_address", "Address"), ("locality", "City"), ("region", "State"),
    ("postcode", "Postcode"),
)

#: Fields compared side by side in the identity review queue.
REVIEW_FIELDS = ("full_name", "given_name", "middle_name", "family_name", "name_aliases",
                 "birth_date", "sex", "nationality", "birth_country", "a_number", "fbi_number",
                 "passport_number", "national_id", "driver_licence", "phone", "email",
                 "street_address", "locality", "region", "postcode")


def has(ws: Workspace, table: str) -> bool:
    try:
        rows = ws.cursor().execute(
            "select 1 from information_schema.tables where table_name = ? "
            "and table_schema = 'main'", [table]).fetchall()
    except duckdb.Error:
        return False
    return bool(rows)


def columns(ws: Workspace, table: str) -> set[str]:
    try:
        rows = ws.cursor().execute(
            "select column_name from information_schema.columns where table_name = ?",
            [table]).fetchall()
    except duckdb.Error:
        return set()
    return {r[0] for r in rows}


def rows(ws: Workspace, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts on a fresh cursor (safe from the server's worker threads)."""
    cur = ws.cursor()
    try:
        res = cur.execute(sql, params or [])
        cols = [d[0] for d in res.description] if res.description else []
        return [dict(zip(cols, r)) for r in res.fetchall()]
    finally:
        cur.close()


def missing(ws: Workspace, *tables: str) -> list[str]:
    return [t for t in tables if not has(ws, t)]


def empty_hint(tables: list[str]) -> str:
    steps = sorted({PRODUCED_BY.get(t, "the pipeline") for t in tables})
    return (f"No data yet: table{'s' if len(tables) > 1 else ''} {', '.join(tables)} "
            f"not found in this workspace. Run {' and '.join(steps)} first.")


def jload(v: Any, default: Any) -> Any:
    if v is None:
        return default
    if isinstance(v, (list, dict)):
        return v
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        return default


# ---- leads ----------------------------------------------------------------------------------
def _num(v: Any) -> float | None:
    try:
        return float(v) if v is not None else None
    except (TypeError, ValueError):
        return None


def normalise_candidate(c: Any) -> dict[str, Any]:
    """A location candidate with the keys the templates use, whatever the leads room wrote."""
    if not isinstance(c, dict):
        return {"address": str(c)}
    out = dict(c)
    out["latitude"] = _num(c.get("latitude", c.get("lat")))
    out["longitude"] = _num(c.get("longitude", c.get("lon", c.get("lng"))))
    out["region"] = c.get("region") or c.get("state")
    out["address"] = c.get("address") or c.get("label") or ", ".join(
        str(c[k]) for k in ("street_address", "locality", "region", "postcode") if c.get(k))
    out["confidence"] = _num(c.get("confidence", c.get("score")))
    out["flags"] = c.get("flags") or []
    out["evidence"] = c.get("evidence") or []
    return out


def flag_names(flags: Any) -> list[str]:
    out = []
    for f in jload(flags, []) or []:
        if isinstance(f, dict):
            out.append(str(f.get("flag") or f.get("kind") or f.get("type") or f.get("name")
                           or json.dumps(f, default=str)))
        else:
            out.append(str(f))
    return out


# ---- identity review ------------------------------------------------------------------------
def side_by_side(left: dict[str, Any] | None, right: dict[str, Any] | None
                 ) -> list[dict[str, Any]]:
    left, right = left or {}, right or {}
    out = []
    for f in REVIEW_FIELDS:
        a, b = left.get(f), right.get(f)
        if a in (None, "") and b in (None, ""):
            continue
        na, nb = (str(a).strip().lower() if a is not None else ""), (
            str(b).strip().lower() if b is not None else "")
        state = "same" if na == nb else ("missing" if not na or not nb else "differs")
        out.append({"field": f, "left": a, "right": b, "state": state})
    return out


# ---- logistics ------------------------------------------------------------------------------
def logistics_board(ws: Workspace) -> dict[str, Any]:
    """Facilities with occupancy, legs with seats filled, and the current plan.

    Prefers the logistics room's own read API when it exists; otherwise derives occupancy
    and legs from the canonical facility / detention / transport_leg records.
    """
    out: dict[str, Any] = {"facilities": [], "legs": [], "plan": None, "assignments": []}
    try:
        from casegraph.logistics import board as lboard
    except ImportError:
        lboard = None
    if lboard is not None:
        try:
            with SHARED_CONNECTION:  # the room reads through ws.con, not a cursor
                data = lboard.board(ws)
        except Exception as e:  # noqa: BLE001 - fall back to the records, say why
            out["error"] = f"the logistics room's board failed ({type(e).__name__}: {e}); " \
                           "showing facilities and legs from the records only"
        else:
            out.update(data)
            if out.get("plan"):
                out["unassigned_reasons"] = _unassigned_reasons(ws, out["plan"]["plan_id"])
            return out
    if not has(ws, "records"):
        out["missing"] = ["records"]
        return out
    out["facilities"] = rows(ws, """
        select f.facility_id, coalesce(f.name, f.facility_id) as name, f.capacity,
               (select count(*) from current_records d where d.kind = 'detention'
                  and d.facility_id = f.facility_id and d.book_out_date is null) as occupancy
        from current_records f where f.kind = 'facility' order by name""")
    legs = rows(ws, """select leg_id, mode, origin, destination_country, departs_at, seats, cost
                       from current_records where kind = 'transport_leg'
                       order by departs_at, leg_id""")
    plan_tables = [t for t in ("transport_plan_assignments", "transport_plan_legs",
                               "transport_plans", "transport_plan") if has(ws, t)]
    filled: dict[str, int] = {}
    if "transport_plan_assignments" in plan_tables:
        cols = columns(ws, "transport_plan_assignments")
        if "leg_id" in cols:
            flt = ""
            params: list[Any] = []
            if "plan_id" in cols and "transport_plans" in plan_tables:
                pcols = columns(ws, "transport_plans")
                order = "created_at" if "created_at" in pcols else "plan_id"
                latest = rows(ws, f"select plan_id from transport_plans order by {order} desc "
                                  "limit 1")
                if latest:
                    flt, params = " where plan_id = ?", [latest[0]["plan_id"]]
                    out["plan"] = rows(ws, "select * from transport_plans where plan_id = ?",
                                       params)[0]
            for r in rows(ws, f"select leg_id, count(*) as n from transport_plan_assignments"
                              f"{flt} group by leg_id", params):
                filled[r["leg_id"]] = r["n"]
            out["assignments"] = rows(ws, f"select * from transport_plan_assignments{flt} "
                                          "limit 200", params)
    for leg in legs:
        leg["filled"] = filled.get(leg["leg_id"], 0)
    out["legs"] = legs
    out["plan_tables"] = plan_tables
    return out


def _unassigned_reasons(ws: Workspace, plan_id: str) -> list[dict[str, Any]]:
    """Why detainees of a plan were not assigned: reason, count and a few examples."""
    try:
        from casegraph.logistics.plans import plan_unassigned

        with SHARED_CONNECTION:
            rows = plan_unassigned(ws, plan_id)
    except Exception:  # noqa: BLE001 - optional detail of the board
        return []
    by: dict[str, dict[str, Any]] = {}
    for r in rows:
        d = by.setdefault(r["reason"] or "unknown", {"reason": r["reason"] or "unknown",
                                                    "count": 0, "examples": []})
        d["count"] += 1
        if len(d["examples"]) < 3:
            d["examples"].append(f"{r['person_id']}: {r['detail']}")
    return sorted(by.values(), key=lambda d: -d["count"])
