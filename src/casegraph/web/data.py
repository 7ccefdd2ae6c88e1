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

from casegraph.cases._common import parse_json
from casegraph.workspace import Workspace

#: Serialises calls into room code that reads through the workspace's one shared DuckDB
#: connection (``ws.con``/``ws.query``) instead of a cursor: the same lock as the API's.
try:
    from casegraph.cases._common import shared_connection_lock as SHARED_CONNECTION
except ImportError:  # pragma: no cover - stripped-down build
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


#: JSON cell (string, already-parsed value or NULL) -> value; one parser for API and pages.
jload = parse_json


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
def records_board(ws: Workspace) -> dict[str, Any]:
    """Facilities and legs straight from the canonical records (when the logistics room is
    not installed): occupancy = open detention records per facility, no plan."""
    out: dict[str, Any] = {"facilities": [], "legs": [], "plan": None, "assignments": []}
    if not has(ws, "records"):
        out["missing"] = ["records"]
        return out
    out["facilities"] = rows(ws, """
        select f.facility_id, coalesce(f.name, f.facility_id) as name, f.capacity,
               (select count(*) from current_records d where d.kind = 'detention'
                  and d.facility_id = f.facility_id and d.book_out_date is null) as occupancy
        from current_records f where f.kind = 'facility' order by name""")
    out["legs"] = [{**leg, "filled": 0} for leg in rows(ws, """
        select leg_id, mode, origin, destination_country, departs_at, seats, cost
        from current_records where kind = 'transport_leg' order by departs_at, leg_id""")]
    return out


def unassigned_reasons(rows_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Why detainees of a plan were not assigned: reason, count and a few examples."""
    by: dict[str, dict[str, Any]] = {}
    for r in rows_:
        d = by.setdefault(r.get("reason") or "unknown", {"reason": r.get("reason") or "unknown",
                                                         "count": 0, "examples": []})
        d["count"] += 1
        if len(d["examples"]) < 3:
            d["examples"].append(f"{r.get('person_id')}: {r.get('detail')}")
    return sorted(by.values(), key=lambda d: -d["count"])
