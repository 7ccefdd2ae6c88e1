"""Identity review queue: pairs of records the resolver was unsure about; same / different.

Decisions are written through ``resolve.review.record_decision`` (the resolution room
owns ``identity_decisions``, honoured by every later resolve run) and kept in the
operational store with the audit event.
"""

from __future__ import annotations

from typing import Any

from casegraph.cases._common import (
    audit,
    clamp_page,
    clean_text,
    has_table,
    query,
    require,
    shared_connection_lock,
)
from casegraph.governance.audit import append_event
from casegraph.governance.errors import Conflict, Invalid, NotFound, Unavailable
from casegraph.governance.masking import mask_record
from casegraph.governance.users import Principal
from casegraph.store.db import now_iso, session_scope
from casegraph.store.models import ReviewDecision

DECISIONS = ("same", "different")


def _record(ws: Any, key: str, role: str) -> dict[str, Any] | None:
    if not has_table(ws, "current_records"):
        return None
    rows = query(ws, "select * from current_records where record_key = ?", [key])
    if not rows:
        return None
    r = rows[0]
    r.pop("raw", None)
    for c in [c for c in r if c.endswith("_norm")]:
        r.pop(c)
    return {k: v for k, v in mask_record(r, role).items() if v is not None}


def list_reviews(ws: Any, actor: Principal, *, status: str = "open", limit: int = 50,
                 offset: int = 0) -> dict[str, Any]:
    limit, offset = clamp_page(limit, offset)
    require(ws, actor, "review.read", "review.list")
    if not has_table(ws, "identity_review"):
        items: list[dict[str, Any]] = []
        total = 0
    else:
        where, params = "", []
        if status and status != "all":
            where, params = "where status = ?", [status]
        total = query(ws, f"select count(*) as n from identity_review {where}", params)[0]["n"]
        items = query(ws, f"select * from identity_review {where} order by match_probability "
                          f"desc, review_id limit ? offset ?", [*params, limit, offset])
    audit(ws, actor, "review.list", [str(i["review_id"]) for i in items], returned=len(items))
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}


def get_review(ws: Any, actor: Principal, review_id: str) -> dict[str, Any]:
    require(ws, actor, "review.read", "review.read", [review_id])
    rows = query(ws, "select * from identity_review where cast(review_id as varchar) = ?",
                 [str(review_id)]) if has_table(ws, "identity_review") else []
    if not rows:
        raise NotFound(f"no review item {review_id!r}")
    item = rows[0]
    item["left"] = _record(ws, item["record_key_l"], actor.role)
    item["right"] = _record(ws, item["record_key_r"], actor.role)
    item["explanation"] = None
    try:
        from casegraph.resolve.explain import explain_pair

        with shared_connection_lock:
            exp = explain_pair(ws, item["record_key_l"], item["record_key_r"])
        item["explanation"] = exp if isinstance(exp, (dict, list)) else \
            getattr(exp, "__dict__", str(exp))
    # the explanation is a help, never a reason to fail the page
    except Exception:  # noqa: BLE001
        item["explanation"] = None
    audit(ws, actor, "review.read", [str(review_id), item["record_key_l"],
                                     item["record_key_r"]])
    return item


def decide_review(ws: Any, actor: Principal, review_id: str, decision: str, reason: str
                  ) -> dict[str, Any]:
    require(ws, actor, "review.decide", "review.decide", [review_id])
    if decision not in DECISIONS:
        raise Invalid(f"decision must be one of {', '.join(DECISIONS)}")
    reason = clean_text(reason, "reason")
    if len(reason) < 3:
        raise Invalid("a reason is required")
    rows = query(ws, "select * from identity_review where cast(review_id as varchar) = ?",
                 [str(review_id)]) if has_table(ws, "identity_review") else []
    if not rows:
        raise NotFound(f"no review item {review_id!r}")
    if rows[0].get("status") == "decided":
        raise Conflict(f"review item {review_id} is already decided")
    try:
        from casegraph.resolve.review import record_decision
    except ImportError as e:
        raise Unavailable("identity review decisions need the resolution engine "
                          "(casegraph.resolve.review), which is not installed") from e
    rid: Any = rows[0]["review_id"]
    try:
        with shared_connection_lock:
            record_decision(ws, rid, decision, actor.username, reason)
    except Exception as e:
        if type(e).__name__ in ("ReviewError", "ValueError"):
            raise Invalid(str(e)) from e
        raise
    now = now_iso()
    with session_scope(ws) as s:
        s.add(ReviewDecision(review_id=str(review_id), decision=decision, reason=reason,
                             decided_by=actor.username, decided_at=now))
        append_event(s, actor=actor.username, role=actor.role, action="review.decide",
                     object_ids=[str(review_id), rows[0]["record_key_l"],
                                 rows[0]["record_key_r"]],
                     detail={"decision": decision, "reason": reason})
    return {"review_id": str(review_id), "decision": decision, "decided_by": actor.username,
            "decided_at": now}


