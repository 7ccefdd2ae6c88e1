"""Cases: assignment to an officer, outcomes and notes.

A case is opened when a supervisor approves a lead (status ``open``). A supervisor
assigns it to an officer (``assigned``); the officer (or a supervisor) records outcomes
``located``, ``not_found``, ``departed_confirmed``, ``in_custody`` or ``closed``, each
with a note and a timestamp. ``closed`` is final. Officers see only their own cases.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from casegraph.cases._common import audit, clamp_page, clean_text, require
from casegraph.governance.audit import append_event, lock_log
from casegraph.governance.errors import Conflict, Invalid, NotFound
from casegraph.governance.permissions import allowed
from casegraph.governance.users import Principal
from casegraph.store.db import now_iso, session_scope
from casegraph.store.models import Case, CaseEvent, User

CASE_STATUSES = ("open", "assigned", "located", "not_found", "departed_confirmed",
                 "in_custody", "closed")
OUTCOMES = ("located", "not_found", "departed_confirmed", "in_custody", "closed")
MAX_NOTE = 5000


def _case_dict(c: Case, events: list[CaseEvent] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "case_id": c.case_id, "lead_id": c.lead_id, "person_id": c.person_id,
        "status": c.status, "assigned_to": c.assigned_to, "opened_by": c.opened_by,
        "opened_at": c.opened_at, "updated_at": c.updated_at,
    }
    if events is not None:
        out["events"] = [{"event": e.event, "value": e.value, "note": e.note, "actor": e.actor,
                          "at": e.at} for e in events]
    return out


def sees_all(actor: Principal) -> bool:
    return allowed(actor.role, "cases.read_all")


def officer_person_ids(ws: Any, username: str) -> set[str]:
    """Persons of the cases assigned to an officer (what an officer may open)."""
    with session_scope(ws) as s:
        return {p for p in s.scalars(select(Case.person_id).where(Case.assigned_to == username))
                if p}


def list_cases(ws: Any, actor: Principal, *, status: str | None = None,
               assigned_to: str | None = None, person_id: str | None = None,
               limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Cases visible to ``actor`` (officers: only their own), newest first."""
    limit, offset = clamp_page(limit, offset)
    require(ws, actor, "cases.read", "case.list")
    q = select(Case)
    if not sees_all(actor):
        q = q.where(Case.assigned_to == actor.username)
    if status:
        if status not in CASE_STATUSES:
            raise Invalid(f"status must be one of {', '.join(CASE_STATUSES)}")
        q = q.where(Case.status == status)
    if assigned_to:
        q = q.where(Case.assigned_to == assigned_to)
    if person_id:
        q = q.where(Case.person_id == person_id)
    with session_scope(ws) as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = list(s.scalars(q.order_by(Case.updated_at.desc(), Case.case_id)
                              .limit(limit).offset(offset)))
    items = [_case_dict(c) for c in rows]
    audit(ws, actor, "case.list", [c["case_id"] for c in items],
          filters={"status": status, "assigned_to": assigned_to}, total=total)
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}


def _load(s: Any, actor: Principal, case_id: str) -> Case:
    c = s.get(Case, case_id)
    if c is None or (not sees_all(actor) and c.assigned_to != actor.username):
        raise NotFound(f"no case {case_id!r}" + ("" if sees_all(actor) else " assigned to you"))
    return c


def _events(s: Any, case_id: str) -> list[CaseEvent]:
    return list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                          .order_by(CaseEvent.id)))


def get_case(ws: Any, actor: Principal, case_id: str) -> dict[str, Any]:
    require(ws, actor, "cases.read", "case.read", [case_id])
    with session_scope(ws) as s:
        try:
            c = _load(s, actor, case_id)
        except NotFound:
            append_event(s, actor=actor.username, role=actor.role, action="case.read",
                         object_ids=[case_id], result="not_found")
            s.commit()
            raise
        out = _case_dict(c, _events(s, case_id))
        append_event(s, actor=actor.username, role=actor.role, action="case.read",
                     object_ids=[case_id, c.person_id or ""])
    return out


def _clean_note(note: str | None, required: bool = False) -> str | None:
    note = clean_text(note, "note", collapse=False)
    if len(note) > MAX_NOTE:
        raise Invalid(f"note too long (at most {MAX_NOTE} characters)")
    if required and not note:
        raise Invalid("a note is required")
    return note or None


