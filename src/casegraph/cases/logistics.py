"""Logistics reads (board, plans) and plan publication for the API, over the logistics room.

The logistics room owns its tables and rules (``logistics.board``, ``logistics.plans``);
this module adds what the API needs around them: the permission check, the audit event,
serialised access to the shared warehouse connection and JSON-ready values.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from casegraph.cases._common import audit, jsonable, require, shared_connection_lock
from casegraph.governance.errors import Conflict, NotFound, Unavailable
from casegraph.governance.users import Principal


def _json(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    return jsonable(v)


def _room() -> Any:
    try:
        from casegraph.logistics import board, plans
    except ImportError as e:  # pragma: no cover - stripped-down build
        raise Unavailable("logistics planning is not installed") from e
    return board, plans


def logistics_board(ws: Any, actor: Principal) -> dict[str, Any]:
    """Facilities with occupancy, legs with seats filled, the latest plan."""
    require(ws, actor, "logistics.read", "logistics.board")
    board, _ = _room()
    with shared_connection_lock:
        out = board.board(ws)
    audit(ws, actor, "logistics.board", [], facilities=len(out.get("facilities", [])))
    return _json(out)


def list_plans(ws: Any, actor: Principal, limit: int = 20) -> list[dict[str, Any]]:
    require(ws, actor, "logistics.read", "logistics.plans")
    _, plans = _room()
    with shared_connection_lock:
        rows = plans.list_plans(ws, limit=limit)
    audit(ws, actor, "logistics.plans", [r["plan_id"] for r in rows])
    return _json(rows)


def get_plan(ws: Any, actor: Principal, plan_id: str) -> dict[str, Any]:
    require(ws, actor, "logistics.read", "logistics.plan_read", [plan_id])
    _, plans = _room()
    with shared_connection_lock:
        try:
            head = plans.get_plan(ws, plan_id)
        except plans.PlanError as e:
            raise NotFound(str(e)) from e
        out = {"plan": head, "legs": plans.plan_legs(ws, plan_id),
               "assignments": plans.plan_assignments(ws, plan_id),
               "unassigned": plans.plan_unassigned(ws, plan_id)}
    audit(ws, actor, "logistics.plan_read", [plan_id],
          assignments=len(out["assignments"]))
    return _json(out)


def publish_plan(ws: Any, actor: Principal, plan_id: str) -> dict[str, Any]:
    """Publish a draft plan (the logistics room re-checks gates and audits the publication)."""
    require(ws, actor, "logistics.plan", "logistics.publish", [plan_id])
    _, plans = _room()
    with shared_connection_lock:
        try:
            res = plans.publish(ws, plan_id, actor.username, role=actor.role)
        except plans.PlanError as e:
            msg = str(e)
            raise (NotFound(msg) if "no transport plan" in msg else Conflict(msg)) from e
    return _json(dataclasses.asdict(res))
