"""Which fields a role may search and see.

The permission matrix belongs to governance (``governance/permissions.py``): a role
sees sensitive fields unmasked only with ``person.read_sensitive``. Search applies
the same rule twice: a masked field is not searchable (free text never looks in
it, naming it is an error) and never returned in a hit.
"""

from __future__ import annotations

from casegraph.cli.common import UserError
from casegraph.ontology import SENSITIVE_FIELDS

#: Canonical fields masked for roles that cannot read sensitive fields: the ontology's
#: sensitive fields plus the SSN-like national id.
DEFAULT_SENSITIVE = frozenset(SENSITIVE_FIELDS | {"national_id"})

#: canonical (ontology) field -> index fields holding it
INDEX_FIELDS_OF: dict[str, tuple[str, ...]] = {
    "a_number": ("a_number",), "passport_number": ("passport",), "fbi_number": ("fbi",),
    "driver_licence": ("licence",), "phone": ("phone",), "email": ("email",),
    "national_id": ("national_id",), "birth_date": ("dob", "year"), "locality": ("locality",),
    "nationality": ("nationality",),
}


def _permissions():  # governance may be absent in a stripped-down build
    try:
        from casegraph.governance import permissions
    except ImportError:  # pragma: no cover
        return None
    return permissions


def sensitive_fields() -> frozenset[str]:
    perms = _permissions()
    extra = getattr(perms, "SENSITIVE_FIELDS", None) if perms else None
    return DEFAULT_SENSITIVE | frozenset(extra or ())


def check_can_search(role: str | None) -> None:
    """Refuse a role that may not search persons at all (unknown roles included)."""
    if role is None:
        return
    perms = _permissions()
    if perms is None:
        return
    try:
        ok = perms.allowed(role, "search.persons")
    except KeyError:  # pragma: no cover - matrix without that permission
        return
    if not ok:
        raise UserError(f"role {role!r} may not search persons")


def masked_fields(role: str | None, can_see_sensitive: bool | None = None) -> frozenset[str]:
    """Canonical fields hidden from ``role`` (or from a caller without sensitive access).

    With a role, the governance matrix decides (``person.read_sensitive``); without one,
    ``can_see_sensitive`` does (default: masked).
    """
    if role is not None:
        perms = _permissions()
        if perms is not None:
            try:
                can_see_sensitive = perms.allowed(role, "person.read_sensitive")
            except KeyError:  # pragma: no cover
                pass
    return frozenset() if can_see_sensitive else sensitive_fields()


def blocked_index_fields(masked: frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for f in masked:
        out.update(INDEX_FIELDS_OF.get(f, ()))
    return frozenset(out)
