"""Cases: list, read, assign, outcomes, notes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from casegraph.api.deps import get_workspace, require_permission
from casegraph.api.schemas import AssignIn, CaseOut, NoteIn, OutcomeIn, Page
from casegraph.cases import workflow
from casegraph.governance.users import Principal
from casegraph.workspace import Workspace

router = APIRouter(prefix="/api", tags=["cases"])


@router.get("/cases", response_model=Page)
def list_cases(status: str | None = Query(None, max_length=32),
               assigned_to: str | None = Query(None, max_length=64),
               person_id: str | None = Query(None, max_length=64),
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
               ws: Workspace = Depends(get_workspace),
               user: Principal = Depends(require_permission("cases.read"))) -> Any:
    """Cases visible to the caller (officers: only those assigned to them)."""
    return workflow.list_cases(ws, user, status=status, assigned_to=assigned_to,
                               person_id=person_id, limit=limit, offset=offset)


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case_id: str, ws: Workspace = Depends(get_workspace),
             user: Principal = Depends(require_permission("cases.read"))) -> Any:
    """A case with its events (opened, assigned, outcomes, notes)."""
    return workflow.get_case(ws, user, case_id)


@router.post("/cases/{case_id}/assign", response_model=CaseOut)
def assign(case_id: str, body: AssignIn, ws: Workspace = Depends(get_workspace),
           user: Principal = Depends(require_permission("cases.assign"))) -> Any:
    """Assign (or re-assign) a case to an officer (supervisor)."""
    return workflow.assign_case(ws, user, case_id, body.officer, body.note)


@router.post("/cases/{case_id}/outcome", response_model=CaseOut)
def outcome(case_id: str, body: OutcomeIn, ws: Workspace = Depends(get_workspace),
            user: Principal = Depends(require_permission("cases.work"))) -> Any:
    """Record an outcome: located, not_found, departed_confirmed, in_custody, closed."""
    return workflow.record_outcome(ws, user, case_id, body.outcome, body.note)


@router.post("/cases/{case_id}/notes", response_model=CaseOut)
def note(case_id: str, body: NoteIn, ws: Workspace = Depends(get_workspace),
         user: Principal = Depends(require_permission("cases.work"))) -> Any:
    """Add a note to a case."""
    return workflow.add_note(ws, user, case_id, body.note)


@router.get("/officers", response_model=list[dict[str, Any]])
def officers(ws: Workspace = Depends(get_workspace),
             user: Principal = Depends(require_permission("cases.assign"))) -> Any:
    """Active officers (assignment board)."""
    return workflow.list_officers(ws, user)
