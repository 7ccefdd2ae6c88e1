"""JSON errors: ``{"error": code, "message": text}`` with the right status code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from casegraph.governance.errors import ServiceError
from casegraph.governance.permissions import PermissionDenied
from casegraph.governance.purpose import PurposeRequired

log = logging.getLogger("casegraph.api")

CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
         415: "unsupported_media_type", 422: "invalid_request", 429: "too_many_requests",
         503: "unavailable"}


def error_body(status: int, message: str, code: str | None = None, **extra: Any
               ) -> dict[str, Any]:
    return {"error": code or CODES.get(status, "error"), "message": message, **extra}


def audit_failure(request: Request, status: int, code: str, message: str) -> None:
    """Audit a failed request of a logged-in user that appended no event of its own."""
    principal = getattr(request.state, "principal", None)
    counter = getattr(request.state, "audit_counter", None)
    if principal is None or (counter is not None and counter[0] > 0):
        return
    try:
        from casegraph.governance.audit import record_event

        record_event(request.app.state.ws, actor=principal.username, role=principal.role,
                     action=f"api.{request.method.lower()}",
                     object_ids=[str(v) for v in request.path_params.values()],
                     purpose=None, result=code,
                     detail={"path": request.url.path, "status": status,
                             "message": message[:300]})
    except Exception:  # never turn an error response into a 500
        log.exception("could not audit a failed request")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and \
        "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        audit_failure(request, exc.status, exc.code, str(exc))
        return JSONResponse(error_body(exc.status, str(exc), exc.code), status_code=exc.status)

    @app.exception_handler(PermissionDenied)
    async def _denied(request: Request, exc: PermissionDenied) -> JSONResponse:
        audit_failure(request, 403, "denied", str(exc))
        return JSONResponse(error_body(403, str(exc)), status_code=403)

    @app.exception_handler(PurposeRequired)
    async def _purpose(request: Request, exc: PurposeRequired) -> JSONResponse:
        audit_failure(request, 400, "purpose_required", str(exc))
        return JSONResponse(error_body(400, str(exc), "purpose_required"), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code == 401 and _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        msg = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        audit_failure(request, exc.status_code, CODES.get(exc.status_code, "error"), msg)
        return JSONResponse(error_body(exc.status_code, msg), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = []
        for e in exc.errors()[:20]:
            loc = ".".join(str(p) for p in e.get("loc", ()))
            fields.append({"field": loc, "problem": e.get("msg", "invalid")})
        first = fields[0] if fields else {"field": "request", "problem": "invalid"}
        audit_failure(request, 422, "invalid_request", f"{first['field']}: {first['problem']}")
        return JSONResponse(error_body(422, f"{first['field']}: {first['problem']}",
                                       fields=fields), status_code=422)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        audit_failure(request, 500, "internal", type(exc).__name__)
        return JSONResponse(error_body(500, "internal error; the administrator can find "
                                            "details in the server log", "internal"),
                            status_code=500)
