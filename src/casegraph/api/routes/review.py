"""Identity review queue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from casegraph.api.deps import get_workspace, require_permission
from casegraph.api.schemas import Page, ReviewDecisionIn
from casegraph.cases import review
from casegraph.governance.users import Principal
from casegraph.workspace import Workspace

router = APIRouter(prefix="/api/reviews", tags=["identity review"])


@router.get("", response_model=Page)
def list_reviews(status: str = Query("open", pattern="^(open|decided|all)$"),
                 limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
                 ws: Workspace = Depends(get_workspace),
                 user: Principal = Depends(require_permission("review.read"))) -> Any:
    """Pairs of records the resolver was unsure about."""
    return review.list_reviews(ws, user, status=status, limit=limit, offset=offset)


@router.get("/{review_id}", response_model=dict[str, Any])
def get_review(review_id: str, ws: Workspace = Depends(get_workspace),
               user: Principal = Depends(require_permission("review.read"))) -> Any:
    """Both records side by side (masked by role) with the match explanation."""
    return review.get_review(ws, user, review_id)


@router.post("/{review_id}/decision", response_model=dict[str, Any])
def decide(review_id: str, body: ReviewDecisionIn, ws: Workspace = Depends(get_workspace),
           user: Principal = Depends(require_permission("review.decide"))) -> Any:
    """Decide a pair: same or different, with reason (honoured by the next resolve)."""
    return review.decide_review(ws, user, review_id, body.decision, body.reason)
