"""Read models of the pages: warehouse tables shaped for templates.

Reads only the tables listed in ``docs/architecture.md`` and tolerates every one of them
being missing (a page then shows an empty state saying which step produces the data).
Writes never happen here: they go through the cases/governance/resolve services (see
``backend.py``) so pages and API run the same code.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

import duckdb

from casegraph.workspace import Workspace

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


def latest_run(ws: Workspace) -> str | None:
    if not has(ws, "score_runs"):
        return None
    r = rows(ws, "select run_id from score_runs order by created_at desc limit 1")
    return r[0]["run_id"] if r else None


def _run_filter(ws: Workspace, table: str) -> tuple[str, list[Any]]:
    run = latest_run(ws)
    if run is not None and "run_id" in columns(ws, table):
        return " and run_id = ?", [run]
    return "", []


# ---- persons --------------------------------------------------------------------------------
def person(ws: Workspace, person_id: str) -> dict[str, Any] | None:
    if not has(ws, "persons"):
        return None
    r = rows(ws, "select * from persons where person_id = ?", [person_id])
    return r[0] if r else None


def record_meta(ws: Workspace, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Provenance of records by key: source, record id, batch, load time, kind."""
    if not keys or not has(ws, "records"):
        return {}
    out = {}
    for r in rows(ws, "select record_key, source, record_id, batch_id, loaded_at, kind "
                      "from current_records where record_key in (select unnest(?))", [keys]):
        out[r["record_key"]] = r
    return out


def identity_card(ws: Workspace, p: dict[str, Any]) -> list[dict[str, Any]]:
    prov = jload(p.get("provenance"), {})
    meta = record_meta(ws, [k for k in prov.values() if isinstance(k, str)])
    card = []
    for field, label in IDENTITY_CARD_FIELDS:
        if field not in p or p.get(field) in (None, ""):
            continue
        key = prov.get(field)
        card.append({"field": field, "label": label, "value": p[field], "record_key": key,
                     "source": meta.get(key)})
    return card


def linked_records(ws: Workspace, person_id: str) -> list[dict[str, Any]]:
    if missing(ws, "person_records", "records"):
        return []
    return rows(ws, """
        select pr.record_key, pr.source, pr.record_id, coalesce(r.kind, pr.kind) as kind,
               pr.match_probability,
               r.batch_id, r.loaded_at, r.full_name, r.given_name, r.family_name, r.birth_date,
               r.a_number
        from person_records pr left join current_records r using (record_key)
        where pr.person_id = ? order by pr.match_probability desc nulls last, pr.record_key""",
                [person_id])


TIMELINE_SQL = """
select record_key, source, kind, coalesce(order_date, event_date, encounter_date,
       conviction_date, departure_date, status_date, book_in_date) as day, order_type,
       in_absentia, appeal_waived, case_number, court, event_type, outcome, stay_end_date,
       stay_authority, agency, encounter_type, charges, charge_status, offense_code,
       offense_category, severity, sentence_days, channel, port, carrier, destination_country,
       status_type, facility_id, book_out_date
from current_records
where record_key in (select record_key from person_records where person_id = ?)
  and kind in ('removal_order', 'case_event', 'encounter', 'conviction', 'departure', 'status',
               'detention')
order by day nulls last, record_key
"""

_TIMELINE_LABEL = {
    "removal_order": "Removal order", "encounter": "Encounter", "conviction": "Conviction",
    "departure": "Departure", "status": "Status evidence", "detention": "Detention",
}


