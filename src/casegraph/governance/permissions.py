"""The permission matrix: which role may do what. Written down once, enforced everywhere.

Every API route declares one permission (``api.deps.require_permission``), every
governance CLI command checks one (:func:`cli_require`), and the service functions in
``cases/`` and ``governance/`` check them again, so the web pages, the API and the CLI
apply the same rules. ``tests/api/test_security.py`` walks every route against this
matrix.

Row-level rules that a matrix cannot express live next to it:
- an officer sees only the cases assigned to them, and only the persons of those cases;
- sensitive fields are unmasked only for roles with ``person.read_sensitive``.
"""

from __future__ import annotations

import os
from typing import Any

from casegraph.ontology import SENSITIVE_FIELDS as _ONTOLOGY_SENSITIVE

#: Fields masked for roles without ``person.read_sensitive``: the ontology's sensitive
#: fields plus the SSN-like national id (the search room hides the same set).
SENSITIVE_FIELDS: frozenset[str] = frozenset(_ONTOLOGY_SENSITIVE | {"national_id"})

ROLES: tuple[str, ...] = ("analyst", "supervisor", "officer", "logistics", "auditor", "admin")

#: permission -> what it allows (shown by ``casegraph users roles`` and in docs/api.md)
PERMISSIONS: dict[str, str] = {
    "search.persons": "search people by name or identifier (identifier searches need a purpose)",
    "person.read": "open a person profile (needs a purpose)",
    "person.read_sensitive": "see sensitive fields and protected-status details unmasked",
    "leads.read": "list and read leads",
    "leads.decide": "approve or reject leads (with reason; acknowledging flags)",
    "cases.read": "read cases (officers: only those assigned to them)",
    "cases.read_all": "read every case, not just one's own",
    "cases.assign": "assign a case to an officer",
    "cases.work": "record outcomes and notes on a case (officers: own cases only)",
    "review.read": "read the identity review queue",
    "review.decide": "decide identity review items (same / different, with reason)",
    "departures.read": "read departures and departure statistics",
    "logistics.read": "read facilities, transport and plans",
    "logistics.plan": "build and publish transport plans",
    "export.bulk": "bulk exports (needs a purpose)",
    "audit.read": "read the audit trail",
    "audit.verify": "verify the audit hash chain",
    "users.manage": "add, disable users and change roles",
    "retention.apply": "apply retention (purge expired records)",
}

MATRIX: dict[str, frozenset[str]] = {
    "analyst": frozenset({
        "search.persons", "person.read", "leads.read", "review.read", "review.decide",
        "departures.read", "export.bulk",
    }),
    "supervisor": frozenset({
        "search.persons", "person.read", "person.read_sensitive", "leads.read", "leads.decide",
        "cases.read", "cases.read_all", "cases.assign", "cases.work", "review.read",
        "review.decide", "departures.read", "logistics.read", "export.bulk",
    }),
    "officer": frozenset({
        "person.read", "cases.read", "cases.work", "departures.read",
    }),
    "logistics": frozenset({
        "logistics.read", "logistics.plan", "departures.read",
    }),
    "auditor": frozenset({
        "audit.read", "audit.verify",
    }),
    "admin": frozenset({
        "users.manage", "retention.apply", "audit.verify",
    }),
}

#: The local command-line operator (file access to the workspace) when CASEGRAPH_USER does
#: not name a registered user: may do everything, and every action is audited as "operator".
OPERATOR_ROLE = "operator"


class PermissionDenied(Exception):
    """The actor's role does not allow the action."""

    def __init__(self, role: str, permission: str, message: str | None = None) -> None:
        self.role = role
        self.permission = permission
        super().__init__(message or f"role {role!r} may not {PERMISSIONS.get(permission, permission)}"
                         f" (permission {permission})")


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` holds ``permission`` (the CLI operator holds all)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if role == OPERATOR_ROLE:
        return True
    return permission in MATRIX.get(role, frozenset())


def require(role: str, permission: str) -> None:
    if not allowed(role, permission):
        raise PermissionDenied(role, permission)


def roles_with(permission: str) -> list[str]:
    return [r for r in ROLES if permission in MATRIX[r]]


def cli_actor_role(ws: Any) -> tuple[str, str]:
    """(actor, role) of the command line.

    When ``CASEGRAPH_USER`` names a registered user, the CLI acts as that user with that
    user's role (disabled users are refused); otherwise it is the local operator.
    """
    from casegraph.cli.common import cli_actor

    name = os.environ.get("CASEGRAPH_USER")
    if name:
        from casegraph.governance.users import get_user

        user = get_user(ws, name)
        if user is not None:
            if user.disabled:
                raise PermissionDenied(user.role, "login", f"user {name!r} is disabled")
            return user.username, user.role
    return cli_actor(), OPERATOR_ROLE


def cli_require(ws: Any, permission: str, action: str, object_ids: list[str] | None = None
                ) -> tuple[str, str]:
    """Check a CLI command's permission; audit and raise UserError when refused."""
    from casegraph.cli.common import UserError
    from casegraph.governance.audit import record_event

    try:
        actor, role = cli_actor_role(ws)
    except PermissionDenied as e:
        raise UserError(str(e)) from e
    if not allowed(role, permission):
        record_event(ws, actor=actor, role=role, action=action, object_ids=object_ids or [],
                     purpose=None, result="denied", detail={"permission": permission})
        raise UserError(str(PermissionDenied(role, permission)))
    return actor, role
