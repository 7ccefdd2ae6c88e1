"""Person search and the person profile, masked by role and audited with their purpose.

Search delegates to the search room's index (``search.service.search``) when it is
installed and built, else a parameterised DuckDB query over ``persons``. A search by
identifier needs a purpose of use; opening a profile always does.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from casegraph.cases._common import (
    audit,
    columns,
    has_table,
    latest_run_id,
    parse_json,
    query,
    require,
    shared_connection_lock,
)
from casegraph.cases.workflow import case_events_for_person, officer_person_ids, sees_all
from casegraph.governance.errors import Invalid, NotFound, ServiceError
from casegraph.governance.masking import can_see_sensitive, mask_record, mask_text
from casegraph.governance.permissions import SENSITIVE_FIELDS
from casegraph.governance.purpose import PurposeRequired, check_purpose, is_identifier_query
from casegraph.governance.users import Principal

MAX_QUERY = 200

#: date field of each record kind, for the timeline
TIMELINE_DATE = {
    "removal_order": "order_date", "case_event": "event_date", "encounter": "encounter_date",
    "conviction": "conviction_date", "location": "observed_on", "departure": "departure_date",
    "status": "status_date", "detention": "book_in_date",
}
PERSON_META = {"person_id", "record_count", "confidence", "provenance", "run_id"}


class PurposeMissing(ServiceError):
    status = 400
    code = "purpose_required"


def _purpose(ws: Any, actor: Principal, purpose: str | None, what: str, action: str,
             object_ids: list[str]) -> str:
    try:
        return check_purpose(ws, purpose, what)
    except PurposeRequired as e:
        audit(ws, actor, action, object_ids, purpose=purpose, result="purpose_missing")
        raise PurposeMissing(str(e)) from e


# ---- search -------------------------------------------------------------------------------
def _hit_dict(hit: Any) -> dict[str, Any]:
    if isinstance(hit, dict):
        return dict(hit)
    if dataclasses.is_dataclass(hit):
        return dataclasses.asdict(hit)
    if hasattr(hit, "model_dump"):
        return hit.model_dump()
    return dict(getattr(hit, "__dict__", {"value": str(hit)}))


def _index_search(ws: Any, q: str, limit: int, role: str, filters: dict[str, Any] | None
                  ) -> list[dict[str, Any]] | None:
    try:
        from casegraph.search import service
    except ImportError:
        return None
    if not ws.index_dir.exists():
        return None
    try:
        with shared_connection_lock:
            res = service.search(ws, q, limit=limit, role=role, filters=filters or None)
    except Exception as e:  # the index is theirs: a bad query there is a bad query here
        if type(e).__name__ in ("UserError", "ValueError", "QueryError"):
            raise Invalid(f"search: {e}") from e
        raise
    hits = getattr(res, "hits", res)
    return [_hit_dict(h) for h in hits]


def _like(token: str) -> str:
    return "%" + token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fallback_search(ws: Any, q: str, limit: int, offset: int, role: str
                     ) -> list[dict[str, Any]]:
    if not has_table(ws, "persons"):
        return []
    cols = columns(ws, "persons")
    tokens = [t for t in re.split(r"\s+", q.strip().lower()) if t][:8]
    if not tokens:
        return []
    hidden = set() if can_see_sensitive(role) else SENSITIVE_FIELDS  # masked = unsearchable
    ident_cols = [c for c in ("a_number", "passport_number", "fbi_number", "national_id",
                              "driver_licence") if c in cols and c not in hidden]
    where, params = [], []
    for t in tokens:
        alts = ["lower(coalesce(full_name, '')) like ? escape '\\'"]
        params.append(_like(t))
        digits = re.sub(r"[^0-9a-z]", "", t)
        for c in (ident_cols if len(digits) >= 4 and any(ch.isdigit() for ch in digits)
                  else []):
            alts.append(f"regexp_replace(lower(coalesce({c}, '')), '[^0-9a-z]', '', 'g') = ?")
            params.append(digits.lstrip("0") if c == "a_number" and digits.isdigit() else digits)
            if c == "a_number":
                alts[-1] = ("ltrim(regexp_replace(lower(coalesce(a_number, '')), '[^0-9a-z]', "
                            "'', 'g'), '0') = ?")
        where.append("(" + " or ".join(alts) + ")")
    shown = [c for c in ("person_id", "full_name", "given_name", "family_name", "birth_date",
                         "nationality", "a_number", "record_count", "confidence") if c in cols]
    rows = query(ws, f"select {', '.join(shown)} from persons where {' and '.join(where)} "
                     f"order by full_name, person_id limit ? offset ?",
                 [*params, limit, offset])
    return [mask_record(r, role) for r in rows]


def search_persons(ws: Any, actor: Principal, q: str, *, limit: int = 20, offset: int = 0,
                   purpose: str | None = None, filters: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """Search persons; identifier searches need a purpose. Audited (query, count)."""
    require(ws, actor, "search.persons", "person.search")
    q = (q or "").strip()
    if not q:
        raise Invalid("empty search query")
    if len(q) > MAX_QUERY:
        raise Invalid(f"search query too long (at most {MAX_QUERY} characters)")
    if "\x00" in q:
        raise Invalid("search query contains a NUL character")
    p = None
    if is_identifier_query(q):
        p = _purpose(ws, actor, purpose, "a search by identifier", "person.search", [])
    elif purpose:
        p = " ".join(purpose.split())[:500]
    hits = _index_search(ws, q, limit + offset, actor.role, filters)
    engine = "index"
    if hits is None:
        engine = "warehouse"
        hits = _fallback_search(ws, q, limit, offset, actor.role)
    else:
        hits = hits[offset:offset + limit]
    if not sees_all(actor) and actor.role == "officer":  # pragma: no cover - officers lack search
        allowed_ids = officer_person_ids(ws, actor.username)
        hits = [h for h in hits if h.get("person_id") in allowed_ids]
    audit(ws, actor, "person.search", [str(h.get("person_id")) for h in hits], purpose=p,
          query=q, engine=engine, returned=len(hits), identifier=p is not None)
    return {"query": q, "engine": engine, "limit": limit, "offset": offset,
            "items": hits}


# ---- profile ------------------------------------------------------------------------------
def _summary(r: dict[str, Any]) -> str:
    k = r.get("kind")
    g = r.get
    if k == "removal_order":
        bits = [f"{g('order_type') or 'removal'} order"]
        if g("in_absentia"):
            bits.append("in absentia")
        if g("appeal_waived"):
            bits.append("appeal waived")
        if g("court"):
            bits.append(f"({g('court')})")
        return " ".join(bits)
    if k == "case_event":
        return f"{g('event_type')}" + (f": {g('outcome')}" if g("outcome") else "") + \
            (f" until {g('stay_end_date')}" if g("stay_end_date") else "")
    if k == "encounter":
        return f"{g('encounter_type') or 'encounter'} by {g('agency') or 'agency'}" + \
            (f": {g('charges')}" if g("charges") else "")
    if k == "conviction":
        return f"conviction {g('offense_category') or g('offense_code') or ''} " \
               f"({g('severity') or 'unknown severity'})".strip()
    if k == "location":
        return f"{g('location_kind') or 'location'} at " + \
            ", ".join(str(x) for x in (g("street_address"), g("locality"), g("region")) if x)
    if k == "departure":
        return f"departure by {g('channel')}" + (f" via {g('port')}" if g("port") else "")
    if k == "status":
        return f"status: {g('status_type')}"
    if k == "detention":
        return f"detention at {g('facility_id')}"
    return str(k)


def _officer_may_open(ws: Any, actor: Principal, person_id: str) -> bool:
    return actor.role != "officer" or person_id in officer_person_ids(ws, actor.username)


def get_profile(ws: Any, actor: Principal, person_id: str, purpose: str | None
                ) -> dict[str, Any]:
    """Everything known about one person, masked for ``actor``'s role; audited with purpose.

    Sections absent from the warehouse (pipeline step not run) are empty.
    """
    require(ws, actor, "person.read", "person.read", [person_id])
    p = _purpose(ws, actor, purpose, "opening a person profile", "person.read", [person_id])
    if not _officer_may_open(ws, actor, person_id):
        audit(ws, actor, "person.read", [person_id], purpose=p, result="denied",
              reason="not on a case assigned to this officer")
        raise NotFound(f"no person {person_id!r} on a case assigned to you")
    role = actor.role
    persons = query(ws, "select * from persons where person_id = ?", [person_id]) \
        if has_table(ws, "persons") else []
    if not persons:
        audit(ws, actor, "person.read", [person_id], purpose=p, result="not_found")
        raise NotFound(f"no person {person_id!r}")
    person = persons[0]
    prov = parse_json(person.get("provenance"), {})
    masked_person = mask_record(person, role)
    canonical = {k: {"value": v, "record_key": prov.get(k)} for k, v in masked_person.items()
                 if k not in PERSON_META and v is not None}

    records: list[dict[str, Any]] = []
    if has_table(ws, "person_records") and has_table(ws, "current_records"):
        rows = query(ws, "select r.*, pr.match_probability from person_records pr join "
                         "current_records r on r.record_key = pr.record_key "
                         "where pr.person_id = ? order by r.source, r.record_id", [person_id])
        for r in rows:
            r.pop("raw", None)
            for c in [c for c in r if c.endswith("_norm")]:
                r.pop(c)
            m = mask_record(r, role)
            records.append({k: v for k, v in m.items() if v is not None})

    timeline: list[dict[str, Any]] = []
    for r in records:
        f = TIMELINE_DATE.get(r.get("kind", ""))
        if f and r.get(f) and r.get(f) != "[masked]":
            timeline.append({"date": str(r[f])[:10], "kind": r["kind"], "summary": _summary(r),
                             "record_key": r.get("record_key"), "source": r.get("source")})
        elif r.get("kind") == "status" and r.get("status_type") == "protected_status":
            timeline.append({"date": None, "kind": "status",
                             "summary": "protected-status record (details masked)",
                             "record_key": r.get("record_key"), "source": r.get("source")})

    case_rows = []
    try:
        for e in case_events_for_person(ws, person_id):
            timeline.append({"date": e["at"][:10], "kind": "case_event",
                             "summary": f"case {e['case_id']}: {e['event']}"
                                        + (f" {e['value']}" if e["value"] else ""),
                             "case_id": e["case_id"], "at": e["at"]})
            case_rows.append(e)
    # operational store unreachable: keep the rest of the profile
    except Exception:  # noqa: BLE001, S110  # pragma: no cover
        pass

    departure = None
    if has_table(ws, "departure_status"):
        dep = query(ws, "select * from departure_status where person_id = ?", [person_id])
        if dep:
            departure = dep[0]
            departure["evidence"] = parse_json(departure.get("evidence"), [])
            timeline.append({"date": str(departure.get("departure_date") or "")[:10] or None,
                             "kind": "departure_status",
                             "summary": f"{departure.get('status')} ({departure.get('channel')})"})
    timeline.sort(key=lambda e: (e.get("date") or "9999", e.get("at") or ""))

    gates: list[dict[str, Any]] = []
    eligibility = None
    run = latest_run_id(ws, "gate_results")
    if run:
        for g in query(ws, "select * from gate_results where run_id = ? and person_id = ?",
                       [run, person_id]):
            g["evidence"] = parse_json(g.get("evidence"), [])
            g["reason"] = mask_text(g.get("reason"), role)
            gates.append(g)
    erun = latest_run_id(ws, "eligibility")
    if erun:
        el = query(ws, "select * from eligibility where run_id = ? and person_id = ?",
                   [erun, person_id])
        if el:
            eligibility = el[0]
            eligibility["blocking"] = parse_json(eligibility.get("blocking"), [])
    priority = None
    prun = latest_run_id(ws, "priority")
    if prun:
        pr = query(ws, "select * from priority where run_id = ? and person_id = ?",
                   [prun, person_id])
        if pr:
            priority = pr[0]
            priority["contributions"] = parse_json(priority.get("contributions"), [])
    leads: list[dict[str, Any]] = []
    lrun = latest_run_id(ws, "leads")
    if lrun:
        for ld in query(ws, "select * from leads where run_id = ? and person_id = ?",
                        [lrun, person_id]):
            ld["candidates"] = parse_json(ld.get("candidates"), [])
            ld["flags"] = parse_json(ld.get("flags"), [])
            leads.append(ld)
    locations = [c for ld in leads for c in (ld["candidates"] or [])]
    out = {
        "person_id": person_id,
        "record_count": person.get("record_count"),
        "confidence": person.get("confidence"),
        "run_id": person.get("run_id"),
        "canonical": canonical,
        "records": records,
        "timeline": timeline,
        "gates": gates,
        "eligibility": eligibility,
        "priority": priority,
        "leads": leads,
        "location_candidates": locations,
        "departure": departure,
        "case_events": case_rows if sees_all(actor) or actor.role == "officer" else [],
        "masked": not can_see_sensitive(role),
    }
    audit(ws, actor, "person.read", [person_id], purpose=p,
          records=len(records), gates=len(gates))
    return out
