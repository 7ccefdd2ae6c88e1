"""Leads worklist and decisions."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from casegraph.api.deps import get_workspace, require_permission
from casegraph.api.schemas import ApproveIn, DecisionOut, LeadPage, RejectIn
from casegraph.cases import leads
from casegraph.governance.users import Principal
from casegraph.workspace import Workspace

router = APIRouter(prefix="/api/leads", tags=["leads"])


@router.get("", response_model=LeadPage)
def list_leads(status: str | None = Query(None, max_length=32,
                                          description="proposed, rejected, open, assigned, ..."),
               min_score: float | None = Query(None, ge=-1e9, le=1e9),
               flag: str | None = Query(None, max_length=64),
               person_id: str | None = Query(None, max_length=64),
               q: str | None = Query(None, max_length=200, description="address/name contains"),
               sort: Literal["priority_score", "confidence", "created_at", "lead_id",
                             "person_id"] = "priority_score",
               order: Literal["asc", "desc"] = "desc",
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
               ws: Workspace = Depends(get_workspace),
               user: Principal = Depends(require_permission("leads.read"))) -> Any:
    """Leads of the latest run with their workflow state: filter, sort, page."""
    return leads.list_leads(ws, user, status=status, min_score=min_score, flag=flag,
                            person_id=person_id, q=q, sort=sort, order=order, limit=limit,
                            offset=offset)


@router.get("/{lead_id}", response_model=dict[str, Any])
def get_lead(lead_id: str, ws: Workspace = Depends(get_workspace),
             user: Principal = Depends(require_permission("leads.read"))) -> Any:
    """One lead with candidates, flags, decision and case."""
    return leads.get_lead(ws, user, lead_id)


@router.post("/{lead_id}/approve", response_model=DecisionOut, responses={409: {}})
def approve(lead_id: str, body: ApproveIn, ws: Workspace = Depends(get_workspace),
            user: Principal = Depends(require_permission("leads.decide"))) -> Any:
    """Approve a proposed lead (supervisor): the gates are re-checked on current data; flags
    ``sensitive_site`` / ``needs_review`` must be acknowledged. Opens a case."""
    return leads.approve_lead(ws, user, lead_id, body.reason, acknowledge=list(body.acknowledge))


@router.post("/{lead_id}/reject", response_model=DecisionOut, responses={409: {}})
def reject(lead_id: str, body: RejectIn, ws: Workspace = Depends(get_workspace),
           user: Principal = Depends(require_permission("leads.decide"))) -> Any:
    """Reject a proposed lead with a reason (supervisor)."""
    return leads.reject_lead(ws, user, lead_id, body.reason)
