"""Errors of the service layer (cases/, governance/), each with the HTTP status it maps to.

The API turns them into JSON errors; the CLI into one-line messages (exit 2); the web
pages into flash messages.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    """The object is not in a state that allows the request (e.g. lead already decided)."""

    status = 409
    code = "conflict"


class Invalid(ServiceError):
    status = 422
    code = "invalid"


class Unavailable(ServiceError):
    """A part of the pipeline this needs has not run or is not installed yet."""

    status = 503
    code = "unavailable"
