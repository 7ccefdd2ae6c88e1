"""Person documents for the index, read from the warehouse.

Inputs (tolerating absence of every optional one):

* ``persons`` (resolve room): canonical identity, ``record_count``, ``confidence``;
* ``person_records`` + ``current_records``: every linked record's names (raw and
  ``*_norm``), aliases, birth date, identifiers, locality, nationality;
* ``eligibility`` (policy room): the latest run's verdict per person;
* ``cases`` in the operational store (cases room): whether the person has an open case.

DuckDB does the heavy lifting (aggregation per person, the display payload as JSON);
Python adds what must agree with the query side exactly: normalised name tokens,
phonetic keys and identifier forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from casegraph.search.index import IndexDoc
from casegraph.search.phonetic import phonetic_keys
from casegraph.search.query import IDENTIFIER_FIELDS, norm_identifier
from casegraph.sources.normalise import normalise_text
from casegraph.workspace import Workspace

#: Case statuses that no longer count as open.
CLOSED_CASE_STATUSES = ("closed", "cancelled", "canceled", "completed", "complete", "removed",
                        "released", "resolved", "rejected", "departed", "archived")

MAX_DISPLAY_NAMES = 12

#: persons columns read when present (architecture.md); absent ones read as NULL
PERSON_COLUMNS = ("full_name", "given_name", "middle_name", "family_name", "birth_date",
                  "nationality", "record_count", "confidence",
                  *dict.fromkeys(IDENTIFIER_FIELDS.values()))

_ALIASES = ("list_transform(string_split(coalesce({a}, ''), ';'), lambda x: nullif(trim(x), ''))")

_AGG_SQL = """
select pr.person_id as person_id,
  count(*) as n_records,
  list_distinct(flatten(list(list_concat([r.full_name,
      nullif(concat_ws(' ', r.given_name, r.middle_name, r.family_name), '')],
      {aliases})))) as names_raw,
  list_distinct(flatten(list([r.full_name_norm,
      nullif(concat_ws(' ', r.given_name_norm, r.middle_name_norm, r.family_name_norm), '')])))
      as names_norm,
  list_distinct(list(cast(r.birth_date as varchar))) as dobs,
  {ident_aggs},
  list_distinct(list(r.locality)) as localities_raw,
  list_distinct(list(r.locality_norm)) as localities,
  list_distinct(list(upper(r.nationality))) as nats
from person_records pr join current_records r on r.record_key = pr.record_key
{where}
group by pr.person_id
"""


def _relation_exists(ws: Workspace, name: str) -> bool:
    return bool(ws.con.execute(
        "select 1 from information_schema.tables where table_name = ? and table_schema = 'main'",
        [name]).fetchall())


def persons_exist(ws: Workspace) -> bool:
    if not ws.warehouse_path.exists() or not ws.has_table("persons"):
        return False
    return bool(ws.con.execute("select count(*) from persons").fetchall()[0][0])


def latest_eligibility_run(ws: Workspace) -> str | None:
    if not ws.has_table("eligibility"):
        return None
    if ws.has_table("score_runs"):
        rows = ws.con.execute(
            "select run_id from score_runs order by created_at desc limit 1").fetchall()
        if rows:
            return rows[0][0]
    rows = ws.con.execute("select max(run_id) from eligibility").fetchall()
    return rows[0][0] if rows else None


def open_case_persons(ws: Workspace) -> set[str]:
    """Persons with an open case in the operational store (empty if it has no cases yet)."""
    url = ws.database_url
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return set()
    try:
        from sqlalchemy import create_engine, inspect, text

        eng = create_engine(url)
        try:
            if not inspect(eng).has_table("cases"):
                return set()
            with eng.connect() as c:
                rows = c.execute(text("select person_id, status from cases "
                                      "where person_id is not null")).fetchall()
        finally:
            eng.dispose()
    except Exception:  # the store is optional for search: no store, no open-case facet
        return set()
    return {pid for pid, status in rows
            if (status or "").strip().lower() not in CLOSED_CASE_STATUSES}


_TOKEN_NORM: dict[str, str] = {}


def _norm_name(v: str) -> str:
    """``normalise_text(v)``, computed token by token with a cache (names reuse tokens)."""
    out = []
    cache = _TOKEN_NORM
    for t in v.split():
        n = cache.get(t)
        if n is None:
            if len(cache) > 1_000_000:
                cache.clear()
            n = cache[t] = normalise_text(t) or ""
        if n:
            out.append(n)
    return " ".join(out)


def documents_sql(ws: Workspace, *, filtered: bool) -> str:
    """One row per person: index inputs + the display payload (JSON) built by DuckDB."""
    pcols = {r[0] for r in ws.con.execute(
        "select column_name from information_schema.columns where table_name = 'persons' "
        "and table_schema = 'main'").fetchall()}

    def pc(c: str) -> str:
        return f"p.{c}" if c in pcols else "null"

    has_links = ws.has_table("person_records") and _relation_exists(ws, "current_records")
    pwhere = "where list_contains(?, p.person_id)" if filtered else ""
    canon = (f"coalesce({pc('full_name')}, nullif(concat_ws(' ', {pc('given_name')}, "
             f"{pc('middle_name')}, {pc('family_name')}), ''))")
    dob = f"cast(try_cast({pc('birth_date')} as date) as varchar)"
    nat = f"upper({pc('nationality')})"
    if has_links:
        aggs = ",\n  ".join(
            f"list_distinct(list(r.{col})) as id_{f}"
            for f, col in IDENTIFIER_FIELDS.items())
        awhere = "where list_contains(?, pr.person_id)" if filtered else ""
        agg = _AGG_SQL.format(ident_aggs=aggs, where=awhere, aliases=_ALIASES.format(
            a="r.name_aliases"))
        src = f"persons p left join ({agg}) a on a.person_id = p.person_id"
        A = "a."
    else:
        src = "persons p"
        A = None

    def al(col: str) -> str:  # an aggregated list column, or an empty list without links
        return f"coalesce({A}{col}, [])" if A else "[]::varchar[]"

    ids = {f: f"list_distinct(list_prepend({pc(col)}, {al('id_' + f)}))"
           for f, col in IDENTIFIER_FIELDS.items()}
    id_json = ", ".join(f"'{col}': {ids[f]}" for f, col in IDENTIFIER_FIELDS.items())
    # canonical name first, then every other variant
    names = (f"list_filter(list_concat([{canon}], list_filter({al('names_raw')}, "
             f"lambda x: x is distinct from {canon})), lambda x: x is not null)")
    dobs = f"list_distinct(list_prepend({dob}, {al('dobs')}))"
    nats = f"list_distinct(list_prepend({nat}, {al('nats')}))"
    rc = f"coalesce({pc('record_count')}, {A + 'n_records' if A else 'null'}, 0)"
    return f"""
