"""Departures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from casegraph.api.deps import get_workspace, require_permission
from casegraph.api.schemas import Page
from casegraph.cases import departures
from casegraph.governance.users import Principal
from casegraph.workspace import Workspace

router = APIRouter(prefix="/api/departures", tags=["departures"])


@router.get("", response_model=Page)
def list_departures(status: str | None = Query(None, pattern="^(verified_departed|claimed_departed)$"),
                    channel: str | None = Query(None, max_length=32),
                    nationality: str | None = Query(None, max_length=8),
                    limit: int = Query(50, ge=1, le=500),
                    offset: int = Query(0, ge=0, le=1_000_000),
                    ws: Workspace = Depends(get_workspace),
                    user: Principal = Depends(require_permission("departures.read"))) -> Any:
    """Persons with departure evidence: verified (official record) or claimed (self-report)."""
    return departures.list_departures(ws, user, status=status, channel=channel,
                                      nationality=nationality, limit=limit, offset=offset)


@router.get("/summary", response_model=dict[str, Any])
def summary(ws: Workspace = Depends(get_workspace),
            user: Principal = Depends(require_permission("departures.read"))) -> Any:
    """Departures by month × channel × status and by nationality."""
    return departures.departure_summary(ws, user)
