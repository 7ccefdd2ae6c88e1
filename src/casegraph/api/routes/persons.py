"""Person search and profile."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from casegraph.api.deps import get_workspace, purpose_of, require_permission
from casegraph.api.schemas import SearchOut
from casegraph.cases import persons
from casegraph.governance.users import Principal
from casegraph.workspace import Workspace

router = APIRouter(prefix="/api", tags=["persons"])


@router.get("/search", response_model=SearchOut)
def search(request: Request,
           q: str = Query(..., min_length=1, max_length=200, description="names or identifiers"),
           limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=10_000),
           purpose: str | None = Query(None, max_length=500,
                                       description="required for identifier searches"),
           nationality: str | None = Query(None, max_length=8),
           ws: Workspace = Depends(get_workspace),
           user: Principal = Depends(require_permission("search.persons"))) -> Any:
    """Search persons by name or identifier (A-number, passport, FBI number...).
    Searching by identifier requires a purpose of use (``purpose`` or X-Purpose-Of-Use)."""
    filters = {"nationality": nationality} if nationality else None
    return persons.search_persons(ws, user, q, limit=limit, offset=offset,
                                  purpose=purpose_of(request, purpose), filters=filters)


@router.get("/persons/{person_id}", response_model=dict[str, Any])
def profile(request: Request, person_id: str,
            purpose: str | None = Query(None, max_length=500,
                                        description="purpose of use (required)"),
            ws: Workspace = Depends(get_workspace),
            user: Principal = Depends(require_permission("person.read"))) -> Any:
    """A person's profile: canonical values with provenance, linked records with match
    probability, timeline, gate verdicts with evidence, priority contributions, location
    candidates. Requires a purpose of use; sensitive fields masked by role."""
    return persons.get_profile(ws, user, person_id, purpose_of(request, purpose))
