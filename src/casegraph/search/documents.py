"""Person documents for the index, built set-wise by DuckDB.

Inputs (tolerating absence of every optional one):

* ``persons`` (resolve room): canonical identity, ``record_count``, ``confidence``;
* ``person_records`` + ``current_records``: every linked record's names (raw and
  ``*_norm``), aliases, birth date, identifiers, locality, nationality;
* ``eligibility`` (policy room): the latest run's verdict per person;
* ``cases`` in the operational store (cases room): whether the person has an open case.

One SQL statement turns them into one JSON document per person, in the index's field
layout (see :data:`casegraph.search.index.DOCUMENT_FIELDS`), display payload included:
the engine indexes the text as it comes (tantivy's ``add_json``), so no Python runs per
person. Why: at a million persons, per-person Python (folding names, phonetic keys,
identifier forms, building engine documents) was most of the build time.

What must agree exactly with the query side is computed by the *same* Python functions
the query side uses, but only where SQL cannot say it and only once per distinct value
(names repeat a lot): accent folding of non-ASCII names (``normalise_text``) and
phonetic keys (``phonetic_keys``), as vectorised UDFs with a per-distinct-value cache.
ASCII names are folded in SQL (the same rule written as two regular expressions), and
identifier forms follow ``norm_identifier`` in SQL (with ``norm_identifier`` itself
for non-ASCII values). ``tests/search/test_documents.py`` holds both sides together.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.sqltypes import VARCHAR

from casegraph.search.index import DocBatch
from casegraph.search.phonetic import phonetic_keys
from casegraph.search.query import IDENTIFIER_FIELDS, norm_identifier
from casegraph.sources.normalise import normalise_text
from casegraph.workspace import Workspace

#: Case statuses that no longer count as open.
CLOSED_CASE_STATUSES = ("closed", "cancelled", "canceled", "completed", "complete", "removed",
                        "released", "resolved", "rejected", "departed", "archived")

MAX_DISPLAY_NAMES = 12

# ---- inputs ------------------------------------------------------------------------------

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


# ---- Python functions DuckDB calls, once per distinct value ------------------------------

_FOLD_CACHE: dict[str, str] = {}


def _cached_map(values: Any, fn: Any, cache: dict, out_type: pa.DataType) -> pa.Array:
    """``fn`` over an Arrow string array, computed once per distinct value (``fn`` never
    returns None for a string; a null stays null)."""
    uniq = pc.unique(values)
    keys = uniq.to_pylist()
    get = cache.get
    out = [get(v) for v in keys]
    for i, r in enumerate(out):
        if r is None and keys[i] is not None:
            if len(cache) > 1_000_000:
                cache.clear()
            out[i] = cache[keys[i]] = fn(keys[i])
    return pc.take(pa.array(out, type=out_type),  # type: ignore[no-any-return]
                   pc.index_in(values, value_set=uniq))


def _fold_udf(values: Any) -> pa.Array:
    """``normalise_text`` (non-ASCII names only: ASCII ones are folded in SQL)."""
    return _cached_map(values, lambda v: normalise_text(v) or "", _FOLD_CACHE, pa.string())


_PHON_CACHE: dict[str, str] = {}


def _one_array(x: Any) -> Any:
    return pa.concat_arrays(x.chunks) if isinstance(x, pa.ChunkedArray) else x


def _phon_udf(names: Any) -> pa.Array:
    """Phonetic keys (``phonetic_keys``) of every token of each person's normalised names:
    ``list<name>`` in, the keys joined by spaces out (split and de-duplicated in SQL; keys
    hold no spaces). One call per chunk of persons, vectorised with Arrow: Python runs
    once per distinct token, and only strings cross back (cheaper than lists)."""
    names = _one_array(names)
    rel = pc.subtract(names.offsets, names.offsets[0])           # person -> names
    toks = pc.split_pattern(names.flatten(), " ")                 # name -> tokens
    keys = _cached_map(toks.flatten(), lambda t: " ".join(phonetic_keys(t)), _PHON_CACHE,
                       pa.string())                               # token -> "k1 k2"
    person_toks = pc.take(toks.offsets, rel)                      # person -> tokens
    return pc.binary_join(pa.ListArray.from_arrays(person_toks, keys), " ")


def _ident_udf(field_name: str, value: str) -> list[str]:
    """``norm_identifier`` (non-ASCII values only: ASCII ones are formed in SQL)."""
    return norm_identifier(field_name, value)


_UDFS: tuple[tuple[str, Any, list, Any, str], ...] = (
    ("cg_search_fold", _fold_udf, [VARCHAR], VARCHAR, "arrow"),
    ("cg_search_phon", _phon_udf, [duckdb.list_type(VARCHAR)], VARCHAR, "arrow"),
    ("cg_search_ident", _ident_udf, [VARCHAR, VARCHAR], duckdb.list_type(VARCHAR), "native"),
)


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Register the UDFs above on ``con`` (once per connection)."""
    for name, fn, params, ret, kind in _UDFS:
        try:
            con.create_function(name, fn, params, ret, type=kind)
        except (duckdb.NotImplementedException, duckdb.CatalogException) as e:
            if "already" not in str(e):
                raise


