"""Audit (auditor), users and retention (admin), bulk export."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from casegraph.api.deps import get_workspace, purpose_of, require_permission
from casegraph.api.schemas import (
    Page,
    RetentionIn,
    RetentionOut,
    RoleIn,
    UserIn,
    UserOut,
    VerifyOut,
)
from casegraph.cases import exports
from casegraph.governance import audit as audit_log
from casegraph.governance import users as users_mod
from casegraph.governance.errors import Invalid, NotFound
from casegraph.governance.retention import apply_retention
from casegraph.governance.users import Principal
from casegraph.workspace import Workspace

router = APIRouter(prefix="/api", tags=["audit and administration"])

ISO = r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+Z?)?$"


@router.get("/audit/events", response_model=Page)
def audit_events(user_name: str | None = Query(None, alias="user", max_length=128),
                 person: str | None = Query(None, max_length=128,
                                            description="any object id: person, lead, case"),
                 action: str | None = Query(None, max_length=64, description="e.g. person.*"),
                 since: str | None = Query(None, pattern=ISO),
                 until: str | None = Query(None, pattern=ISO),
                 limit: int = Query(100, ge=1, le=1000),
                 offset: int = Query(0, ge=0, le=1_000_000),
                 ws: Workspace = Depends(get_workspace),
                 user: Principal = Depends(require_permission("audit.read"))) -> Any:
    """Audit events, newest first (auditor). Reading the trail is itself audited."""
    events, total = audit_log.list_events(ws, user=user_name, person=person, action=action,
                                          since=since, until=until, limit=limit, offset=offset)
    audit_log.record_event(ws, user.username, user.role, "audit.read", [], None, "ok",
                           {"user": user_name, "person": person, "action": action,
                            "since": since, "until": until, "returned": len(events)})
    return {"total": total, "limit": limit, "offset": offset,
            "items": [e.as_dict() for e in events]}


@router.get("/audit/verify", response_model=VerifyOut)
def audit_verify(ws: Workspace = Depends(get_workspace),
                 user: Principal = Depends(require_permission("audit.verify"))) -> Any:
    """Re-compute the hash chain; names the first altered or missing event."""
    res = audit_log.verify(ws)
    audit_log.record_event(ws, user.username, user.role, "audit.verify", [], None,
                           "ok" if res.ok else "broken", {"message": res.message})
    return VerifyOut(ok=res.ok, events=res.events, first_bad_seq=res.first_bad_seq,
                     message=res.message, head_hash=res.head_hash)


def _user_out(u: Any, generated: str | None = None) -> UserOut:
    return UserOut(username=u.username, role=u.role, disabled=u.disabled,
                   created_at=u.created_at, last_login_at=u.last_login_at,
                   locked_until=u.locked_until, generated_password=generated)


@router.get("/users", response_model=list[UserOut])
def list_users(ws: Workspace = Depends(get_workspace),
               user: Principal = Depends(require_permission("users.manage"))) -> Any:
    """All users (admin)."""
    out = [_user_out(u) for u in users_mod.list_users(ws)]
    audit_log.record_event(ws, user.username, user.role, "user.list", [], None, "ok",
                           {"returned": len(out)})
    return out


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, ws: Workspace = Depends(get_workspace),
             user: Principal = Depends(require_permission("users.manage"))) -> Any:
    """Create a user; without a password one is generated and returned once."""
    try:
        u, generated = users_mod.add_user(ws, body.username, body.role, body.password,
                                          actor=user.username, actor_role=user.role)
    except users_mod.UserAdminError as e:
        raise Invalid(str(e)) from e
    return _user_out(u, generated)


def _admin_change(fn: Any, ws: Workspace, username: str, user: Principal, *args: Any) -> Any:
    try:
        return _user_out(fn(ws, username, *args, actor=user.username, actor_role=user.role))
    except users_mod.UserAdminError as e:
        if str(e).startswith("no user"):
            raise NotFound(str(e)) from e
        raise Invalid(str(e)) from e


@router.post("/users/{username}/disable", response_model=UserOut)
def disable_user(username: str, ws: Workspace = Depends(get_workspace),
                 user: Principal = Depends(require_permission("users.manage"))) -> Any:
    """Disable a user (ends their sessions)."""
    return _admin_change(users_mod.disable_user, ws, username, user)


@router.post("/users/{username}/role", response_model=UserOut)
def set_role(username: str, body: RoleIn, ws: Workspace = Depends(get_workspace),
             user: Principal = Depends(require_permission("users.manage"))) -> Any:
    """Change a user's role (ends their sessions)."""
    return _admin_change(users_mod.set_role, ws, username, user, body.role)


@router.post("/retention/apply", response_model=RetentionOut)
def retention(body: RetentionIn, ws: Workspace = Depends(get_workspace),
              user: Principal = Depends(require_permission("retention.apply"))) -> Any:
    """Purge records past their source's retention period (``retention:`` in workspace.yaml)."""
    r = apply_retention(ws, actor=user.username, role=user.role, dry_run=body.dry_run)
    return RetentionOut(as_of=r.as_of.isoformat(), dry_run=r.dry_run, purged=r.purged,
                        quarantine_purged=r.quarantine_purged, total=r.total)


@router.get("/exports/leads.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def export_leads(request: Request,
                 purpose: str | None = Query(None, max_length=500,
                                             description="purpose of use (required)"),
                 ws: Workspace = Depends(get_workspace),
                 user: Principal = Depends(require_permission("export.bulk"))) -> Response:
    """Bulk export of the current leads as formula-safe CSV (requires a purpose of use)."""
    header, rows = exports.leads_export(ws, user, purpose_of(request, purpose))
    from casegraph.cli.common import safe_cell

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([safe_cell(v) for v in r])
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="leads.csv"'})
