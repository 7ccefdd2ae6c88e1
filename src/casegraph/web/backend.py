"""The seam between the pages and the rooms below: governance, cases, search, resolve.

Pages never re-implement a rule: authentication, permissions, purpose of use, the audit
log, lead decisions, case work and identity decisions all go through the same service
functions the HTTP API uses. This module only adapts their call shapes to the pages and
reports plainly when a room has not been built yet.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request

from casegraph.governance import audit as gaudit
from casegraph.governance import permissions as perms
from casegraph.governance import purpose as gpurpose
from casegraph.governance import users as gusers
from casegraph.workspace import Workspace

Principal = gusers.Principal
AuthError = gusers.AuthError
PurposeRequired = gpurpose.PurposeRequired
PermissionDenied = perms.PermissionDenied

#: cookie names; the API's deps module is the authority when it defines them
SESSION_COOKIE = "casegraph_session"
CSRF_COOKIE = "casegraph_csrf"


class Unavailable(Exception):
    """A room the page needs is not built (yet) in this installation."""


class ServiceError(Exception):
    """A service refused an action with a message for the user (bad state, bad input)."""


def _deps() -> Any:
    try:
        from casegraph.api import deps  # type: ignore[attr-defined]
    except ImportError:
        return None
    return deps


def session_cookie_name() -> str:
    d = _deps()
    return getattr(d, "SESSION_COOKIE", None) or SESSION_COOKIE


def csrf_cookie_name() -> str:
    d = _deps()
    return getattr(d, "CSRF_COOKIE", None) or CSRF_COOKIE


def workspace(request: Request) -> Workspace:
    ws = getattr(request.app.state, "ws", None) or getattr(request.app.state, "workspace", None)
    if ws is None:
        raise Unavailable("the app has no workspace (create it with casegraph.api.app.create_app)")
    return ws


# ---- authentication --------------------------------------------------------------------------
def principal(request: Request) -> Principal | None:
    """The logged-in user of a browser request (session cookie), or None."""
    token = request.cookies.get(session_cookie_name())
    if not token:
        return None
    return gusers.resolve_session(workspace(request), token, kind="cookie")


def login(request: Request, username: str, password: str) -> tuple[str, Principal]:
    """Open a cookie session (raises AuthError with a message for the login page)."""
    client = request.client.host if request.client else None
    return gusers.login(workspace(request), username, password, kind="cookie",
                        previous_token=request.cookies.get(session_cookie_name()), client=client)


def logout(request: Request) -> None:
    gusers.logout(workspace(request), request.cookies.get(session_cookie_name()))


def secure_cookies(request: Request) -> bool:
    from casegraph.governance.config import governance_config

    mode = governance_config(workspace(request)).secure_cookies
    if mode == "always":
        return True
    if mode == "never":
        return False
    host = request.url.hostname or ""
    return not (request.url.scheme == "http" and host in ("127.0.0.1", "localhost", "::1"))


def csrf_ok(p: Principal, submitted: str | None) -> bool:
    return bool(p.csrf_token and submitted and secrets.compare_digest(p.csrf_token, submitted))


# ---- permissions / purpose / audit -----------------------------------------------------------
def allowed(p: Principal | None, permission: str) -> bool:
    return p is not None and perms.allowed(p.role, permission)


def check_purpose(ws: Workspace, purpose: str | None, what: str) -> str:
    return gpurpose.check_purpose(ws, purpose, what)


def purpose_rule(ws: Workspace) -> str:
    return gpurpose.purpose_rule(ws)


def is_identifier_query(q: str) -> bool:
    return gpurpose.is_identifier_query(q)


def audit(ws: Workspace, p: Principal, action: str, object_ids: list[str] | None = None, *,
          purpose: str | None = None, result: str = "ok", detail: dict[str, Any] | None = None
          ) -> None:
    gaudit.record_event(ws, actor=p.username, role=p.role, action=action,
                        object_ids=object_ids or [], purpose=purpose, result=result,
                        detail={"via": "web", **(detail or {})})


def audit_events(ws: Workspace, **filters: Any) -> tuple[list[Any], int]:
    return gaudit.list_events(ws, **filters)


def verify_chain(ws: Workspace) -> Any:
    return gaudit.verify(ws)


# ---- search ----------------------------------------------------------------------------------
def search(ws: Workspace, p: Principal, query: str, *, filters: dict[str, Any], limit: int = 25
           ) -> list[dict[str, Any]] | None:
    """Hits from the search room's index as ``[{person_id, score, ...}]``; None if no index."""
    try:
        from casegraph.search import service  # type: ignore[attr-defined]
    except ImportError:
        return None
    fn = getattr(service, "search", None)
    if fn is None:
        return None
    try:
        res = fn(ws, query, limit=limit, role=p.role, filters=filters)
    except FileNotFoundError:
        return None
    except Exception as e:  # noqa: BLE001 - an index problem should not break the page
        if type(e).__name__ in ("IndexMissing", "SearchIndexMissing", "NoIndex"):
            return None
        raise
    hits = getattr(res, "hits", res)
    out = []
    for h in hits or []:
        if isinstance(h, dict):
            out.append(dict(h))
        else:
            out.append({k: getattr(h, k) for k in dir(h)
                        if not k.startswith("_") and not callable(getattr(h, k))})
    return out
