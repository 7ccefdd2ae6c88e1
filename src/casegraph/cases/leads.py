"""Leads worklist and the supervisor's decision: approve (re-checking the gates) or reject.

Lead states: ``proposed`` → ``approved`` (a case is opened, status ``open``) or
``rejected``. Before approval the legal gates are re-evaluated on the current data with
``policy.score.evaluate_person``; a person no longer eligible cannot be approved and the
refusal says which gates block. A lead with a ``sensitive_site`` flag or a needs-review
note needs the supervisor's explicit acknowledgement of each.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from casegraph.cases._common import (
    audit,
    clamp_page,
    clean_text,
    has_table,
    latest_run_id,
    page,
    parse_json,
    query,
    require,
    shared_connection_lock,
)
from casegraph.governance.audit import append_event, lock_log
from casegraph.governance.errors import Conflict, Invalid, NotFound, Unavailable
from casegraph.governance.users import Principal
from casegraph.store.db import now_iso, session_scope
from casegraph.store.models import Case, CaseEvent, LeadDecision

ACK_KINDS = ("sensitive_site", "needs_review")
SORT_KEYS = ("priority_score", "confidence", "created_at", "lead_id", "person_id")
MIN_REASON = 3


def flag_name(flag: Any) -> str:
    if isinstance(flag, dict):
        for k in ("flag", "kind", "type", "code", "name"):
            if flag.get(k):
                return str(flag[k])
        return json.dumps(flag, sort_keys=True)
    return str(flag)


#: Location flags that inform but need no acknowledgement; every other flag is either a
#: sensitive-site flag or a note for the supervisor (pending petition or motion, claimed
#: departure, re-entry, needs review...) and must be acknowledged as ``needs_review``.
INFORMATIONAL_FLAGS = frozenset({"stale", "shared_address", "workplace", "no_location"})


def required_acknowledgements(flags: list[Any], recheck_flags: list[str]) -> list[str]:
    """Which acknowledgements (``sensitive_site``, ``needs_review``) approval needs."""
    names = [flag_name(f).lower() for f in [*flags, *recheck_flags]]
    need = []
    if any(n.startswith("sensitive") for n in names):
        need.append("sensitive_site")
    if any(not n.startswith("sensitive") and n not in INFORMATIONAL_FLAGS for n in names):
        need.append("needs_review")
    return need


# ---- reading -------------------------------------------------------------------------------
def _decisions(lead_ids: list[str] | None = None, ws: Any = None) -> dict[str, LeadDecision]:
    with session_scope(ws) as s:
        q = select(LeadDecision).order_by(LeadDecision.id)
        if lead_ids is not None:
            q = q.where(LeadDecision.lead_id.in_(lead_ids))
        out: dict[str, LeadDecision] = {}
        for d in s.scalars(q):
            out[d.lead_id] = d  # latest wins
        return out


def _cases_by_lead(ws: Any, lead_ids: list[str] | None = None) -> dict[str, Case]:
    with session_scope(ws) as s:
        q = select(Case)
        if lead_ids is not None:
            q = q.where(Case.lead_id.in_(lead_ids))
        return {c.lead_id: c for c in s.scalars(q)}


def _lead_view(row: dict[str, Any], decision: LeadDecision | None, case: Case | None
               ) -> dict[str, Any]:
    out = dict(row)
    out["candidates"] = parse_json(row.get("candidates"), [])
    out["flags"] = parse_json(row.get("flags"), [])
    if case is not None:
        wf = case.status
    elif decision is not None:
        wf = decision.decision
    else:
        wf = "proposed"
    out["workflow_status"] = wf
    out["case_id"] = case.case_id if case else None
    out["assigned_to"] = case.assigned_to if case else None
    out["decision"] = None if decision is None else {
        "decision": decision.decision, "reason": decision.reason, "by": decision.decided_by,
        "at": decision.decided_at, "acknowledged": parse_json(decision.acknowledged, []),
    }
    out["acknowledgements_required"] = required_acknowledgements(out["flags"], [])
    return out


def _lead_rows(ws: Any, where: str = "", params: list[Any] | None = None
               ) -> list[dict[str, Any]]:
    if not has_table(ws, "leads"):
        return []
    name = ", p.full_name" if has_table(ws, "persons") else ", null as full_name"
    join = " left join persons p on p.person_id = l.person_id" if has_table(ws, "persons") else ""
    return query(ws, f"select l.*{name} from leads l{join} {where}", params or [])


def list_leads(ws: Any, actor: Principal, *, status: str | None = None,
               min_score: float | None = None, flag: str | None = None,
               person_id: str | None = None, q: str | None = None,
               sort: str = "priority_score", order: str = "desc", limit: int = 50,
               offset: int = 0, all_runs: bool = False) -> dict[str, Any]:
    """Leads of the latest run (filter, sort, page) with their workflow state."""
    limit, offset = clamp_page(limit, offset)
    require(ws, actor, "leads.read", "lead.list")
    if sort not in SORT_KEYS:
        raise Invalid(f"sort must be one of {', '.join(SORT_KEYS)}")
    if order not in ("asc", "desc"):
        raise Invalid("order must be asc or desc")
    run = None if all_runs else latest_run_id(ws, "leads")
    rows = _lead_rows(ws, "where l.run_id = ?" if run else "", [run] if run else [])
    decisions = _decisions(None, ws)
    cases = _cases_by_lead(ws)
    items = [_lead_view(r, decisions.get(r["lead_id"]), cases.get(r["lead_id"]))
             for r in rows]
    if status:
        items = [i for i in items if i["workflow_status"] == status]
    if min_score is not None:
        items = [i for i in items if (i.get("priority_score") or 0) >= min_score]
    if flag:
        items = [i for i in items if any(flag_name(f).startswith(flag) for f in i["flags"])]
    if person_id:
        items = [i for i in items if i.get("person_id") == person_id]
    if q:
        ql = q.lower()
        items = [i for i in items if ql in str(i.get("address") or "").lower()
                 or ql in str(i.get("full_name") or "").lower() or ql in str(i["lead_id"]).lower()]
    rev = order == "desc"
    items.sort(key=lambda i: str(i["lead_id"]))  # stable pages: ties ordered by lead id
    present = [i for i in items if i.get(sort) is not None]
    missing = [i for i in items if i.get(sort) is None]
    present.sort(key=lambda i: i[sort], reverse=rev)
    items = present + missing
    result = page(items, limit, offset)
    result["run_id"] = run
    audit(ws, actor, "lead.list", [i["lead_id"] for i in result["items"]],
          filters={"status": status, "min_score": min_score, "flag": flag, "q": q},
          returned=len(result["items"]), total=result["total"])
    return result


def _get_lead_row(ws: Any, lead_id: str) -> dict[str, Any]:
    rows = _lead_rows(ws, "where l.lead_id = ? order by l.created_at desc limit 1", [lead_id]) \
        if has_table(ws, "leads") else []
    if not rows:
        raise NotFound(f"no lead {lead_id!r}")
    return rows[0]


def get_lead(ws: Any, actor: Principal, lead_id: str) -> dict[str, Any]:
    require(ws, actor, "leads.read", "lead.read", [lead_id])
    row = _get_lead_row(ws, lead_id)
    view = _lead_view(row, _decisions([lead_id], ws).get(lead_id),
                      _cases_by_lead(ws, [lead_id]).get(lead_id))
    audit(ws, actor, "lead.read", [lead_id, str(row.get("person_id"))])
    return view


# ---- re-checking the gates --------------------------------------------------------------
@dataclass
class Recheck:
    eligible: bool
    blocking: list[dict[str, Any]] = field(default_factory=list)  # {gate, verdict, reason}
    flags: list[str] = field(default_factory=list)
    source: str = "policy.score.evaluate_person"
    as_of: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def why(self) -> str:
        return "; ".join(f"gate {b['gate']}: {b['verdict']} ({b.get('reason') or 'no reason'})"
                         for b in self.blocking) or "not eligible"


def _gate_dicts(results: Any) -> list[dict[str, Any]]:
    out = []
    for r in results or []:
        if isinstance(r, dict):
            out.append({"gate": r.get("gate"), "verdict": r.get("verdict"),
                        "reason": r.get("reason"), "flags": list(r.get("flags") or [])})
        else:
            out.append({"gate": getattr(r, "gate", None), "verdict": getattr(r, "verdict", None),
                        "reason": getattr(r, "reason", None),
                        "flags": list(getattr(r, "flags", ()) or ())})
    return out


def recheck_person(ws: Any, person_id: str, as_of: dt.date | None = None) -> Recheck:
    """Re-evaluate the gates for one person on current data (the policy room's function)."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    try:
        from casegraph.policy.score import evaluate_person
    except ImportError:
        evaluate_person = None
    if evaluate_person is not None:
        try:
            with shared_connection_lock:
                pe = evaluate_person(ws, person_id, as_of)
        except Exception as e:
            raise Unavailable(f"cannot re-check the legal gates for {person_id}: {e}") from e
        get = (pe.get if isinstance(pe, dict) else lambda k, d=None: getattr(pe, k, d))
        if get("found", True) is False:
            return Recheck(False, [{"gate": "identity", "verdict": "fail",
                                    "reason": f"person {person_id} no longer exists in the "
                                              f"latest resolve run (merged or split)"}],
                           as_of=as_of.isoformat())
        gates = _gate_dicts(get("gates") or get("results") or get("gate_results"))
        eligible = get("eligible")
        if eligible is None:
            eligible = bool(gates) and all(g["verdict"] == "pass" for g in gates)
        blocking = [g for g in gates if g["verdict"] != "pass"]
        if not eligible and not blocking:
            blocking = [{"gate": str(b), "verdict": "fail", "reason": None}
                        for b in (get("blocking") or ["eligibility"])]
        flags = list(get("flags") or []) or [f for g in gates for f in g["flags"]]
        rc = Recheck(bool(eligible), blocking, [str(f) for f in flags], as_of=as_of.isoformat())
    else:
        rc = _stored_recheck(ws, person_id, as_of)
    if has_table(ws, "departure_status"):
        dep = query(ws, "select status, channel, departure_date from departure_status "
                        "where person_id = ? and status = 'verified_departed'", [person_id])
        if dep and rc.eligible:
            rc.eligible = False
            rc.blocking.append({"gate": "not_already_resolved", "verdict": "fail",
                                "reason": f"verified departure ({dep[0]['channel']}, "
                                          f"{dep[0]['departure_date']})"})
    return rc


def _stored_recheck(ws: Any, person_id: str, as_of: dt.date) -> Recheck:
    """Fallback while the policy engine is absent: the latest stored gate verdicts."""
    run = latest_run_id(ws, "gate_results")
    if run is None:
        raise Unavailable("cannot re-check the legal gates: no policy engine and no stored "
                          "gate results (run `casegraph score`)")
    gates = query(ws, "select gate, verdict, reason from gate_results where run_id = ? and "
                      "person_id = ?", [run, person_id])
    if not gates:
        return Recheck(False, [{"gate": "all", "verdict": "fail",
                                "reason": "no gate results for this person"}],
                       source="stored gate_results", as_of=as_of.isoformat())
    blocking = [g for g in gates if g["verdict"] != "pass"]
    return Recheck(not blocking, blocking, [], source=f"stored gate_results run {run}",
                   as_of=as_of.isoformat())


# ---- deciding -----------------------------------------------------------------------------
def _check_open(ws: Any, lead_id: str, session: Any = None) -> None:
    if session is not None:
        lock_log(session)  # serialise decisions; the check below holds until commit
        d = session.scalars(select(LeadDecision).where(LeadDecision.lead_id == lead_id)
                            .order_by(LeadDecision.id.desc()).limit(1)).first()
    else:
        d = _decisions([lead_id], ws).get(lead_id)
    if d is not None:
        raise Conflict(f"lead {lead_id} was already {d.decision} by {d.decided_by} at "
                       f"{d.decided_at}")


def _decidable(ws: Any, actor: Principal, lead_id: str, reason: str, verb: str
               ) -> tuple[str, dict[str, Any], str]:
    """What approving and rejecting both check first, in this order: the permission
    (audited as ``lead.<verb>``), a reason, the lead exists and is not decided yet.

    Returns (cleaned reason, lead row, person id).
    """
    require(ws, actor, "leads.decide", f"lead.{verb}", [lead_id])
    reason = clean_text(reason, "reason")
    if len(reason) < MIN_REASON:
        raise Invalid(f"a reason is required to {verb} a lead")
    row = _get_lead_row(ws, lead_id)
    _check_open(ws, lead_id)
    return reason, row, str(row.get("person_id"))


def approve_lead(ws: Any, actor: Principal, lead_id: str, reason: str, *,
                 acknowledge: list[str] | None = None, as_of: dt.date | None = None
                 ) -> dict[str, Any]:
    """Approve a proposed lead and open its case (status ``open``).

    Raises:
        Conflict: already decided, person no longer eligible (says why), or flags not
            acknowledged.
    """
    reason, row, person_id = _decidable(ws, actor, lead_id, reason, "approve")
    rc = recheck_person(ws, person_id, as_of)
    if not rc.eligible:
        audit(ws, actor, "lead.approve", [lead_id, person_id], result="refused",
              reason=reason, recheck=rc.as_dict())
        raise Conflict(f"lead {lead_id} cannot be approved: person {person_id} is no longer "
                       f"eligible on {rc.as_of}: {rc.why()}", code="not_eligible")
    flags = parse_json(row.get("flags"), [])
    need = required_acknowledgements(flags, rc.flags)
    given = {a.strip().lower() for a in (acknowledge or [])}
    missing = [n for n in need if n not in given]
    if missing:
        shown = ", ".join([flag_name(f) for f in flags] + rc.flags)
        audit(ws, actor, "lead.approve", [lead_id, person_id], result="refused",
              reason=reason, missing_acknowledgements=missing)
        raise Conflict(f"lead {lead_id} has flags that need explicit acknowledgement "
                       f"({', '.join(missing)}): {shown}", code="acknowledgement_required")
    now = now_iso()
    try:
        with session_scope(ws) as s:
            _check_open(ws, lead_id, s)
            d = LeadDecision(lead_id=lead_id, person_id=person_id, decision="approved",
                             reason=reason, acknowledged=json.dumps(sorted(given & set(need))),
                             recheck=json.dumps(rc.as_dict(), default=str),
                             decided_by=actor.username, decided_at=now)
            s.add(d)
            s.flush()
            case_id = f"C-{d.id:06d}"
            s.add(Case(case_id=case_id, lead_id=lead_id, person_id=person_id, status="open",
                       assigned_to=None, opened_by=actor.username, opened_at=now,
                       updated_at=now))
            s.flush()
            s.add(CaseEvent(case_id=case_id, event="opened", value="open", note=reason,
                            actor=actor.username, at=now))
            append_event(s, actor=actor.username, role=actor.role, action="lead.approve",
                         object_ids=[lead_id, person_id, case_id],
                         detail={"reason": reason, "acknowledged": sorted(given & set(need)),
                                 "recheck": rc.as_dict()})
    except IntegrityError as e:
        raise Conflict(f"lead {lead_id} was decided concurrently") from e
    return {"lead_id": lead_id, "person_id": person_id, "decision": "approved",
            "case_id": case_id, "recheck": rc.as_dict(), "decided_at": now}


def reject_lead(ws: Any, actor: Principal, lead_id: str, reason: str) -> dict[str, Any]:
    reason, _row, person_id = _decidable(ws, actor, lead_id, reason, "reject")
    now = now_iso()
    with session_scope(ws) as s:
        _check_open(ws, lead_id, s)
        s.add(LeadDecision(lead_id=lead_id, person_id=person_id, decision="rejected",
                           reason=reason, acknowledged="[]", recheck="{}",
                           decided_by=actor.username, decided_at=now))
        append_event(s, actor=actor.username, role=actor.role, action="lead.reject",
                     object_ids=[lead_id, person_id], detail={"reason": reason})
    return {"lead_id": lead_id, "person_id": person_id, "decision": "rejected",
            "decided_at": now}
