"""The FastAPI application: ``create_app(ws)``.

All routes live under ``/api`` (OpenAPI at ``/api/openapi.json``, docs at ``/api/docs``);
the web UI router (``casegraph.web.routes.router``) is included when installed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from casegraph import __version__ as _version
from casegraph.api import errors
from casegraph.api.middleware import AuditContext, BodySizeLimit, SecurityHeaders
from casegraph.api.routes import admin, auth, cases, departures, leads, logistics, persons, review
from casegraph.api.schemas import Health
from casegraph.governance.config import governance_config
from casegraph.store.db import get_engine
from casegraph.workspace import Workspace

log = logging.getLogger("casegraph.api")

#: Routes anyone may call (everything else needs a session and a permission).
PUBLIC_PATHS = frozenset({"/api/health", "/api/auth/login", "/api/openapi.json", "/api/docs",
                          "/api/docs/oauth2-redirect", "/api/redoc"})
#: Routes any logged-in user may call.
AUTHENTICATED_PATHS = frozenset({"/api/auth/logout", "/api/auth/me"})


def all_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, full path, APIRoute) of every API route and web page of ``app``.

    FastAPI >= 0.16x keeps included routers lazily (``_IncludedRouter``); this flattens them
    the way the OpenAPI generator does, so security tests see every route.
    """
    from fastapi.routing import APIRoute

    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: include_router copies the routes
        contexts = [(r, getattr(r, "path", "")) for r in app.routes]
    else:
        contexts = [(rc.original_route, rc.path) for rc in iter_route_contexts(app.router.routes)]
    out = []
    for route, path in contexts:
        if isinstance(route, APIRoute):
            for m in sorted(route.methods - {"HEAD"}):
                out.append((m, path or route.path, route))
    return out


def route_permission(route: Any) -> str | None:
    """The permission a route requires (None for public / any-logged-in routes)."""
    from casegraph.api.deps import RequirePermission

    stack = list(route.dependant.dependencies)
    while stack:
        d = stack.pop()
        if isinstance(d.call, RequirePermission):
            return d.call.permission
        stack.extend(d.dependencies)
    return None


_DOCS_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>casegraph API</title><style>body{font:15px system-ui,sans-serif;margin:2em;color:#111}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.35em;
text-align:left;vertical-align:top}code{background:#f3f3f3;padding:0 .2em}.m{font-weight:bold}
</style></head><body><h1>casegraph API</h1><p>Machine-readable schema:
<a href="/api/openapi.json">/api/openapi.json</a>. Log in with <code>POST /api/auth/login</code>
and send <code>Authorization: Bearer &lt;token&gt;</code>.</p><table><thead><tr><th>method</th>
<th>path</th><th>what</th><th>permission</th></tr></thead><tbody id="ops"></tbody></table>
<script>
fetch("/api/openapi.json").then(r => r.json()).then(spec => {
  const body = document.getElementById("ops");
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tr = document.createElement("tr");
      for (const [text, cls] of [[method.toUpperCase(), "m"], [path, ""],
                                 [op.summary || "", ""], [op["x-permission"] || "public", ""]]) {
        const td = document.createElement("td"); td.textContent = text;
        if (cls) td.className = cls; tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }
});
</script></body></html>"""


def _document_security(app: FastAPI) -> None:
    """Declare the auth schemes in the OpenAPI schema, and each operation's permission."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "token from POST /api/auth/login (mode=bearer)"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "cg_session",
                       "description": "session from POST /api/auth/login (mode=cookie); "
                                      "state-changing calls also need X-CSRF-Token"},
        }
        for method, path, route in all_routes(app):
            op = schema.get("paths", {}).get(path, {}).get(method.lower())
            if op is None or path in PUBLIC_PATHS:
                continue
            op["security"] = [{"bearer": []}, {"cookie": []}]
            perm = route_permission(route)
            op["x-permission"] = perm or "any logged-in user"
            if perm:
                from casegraph.governance.permissions import roles_with

                op["description"] = (op.get("description") or "") + \
                    f"\n\nPermission `{perm}` (roles: {', '.join(roles_with(perm))})."
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(ws: Workspace | str | Path) -> FastAPI:
    """The API (and web UI when present) bound to one workspace."""
    if not isinstance(ws, Workspace):
        ws = Workspace(ws)
    get_engine(ws)  # migrate the operational store before the first request
    app = FastAPI(
        title="casegraph API",
        version=str(_version),
        description="Enforcement case management: search, person profiles, leads, cases, "
                    "identity review, departures and the audit trail. Authenticate with "
                    "`POST /api/auth/login`; send `Authorization: Bearer <token>`.",
        openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
    )
    app.state.ws = ws
    errors.install(app)

    @app.get("/api/health", response_model=Health, tags=["meta"])
    def health() -> Any:
        """Liveness check (no authentication)."""
        return Health(status="ok", version=str(_version))

    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> str:
        """Offline API reference (no CDN): rendered from /api/openapi.json in the browser."""
        return _DOCS_HTML

    for r in (auth, persons, leads, cases, review, departures, logistics, admin):
        app.include_router(r.router)
    try:
        from casegraph.web.routes import router as web_router
    except ImportError as e:
        if "casegraph.web.routes" not in str(e):
            log.warning("web UI not loaded: %s", e)
    else:
        app.include_router(web_router)
    _document_security(app)
    app.add_middleware(AuditContext)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, max_bytes=governance_config(ws).max_request_bytes)
    return app
