"""Reusable FastAPI dependencies: workspace, current user (cookie or bearer), permission
checks, CSRF, database session. The web pages use these same dependencies.

Examples:
    >>> @router.get("/things")                                          # doctest: +SKIP
    ... def things(user: Principal = Depends(require_permission("leads.read")),
    ...            ws: Workspace = Depends(get_workspace)): ...

Authentication: ``Authorization: Bearer <token>`` (API clients) or the HTTP-only
``cg_session`` cookie (browser). A cookie-authenticated request that changes state
(POST/PUT/PATCH/DELETE) must carry the session's CSRF token in the ``X-CSRF-Token``
header or a ``csrf_token`` form field (double submit: the token is also readable by the
page in the ``cg_csrf`` cookie and from ``GET /api/auth/me``).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from typing import Any

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy.orm import Session

from casegraph.governance.audit import record_event
from casegraph.governance.config import governance_config
from casegraph.governance.permissions import PERMISSIONS, PermissionDenied, allowed
from casegraph.governance.users import Principal, resolve_session
from casegraph.store.db import session_scope
from casegraph.workspace import Workspace

SESSION_COOKIE = "cg_session"
CSRF_COOKIE = "cg_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
PURPOSE_HEADER = "X-Purpose-Of-Use"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_workspace(request: Request) -> Workspace:
    """The app's workspace (``create_app(ws)``)."""
    return request.app.state.ws


def db_session(ws: Workspace = Depends(get_workspace)) -> Iterator[Session]:
    """A SQLAlchemy session on the operational store, committed when the request succeeds."""
    with session_scope(ws) as s:
        yield s


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if not auth:
        return None
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "malformed Authorization header: expected 'Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def optional_user(request: Request, ws: Workspace = Depends(get_workspace)) -> Principal | None:
    """The logged-in principal, or None. A bearer token takes precedence over the cookie."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    token = _bearer(request)
    if token is not None:
        p = resolve_session(ws, token, kind="bearer")
        if p is None:
            raise HTTPException(401, "invalid or expired token; log in again",
                                headers={"WWW-Authenticate": "Bearer"})
    else:
        p = resolve_session(ws, request.cookies.get(SESSION_COOKIE), kind="cookie")
    request.state.principal = p
    return p


def current_user(principal: Principal | None = Depends(optional_user)) -> Principal:
    """The logged-in principal, or 401."""
    if principal is None:
        raise HTTPException(401, "not logged in (or the session expired)",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


async def csrf_protect(request: Request, principal: Principal = Depends(current_user)
                       ) -> Principal:
    """Refuse a cookie-authenticated state-changing request without the session's CSRF token."""
    if principal.session_kind != "cookie" or request.method in SAFE_METHODS:
        return principal
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            v = form.get(CSRF_FORM_FIELD)
            sent = v if isinstance(v, str) else None
    if not sent or not principal.csrf_token or \
            not hmac.compare_digest(sent.encode(), principal.csrf_token.encode()):
        ws = request.app.state.ws
        record_event(ws, actor=principal.username, role=principal.role,
                     action="auth.csrf", object_ids=[], purpose=None, result="denied",
                     detail={"path": request.url.path, "method": request.method})
        raise HTTPException(403, "missing or wrong CSRF token (send the X-CSRF-Token header "
                                 "or csrf_token form field)")
    return principal


authenticated = csrf_protect  # any logged-in user; CSRF-checked on state changes


class RequirePermission:
    """Dependency: the current user, provided their role holds ``permission`` (else 403).

    The refusal is audited. ``permission`` is kept on the instance so tests can check
    that every route declares one.
    """

    def __init__(self, permission: str) -> None:
        if permission not in PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")
        self.permission = permission

    def __call__(self, request: Request, principal: Principal = Depends(csrf_protect)
                 ) -> Principal:
        if not allowed(principal.role, self.permission):
            record_event(request.app.state.ws, actor=principal.username, role=principal.role,
                         action="api.denied", object_ids=[], purpose=None, result="denied",
                         detail={"permission": self.permission, "path": request.url.path,
                                 "method": request.method})
            raise HTTPException(403, str(PermissionDenied(principal.role, self.permission)))
        return principal

    def __repr__(self) -> str:
        return f"RequirePermission({self.permission!r})"


_cache: dict[str, RequirePermission] = {}


def require_permission(permission: str) -> Any:
    """``Depends(...)``-ready dependency requiring ``permission`` (see governance.permissions)."""
    dep = _cache.get(permission)
    if dep is None:
        dep = _cache[permission] = RequirePermission(permission)
    return dep


def purpose_of(request: Request, purpose: str | None) -> str | None:
    """The purpose of use from the ``purpose`` parameter or the X-Purpose-Of-Use header."""
    return purpose or request.headers.get(PURPOSE_HEADER)


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost") or host == "testserver":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cookie_secure(request: Request) -> bool:
    mode = governance_config(request.app.state.ws).secure_cookies
    if mode == "always":
        return True
    if mode == "never":
        return False
    return request.url.scheme == "https" or not _loopback(request.url.hostname)


def set_session_cookies(request: Request, response: Response, token: str,
                        principal: Principal) -> None:
    """Set the HTTP-only session cookie and the readable CSRF cookie after a cookie login."""
    ws = request.app.state.ws
    max_age = int(governance_config(ws).session_hours * 3600)
    secure = cookie_secure(request)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure,
                        samesite="lax", path="/")
    response.set_cookie(CSRF_COOKIE, principal.csrf_token or "", max_age=max_age,
                        httponly=False, secure=secure, samesite="strict", path="/")


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