def timeline(ws: Workspace, person_id: str) -> list[dict[str, Any]]:
    if missing(ws, "person_records", "records"):
        return []
    out = []
    for r in rows(ws, TIMELINE_SQL, [person_id]):
        kind = r["kind"]
        if kind == "case_event":
            title = (r["event_type"] or "case event").replace("_", " ").capitalize()
            cat = ("stay" if "stay" in (r["event_type"] or "") else
                   "appeal" if any(w in (r["event_type"] or "") for w in
                                   ("appeal", "motion", "petition")) else "case")
        else:
            title = _TIMELINE_LABEL.get(kind, kind)
            cat = {"removal_order": "order"}.get(kind, kind)
        bits = []
        if kind == "removal_order":
            bits += [r["order_type"], "in absentia" if r["in_absentia"] else None,
                     "appeal waived" if r["appeal_waived"] else None, r["case_number"], r["court"]]
        elif kind == "case_event":
            bits += [r["outcome"], r["stay_authority"],
                     f"until {r['stay_end_date']}" if r["stay_end_date"] else None, r["case_number"]]
        elif kind == "encounter":
            bits += [r["encounter_type"], r["agency"], r["charges"], r["charge_status"]]
        elif kind == "conviction":
            bits += [r["offense_category"], r["offense_code"], r["severity"],
                     f"{r['sentence_days']} days" if r["sentence_days"] else None]
        elif kind == "departure":
            bits += [(r["channel"] or "").replace("_", " "), r["port"], r["carrier"],
                     r["destination_country"]]
        elif kind == "status":
            bits += [(r["status_type"] or "").replace("_", " ")]
        elif kind == "detention":
            bits += [r["facility_id"], f"out {r['book_out_date']}" if r["book_out_date"] else None]
        out.append({"day": r["day"], "title": title, "category": cat, "source": r["source"],
                    "record_key": r["record_key"],
                    "detail": " · ".join(str(b) for b in bits if b not in (None, ""))})
    return out


GATE_ORDER = ("final_order", "no_automatic_stay", "no_granted_stay", "no_lawful_status",
              "no_protected_application", "identity_confidence", "not_resolved")


def gates(ws: Workspace, person_id: str) -> list[dict[str, Any]]:
    if not has(ws, "gate_results"):
        return []
    flt, params = _run_filter(ws, "gate_results")
    out = rows(ws, f"select * from gate_results where person_id = ?{flt}", [person_id, *params])
    for g in out:
        g["evidence"] = jload(g.get("evidence"), [])
    order = {g: i for i, g in enumerate(GATE_ORDER)}
    out.sort(key=lambda g: (order.get(g["gate"], 99), g["gate"]))
    return out


def eligibility(ws: Workspace, person_id: str) -> dict[str, Any] | None:
    if not has(ws, "eligibility"):
        return None
    flt, params = _run_filter(ws, "eligibility")
    r = rows(ws, f"select * from eligibility where person_id = ?{flt}", [person_id, *params])
    if not r:
        return None
    r[0]["blocking"] = jload(r[0].get("blocking"), [])
    return r[0]


def priority(ws: Workspace, person_id: str) -> dict[str, Any] | None:
    if not has(ws, "priority"):
        return None
    flt, params = _run_filter(ws, "priority")
    r = rows(ws, f"select * from priority where person_id = ?{flt}", [person_id, *params])
    if not r:
        return None
    r[0]["contributions"] = jload(r[0].get("contributions"), [])
    return r[0]


def departure(ws: Workspace, person_id: str) -> dict[str, Any] | None:
    if not has(ws, "departure_status"):
        return None
    r = rows(ws, "select * from departure_status where person_id = ?", [person_id])
    if not r:
        return None
    r[0]["evidence"] = jload(r[0].get("evidence"), [])
    return r[0]


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


def lead_rows(ws: Workspace, *, person_id: str | None = None) -> list[dict[str, Any]]:
    if not has(ws, "leads"):
        return []
    flt, params = _run_filter(ws, "leads")
    join_p = has(ws, "persons")
    sql = ("select l.*" + (", p.full_name, p.nationality, p.birth_date" if join_p else "") +
           " from leads l" + (" left join persons p using (person_id)" if join_p else "") +
           " where 1=1" + flt.replace("run_id", "l.run_id"))
    if person_id:
        sql += " and l.person_id = ?"
        params = [*params, person_id]
    sql += " order by l.priority_score desc nulls last, l.lead_id"
    out = []
    for r in rows(ws, sql, params):
        cands = [normalise_candidate(c) for c in jload(r.get("candidates"), []) or []]
        r["candidates"] = cands
        top = cands[0] if cands else {}
        r["top"] = top
        r["region"] = top.get("region")
        r["flags"] = flag_names(r.get("flags"))
        for c in cands:
            r["flags"] += [f for f in flag_names(c.get("flags")) if f not in r["flags"]]
        out.append(r)
    return out


