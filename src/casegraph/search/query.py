"""The search query language, parsed into an engine-neutral :class:`ParsedQuery`.

Nothing here knows about tantivy: the index implementation translates the clauses
(see ``index.py``), so an OpenSearch implementation can translate the same clauses.

Syntax (whitespace separated; everything case- and accent-insensitive)::

    maria garcia lopez 1987          free text: names (fuzzy + phonetic), years, dates,
                                     identifiers (one-edit typo tolerant), localities
    a:012345678  passport:X1234567   fielded identifier (must match, one edit allowed)
    dob:1987-03-04  dob:1987         birth date, exact or year
    name:"nguyen van"  name:garcia   name phrase / name term (must match)
    "maria garcia"                   name phrase (must match)
    city:houston  nat:MX             locality (must), nationality (filter)
    eligible:yes  case:open          eligibility / open-case filters
    id:P-000123                      one person

Anything the grammar cannot use (SQL, brackets, stray quotes) is folded away as
punctuation; a query with nothing left, an unknown field, or a value of the wrong
form for its field raises :class:`~casegraph.cli.common.UserError`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from casegraph.cli.common import UserError
from casegraph.sources.normalise import fold_accents, normalise_text

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 24
MAX_TOKEN = 40  # tantivy's default tokenizer drops longer tokens

#: Identifier fields of the index -> canonical (ontology) field they come from.
IDENTIFIER_FIELDS: dict[str, str] = {
    "a_number": "a_number",
    "passport": "passport_number",
    "fbi": "fbi_number",
    "licence": "driver_licence",
    "phone": "phone",
    "email": "email",
    "national_id": "national_id",
}

#: Query-language field names (aliases) -> clause kind / identifier field.
FIELD_ALIASES: dict[str, str] = {
    "a": "a_number", "anum": "a_number", "a_number": "a_number", "alien": "a_number",
    "passport": "passport", "pp": "passport", "passport_number": "passport",
    "fbi": "fbi", "fbi_number": "fbi",
    "licence": "licence", "license": "licence", "dl": "licence", "driver_licence": "licence",
    "phone": "phone", "tel": "phone",
    "email": "email", "mail": "email",
    "ssn": "national_id", "nid": "national_id", "national_id": "national_id",
    "name": "name", "n": "name",
    "dob": "dob", "born": "dob", "birth_date": "dob", "year": "year",
    "city": "locality", "locality": "locality", "place": "locality",
    "nat": "nationality", "nationality": "nationality",
    "eligible": "eligible", "case": "open_case", "open_case": "open_case",
    "id": "person_id", "person": "person_id", "person_id": "person_id",
}

_FIELD_TOKEN = re.compile(r'^([A-Za-z_]{1,20}):(.*)$', re.DOTALL)
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_YEAR = re.compile(r"^(19|20)\d{2}$")
_PERSON_ID = re.compile(r"^P-\d{3,}$", re.IGNORECASE)
_ALNUM = re.compile(r"[^0-9A-Za-z]")
_TRUE = {"yes", "y", "true", "1", "open", "eligible"}
_FALSE = {"no", "n", "false", "0", "none", "closed", "ineligible"}


@dataclass(frozen=True)
class Clause:
    """One condition of a query.

    kind: ``name`` (one token), ``phrase`` (tokens in order), ``dob`` (ISO date),
    ``year``, ``ident`` (value, field None = any identifier), ``locality``, ``person_id``.
    must: the person has to match it (fielded and quoted clauses); otherwise it only
    adds to the score (free text).
    raw: the token as typed, folded to lower case (for an accent-exact bonus).
    """

    kind: str
    value: str
    field: str | None = None
    must: bool = False
    tokens: tuple[str, ...] = ()
    raw: str | None = None


@dataclass
class Filters:
    nationality: tuple[str, ...] = ()
    eligible: bool | None = None
    has_open_case: bool | None = None


@dataclass
class ParsedQuery:
    text: str
    clauses: list[Clause] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)

    @property
    def name_tokens(self) -> list[str]:
        out: list[str] = []
        for c in self.clauses:
            if c.kind == "name":
                out.append(c.value)
            elif c.kind == "phrase":
                out.extend(c.tokens)
        return out


# ---- value normalisation (shared with document building, so both sides agree) ------------

def norm_identifier(field_name: str | None, value: str) -> list[str]:
    """Index/query forms of an identifier value (first = canonical form)."""
    v = str(value)
    if v.isalnum() and v.isascii() and field_name not in (None, "email", "phone"):
        a = v.upper()  # fast path: already compact (most stored identifiers)
        if field_name != "a_number" or (a.isdigit() and len(a) == 9):
            return [a]
    if not v.isascii():
        v = fold_accents(v)
    v = v.strip()
    if not v:
        return []
    if field_name == "email" or (field_name is None and "@" in v):
        v = v.lower().strip(" .,;:'\"<>()[]")
        return [v] if "@" in v and len(v) >= 3 else []
    if field_name == "phone":
        digits = re.sub(r"\D", "", v)
        if len(digits) < 4:
            return []
        forms = [digits]
        if len(digits) > 10:
            forms.append(digits[-10:])
        return forms
    a = _ALNUM.sub("", v).upper()
    if not a:
        return []
    if field_name in ("a_number", None):
        forms = [a]
        d = a[1:] if a.startswith("A") and a[1:].isdigit() else a
        if d.isdigit() and 7 <= len(d) <= 9:
            forms.insert(0, d.zfill(9))  # the stored (zero-padded) form first
        if field_name is None and len(re.sub(r"\D", "", v)) >= 10:
            forms.append(re.sub(r"\D", "", v)[-10:])  # phone typed with punctuation
        return list(dict.fromkeys(forms))
    return [a]


def parse_date(value: str) -> dt.date | None:
    m = _DATE.match(value)
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        m = _DATE_US.match(value)
        if m:
            return dt.date(int(m[3]), int(m[1]), int(m[2]))
    except ValueError:
        return None
    return None


def _bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise UserError(f"{name}: expected yes or no, got {value!r}")


def _split(query: str) -> list[tuple[str | None, str, bool]]:
    """(field, value, quoted) triples. Stray quotes are dropped, never an error."""
    out: list[tuple[str | None, str, bool]] = []
    i, n = 0, len(query)
    while i < n:
        while i < n and query[i].isspace():
            i += 1
        if i >= n:
            break
        j = i
        while j < n and not query[j].isspace() and query[j] != '"':
            j += 1
        word = query[i:j]
        fld: str | None = None
        m = _FIELD_TOKEN.match(word) if word else None
        if m and (m[2] or (j < n and query[j] == '"')):
            fld, word = m[1].lower(), m[2]
        elif m and m[1].lower() in FIELD_ALIASES:
            raise UserError(f"field {m[1]!r} needs a value, e.g. {m[1]}:VALUE")
        if j < n and query[j] == '"' and not word:
            end = query.find('"', j + 1)
            if end == -1:  # unbalanced: the rest of the query is the phrase
                end = n
            out.append((fld, query[j + 1:end], True))
            i = end + 1
            continue
        if word:
            out.append((fld, word, False))
        elif fld:
            raise UserError(f"field {fld!r} needs a value, e.g. {fld}:VALUE")
        i = j + 1 if j < n and query[j] == '"' else j  # a quote glued to a word: drop it
    return out


def parse(query: str, *, blocked_fields: frozenset[str] = frozenset()) -> ParsedQuery:
    """Parse ``query``. ``blocked_fields`` are index fields the caller's role may not
    search (masked): naming one is an error, and free text never looks in them."""
    if query is None or not str(query).strip():
        raise UserError("empty search query")
    query = str(query).replace("\x00", " ")
    if len(query) > MAX_QUERY_CHARS:
        raise UserError(f"search query too long ({len(query)} characters, at most {MAX_QUERY_CHARS})")
    pq = ParsedQuery(text=query)
    nats: list[str] = []
    for fld, value, quoted in _split(query):
        if fld is not None:
            kind = FIELD_ALIASES.get(fld)
            if kind is None:
                raise UserError(f"unknown search field {fld!r}; known: "
                                + ", ".join(sorted(set(FIELD_ALIASES))))
            if kind in blocked_fields or IDENTIFIER_FIELDS.get(kind) in blocked_fields:
                raise UserError(f"field {fld!r} is not searchable with your role")
            _fielded(pq, kind, fld, value, quoted, nats)
        elif quoted:
            toks = tuple((normalise_text(value) or "").split())
            if len(toks) == 1:
                pq.clauses.append(Clause("name", toks[0], must=True, raw=value.lower().strip()))
            elif toks:
                pq.clauses.append(Clause("phrase", " ".join(toks), must=True, tokens=toks))
        else:
            _free(pq, value)
    if nats:
        pq.filters.nationality = tuple(dict.fromkeys(nats))
    if not pq.clauses and not nats and pq.filters.eligible is None \
            and pq.filters.has_open_case is None:
        raise UserError(f"nothing to search for in {query!r}: give a name, date or identifier")
    if len(pq.clauses) > MAX_CLAUSES:
        raise UserError(f"too many search terms ({len(pq.clauses)}, at most {MAX_CLAUSES})")
    pq.clauses = [c for c in pq.clauses
                  if not (c.kind == "ident" and c.field in blocked_fields)]
    return pq


def _free(pq: ParsedQuery, word: str) -> None:
    w = word.strip(" ,;()[]{}'`")
    if not w:
        return
    if "@" in w:
        forms = norm_identifier("email", w)
        if forms:
            pq.clauses.append(Clause("ident", forms[0]))
        return
    d = parse_date(w)
    if d is not None:
        pq.clauses.append(Clause("dob", d.isoformat()))
        return
    if _YEAR.match(w):
        pq.clauses.append(Clause("year", w))
        return
    if _PERSON_ID.match(w):
        pq.clauses.append(Clause("person_id", w.upper()))
        return
    if any(ch.isdigit() for ch in w):
        for form in norm_identifier(None, w)[:2]:
            if 5 <= len(form) <= MAX_TOKEN:
                pq.clauses.append(Clause("ident", form))
        return
    norm = normalise_text(w)
    if not norm:
        return
    raw_toks = fold_raw_tokens(w)
    for i, tok in enumerate(norm.split()):
        if len(tok) > MAX_TOKEN:  # the index drops such tokens: nothing could match
            continue
        raw = raw_toks[i] if len(raw_toks) == len(norm.split()) else None
        pq.clauses.append(Clause("name", tok, raw=raw))


def fold_raw_tokens(text: str) -> list[str]:
    """Lower-cased tokens that keep their accents (for the raw-name field)."""
    return [t for t in re.split(r"[^\w]+", text.lower().replace("_", " ")) if t]


def _fielded(pq: ParsedQuery, kind: str, fld: str, value: str, quoted: bool,
             nats: list[str]) -> None:
    if kind in IDENTIFIER_FIELDS:
        forms = norm_identifier(kind, value)
        if not forms:
            raise UserError(f"{fld}: {value!r} is not a usable identifier")
        pq.clauses.append(Clause("ident", forms[0], field=kind, must=True))
    elif kind == "name":
        toks = tuple((normalise_text(value) or "").split())
        if not toks:
            raise UserError(f"{fld}: {value!r} has no letters to search for")
        if len(toks) == 1:
            pq.clauses.append(Clause("name", toks[0], must=True, raw=value.lower().strip()))
        else:
            pq.clauses.append(Clause("phrase", " ".join(toks), must=True, tokens=toks))
    elif kind in ("dob", "year"):
        v = value.strip()
        if _YEAR.match(v):
            pq.clauses.append(Clause("year", v, must=True))
            return
        d = parse_date(v)
        if d is None or kind == "year":
            raise UserError(f"{fld}: expected a date YYYY-MM-DD or a year, got {value!r}")
        pq.clauses.append(Clause("dob", d.isoformat(), must=True))
    elif kind == "locality":
        norm = normalise_text(value)
        if not norm:
            raise UserError(f"{fld}: {value!r} has no letters to search for")
        pq.clauses.append(Clause("locality", norm, must=True, tokens=tuple(norm.split())))
    elif kind == "nationality":
        for part in re.split(r"[,;|]", value):
            code = _ALNUM.sub("", part).upper()
            if code:
                if len(code) != 2 or not code.isalpha():
                    raise UserError(f"{fld}: expected ISO country codes like MX, got {part!r}")
                nats.append(code)
    elif kind == "eligible":
        pq.filters.eligible = _bool(fld, value)
    elif kind == "open_case":
        pq.filters.has_open_case = _bool(fld, value)
    elif kind == "person_id":
        v = value.strip()
        if not v or len(v) > 64:
            raise UserError(f"{fld}: expected a person id like P-000123")
        pq.clauses.append(Clause("person_id", v, must=True))
