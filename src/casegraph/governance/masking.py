"""Field masking: sensitive fields and protected-status details for roles not allowed them.

Sensitive = ``permissions.SENSITIVE_FIELDS`` (the ontology's sensitive fields and the
national id) plus everything about a status record of a
protected type (T/U visa applicant, VAWA self-petitioner), whose information may not be
used adversely. Roles holding ``person.read_sensitive`` see values unmasked.
"""

from __future__ import annotations

import json
from typing import Any

from casegraph.governance.permissions import SENSITIVE_FIELDS, allowed
from casegraph.ontology import PROTECTED_STATUS_TYPES

MASK = "[masked]"
PROTECTED_LABEL = "protected_status"

#: fields of a status record hidden when it is a protected-status record
_PROTECTED_RECORD_FIELDS = ("status_type", "status_date", "status_detail", "raw")


def can_see_sensitive(role: str) -> bool:
    return allowed(role, "person.read_sensitive")


def is_protected_status(row: dict[str, Any]) -> bool:
    return row.get("kind") == "status" and row.get("status_type") in PROTECTED_STATUS_TYPES


def mask_record(row: dict[str, Any], role: str) -> dict[str, Any]:
    """A copy of a record dict with what ``role`` may not see replaced by ``[masked]``."""
    if can_see_sensitive(role):
        return dict(row)
    out = dict(row)
    for f in SENSITIVE_FIELDS:
        if out.get(f) is not None:
            out[f] = MASK
    if is_protected_status(row):
        for f in _PROTECTED_RECORD_FIELDS:
            if f in out and out[f] is not None:
                out[f] = MASK
        out["status_type"] = PROTECTED_LABEL
    if out.get("dq_issues"):
        out["dq_issues"] = _mask_issues(out["dq_issues"])
    return out


def _mask_issues(issues: Any) -> Any:
    try:
        items = json.loads(issues) if isinstance(issues, str) else issues
    except ValueError:
        return MASK
    if not isinstance(items, list):
        return items
    out = []
    for it in items:
        if isinstance(it, dict) and it.get("field") in SENSITIVE_FIELDS:
            it = {**it, "value": MASK}
        out.append(it)
    return out


def mask_text(text: Any, role: str) -> Any:
    """Hide protected-status type names inside free text (gate reasons) for other roles."""
    if not isinstance(text, str) or can_see_sensitive(role):
        return text
    if any(t in text for t in PROTECTED_STATUS_TYPES) or "vawa" in text.lower() \
            or "t visa" in text.lower() or "u visa" in text.lower():
        return "protected-status application on record (details masked)"
    return text
