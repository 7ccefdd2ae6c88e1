"""The seam between the pages and the rooms below: governance, cases, search, resolve.

Pages never re-implement a rule: authentication (``api.deps``: the same session cookie,
CSRF token and permission matrix), purpose of use, masking, the audit log, lead
decisions, case work and identity decisions all go through the service functions the
HTTP API calls (``casegraph.cases.*``), so both run the same code and write the same
audit events.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request, Response

from casegraph.api import deps
from casegraph.governance import audit as gaudit
from casegraph.governance import permissions as perms
from casegraph.governance import purpose as gpurpose
from casegraph.governance import users as gusers
from casegraph.governance.errors import Forbidden, NotFound, ServiceError, Unavailable
from casegraph.workspace import Workspace

Principal = gusers.Principal
AuthError = gusers.AuthError

__all__ = ["AuthError", "Forbidden", "NotFound", "Principal", "ServiceError", "Unavailable"]


def workspace(request: Request) -> Workspace:
    return deps.get_workspace(request)


# ---- authentication --------------------------------------------------------------------------
def principal(request: Request) -> Principal | None:
    """The logged-in user of a browser request (the API's session cookie), or None."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    p = gusers.resolve_session(workspace(request), request.cookies.get(deps.SESSION_COOKIE),
                               kind="cookie")
    request.state.principal = p
    return p


def login(request: Request, response: Response, username: str, password: str) -> Principal:
    """Open a cookie session and set its cookies on ``response`` (AuthError on refusal)."""
    client = request.client.host if request.client else None
    token, p = gusers.login(workspace(request), username, password, kind="cookie",
                            previous_token=request.cookies.get(deps.SESSION_COOKIE),
                            client=client)
    deps.set_session_cookies(request, response, token, p)
    return p


def logout(request: Request, response: Response) -> None:
    gusers.logout(workspace(request), request.cookies.get(deps.SESSION_COOKIE))
    deps.clear_session_cookies(response)


def csrf_ok(request: Request, p: Principal, form: dict[str, Any]) -> bool:
    """The double-submit check of ``api.deps.csrf_protect`` for a form post."""
    sent = request.headers.get(deps.CSRF_HEADER) or form.get(deps.CSRF_FORM_FIELD)
    ok = bool(isinstance(sent, str) and sent and p.csrf_token and
              hmac.compare_digest(sent.encode(), p.csrf_token.encode()))
    if not ok:
        gaudit.record_event(workspace(request), actor=p.username, role=p.role,
                            action="auth.csrf", object_ids=[], purpose=None, result="denied",
                            detail={"path": request.url.path, "method": request.method,
                                    "via": "web"})
    return ok


# ---- permissions / purpose / audit -----------------------------------------------------------
def allowed(p: Principal | None, permission: str) -> bool:
    return p is not None and perms.allowed(p.role, permission)


def permission_text(permission: str) -> str:
    return perms.PERMISSIONS.get(permission, permission)


def purpose_rule(ws: Workspace) -> str:
    return gpurpose.purpose_rule(ws)


def audit(ws: Workspace, p: Principal, action: str, object_ids: list[str] | None = None, *,
          purpose: str | None = None, result: str = "ok", detail: dict[str, Any] | None = None
          ) -> None:
    gaudit.record_event(ws, actor=p.username, role=p.role, action=action,
                        object_ids=object_ids or [], purpose=purpose, result=result,
                        detail={"via": "web", **(detail or {})})


def audit_events(ws: Workspace, p: Principal, **filters: Any) -> tuple[list[Any], int]:
    """Audit events for the auditor; reading the trail is itself audited (as in the API)."""
    events, total = gaudit.list_events(ws, **filters)
    audit(ws, p, "audit.read", [], detail={**{k: v for k, v in filters.items()
                                              if v and k not in ("limit", "offset")},
                                           "returned": len(events)})
    return events, total


def verify_chain(ws: Workspace, p: Principal) -> Any:
    res = gaudit.verify(ws)
    audit(ws, p, "audit.verify", [], result="ok" if res.ok else "broken",
          detail={"message": res.message})
    return res