# ---- SQL ---------------------------------------------------------------------------------

#: Python's ``\s`` on ASCII (``str.split``/``strip`` whitespace), for RE2 and ``trim``.
_WS_RE = r"\t\n\x0b\x0c\r\x1c-\x1f "
_WS_CHARS = "||".join(f"chr({c})" for c in (9, 10, 11, 12, 13, 28, 29, 30, 31, 32))
_EMAIL_STRIP = " .,;:''\"<>()[]"  # SQL literal: '' is one quote


def _ascii(x: str) -> str:
    return f"(strlen({x}) = length({x}))"


def fold_sql(x: str) -> str:
    """``normalise_text(x)`` in SQL: lower case, anything but letters, digits and
    whitespace to a space, whitespace runs to one space, trimmed; NULL when empty.
    Exact for ASCII (plain words separated by single spaces, the usual case, only need
    ``lower``); other text goes to ``normalise_text`` itself."""
    return (f"case when regexp_full_match({x}, '[A-Za-z0-9]+( [A-Za-z0-9]+)*') then lower({x}) "
            f"when {_ascii(x)} then nullif(trim(regexp_replace(regexp_replace(lower({x}), "
            f"'[^a-z0-9{_WS_RE}]', ' ', 'g'), '[{_WS_RE}]+', ' ', 'g')), '') "
            f"else nullif(cg_search_fold({x}), '') end")


def ident_forms_sql(field_name: str, v: str) -> str:
    """``norm_identifier(field_name, v)`` in SQL (a list; may hold '' / NULL entries)."""
    alnum = f"upper(regexp_replace({v}, '[^0-9A-Za-z]', '', 'g'))"
    if field_name == "email":
        e = f"trim(lower(trim({v}, {_WS_CHARS})), '{_EMAIL_STRIP}')"
        forms = f"case when contains({e}, '@') and length({e}) >= 3 then [{e}] else [] end"
    elif field_name == "phone":
        d = f"regexp_replace({v}, '[^0-9]', '', 'g')"
        forms = (f"case when length({d}) < 4 then [] else [{d}, case when length({d}) > 10 "
                 f"then right({d}, 10) end] end")
    elif field_name == "a_number":
        d = (f"(case when {alnum} like 'A%' and regexp_full_match({alnum}[2:], '[0-9]+') "
             f"then {alnum}[2:] else {alnum} end)")
        forms = (f"case when regexp_full_match({v}, '[0-9]{{9}}') then [{v}] else "
                 f"[case when regexp_full_match({d}, '[0-9]{{7,9}}') then lpad({d}, 9, '0') end, "
                 f"{alnum}] end")
    else:
        forms = f"[{alnum}]"
    return (f"case when {_ascii(v)} then {forms} "
            f"else cg_search_ident('{field_name}', {v}) end")


def _aliases(col: str) -> str:
    return (f"case when {col} is null then []::varchar[] else "
            f"list_transform(string_split({col}, ';'), lambda x: nullif(trim(x), '')) end")


def _nonnull(lst: str) -> str:
    return f"list_filter({lst}, lambda x: x is not null and x <> '')"


# lists that a later step de-duplicates anyway are not de-duplicated here; NULLs are left
# out as early as possible (an empty group gives NULL, read as [] below)
_AGG_SQL = """
select pr.person_id as person_id,
  count(*) as n_records,
  list_distinct(flatten(list(list_concat([r.full_name,
      nullif(concat_ws(' ', r.given_name, r.middle_name, r.family_name), '')],
      {aliases})))) as names_raw,
  flatten(list([r.full_name_norm,
      nullif(concat_ws(' ', r.given_name_norm, r.middle_name_norm, r.family_name_norm), '')]))
      as names_norm,
  list(cast(r.birth_date as varchar)) filter (where r.birth_date is not null) as dobs,
  {ident_aggs},
  list_distinct(list(r.locality)) as localities_raw,
  list_distinct(list(r.locality_norm)) as localities,
  list(upper(r.nationality)) filter (where r.nationality is not null) as nats
from person_records pr join current_records r on r.record_key = pr.record_key
{where}
group by pr.person_id
"""


