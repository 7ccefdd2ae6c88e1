"""Login, logout, who am I."""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from casegraph.api.deps import (
    SESSION_COOKIE,
    authenticated,
    clear_session_cookies,
    get_workspace,
    set_session_cookies,
)
from casegraph.api.schemas import LoginIn, LoginOut, Me
from casegraph.governance.permissions import MATRIX
from casegraph.governance.users import AuthError, Principal, login, logout
from casegraph.workspace import Workspace

router = APIRouter(prefix="/api/auth", tags=["auth"])

#: Failed logins allowed from one client address per window before it is throttled
#: (per-account lockout stops guessing one password; this stops spraying many accounts).
CLIENT_FAILURES = 30
CLIENT_WINDOW_S = 300.0
_failures_lock = threading.Lock()


def _recent_failures(request: Request, client: str, add: bool = False) -> int:
    with _failures_lock:
        table = getattr(request.app.state, "login_failures", None)
        if table is None:
            table = request.app.state.login_failures = {}
        now = time.monotonic()
        q = table.setdefault(client, deque())
        while q and now - q[0] > CLIENT_WINDOW_S:
            q.popleft()
        if add:
            q.append(now)
        return len(q)


@router.post("/login", response_model=LoginOut, responses={401: {}, 423: {}})
def login_route(body: LoginIn, request: Request, response: Response,
                ws: Workspace = Depends(get_workspace)) -> LoginOut:
    """Log in. ``mode=bearer`` returns a token for the Authorization header; ``mode=cookie``
    sets an HTTP-only session cookie and returns the CSRF token for state-changing calls.
    Any session cookie sent with the request is revoked (a login never reuses a session)."""
    previous = request.cookies.get(SESSION_COOKIE)
    client = request.client.host if request.client else None
    if _recent_failures(request, client or "-") >= CLIENT_FAILURES:
        raise HTTPException(429, "too many failed logins from this address; try again in a "
                                 "few minutes", headers={"Retry-After": str(int(CLIENT_WINDOW_S))})
    try:
        token, p = login(ws, body.username, body.password, kind=body.mode,
                         previous_token=previous, client=client)
    except AuthError as e:
        _recent_failures(request, client or "-", add=True)
        raise HTTPException(423 if e.reason == "locked" else 401, str(e)) from e
    perms = sorted(MATRIX.get(p.role, ()))
    if body.mode == "cookie":
        set_session_cookies(request, response, token, p)
        return LoginOut(username=p.username, role=p.role, csrf_token=p.csrf_token,
                        expires_at=p.expires_at or "", permissions=perms)
    return LoginOut(username=p.username, role=p.role, token=token, token_type="bearer",
                    expires_at=p.expires_at or "", permissions=perms)


@router.post("/logout", status_code=204, response_class=Response)
def logout_route(request: Request, ws: Workspace = Depends(get_workspace),
                 principal: Principal = Depends(authenticated)) -> Response:
    """End the current session (cookie or bearer)."""
    auth = request.headers.get("authorization", "")
    token = auth.partition(" ")[2].strip() if auth.lower().startswith("bearer ") else \
        request.cookies.get(SESSION_COOKIE)
    logout(ws, token)
    resp = Response(status_code=204)
    clear_session_cookies(resp)
    return resp


@router.get("/me", response_model=Me)
def me(principal: Principal = Depends(authenticated)) -> Me:
    """The logged-in user, role, permissions and (cookie sessions) CSRF token."""
    return Me(username=principal.username, role=principal.role,
              session=principal.session_kind, csrf_token=principal.csrf_token
              if principal.session_kind == "cookie" else None,
              expires_at=principal.expires_at, permissions=sorted(MATRIX.get(principal.role, ())))



