"""Search service: the one entry point used by the CLI, the API and other rooms.

>>> hits = search(ws, "maria garcia lopez 1987", limit=10, role="analyst")  # doctest: +SKIP
>>> update_persons(ws, report.changed_person_ids)                          # doctest: +SKIP
>>> reindex(ws)                                                            # doctest: +SKIP
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import jellyfish

from casegraph.cli.common import UserError
from casegraph.search import roles
from casegraph.search.documents import iter_document_batches, persons_exist
from casegraph.search.index import PersonIndex, RawHit, TantivyPersonIndex
from casegraph.search.phonetic import fuzzy_distance, phonetic_keys
from casegraph.search.query import (
    IDENTIFIER_FIELDS,
    Filters,
    ParsedQuery,
    norm_identifier,
    parse,
)
from casegraph.sources.normalise import normalise_text
from casegraph.workspace import Workspace

MAX_LIMIT = 1000


@dataclass
class SearchHit:
    """One person found. ``matched`` maps a field to an HTML-escaped snippet with the
    matching parts in ``<b>...</b>``."""

    person_id: str
    score: float
    names: list[str]
    matched: dict[str, str] = field(default_factory=dict)
    record_count: int = 0
    full_name: str | None = None
    birth_date: str | None = None
    nationality: str | None = None
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    localities: list[str] = field(default_factory=list)
    confidence: float | None = None
    eligible: bool | None = None
    open_case: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def get_index(ws: Workspace) -> PersonIndex:
    """The workspace's person index (tantivy in ``ws.index_dir``)."""
    return TantivyPersonIndex(ws.index_dir)


# ---- maintenance -------------------------------------------------------------------------