# ---- identity review ------------------------------------------------------------------------
def review_items(ws: Workspace, status: str = "open") -> list[dict[str, Any]]:
    if not has(ws, "identity_review"):
        return []
    return rows(ws, "select * from identity_review where status = ? "
                    "order by abs(coalesce(match_probability, 0.5) - 0.5), review_id", [status])


def review_item(ws: Workspace, review_id: str) -> dict[str, Any] | None:
    if not has(ws, "identity_review"):
        return None
    r = rows(ws, "select * from identity_review where review_id = ?", [review_id])
    return r[0] if r else None


def record(ws: Workspace, key: str) -> dict[str, Any] | None:
    if not has(ws, "records"):
        return None
    r = rows(ws, "select * from current_records where record_key = ?", [key])
    return r[0] if r else None


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


# ---- departures -----------------------------------------------------------------------------
def departures_summary(ws: Workspace) -> dict[str, Any]:
    out: dict[str, Any] = {"missing": missing(ws, "departure_status")}
    if out["missing"]:
        return out
    join_p = has(ws, "persons")
    data = rows(ws, "select d.status, d.channel, d.departure_date" +
                (", p.nationality" if join_p else ", null as nationality") +
                " from departure_status d" +
                (" left join persons p using (person_id)" if join_p else ""))
    months = sorted({_month(r["departure_date"]) for r in data if r["departure_date"]})
    by_channel: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(months))
    by_status: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(months))
    idx = {m: i for i, m in enumerate(months)}
    for r in data:
        if not r["departure_date"]:
            continue
        i = idx[_month(r["departure_date"])]
        by_channel[(r["channel"] or "unknown").replace("_", " ")][i] += 1
        by_status[(r["status"] or "unknown").replace("_", " ")][i] += 1
    nat = Counter((r["nationality"] or "unknown", r["status"]) for r in data)
    nats = Counter(r["nationality"] or "unknown" for r in data)
    out.update(
        total=len(data),
        verified=sum(1 for r in data if r["status"] == "verified_departed"),
        claimed=sum(1 for r in data if r["status"] == "claimed_departed"),
        months=months, by_channel=dict(by_channel), by_status=dict(by_status),
        channels=Counter((r["channel"] or "unknown") for r in data).most_common(),
        nationalities=[{"nationality": n, "total": c,
                        "verified": nat[(n, "verified_departed")],
                        "claimed": nat[(n, "claimed_departed")]}
                       for n, c in nats.most_common(15)],
    )
    return out


def _month(d: Any) -> str:
    if isinstance(d, (dt.date, dt.datetime)):
        return d.strftime("%Y-%m")
    return str(d)[:7]


# ---- logistics ------------------------------------------------------------------------------
def logistics_board(ws: Workspace) -> dict[str, Any]:
    """Facilities with occupancy, legs with seats filled, and the current plan.

    Prefers the logistics room's own read API when it exists; otherwise derives occupancy
    and legs from the canonical facility / detention / transport_leg records.
    """
    out: dict[str, Any] = {"facilities": [], "legs": [], "plan": None, "assignments": []}
    try:
        from casegraph.logistics import board as lboard  # type: ignore[attr-defined]

        data = lboard.board(ws)  # optional room API
        if isinstance(data, dict):
            out.update(data)
            return out
    except Exception:  # noqa: BLE001 - the room may not exist yet
        pass
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
