"""The identity review queue and human decisions.

Uncertain pairs (and strong links a rule refused) wait in ``identity_review``. A decision
(``same`` / ``different``, with who and why) is stored in ``identity_decisions`` and
becomes a must-link / cannot-link constraint that every later resolve run honours; the
next run (incremental by default) re-clusters the persons it touches.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from casegraph.resolve.outputs import DECIDES, WOULD_DECIDE
from casegraph.resolve.schema import ensure_tables
from casegraph.workspace import Workspace

DECISIONS = ("same", "different")

#: Items that decide someone's eligibility first, then those that would if the person's
#: other blockers went away (see ``outputs._write_review``, ``policy.score``), then the rest.
_LEGAL_FIRST = (f"case when starts_with(coalesce(v.reason, ''), '{DECIDES}') then 0 "
                f"when starts_with(coalesce(v.reason, ''), '{WOULD_DECIDE}') then 1 else 2 end")


class ReviewError(ValueError):
    """A review request that cannot be carried out (unknown id, bad decision)."""


def list_queue(ws: Workspace, *, status: str | None = "open", limit: int = 50
               ) -> list[dict[str, Any]]:
    """Review items with both records' identity fields: first those whose decision can change
    someone's eligibility (a legal fact or the order's subject in doubt), then the most
    uncertain."""
    ensure_tables(ws)
    where = "where v.status = ?" if status else ""
    params: list[Any] = [status] if status else []
    if ws.has_table("resolve_input"):
        sql = f"""
            select v.*, pl.person_id as person_id_l, pr.person_id as person_id_r,
                a.given_display as given_l, a.family_display as family_l, a.dob as dob_l,
                a.a_number as a_number_l, b.given_display as given_r,
                b.family_display as family_r, b.dob as dob_r, b.a_number as a_number_r
            from identity_review v
            left join person_records pl on pl.record_key = v.record_key_l
            left join person_records pr on pr.record_key = v.record_key_r
            left join resolve_input a on a.unique_id = v.record_key_l
            left join resolve_input b on b.unique_id = v.record_key_r
            {where}
            order by {_LEGAL_FIRST}, abs(v.match_probability - 0.5), v.review_id
            limit {int(limit)}"""
    else:
        sql = (f"select v.* from identity_review v {where} order by {_LEGAL_FIRST}, "
               f"v.review_id limit {int(limit)}")
    return ws.query(sql, params)


def record_decision(ws: Workspace, review_id: str, decision: str, user: str,
                    reason: str | None = None, *, apply: bool = False) -> dict[str, Any]:
    """Decide a review item: the two records are the ``same`` person or ``different``.

    Args:
        ws: the workspace.
        review_id: an ``identity_review.review_id``.
        decision: ``"same"`` or ``"different"``.
        user: who decided (stored with the decision).
        reason: why (stored; shown in the audit trail and explanations).
        apply: run an incremental resolve at once so persons reflect the decision
            (otherwise the next resolve run applies it).

    Returns:
        the stored decision (and the resolve report's changed person ids when applied).

    Raises:
        ReviewError: unknown review id or decision.
    """
    ensure_tables(ws)
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    rows = ws.query("select record_key_l, record_key_r, status from identity_review "
                    "where review_id = ?", [review_id])
    if not rows:
        raise ReviewError(f"no review item {review_id!r}")
    return decide_pair(ws, rows[0]["record_key_l"], rows[0]["record_key_r"], decision, user,
                       reason, review_id=review_id, apply=apply)


def decide_pair(ws: Workspace, key_a: str, key_b: str, decision: str, user: str,
                reason: str | None = None, *, review_id: str | None = None,
                apply: bool = False) -> dict[str, Any]:
    """Record a decision about any two records (not only queued ones)."""
    ensure_tables(ws)
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if key_a == key_b:
        raise ReviewError("a record cannot be compared with itself")
    if not user:
        raise ReviewError("a decision needs the deciding user")
    l, r = sorted((key_a, key_b))
    known = {k for (k,) in ws.con.execute(
        "select record_key from current_records where record_key in (?, ?)", [l, r]).fetchall()}
    missing = {l, r} - known
    if missing:
        raise ReviewError(f"unknown record(s): {', '.join(sorted(missing))}")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ws.con.execute("insert into identity_decisions values (?, ?, ?, ?, ?, ?, ?)",
                   [l, r, decision, user, reason, now, review_id])
    ws.con.execute("update identity_review set status = 'decided' where "
                   "(record_key_l = ? and record_key_r = ?) or (record_key_l = ? and record_key_r = ?)",
                   [l, r, r, l])
    out: dict[str, Any] = {"review_id": review_id, "record_key_l": l, "record_key_r": r,
                           "decision": decision, "decided_by": user, "reason": reason,
                           "decided_at": now.isoformat()}
    if apply:
        from casegraph.resolve.pipeline import resolve_workspace

        rep = resolve_workspace(ws, progress=False)
        out["changed_person_ids"] = rep.changed_person_ids
    return out


def decisions(ws: Workspace) -> list[dict[str, Any]]:
    ensure_tables(ws)
    return ws.query("select * from identity_decisions order by decided_at")
