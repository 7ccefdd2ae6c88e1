"""Logistics: board, plans, publication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from casegraph.api.deps import get_workspace, require_permission
from casegraph.cases import logistics
from casegraph.governance.users import Principal
from casegraph.workspace import Workspace

router = APIRouter(prefix="/api/logistics", tags=["logistics"])


@router.get("/board", response_model=dict[str, Any])
def board(ws: Workspace = Depends(get_workspace),
          user: Principal = Depends(require_permission("logistics.read"))) -> Any:
    """Facility capacity and occupancy, transport legs with seats filled, the latest plan."""
    return logistics.logistics_board(ws, user)


@router.get("/plans", response_model=list[dict[str, Any]])
def plans(limit: int = Query(20, ge=1, le=200), ws: Workspace = Depends(get_workspace),
          user: Principal = Depends(require_permission("logistics.read"))) -> Any:
    """Transport plans, newest first."""
    return logistics.list_plans(ws, user, limit)


@router.get("/plans/{plan_id}", response_model=dict[str, Any])
def plan(plan_id: str, ws: Workspace = Depends(get_workspace),
         user: Principal = Depends(require_permission("logistics.read"))) -> Any:
    """One plan: header, legs, assignments and why anyone is unassigned."""
    return logistics.get_plan(ws, user, plan_id)


@router.post("/plans/{plan_id}/publish", response_model=dict[str, Any])
def publish(plan_id: str, ws: Workspace = Depends(get_workspace),
            user: Principal = Depends(require_permission("logistics.plan"))) -> Any:
    """Publish a draft plan: gates re-checked, detainees scheduled (logistics officer)."""
    return logistics.publish_plan(ws, user, plan_id)
