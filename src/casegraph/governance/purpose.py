"""Purpose of use: a case number or a free-text justification of at least N characters.

Required to open a person profile, run a bulk export or search by identifier; stored
with the audit event of that action.
"""

from __future__ import annotations

import re
from typing import Any

from casegraph.governance.config import governance_config


class PurposeRequired(Exception):
    """No (or an insufficient) purpose of use was given."""


def purpose_rule(ws: Any) -> str:
    cfg = governance_config(ws)
    return (f"a case number (e.g. C-000123 or ABC-2026-0001) or a justification of at least "
            f"{cfg.purpose_min_chars} characters")


def check_purpose(ws: Any, purpose: str | None, what: str = "this action") -> str:
    """The cleaned purpose, or :class:`PurposeRequired` saying what is expected."""
    cfg = governance_config(ws)
    p = " ".join((purpose or "").split())
    if not p:
        raise PurposeRequired(f"a purpose of use is required for {what}: {purpose_rule(ws)}")
    if "\x00" in p:
        raise PurposeRequired("purpose of use contains a NUL character")
    if len(p) > 500:
        raise PurposeRequired("purpose of use is too long (at most 500 characters)")
    if re.fullmatch(cfg.case_number_pattern, p) or len(p) >= cfg.purpose_min_chars:
        return p
    raise PurposeRequired(f"purpose of use {p!r} is neither a case number nor a justification "
                          f"of at least {cfg.purpose_min_chars} characters")


_IDENTIFIER = re.compile(r"(?:\d[\s-]?){5,}|\b[A-Z]{1,2}\d{5,}\b", re.IGNORECASE)


def is_identifier_query(query: str) -> bool:
    """Whether a search query looks like an identifier (A-number, passport, FBI, id...)."""
    return bool(_IDENTIFIER.search(query or ""))