def reindex(ws: Workspace, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the index from the warehouse; returns the number of persons indexed."""
    return get_index(ws).build(iter_document_batches(ws), progress=progress)


def ensure_index(ws: Workspace) -> None:
    """Build the index unless it exists (once, even when several processes ask at once)."""
    idx = get_index(ws)
    if idx.exists():
        return
    if isinstance(idx, TantivyPersonIndex):
        with idx.build_lock():
            if not idx.exists():
                idx._build(iter_document_batches(ws))
    else:  # pragma: no cover - other engines build on their own
        reindex(ws)


def update_persons(ws: Workspace, person_ids: Iterable[str]) -> dict[str, int]:
    """Re-index ``person_ids`` only: upsert those that exist, delete those that vanished.

    Called by resolve/ingest with the persons they changed (created, merged, split).
    Builds the whole index instead when there is none yet.
    """
    ids = list(dict.fromkeys(str(p) for p in person_ids if p is not None))
    idx = get_index(ws)
    if not idx.exists():
        n = reindex(ws) if persons_exist(ws) else 0
        return {"indexed": n, "deleted": 0, "rebuilt": 1}
    if not ids:
        return {"indexed": 0, "deleted": 0, "rebuilt": 0}
    batches = list(iter_document_batches(ws, ids))
    found = {p for b in batches for p in b.person_ids}
    gone = [p for p in ids if p not in found]
    n = idx.upsert(batches)
    idx.delete(gone)
    return {"indexed": n, "deleted": len(gone), "rebuilt": 0}


# ---- search ------------------------------------------------------------------------------

def _merge_filters(pq: ParsedQuery, filters: Mapping[str, Any] | Filters | None) -> None:
    if filters is None:
        return
    if isinstance(filters, Filters):
        filters = {"nationality": filters.nationality, "eligible": filters.eligible,
                   "has_open_case": filters.has_open_case}
    for key, val in filters.items():
        if val is None or val == () or val == []:
            continue
        if key == "nationality":
            vals = [val] if isinstance(val, str) else list(val)
            codes = []
            for v in vals:
                for part in re.split(r"[,;|\s]+", str(v)):
                    if part:
                        if len(part) != 2 or not part.isalpha():
                            raise UserError(f"nationality: expected ISO codes like MX, got {part!r}")
                        codes.append(part.upper())
            pq.filters.nationality = tuple(dict.fromkeys(pq.filters.nationality + tuple(codes)))
        elif key == "eligible":
            pq.filters.eligible = bool(val)
        elif key in ("has_open_case", "open_case"):
            pq.filters.has_open_case = bool(val)
        else:
            raise UserError(f"unknown search filter {key!r} (nationality, eligible, has_open_case)")


def search(ws: Workspace, query: str, *, limit: int = 10, role: str | None = None,
           filters: Mapping[str, Any] | Filters | None = None,
           can_see_sensitive: bool | None = None) -> list[SearchHit]:
    """Persons matching ``query``, best first.

    Args:
        query: the query language of :mod:`casegraph.search.query`.
        role: the caller's role (governance matrix decides what is masked); without a
            role, ``can_see_sensitive`` decides (default masked).
        filters: ``{"nationality": "MX" | [..], "eligible": bool, "has_open_case": bool}``.

    Raises:
        UserError: malformed query, unknown field/filter, a masked field named, or a role
        that may not search.
    """
    try:
        limit = int(limit)
    except (TypeError, ValueError) as e:
        raise UserError(f"limit must be a number, got {limit!r}") from e
    if not 1 <= limit <= MAX_LIMIT:
        raise UserError(f"limit must be between 1 and {MAX_LIMIT}")
    roles.check_can_search(role)
    masked = roles.masked_fields(role, can_see_sensitive)
    blocked = roles.blocked_index_fields(masked)
    pq = parse(query, blocked_fields=blocked)
    _merge_filters(pq, filters)
    idx = get_index(ws)
    if not idx.exists():
        if not persons_exist(ws):
            return []
        ensure_index(ws)
    raw = idx.search(pq, limit=limit, blocked_fields=blocked)
    return [_to_hit(h, pq, masked) for h in raw]


def _to_hit(h: RawHit, pq: ParsedQuery, masked: frozenset[str]) -> SearchHit:
    p = h.payload
    ids = {k: v for k, v in (p.get("identifiers") or {}).items() if k not in masked and v}
    birth = None if "birth_date" in masked else p.get("birth_date")
    return SearchHit(
        person_id=h.person_id, score=round(h.score, 4), names=list(p.get("names") or []),
        matched=highlight(pq, p, masked), record_count=int(p.get("record_count") or 0),
        full_name=p.get("full_name"), birth_date=birth,
        nationality=None if "nationality" in masked else p.get("nationality"),
        identifiers=ids,
        localities=[] if "locality" in masked else list(p.get("localities") or []),
        confidence=p.get("confidence"), eligible=p.get("eligible"),
        open_case=bool(p.get("open_case")))


# ---- highlighting ------------------------------------------------------------------------

@lru_cache(maxsize=100_000)
def _norm_token(word: str) -> str:
    return normalise_text(word) or ""


@lru_cache(maxsize=100_000)
def _token_matches(norm_tok: str, qtok: str) -> bool:
    if norm_tok == qtok:
        return True
    d = fuzzy_distance(qtok)
    if d and abs(len(norm_tok) - len(qtok)) <= d and \
            jellyfish.damerau_levenshtein_distance(norm_tok, qtok) <= d:
        return True
    return bool(set(phonetic_keys(norm_tok)) & set(phonetic_keys(qtok)))


def _memo(pred: Callable[[str], bool]) -> Callable[[str], bool]:
    cache: dict[str, bool] = {}

    def f(t: str) -> bool:
        v = cache.get(t)
        if v is None:
            v = cache[t] = pred(t)
        return v
    return f


def _mark(text: str, pred: Callable[[str], bool]) -> tuple[str, int]:
    """Escape ``text`` and wrap the words for which ``pred(normalised word)`` holds."""
    out, n = [], 0
    for part in text.split(" "):
        if not part:
            out.append(part)
            continue
        norm = _norm_token(part)
        if norm and any(pred(t) for t in norm.split()):
            out.append(f"<b>{html.escape(part)}</b>")
            n += 1
        else:
            out.append(part if part.isalnum() else html.escape(part))
    return " ".join(out), n


def highlight(pq: ParsedQuery, p: Mapping[str, Any], masked: frozenset[str] = frozenset()
              ) -> dict[str, str]:
    """field -> snippet of the stored value(s) that the query matched."""
    out: dict[str, str] = {}
    qnames = pq.name_tokens
    if qnames:
        phrases = [" ".join(c.tokens) for c in pq.clauses if c.kind == "phrase"]
        name_pred = _memo(lambda t: any(_token_matches(t, q) for q in qnames))
        best, best_n = None, 0.0
        for name in p.get("names") or []:
            snip, n = _mark(str(name), name_pred)
            score = n
            if phrases:
                norm = normalise_text(str(name)) or ""
                score += 0.5 * sum(1 for ph in phrases if ph in norm)
            if n and score > best_n:
                best, best_n = snip, score
        if best:
            out["name"] = best
    dobs = [] if "birth_date" in masked else list(p.get("birth_dates") or [])
    for c in pq.clauses:
        if c.kind == "dob":
            for d in dobs:
                if d == c.value or (not c.must and
                                    jellyfish.damerau_levenshtein_distance(d, c.value) <= 1):
                    out["birth_date"] = f"<b>{html.escape(d)}</b>"
                    break
        elif c.kind == "year":
            for d in dobs:
                if d[:4] == c.value:
                    out["birth_date"] = f"<b>{html.escape(d[:4])}</b>{html.escape(d[4:])}"
                    break
        elif c.kind == "ident":
            for idx_field, col in IDENTIFIER_FIELDS.items():
                if col in masked or (c.field is not None and c.field != idx_field):
                    continue
                for v in (p.get("identifiers") or {}).get(col, []):
                    forms = norm_identifier(idx_field, str(v))
                    if any(f == c.value or (len(c.value) >= 6 and
                           jellyfish.damerau_levenshtein_distance(f, c.value) <= 1)
                           for f in forms):
                        out[col] = f"<b>{html.escape(str(v))}</b>"
                        break
        elif c.kind == "locality" or (c.kind == "name" and not c.must):
            if "locality" in masked:
                continue
            toks = c.tokens or (c.value,)
            fuzzy_loc = c.kind == "locality"

            def loc_pred(t: str, toks: tuple[str, ...] = toks, fuzzy_loc: bool = fuzzy_loc
                         ) -> bool:
                return any(_token_matches(t, q) if fuzzy_loc else t == q for q in toks)
            for loc in p.get("localities") or []:
                snip, n = _mark(str(loc), loc_pred)
                if n:
                    out["locality"] = snip
                    break
        elif c.kind == "person_id":
            out["person_id"] = f"<b>{html.escape(str(p.get('person_id')))}</b>"
    return out