select p.person_id as person_id, {names} as names_raw, {al('names_norm')} as names_norm,
  {dobs} as dobs, {nats} as nats, {al('localities')} as localities, {rc} as record_count,
  {", ".join(f"{ids[f]} as id_{f}" for f in IDENTIFIER_FIELDS)},
  to_json({{'person_id': p.person_id,
           'full_name': coalesce({canon}, {names}[1]),
           'names': {names}[1:{MAX_DISPLAY_NAMES}],
           'birth_date': coalesce({dob}, {dobs}[1]),
           'birth_dates': {dobs},
           'nationality': coalesce({nat}, {nats}[1]),
           'nationalities': {nats},
           'identifiers': {{{id_json}}},
           'localities': {al('localities_raw')}[1:10],
           'record_count': {rc},
           'confidence': cast({pc('confidence')} as double)}})::varchar as payload
from {src}
{pwhere}
"""


_IDENT_FIELDS = tuple(IDENTIFIER_FIELDS)


def iter_documents(ws: Workspace, person_ids: list[str] | None = None,
                   batch_size: int = 20_000) -> Iterator[IndexDoc]:
    """Documents of every person (or of ``person_ids`` that still exist)."""
    if not ws.has_table("persons"):
        return
    run = latest_eligibility_run(ws)
    elig: dict[str, bool] = {}
    if run is not None:
        elig = {pid: bool(e) for pid, e in ws.con.execute(
            "select person_id, eligible from eligibility where run_id = ? "
            "and eligible is not null", [run]).fetchall()}
    open_cases = open_case_persons(ws)
    filtered = person_ids is not None
    sql = documents_sql(ws, filtered=filtered)
    params = [list(person_ids)] * sql.count("list_contains(?") if filtered else []
    cur = ws.con.cursor()
    try:
        reader = cur.sql(sql, params=params).to_arrow_reader(batch_size)
        for batch in reader:
            c = batch.to_pydict()
            idcols = [c[f"id_{f}"] for f in _IDENT_FIELDS]
            for i, pid in enumerate(c["person_id"]):
                yield _doc(pid, c["names_raw"][i], c["names_norm"][i], c["dobs"][i],
                           c["nats"][i], c["localities"][i], c["record_count"][i],
                           [col[i] for col in idcols], c["payload"][i], elig.get(pid),
                           pid in open_cases)
    finally:
        cur.close()


_PHON: dict[str, tuple[str, ...]] = {}
_SIMPLE = frozenset("abcdefghijklmnopqrstuvwxyz ")


def _doc(pid: str, names_raw: list, names_norm: list, dobs: list, nats: list,
         localities: list, record_count: Any, id_values: list, payload: str,
         eligible: bool | None, open_case: bool) -> IndexDoc:
    raw = [v for v in names_raw if v]
    norms = dict.fromkeys(v for v in names_norm if v)
    for v in raw:
        low = v.lower()
        if low in norms and _SIMPLE.issuperset(low):
            continue  # plain letters: its normalised form is itself, already present
        n = _norm_name(v)
        if n:
            norms[n] = None
    phon: set[str] = set()
    cache = _PHON
    for n in norms:
        for t in n.split():
            keys = cache.get(t)
            if keys is None:
                if len(cache) > 1_000_000:
                    cache.clear()
                keys = cache[t] = phonetic_keys(t)
            phon.update(keys)
    idents: dict[str, list[str]] = {}
    for f, vals in zip(_IDENT_FIELDS, id_values):
        if vals:
            forms: dict[str, None] = {}
            for v in vals:
                if v:
                    for x in norm_identifier(f, v):
                        forms[x] = None
            if forms:
                idents[f] = list(forms)
    # eligibility and open case change between builds; add them to the stored payload
    extra = (',"eligible":' + ("null" if eligible is None else "true" if eligible else "false")
             + ',"open_case":' + ("true" if open_case else "false") + "}")
    # the raw (accented) forms only matter where they differ from the folded ones
    raw_idx = [v for v in raw if not v.isascii()]
    return IndexDoc(person_id=pid, names_norm=list(norms), names_raw=raw_idx,
                    phonetic=list(phon), birth_dates=[d for d in dobs if d], identifiers=idents,
                    localities=[x for x in localities if x],
                    nationalities=[x for x in nats if x], eligible=eligible, open_case=open_case,
                    record_count=int(record_count or 0), payload=payload[:-1] + extra)
