"""Security: every route × every role against the matrix, sessions, CSRF, hostile input."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import func, select

from casegraph.api.app import AUTHENTICATED_PATHS, PUBLIC_PATHS, all_routes, route_permission
from casegraph.api.deps import SESSION_COOKIE
from casegraph.governance.permissions import ROLES, allowed
from casegraph.governance.users import expire_session_now
from casegraph.store.db import session_scope
from casegraph.store.models import AuditEvent
from casegraph.store.testing import PASSWORD, bearer

_permission_of = route_permission


def _api_routes(app) -> list[tuple[str, str, APIRoute]]:
    return [(m, p, r) for m, p, r in all_routes(app) if p.startswith("/api")]


def _example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _example(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        return _example(schema["anyOf"][0], defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    t = schema.get("type")
    if t == "object":
        return {k: _example(v, defs) for k, v in schema.get("properties", {}).items()
                if k in schema.get("required", [])}
    if t == "array":
        return []
    if t == "boolean":
        return True
    if t in ("integer", "number"):
        return 1
    return "sample text for a field"


def _request(client, method: str, path: str, route: APIRoute, headers: dict[str, str]):
    path = re.sub(r"\{[^}]+\}", "X-000000", path)
    params = {}
    for p in route.dependant.query_params:
        if p.field_info.is_required():
            params[p.alias] = "maria"
    kwargs: dict[str, Any] = {"headers": headers, "params": params}
    if route.body_field is not None:
        model = route.body_field.field_info.annotation
        schema = model.model_json_schema()
        kwargs["json"] = _example(schema, schema.get("$defs", {}))
    return client.request(method, path, **kwargs)


def _audit_count(ws) -> int:
    with session_scope(ws) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def test_every_route_declares_access(app) -> None:
    routes = _api_routes(app)
    assert len(routes) >= 30  # the flattening sees the included routers
    undeclared = [f"{m} {p}" for m, p, r in _api_routes(app)
                  if p not in PUBLIC_PATHS | AUTHENTICATED_PATHS and _permission_of(r) is None]
    assert not undeclared, f"routes without a permission: {undeclared}"


def test_every_route_by_every_role_follows_the_matrix_and_is_audited(app, client, tokens,
                                                                      gws) -> None:
    problems = []
    for method, path, route in _api_routes(app):
        if path in PUBLIC_PATHS:
            continue
        perm = _permission_of(route)
        r = _request(client, method, path, route, {})
        if r.status_code != 401:
            problems.append(f"anonymous {method} {path}: {r.status_code}")
        for role in ROLES:
            before = _audit_count(gws)
            r = _request(client, method, path, route, bearer(tokens[role]))
            expected_ok = perm is None or allowed(role, perm)
            if expected_ok and r.status_code in (401, 403):
                problems.append(f"{role} {method} {path}: {r.status_code} {r.text[:100]}")
            if not expected_ok and r.status_code != 403:
                problems.append(f"{role} {method} {path}: expected 403, got {r.status_code}")
            if r.status_code >= 500:
                problems.append(f"{role} {method} {path}: {r.status_code}")
            if path != "/api/auth/me" and _audit_count(gws) <= before:
                problems.append(f"{role} {method} {path}: no audit event")
            if path == "/api/auth/logout" and r.status_code == 204:
                tokens[role] = client.post("/api/auth/login", json={
                    "username": {"analyst": "ana", "supervisor": "sue", "officer": "otto",
                                 "logistics": "lou", "auditor": "aud",
                                 "admin": "adm"}[role], "password": PASSWORD}).json()["token"]
    assert not problems, "\n".join(problems)


def test_bad_tokens_refused(client) -> None:
    for h in ({"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"},
              {"Authorization": "Bearer " + "x" * 5000}):
        r = client.get("/api/leads", headers=h)
        assert r.status_code == 401
        assert r.json()["error"] == "unauthenticated"


def _cookie_login(client, name: str = "sue") -> dict[str, Any]:
    r = client.post("/api/auth/login", json={"username": name, "password": PASSWORD,
                                             "mode": "cookie"})
    assert r.status_code == 200, r.text
    return r.json()


def test_cookie_session_flags(client) -> None:
    r = client.post("/api/auth/login", json={"username": "sue", "password": PASSWORD,
                                             "mode": "cookie"})
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session and "Secure" in session and "SameSite=lax" in session
    assert r.json()["token"] is None  # the session token never appears in the body


def test_session_fixation_refused(client, gws) -> None:
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-value", domain="testserver.local")
    assert client.get("/api/auth/me").status_code == 401
    _cookie_login(client)
    new = client.cookies.get(SESSION_COOKIE)
    assert new and new != "attacker-chosen-value"
    assert client.get("/api/auth/me").status_code == 200
    # logging in again while holding a session replaces (revokes) it
    _cookie_login(client)
    newer = client.cookies.get(SESSION_COOKIE)
    assert newer != new
    client.cookies.set(SESSION_COOKIE, new, domain="testserver.local")
    assert client.get("/api/auth/me").status_code == 401


def test_session_expiry(client, gws) -> None:
    r = client.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
    token = r.json()["token"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    expire_session_now(gws, token)
    r = client.get("/api/auth/me", headers=bearer(token))
    assert r.status_code == 401


def test_logout_ends_session(client) -> None:
    data = _cookie_login(client)
    r = client.post("/api/auth/logout", headers={"X-CSRF-Token": data["csrf_token"]})
    assert r.status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_csrf_on_cookie_sessions(client) -> None:
    data = _cookie_login(client)
    body = {"reason": "not a priority today"}
    r = client.post("/api/leads/L-000001/reject", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    r = client.post("/api/leads/L-000001/reject", json=body, headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    # form-field variant: passes CSRF (then the JSON body is invalid -> 422, not 403)
    r = client.post("/api/leads/L-000001/reject", data={"csrf_token": data["csrf_token"]})
    assert r.status_code == 422
    r = client.post("/api/leads/L-000001/reject", json=body,
                    headers={"X-CSRF-Token": data["csrf_token"]})
    assert r.status_code == 200, r.text
    # GETs need no CSRF token
    assert client.get("/api/leads").status_code == 200


def test_bearer_needs_no_csrf(client, tokens) -> None:
    r = client.post("/api/leads/L-000001/reject", json={"reason": "duplicate of another lead"},
                    headers=bearer(tokens["supervisor"]))
    assert r.status_code == 200


def test_lockout_over_http(client) -> None:
    for _ in range(4):
        r = client.post("/api/auth/login", json={"username": "ana", "password": "wrong"})
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"username": "ana", "password": "wrong"})
    assert r.status_code == 423
    r = client.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
    assert r.status_code == 423 and "locked" in r.json()["message"]


PAYLOADS = ["' OR '1'='1", "maria' --", "\" OR \"\"=\"", "%", "_", "\\", "*", "maria%",
            "'; drop table persons; --", "ma'ria", "1 OR 1=1", "Zoë Ñúñez", "مريم",
            "李伟", "🙂", "\u202egnirts", "a" * 200, "<script>alert(1)</script>", "${jndi:x}",
            "maria\ngarcia", "NULL", "(", ")", "[", "]", "{", "}", "~1", "AND", "OR", "NOT",
            "\"unterminated"]


def test_search_payloads_never_500_never_other_rows(client, tokens) -> None:
    for q in PAYLOADS:
        r = client.get("/api/search", params={"q": q,
                                              "purpose": "security test of search inputs"},
                       headers=bearer(tokens["supervisor"]))
        assert r.status_code in (200, 400, 422), (q, r.text)
        if r.status_code == 200:
            tokens_q = q.lower().split()
            for h in r.json()["items"]:
                name = (h.get("full_name") or "").lower()
                assert all(t in name for t in tokens_q), f"{q!r} returned {h}"


def test_search_nul_and_oversize(client, tokens) -> None:
    h = bearer(tokens["supervisor"])
    assert client.get("/api/search", params={"q": "a\x00b"}, headers=h).status_code == 422
    assert client.get("/api/search", params={"q": "a" * 201}, headers=h).status_code == 422


def test_request_size_limit(client, tokens) -> None:
    r = client.post("/api/leads/L-000001/reject", content=b"{" + b" " * 2_000_000 + b"}",
                    headers={**bearer(tokens["supervisor"]), "content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


def test_security_headers(client) -> None:
    r = client.get("/api/health")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_nul_and_control_characters_in_every_string_parameter(app, client, tokens) -> None:
    problems = []
    for method, path, route in _api_routes(app):
        if method != "GET" or "{" in path:
            continue
        perm = _permission_of(route)
        role = next((r for r in ROLES if perm is None or allowed(r, perm)), "supervisor")
        for p in route.dependant.query_params:
            for value in ("a\x00b", "\x1b[31m", "'\x00--"):
                r = client.get(path, params={p.alias: value}, headers=bearer(tokens[role]))
                if r.status_code >= 500:
                    problems.append(f"{path}?{p.alias}={value!r}: {r.status_code}")
    for name in ("a\x00b", "ana\x00"):
        r = client.post("/api/auth/login", json={"username": name, "password": "x\x00"})
        if r.status_code >= 500:
            problems.append(f"login {name!r}: {r.status_code}")
    assert not problems, "\n".join(problems)


#: Web pages anyone may open (login, static assets, redirects to them).
WEB_PUBLIC = {("GET", "/ui/static/{path:path}"), ("GET", "/"), ("GET", "/login"),
              ("GET", "/ui"), ("GET", "/ui/"), ("GET", "/ui/login"), ("POST", "/ui/login"),
              ("POST", "/ui/logout")}


def test_web_pages_refuse_anonymous_users(app, client) -> None:
    problems = []
    for method, path, _ in all_routes(app):
        if path.startswith("/api") or (method, path) in WEB_PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", "X-000000", path)
        r = client.request(method, url, headers={"accept": "text/html"},
                           follow_redirects=False)
        if r.status_code < 300 or (r.status_code in (301, 302, 303, 307)
                                   and "login" not in r.headers.get("location", "")):
            problems.append(f"{method} {path}: {r.status_code}")
    assert not problems, problems


def test_password_spraying_from_one_address_is_throttled(client, monkeypatch) -> None:
    from casegraph.api.routes import auth as auth_routes

    monkeypatch.setattr(auth_routes, "CLIENT_FAILURES", 4)
    for name in ("ana", "sue", "otto", "lou"):
        r = client.post("/api/auth/login", json={"username": name, "password": "Summer2026!"})
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"username": "aud", "password": PASSWORD})
    assert r.status_code == 429 and "Retry-After" in r.headers
