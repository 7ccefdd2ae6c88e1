"""The append-only, hash-chained audit log.

Every read, search, write, decision, export and login appends one event: who, when,
role, action, object ids, purpose, result and a JSON detail. Each event stores the
hash of the previous one, and its own hash covers all its fields plus that previous
hash, so altering or removing any stored event breaks the chain from that point on.
A single ``audit_head`` row records the last event: it is the lock that serialises
appends (SQLite and PostgreSQL alike) and the anchor that reveals removed tail events.

Examples:
    >>> record_event(ws, actor="ana", role="analyst", action="person.read",
    ...              object_ids=["P-000001"], purpose="CASE-2026-0001", result="ok",
    ...              detail={})                                      # doctest: +SKIP
    >>> verify(ws).ok                                                # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from casegraph.store.db import get_engine, now_iso, session_scope
from casegraph.store.models import AuditEvent, AuditHead

GENESIS = "0" * 64

#: Set by the API per request (a one-element list): how many events the request appended.
#: The API's error handlers use it to audit requests that failed before any event.
events_in_request: ContextVar[list[int] | None] = ContextVar("events_in_request", default=None)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def _clean(text_value: str) -> str:
    """NUL cannot be stored by PostgreSQL: keep it visible as an escape instead."""
    return str(text_value).replace("\x00", "\\x00")


def event_hash(seq: int, occurred_at: str, actor: str, role: str, action: str,
               object_ids: str, purpose: str | None, result: str, detail: str,
               prev_hash: str) -> str:
    """SHA-256 over the canonical serialisation of an event's stored fields."""
    payload = _canonical_json([seq, occurred_at, actor, role, action, object_ids, purpose,
                               result, detail, prev_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def lock_log(session: Session) -> None:
    """Take the audit log's write lock in ``session``'s transaction (held to commit).

    Every decision appends an event, so taking this lock first serialises decisions:
    a check made after it (e.g. "this lead is still undecided") stays true until commit.
    """
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(touched_at=now_iso()))


def append_event(session: Session, *, actor: str, role: str, action: str,
                 object_ids: Sequence[str] = (), purpose: str | None = None,
                 result: str = "ok", detail: dict[str, Any] | None = None) -> int:
    """Append an event inside ``session``'s transaction (commits with the caller's write).

    Returns the event's sequence number.
    """
    now = now_iso()
    actor, role, action = _clean(actor), _clean(role), _clean(action)
    purpose = None if purpose is None else _clean(purpose)
    # Lock first (a write), then read the head: appends are serialised on every backend.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(touched_at=now))
    head = session.execute(select(AuditHead.last_seq, AuditHead.last_hash)
                           .where(AuditHead.id == 1)).one()
    seq = int(head.last_seq) + 1
    oids = _canonical_json([str(o) for o in object_ids])
    det = _canonical_json(detail or {})
    h = event_hash(seq, now, actor, role, action, oids, purpose, result, det, head.last_hash)
    session.add(AuditEvent(seq=seq, occurred_at=now, actor=actor, role=role, action=action,
                           object_ids=oids, purpose=purpose, result=result, detail=det,
                           prev_hash=head.last_hash, hash=h))
    session.flush()
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(last_seq=seq, last_hash=h))
    counter = events_in_request.get()
    if counter is not None:
        counter[0] += 1
    return seq


def record_event(ws: Any, actor: str, role: str, action: str,
                 object_ids: Sequence[str] | None = None, purpose: str | None = None,
                 result: str = "ok", detail: dict[str, Any] | None = None) -> None:
    """Append one event to the audit log of workspace ``ws`` (its own transaction).

    Args:
        ws: the workspace (its ``database_url`` names the operational store).
        actor: user name (``cli:<login>`` for the command line).
        role: the actor's role.
        action: what happened, ``<object>.<verb>`` (e.g. ``person.read``, ``lead.approve``).
        object_ids: person / lead / case / record ids concerned.
        purpose: stated purpose of use (case number or justification), when required.
        result: ``ok``, ``denied``, ``error``, ``failed``...
        detail: small JSON-serialisable context (query, counts, reasons).
    """
    with session_scope(ws) as s:
        if role == "operator" and actor and not actor.startswith("cli:"):
            # CLI run with CASEGRAPH_USER naming a registered user: record their real role
            from casegraph.store.models import User

            role = s.scalar(select(User.role).where(User.username == actor)) or role
        append_event(s, actor=actor, role=role, action=action, object_ids=object_ids or (),
                     purpose=purpose, result=result, detail=detail)