@contextlib.contextmanager
def _changing(ws: Any, actor: Principal, case_id: str, *, refuse_closed: bool
              ) -> Iterator[tuple[Any, Case]]:
    """The start of every change to a case: a transaction holding the audit-log lock (which
    serialises changes to a case, so status checks hold until commit) and the case as
    ``actor`` may see it; with ``refuse_closed``, a closed case is refused (Conflict).

    Yields (session, case).
    """
    with session_scope(ws) as s:
        lock_log(s)
        c = _load(s, actor, case_id)
        if refuse_closed and c.status == "closed":
            raise Conflict(f"case {case_id} is closed")
        yield s, c


def _log_change(s: Any, actor: Principal, c: Case, case_id: str, now: str, event: str,
                value: str | None, note: str | None, action: str, detail: dict[str, Any]
                ) -> dict[str, Any]:
    """The end of every change to a case: stamp it, add the event to the case's history and
    to the audit log in the same transaction (both or neither), and return the case as it
    now is, with its events."""
    c.updated_at = now
    s.add(CaseEvent(case_id=case_id, event=event, value=value, note=note,
                    actor=actor.username, at=now))
    append_event(s, actor=actor.username, role=actor.role, action=action,
                 object_ids=[case_id, c.person_id or ""], detail=detail)
    s.flush()
    return _case_dict(c, _events(s, case_id))


def assign_case(ws: Any, actor: Principal, case_id: str, officer: str,
                note: str | None = None) -> dict[str, Any]:
    """Assign (or re-assign) a case to an active officer."""
    require(ws, actor, "cases.assign", "case.assign", [case_id])
    note = _clean_note(note)
    officer = clean_text(officer, "officer").lower()
    now = now_iso()
    with _changing(ws, actor, case_id, refuse_closed=True) as (s, c):
        u = s.scalar(select(User).where(User.username == officer))
        if u is None or u.disabled:
            raise Invalid(f"no active user {officer!r}")
        if u.role != "officer":
            raise Invalid(f"user {officer!r} is a {u.role}, not an officer")
        previous = c.assigned_to
        c.assigned_to = officer
        if c.status == "open":
            c.status = "assigned"
        return _log_change(s, actor, c, case_id, now, "assigned", officer, note, "case.assign",
                           {"officer": officer, "previous": previous, "note": note})


def record_outcome(ws: Any, actor: Principal, case_id: str, outcome: str,
                   note: str | None = None) -> dict[str, Any]:
    """Record an outcome on an assigned case (officers: own cases; ``closed`` is final)."""
    require(ws, actor, "cases.work", "case.outcome", [case_id])
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}")
    note = _clean_note(note)
    now = now_iso()
    with _changing(ws, actor, case_id, refuse_closed=True) as (s, c):
        if c.status == "open":
            raise Conflict(f"case {case_id} is not assigned to an officer yet")
        previous = c.status
        c.status = outcome
        return _log_change(s, actor, c, case_id, now, "outcome", outcome, note, "case.outcome",
                           {"outcome": outcome, "previous": previous, "note": note})


def add_note(ws: Any, actor: Principal, case_id: str, note: str) -> dict[str, Any]:
    require(ws, actor, "cases.work", "case.note", [case_id])
    note = _clean_note(note, required=True)
    now = now_iso()
    with _changing(ws, actor, case_id, refuse_closed=False) as (s, c):
        return _log_change(s, actor, c, case_id, now, "note", None, note, "case.note",
                           {"note": note})


def list_officers(ws: Any, actor: Principal) -> list[dict[str, Any]]:
    """Active officers (for the assignment board)."""
    require(ws, actor, "cases.assign", "user.list_officers")
    with session_scope(ws) as s:
        rows = s.scalars(select(User).where(User.role == "officer", User.disabled.is_(False))
                         .order_by(User.username))
        out = [{"username": u.username} for u in rows]
    audit(ws, actor, "user.list_officers", [], returned=len(out))
    return out


def case_events_for_person(ws: Any, person_id: str) -> list[dict[str, Any]]:
    """Case events of a person (for the profile timeline); caller has checked access."""
    with session_scope(ws) as s:
        rows = s.execute(select(CaseEvent, Case.case_id).join(Case, Case.case_id ==
                                                              CaseEvent.case_id)
                         .where(Case.person_id == person_id).order_by(CaseEvent.id)).all()
        return [{"case_id": cid, "event": e.event, "value": e.value, "note": e.note,
                 "actor": e.actor, "at": e.at} for e, cid in rows]