def documents_sql(ws: Workspace, *, filtered: bool = False, partitioned: bool = False,
                  eligibility_run: bool = False, open_cases_table: str | None = None) -> str:
    """One row per person: ``person_id`` and ``doc`` (the JSON document).

    Named parameters: ``$run`` (the eligibility run) when ``eligibility_run``, ``$ids``
    (the person ids) when ``filtered``, ``$parts`` and ``$part`` (this statement's share of
    the persons: ``hash(person_id) % $parts = $part``) when ``partitioned``. Each step is its own CTE so that every list is
    computed once and then referred to by name (the payload and the index fields share
    them).
    """
    pcols = {r[0] for r in ws.con.execute(
        "select column_name from information_schema.columns where table_name = 'persons' "
        "and table_schema = 'main'").fetchall()}

    def pc_(c: str) -> str:
        return f"p.{c}" if c in pcols else "null"

    has_links = ws.has_table("person_records") and _relation_exists(ws, "current_records")
    ids_where = ("where list_contains($ids, {col})" if filtered else
                 "where hash({col}) % $parts = $part" if partitioned else "")
    if has_links:
        aggs = ",\n  ".join(f"list(r.{col}) filter (where r.{col} is not null) as id_{f}"
                            for f, col in IDENTIFIER_FIELDS.items())
        agg = _AGG_SQL.format(ident_aggs=aggs, where=ids_where.format(col="pr.person_id"),
                              aliases=_aliases("r.name_aliases"))
        src = f"persons p left join ({agg}) a on a.person_id = p.person_id"

        def al(col: str) -> str:  # an aggregated list column
            return f"coalesce(a.{col}, [])"
        n_records = "a.n_records"
    else:
        src = "persons p"

        def al(col: str) -> str:  # no links: no lists
            return "[]::varchar[]"
        n_records = "null"
    if eligibility_run:
        src += ("\nleft join (select person_id, bool_and(eligible) as eligible from eligibility"
                " where run_id = $run and eligible is not null group by person_id) e"
                " on e.person_id = p.person_id")
        elig = "e.eligible"
    else:
        elig = "null::boolean"
    if open_cases_table:
        src += (f"\nleft join (select distinct person_id from {open_cases_table}) oc"
                f" on oc.person_id = p.person_id")
        open_case = "(oc.person_id is not null)"
    else:
        open_case = "false"

    # 1. one person's inputs: canonical values and the records' lists
    step1 = ",\n  ".join([
        "p.person_id as person_id",
        (f"coalesce({pc_('full_name')}, nullif(concat_ws(' ', {pc_('given_name')}, "
         f"{pc_('middle_name')}, {pc_('family_name')}), '')) as canon"),
        f"cast(try_cast({pc_('birth_date')} as date) as varchar) as dob1",
        f"upper({pc_('nationality')}) as nat1",
        f"cast({pc_('confidence')} as double) as confidence",
        f"coalesce({pc_('record_count')}, {n_records}, 0) as record_count",
        f"{elig} as eligible_b", f"{open_case} as open_case_b",
        f"{al('names_raw')} as names_raw", f"{al('names_norm')} as names_norm",
        f"{al('dobs')} as dobs_r", f"{al('nats')} as nats_r",
        f"{al('localities')} as localities", f"{al('localities_raw')} as localities_raw",
        *(f"{pc_(col)} as pid_{f}, {al('id_' + f)} as rid_{f}"
          for f, col in IDENTIFIER_FIELDS.items())])
    # 2. merged lists: canonical name first, then every other variant
    step2 = ",\n  ".join([
        "* exclude (names_raw, dobs_r, nats_r"
        + "".join(f", pid_{f}, rid_{f}" for f in IDENTIFIER_FIELDS) + ")",
        ("list_filter(list_concat([canon], list_filter(names_raw, "
         "lambda x: x is distinct from canon)), lambda x: x is not null) as names"),
        "list_distinct(list_prepend(dob1, dobs_r)) as dobs",
        "list_distinct(list_prepend(nat1, nats_r)) as nats",
        *(f"list_distinct(list_prepend(pid_{f}, rid_{f})) as id_{f}" for f in IDENTIFIER_FIELDS)])
    # 3. the display payload and the index fields
    id_json = ", ".join(f"'{col}': id_{f}" for f, col in IDENTIFIER_FIELDS.items())
    payload = f"""to_json({{'person_id': person_id,
           'full_name': coalesce(canon, names[1]),
           'names': names[1:{MAX_DISPLAY_NAMES}],
           'birth_date': coalesce(dob1, dobs[1]),
           'birth_dates': dobs,
           'nationality': coalesce(nat1, nats[1]),
           'nationalities': nats,
           'identifiers': {{{id_json}}},
           'localities': localities_raw[1:10],
           'record_count': record_count,
           'confidence': confidence,
           'eligible': eligible_b,
           'open_case': open_case_b}})::varchar"""
    # every normalised name: the records' *_norm values plus each name folded here
    folded = "list_transform(names, lambda n: " + fold_sql("n") + ")"
    step3 = [
        "person_id", f"list_distinct({_nonnull(f'list_concat(names_norm, {folded})')}) as name",
        f"list_filter(names, lambda x: not {_ascii('x')}) as name_raw",
        f"{_nonnull('dobs')} as dob", f"{_nonnull('nats')} as nationality",
        f"{_nonnull('localities')} as locality",
        ("case when eligible_b is null then 'unknown' when eligible_b then 'yes' else 'no' end "
         "as eligible"),
        "case when open_case_b then 'yes' else 'no' end as open_case",
        "cast(record_count as ubigint) as record_count", f"{payload} as payload"]
    for f in IDENTIFIER_FIELDS:
        forms = f"flatten(list_transform(id_{f}, lambda v: {ident_forms_sql(f, 'v')}))"
        step3.append(f"list_distinct({_nonnull(forms)}) as {f}")
    # 4. the document
    doc_json = ", ".join(
        ["'person_id': person_id", "'name': name", "'name_raw': name_raw",
         ("'name_phon': list_filter(list_distinct(string_split(cg_search_phon(name), ' ')), "
          "lambda k: k <> '')"),
         "'dob': dob", "'year': list_distinct(list_transform(dob, lambda d: d[1:4]))",
         *(f"'{f}': {f}" for f in IDENTIFIER_FIELDS),
         "'locality': locality", "'nationality': nationality", "'eligible': eligible",
         "'open_case': open_case", "'record_count': record_count",
         "'payload': to_base64(encode(payload))"])
    step3_sql = ",\n  ".join(step3)
    return f"""
with s1 as (
  select {step1}
  from {src}
  {ids_where.format(col="p.person_id")}
), s2 as (
  select {step2} from s1
), s3 as (
  select {step3_sql} from s2
)
select person_id, to_json({{{doc_json}}})::varchar as doc from s3
"""