@dataclass
class VerifyResult:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    message: str = ""
    head_hash: str | None = None  # record it elsewhere: a later verify can compare


def _iter_events(ws: Any, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        with session_scope(ws) as s:
            rows = list(s.scalars(select(AuditEvent).where(AuditEvent.seq > last)
                                  .order_by(AuditEvent.seq).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(ws: Any) -> VerifyResult:
    """Re-compute the whole chain; name the first altered or missing event."""
    get_engine(ws)
    expected_seq = 1
    prev_hash = GENESIS
    n = 0
    for ev in _iter_events(ws):
        if ev.seq != expected_seq:
            missing = (f"event {expected_seq}" if ev.seq == expected_seq + 1
                       else f"events {expected_seq}..{ev.seq - 1}")
            return VerifyResult(False, n, expected_seq, f"{missing} missing (chain jumps from "
                                f"event {expected_seq - 1} to event {ev.seq})")
        if ev.prev_hash != prev_hash:
            bad = ev.seq - 1 if ev.seq > 1 else ev.seq
            return VerifyResult(False, n, bad, f"event {bad} altered: event {ev.seq} records a "
                                f"different hash for its predecessor")
        h = event_hash(ev.seq, ev.occurred_at, ev.actor, ev.role, ev.action, ev.object_ids,
                       ev.purpose, ev.result, ev.detail, ev.prev_hash)
        if h != ev.hash:
            return VerifyResult(False, n, ev.seq, f"event {ev.seq} altered: its content does "
                                f"not match its hash")
        prev_hash = ev.hash
        expected_seq += 1
        n += 1
    with session_scope(ws) as s:
        head = s.get(AuditHead, 1)
        last_seq, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS)
    if last_seq != n:
        if last_seq > n:
            return VerifyResult(False, n, n + 1, f"event {n + 1} missing: the log ends at event "
                                f"{n} but {last_seq} events were appended")
        return VerifyResult(False, n, last_seq + 1, f"event {last_seq + 1} was not appended "
                            f"through the log (head records {last_seq} events)")
    if last_hash != prev_hash:
        return VerifyResult(False, n, n, f"event {n} altered: it does not match the recorded "
                            f"head of the chain")
    return VerifyResult(True, n, None, f"audit chain intact: {n} events", prev_hash)


@dataclass
class EventView:
    seq: int
    occurred_at: str
    actor: str
    role: str
    action: str
    object_ids: list[str]
    purpose: str | None
    result: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _view(ev: AuditEvent) -> EventView:
    try:
        oids = json.loads(ev.object_ids)
    except ValueError:
        oids = [ev.object_ids]
    try:
        det = json.loads(ev.detail)
    except ValueError:
        det = {"raw": ev.detail}
    return EventView(ev.seq, ev.occurred_at, ev.actor, ev.role, ev.action, oids, ev.purpose,
                     ev.result, det)


def list_events(ws: Any, *, user: str | None = None, person: str | None = None,
                action: str | None = None, since: str | None = None, until: str | None = None,
                limit: int = 100, offset: int = 0, newest_first: bool = True
                ) -> tuple[list[EventView], int]:
    """Filtered audit events and the total count matching the filter.

    ``person`` matches any object id exactly (persons, leads, cases, records);
    ``since``/``until`` are ISO dates or timestamps (UTC).
    """
    from sqlalchemy import func

    limit = max(1, min(int(limit), 100_000))
    offset = max(0, min(int(offset), 1_000_000_000))
    q = select(AuditEvent)
    if user:
        q = q.where(AuditEvent.actor == user)
    if person:
        like = "%" + _canonical_json(person).replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        q = q.where(AuditEvent.object_ids.like(like, escape="\\"))
    if action:
        q = q.where(AuditEvent.action.like(action.replace("*", "%")))
    if since:
        q = q.where(AuditEvent.occurred_at >= since)
    if until:
        q = q.where(AuditEvent.occurred_at < until)
    with session_scope(ws) as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        order = AuditEvent.seq.desc() if newest_first else AuditEvent.seq.asc()
        rows = list(s.scalars(q.order_by(order).limit(limit).offset(offset)))
    return [_view(r) for r in rows], int(total)


def _raw_sql(ws: Any, sql: str) -> None:  # pragma: no cover - test helper
    with get_engine(ws).begin() as conn:
        conn.execute(text(sql))