#: A full build runs the statement once per this many persons (a hash partition), so that
#: DuckDB aggregates the next part while tantivy indexes this one.
PARTITION_PERSONS = 250_000
#: Batches DuckDB may run ahead of the indexer.
PREFETCH_BATCHES = 4


def iter_document_batches(ws: Workspace, person_ids: list[str] | None = None,
                          batch_size: int = 20_000) -> Iterator[DocBatch]:
    """Documents of every person (or of ``person_ids`` that still exist), in batches.

    A full build reads in a background thread (DuckDB releases the GIL while it works),
    partition by partition, so that building documents overlaps with indexing them.
    """
    if not ws.has_table("persons"):
        return
    run = latest_eligibility_run(ws)
    open_cases = open_case_persons(ws)
    register_functions(ws.con)
    filtered = person_ids is not None
    n_parts = 1
    if not filtered:
        n = ws.con.execute("select count(*) from persons").fetchall()[0][0]
        n_parts = max(1, -(-n // PARTITION_PERSONS))
    oc_table = "cg_search_open_cases" if open_cases else None
    sql = documents_sql(ws, filtered=filtered, partitioned=n_parts > 1,
                        eligibility_run=run is not None, open_cases_table=oc_table)
    params: dict[str, Any] = {}
    if run is not None:
        params["run"] = run
    if filtered:
        params["ids"] = list(person_ids or [])
    cur = ws.con.cursor()  # used by one thread at a time: the reader's

    def read() -> Iterator[DocBatch]:
        try:
            if oc_table:
                cur.register(oc_table, pa.table(
                    {"person_id": pa.array(sorted(open_cases), pa.string())}))
            for part in range(n_parts):
                if n_parts > 1:
                    params.update(parts=n_parts, part=part)
                reader = cur.sql(sql, params=params or None).to_arrow_reader(batch_size)
                for batch in reader:
                    yield DocBatch(person_ids=batch.column(0).to_pylist(),
                                   docs=batch.column(1).to_pylist())
        finally:
            cur.close()

    if filtered:
        yield from read()
    else:
        yield from _prefetched(read(), PREFETCH_BATCHES)


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def _prefetched(items: Iterator[Any], depth: int) -> Iterator[Any]:
    """``items``, produced by a background thread up to ``depth`` ahead of the consumer."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(x: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for x in items:
                if not put(x):
                    return
            put(_DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, re-raised there
            put(_Failed(e))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    t = threading.Thread(target=run, name="search-documents", daemon=True)
    t.start()
    try:
        while True:
            x = q.get()
            if x is _DONE:
                return
            if isinstance(x, _Failed):
                raise x.exc
            yield x
    finally:
        stop.set()
        t.join()
