"""Turn rows read from a source file into canonical records, vectorised.

Two stages, both columnar:

1. **Arrow** (:func:`stage`): pick the mapped columns, clean display text (whitespace),
   read null markers, split whole names and street lines into parts, compute the
   ``*_norm`` matching forms, map country names/codes to ISO alpha-2.
2. **DuckDB SQL** (:func:`canonical_sql`): typed parsing (dates with strptime formats or
   ISO 8601, booleans, numbers, enum choices), identifier cleaning (A-number, phone,
   e-mail, document numbers), one ``dq_issues`` entry per value that did not parse, and
   the quarantine reason of rows that cannot be records.

The SQL for one field is shared with :func:`parse_constant` (used to validate constants
in specs) and :func:`parse_values` (tests), so there is one definition of "parses".
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from casegraph.ontology import (
    DUCKDB_TYPES,
    KINDS,
    NORMALISED_FIELDS,
    FieldSpec,
    FieldType,
)
from casegraph.sources.countries import country_lookup
from casegraph.sources.parse import (
    clean_display,
    concat_ws,
    normalise_array,
    split_address_tail,
    split_full_name,
    split_street_address,
)
from casegraph.sources.spec import SourceSpec

#: A value longer than this (characters) is not used: null + a data-quality issue.
MAX_FIELD_CHARS = 4000
#: Longest record id accepted.
MAX_ID_CHARS = 256
#: Longest value kept in ``raw`` / quarantine JSON (longer ones are cut, with a marker).
MAX_RAW_CHARS = 4000
#: Longest offending value copied into a dq issue.
ISSUE_VALUE_CHARS = 200

COUNTRY_FIELDS = ("nationality", "birth_country", "passport_country", "country",
                  "destination_country")
COORDINATE_FIELDS = ("latitude", "longitude")
DOCUMENT_FIELDS = ("passport_number", "driver_licence", "fbi_number", "national_id")
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
ENUM_ALIASES: dict[str, dict[str, str]] = {
    "sex": {"m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F",
            "x": "X", "nonbinary": "X", "non_binary": "X", "other": "X"},
    "channel": {"air": "air_exit", "sea": "sea_exit", "land": "land_exit",
                "biometric": "biometric_exit", "consular": "consular_verification",
                "self_reported": "self_report", "self": "self_report", "app": "self_report"},
    "severity": {"misdemeanour": "misdemeanor"},
    "location_kind": {"home": "residence", "work": "employment", "employer": "employment"},
    "status_type": {"lpr": "lawful_permanent_resident", "permanent_resident":
                    "lawful_permanent_resident", "green_card": "lawful_permanent_resident",
                    "usc": "us_citizen", "citizen": "us_citizen", "u_s_citizen": "us_citizen",
                    "naturalised": "naturalized", "naturalization": "naturalized",
                    "t_visa": "t_visa_applicant", "u_visa": "u_visa_applicant",
                    "vawa": "vawa_self_petitioner", "temporary_protected_status": "tps"},
    "mode": {"charter": "charter_air", "commercial": "commercial_air", "coach": "bus"},
}
#: Values that mean "unknown" for an enum: null without a data-quality issue.
UNKNOWN_WORDS = ("u", "unk", "unknown")


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class FieldSQL:
    value: str      # SQL expression: the canonical value (null when it does not parse)
    problem: str    # SQL expression: why a non-null input gave null (null: silently missing)


def field_sql(fs: FieldSpec, x: str, formats: list[str] | None = None,
              premapped: str | None = None) -> FieldSQL:
    """SQL for one canonical field from input expression ``x`` (VARCHAR, trimmed, nullable).

    ``premapped``: a column already mapped in Arrow ('' = silently unknown, null = bad).
    """
    formats = formats or []
    name, t = fs.name, fs.type
    if premapped is not None:
        return FieldSQL(f"nullif({premapped}, '')",
                        f"CASE WHEN {premapped} IS NULL THEN "
                        f"'unknown country (expected an ISO 3166 code or name)' END")
    if t == FieldType.DATE and name == "birth_date":
        f = field_sql(FieldSpec("date", FieldType.DATE), x, formats)
        return FieldSQL(f"CASE WHEN {f.value} BETWEEN DATE '1880-01-01' AND current_date "
                        f"THEN {f.value} END",
                        f"CASE WHEN {f.value} IS NOT NULL THEN 'implausible birth date (in the "
                        f"future or before 1880)' ELSE {f.problem} END")
    if t == FieldType.DATE:
        if formats:
            fl = "[" + ", ".join(sql_str(f) for f in formats) + "]"
            v = f"CAST(try_strptime({x}, {fl}) AS DATE)"
            if any("%y" in f for f in formats):
                # two-digit years: a date more than 20 years ahead is last century's
                v = (f"(CASE WHEN {v} > current_date + INTERVAL 20 YEAR "
                     f"THEN CAST({v} - INTERVAL 100 YEAR AS DATE) ELSE {v} END)")
            return FieldSQL(v, sql_str(f"not a date in format {' or '.join(formats)}"))
        v = (f"CASE WHEN regexp_matches({x}, '^\\d{{8}}$') "
             f"THEN CAST(try_strptime({x}, '%Y%m%d') AS DATE) "
             f"WHEN regexp_matches({x}, '^\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}([T ]\\S*)?$') "
             f"THEN try_cast(regexp_extract({x}, '^\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}') AS DATE) END")
        return FieldSQL(v, sql_str("not an ISO 8601 date (YYYY-MM-DD); give a format "
                                   "in the spec for other layouts"))
    if t == FieldType.DATETIME:
        if formats:
            fl = "[" + ", ".join(sql_str(f) for f in formats) + "]"
            v = f"CAST(try_strptime({x}, {fl}) AS TIMESTAMP)"
            if any("%z" in f or "%Z" in f for f in formats):
                v = f"CAST(timezone('UTC', CAST(try_strptime({x}, {fl}) AS TIMESTAMPTZ)) AS TIMESTAMP)"
            return FieldSQL(v, sql_str(f"not a date-time in format {' or '.join(formats)}"))
        iso = f"regexp_matches({x}, '^\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}([T ]\\d{{1,2}}:\\d{{2}}.*)?$')"
        tz = f"regexp_matches({x}, '\\d[T ]\\d.*(Z|[+-]\\d\\d:?\\d\\d)$')"
        v = (f"CASE WHEN NOT {iso} THEN NULL WHEN {tz} THEN CAST(timezone('UTC', "
             f"try_cast({x} AS TIMESTAMPTZ)) AS TIMESTAMP) ELSE try_cast({x} AS TIMESTAMP) END")
        return FieldSQL(v, sql_str("not an ISO 8601 date-time (YYYY-MM-DDTHH:MM[:SS]); "
                                   "give a format in the spec for other layouts"))
    if t == FieldType.BOOL:
        k = f"lower({x})"
        v = (f"CASE WHEN {k} IN ({', '.join(map(sql_str, TRUE_WORDS))}) THEN TRUE "
             f"WHEN {k} IN ({', '.join(map(sql_str, FALSE_WORDS))}) THEN FALSE END")
        return FieldSQL(v, sql_str("not a yes/no value (true/false, yes/no, 1/0, Y/N)"))
    num = (f"(CASE WHEN regexp_matches({x}, '^[+-]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d*)?$') "
           f"THEN replace({x}, ',', '') ELSE {x} END)")
    if t == FieldType.INT:
        v = (f"CASE WHEN regexp_matches({num}, '^[+-]?\\d+(\\.0*)?$') THEN "
             f"try_cast(regexp_replace({num}, '\\.0*$', '') AS BIGINT) END")
        return FieldSQL(v, sql_str("not a whole number"))
    if t == FieldType.FLOAT:
        # Decimal commas (European exports): "40,7128", "1.234,5", "12,5". Three digits after
        # a lone comma ("1,234") read as thousands, except for coordinates (|lat| <= 90).
        lone = "'^[+-]?\\d+,\\d+$'" if name in COORDINATE_FIELDS else \
            "'^[+-]?\\d+,(\\d{1,2}|\\d{4,})$'"
        num = (f"(CASE WHEN regexp_matches({x}, {lone}) THEN replace({x}, ',', '.') "
               f"WHEN regexp_matches({x}, '^[+-]?\\d{{1,3}}(\\.\\d{{3}})+,\\d+$') "
               f"THEN replace(replace({x}, '.', ''), ',', '.') ELSE {num} END)")
        v = f"CASE WHEN isfinite(try_cast({num} AS DOUBLE)) THEN try_cast({num} AS DOUBLE) END"
        return FieldSQL(v, sql_str("not a number"))
    # ---- text ----
    if fs.choices:
        key = f"trim(regexp_replace(lower({x}), '[^a-z0-9]+', '_', 'g'), '_')"
        pairs = {c.lower(): c for c in fs.choices}
        pairs.update(ENUM_ALIASES.get(name, {}))
        cases = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(c)}" for k, c in pairs.items())
        unknown = ", ".join(map(sql_str, UNKNOWN_WORDS))
        return FieldSQL(f"CASE {key} {cases} END",
                        f"CASE WHEN {key} IN ({unknown}) THEN NULL ELSE "
                        f"{sql_str('not one of: ' + ', '.join(fs.choices))} END")
    if name == "a_number":
        d = f"regexp_replace(regexp_replace(upper({x}), '[^A-Z0-9]', '', 'g'), '^A', '')"
        return FieldSQL(f"CASE WHEN regexp_matches({d}, '^\\d{{8,9}}$') THEN lpad({d}, 9, '0') END",
                        sql_str("not an A-number (8 or 9 digits, optional leading A)"))
    if name == "phone":
        d = f"regexp_replace({x}, '[^0-9]', '', 'g')"
        v = (f"CASE WHEN length({d}) = 11 AND {d} LIKE '1%' THEN substr({d}, 2) "
             f"WHEN length({d}) BETWEEN 7 AND 15 THEN {d} END")
        return FieldSQL(v, sql_str("not a phone number (7 to 15 digits)"))
    if name == "email":
        return FieldSQL(f"CASE WHEN regexp_matches({x}, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') "
                        f"THEN lower({x}) END", sql_str("not an e-mail address"))
    if name in DOCUMENT_FIELDS:
        return FieldSQL(f"nullif(upper(regexp_replace({x}, '[\\s\\-./]', '', 'g')), '')",
                        sql_str("no letters or digits"))
    if name == "postcode":
        return FieldSQL(f"upper({x})", "NULL")
    if name == "region":
        return FieldSQL(f"CASE WHEN length({x}) = 2 THEN upper({x}) ELSE {x} END", "NULL")
    return FieldSQL(x, "NULL")


# ---- staging in Arrow ---------------------------------------------------------------------
@dataclass
class Staged:
    table: pa.Table                      # __row, __rid, __dup_of, __raw, __f_*, __m_*, __n_*
    fields: list[str]                    # canonical fields with an input column __f_<name>
    premapped: set[str] = field(default_factory=set)
    formats: dict[str, list[str]] = field(default_factory=dict)


def _null_markers(a: pa.Array, nulls: tuple[str, ...]) -> pa.Array:
    if nulls:
        hit = pc.fill_null(pc.is_in(a, value_set=pa.array(list(nulls), pa.string())), False)
        a = pc.if_else(hit, pa.scalar(None, pa.string()), a)
    return a


def _constant(value: Any, n: int) -> pa.Array:
    if isinstance(value, bool):
        s = "true" if value else "false"
    elif isinstance(value, dt.datetime):
        s = value.isoformat()
    else:
        s = str(value)
    return pa.array([s], pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))


def _usable(a: pa.Array) -> pa.Array:
    """Values short enough to parse (over-long ones become null; they get a dq issue)."""
    return pc.if_else(pc.fill_null(pc.greater(pc.utf8_length(a), MAX_FIELD_CHARS), False),
                      pa.scalar(None, pa.string()), a)


def _map_countries(a: pa.Array) -> pa.Array:
    """alpha-2 for each value; '' for placeholders (XX, unknown); null when unknown."""
    uniq = pc.unique(a).drop_null()
    lookup = country_lookup()
    norm = normalise_array(uniq).to_pylist()
    mapped = [("" if lookup[k] is None else lookup[k]) if (k is not None and k in lookup)
              else None for k in norm]
    idx = pc.index_in(a, value_set=uniq)
    return pc.take(pa.array(mapped, pa.string()), idx)


def raw_cut_notice(name: str, over: int, longest: int, limit: int = MAX_RAW_CHARS) -> str:
    """The notice for a column with over-long values (both engines word it the same)."""
    return (f"column {name!r}: {over} value(s) longer than {limit} characters (longest "
            f"{longest}); cut in the stored raw row and not used as field values")


def raw_json_columns(table: pa.Table, limit: int = MAX_RAW_CHARS) -> tuple[pa.Table, list[str]]:
    """Cut over-long values (for the raw JSON); returns the table and notices."""
    notices = []
    cols = []
    for name in table.column_names:
        col = table.column(name)
        lens = pc.utf8_length(col)
        mx = pc.max(lens).as_py()
        if mx is not None and mx > limit:
            over = pc.fill_null(pc.greater(lens, limit), False)
            cut = pc.binary_join_element_wise(
                pc.utf8_slice_codeunits(col, 0, limit),
                pc.binary_join_element_wise(
                    pa.scalar("…[+"), pc.cast(pc.subtract(lens, limit), pa.string()),
                    pa.scalar(" chars]"), ""), "")
            col = pc.if_else(over, cut, col)
            notices.append(raw_cut_notice(name, pc.sum(over).as_py(), mx, limit))
        cols.append(col)
    return pa.table(cols, names=table.column_names), notices


def record_ids(table: pa.Table, spec: SourceSpec, colmap: dict[str, str]) -> pa.Array:
    """The record id of each row (trimmed; null when empty; several columns joined by '|')."""
    parts = []
    for c in spec.record_id_columns:
        a = pc.utf8_trim_whitespace(table.column(colmap[c]))
        a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
        a = _null_markers(a, spec.nulls)
        parts.append(pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a))
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "|")  # null when any part is null


def stage(table: pa.Table, spec: SourceSpec, colmap: dict[str, str], rows: pa.Array
          ) -> Staged:
    """Mapped, cleaned and parsed input columns (Arrow) for :func:`canonical_sql`.

    ``table``: the file's columns (strings); ``colmap``: spec column -> file column;
    ``rows``: the row numbers of ``table``'s rows in the file.
    """
    kind = KINDS[spec.kind]
    n = table.num_rows
    nulls = spec.nulls
    # Arrow kernels release the GIL: independent columns are worked on two at a time.
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        src_cols = sorted({m.column for m in spec.fields.values() if m.column is not None})
        cleaned = dict(zip(src_cols, pool.map(
            lambda c: _null_markers(clean_display(table.column(colmap[c])), nulls), src_cols)))

        vals: dict[str, pa.Array] = {}
        formats: dict[str, list[str]] = {}
        for fname, m in spec.fields.items():
            if m.column is not None:
                vals[fname] = cleaned[m.column]
                formats[fname] = m.formats
            else:
                vals[fname] = _constant(m.value, n)
        mapped = set(vals)
        names = (pool.submit(split_full_name, _usable(vals["full_name"]), cleaned=True)
                 if "full_name" in mapped else None)
        lines = None
        if "street_address" in mapped:
            # A one-line address may carry its city, state and ZIP: split them off when
            # the spec maps no column of its own to them.
            line, city, state, zipc = split_address_tail(_usable(vals["street_address"]))
            for part, arr in (("locality", city), ("region", state), ("postcode", zipc)):
                vals[part] = pc.coalesce(vals[part], arr) if part in mapped else arr
            vals["street_address"] = line
            lines = pool.submit(split_street_address, line, cleaned=True)
        return _stage_rest(table, spec, colmap, rows, kind, vals, formats, mapped, names,
                           lines, pool)
    finally:
        pool.shutdown()


def _stage_rest(table: pa.Table, spec: SourceSpec, colmap: dict[str, str], rows: pa.Array,
                kind: Any, vals: dict[str, pa.Array], formats: dict[str, list[str]],
                mapped: set[str], names: Any, lines: Any, pool: ThreadPoolExecutor) -> Staged:
    # Names: whole name -> parts; parts -> whole name.
    if names is not None:
        g, mid, fam = names.result()
        for part, arr in (("given_name", g), ("middle_name", mid), ("family_name", fam)):
            vals[part] = pc.coalesce(vals[part], arr) if part in mapped else arr
    elif mapped & {"given_name", "family_name", "middle_name"}:
        vals["full_name"] = concat_ws(*(vals[p] for p in ("given_name", "middle_name",
                                                         "family_name") if p in vals))
    # Street line -> number / street / unit; parts -> street line.
    if lines is not None:
        num, street, unit = lines.result()
        for part, arr in (("street_number", num), ("street", street), ("unit", unit)):
            vals[part] = pc.coalesce(vals[part], arr) if part in mapped else arr
    elif mapped & {"street_number", "street"}:
        vals["street_address"] = concat_ws(*(vals[p] for p in ("street_number", "street",
                                                               "unit") if p in vals))

    out_cols: dict[str, pa.Array] = {}
    rid = record_ids(table, spec, colmap)
    out_cols["__row"] = rows
    out_cols["__rid"] = rid.combine_chunks() if isinstance(rid, pa.ChunkedArray) else rid
    premapped: set[str] = set()
    jobs = {}
    for fname, arr in vals.items():
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        out_cols[f"__f_{fname}"] = arr
        if fname in COUNTRY_FIELDS:
            jobs[f"__m_{fname}"] = pool.submit(_map_countries, arr)
            premapped.add(fname)
    for fname in NORMALISED_FIELDS:
        if fname not in vals:
            continue
        if fname == "full_name" and any(p in vals for p in ("given_name", "family_name")):
            parts = concat_ws(*(vals[p] for p in ("given_name", "middle_name", "family_name")
                                if p in vals))
            jobs["__n_full_name"] = pool.submit(normalise_array,
                                                pc.coalesce(parts, vals["full_name"]))
        else:
            jobs[f"__n_{fname}"] = pool.submit(normalise_array, vals[fname])
    for col, fut in jobs.items():
        out_cols[col] = fut.result()
    assert all(f in kind.fields for f in vals)
    return Staged(pa.table(out_cols), list(vals), premapped, formats)


# ---- typed parsing in SQL -----------------------------------------------------------------
def canonical_sql(spec: SourceSpec, staged: Staged, stage_name: str, raw_name: str,
                  *, typed_temporal: frozenset[str] = frozenset()) -> str:
    """SELECT over the staged relation: record columns + ``__reason`` (null = accepted).

    ``raw_name`` is a relation with ``__row`` and ``__raw`` (JSON of the file row).
    ``typed_temporal``: fields whose input is already an ISO date/time (parquet typed columns):
    their strptime format is not applied.
    """
    kind = KINDS[spec.kind]
    p_cols, issues, reasons = [], [], []
    for i, fname in enumerate(staged.fields):
        fs = kind.fields[fname]
        x = ident(f"__f_{fname}")
        fmts = [] if fname in typed_temporal else staged.formats.get(fname, [])
        premapped = ident(f"__m_{fname}") if fname in staged.premapped else None
        f = field_sql(fs, x, fmts, premapped)
        too_long = f"length({x}) > {MAX_FIELD_CHARS}"
        p_cols.append(f"CASE WHEN {too_long} THEN NULL ELSE {f.value} END AS {ident('v_' + fname)}")
        problem = (f"CASE WHEN {too_long} THEN 'over-long value (' || length({x}) || "
                   f"' characters; limit {MAX_FIELD_CHARS})' ELSE {f.problem} END")
        p_cols.append(f"CASE WHEN {x} IS NOT NULL AND {ident('v_' + fname)} IS NULL "
                      f"THEN {problem} END AS {ident('p_' + fname)}")
        issues.append(f"CASE WHEN {ident('p_' + fname)} IS NOT NULL THEN "
                      f"{{'field': {sql_str(fname)}, 'value': left({x}, {ISSUE_VALUE_CHARS}), "
                      f"'problem': {ident('p_' + fname)}}} END")
        if fname in kind.required:
            reasons.append(
                f"CASE WHEN {ident('v_' + fname)} IS NULL THEN CASE WHEN {x} IS NULL THEN "
                f"'required field {fname} is missing' ELSE 'required field {fname} does not "
                f"parse: ' || coalesce({ident('p_' + fname)}, 'unusable value') || ' (value ' "
                f"|| left({x}, 80) || ')' END END")
    id_cols = "+".join(spec.record_id_columns).replace("'", "''")
    reasons = [
        f"CASE WHEN __rid IS NULL THEN 'no record id ({id_cols} is empty)' END",
        (f"CASE WHEN length(__rid) > {MAX_ID_CHARS} THEN 'record id longer than "
         f"{MAX_ID_CHARS} characters' END"),
        ("CASE WHEN __dup_of IS NOT NULL THEN 'duplicate record id ' || left(__rid, 80) || "
         "' within the batch (first at row ' || __dup_of || ')' END"),
        *reasons,
    ]
    # Stage p: per-field values (v_) and problems (p_).
    inner = f"SELECT s.*, r.__raw FROM {stage_name} s JOIN {raw_name} r USING (__row)"
    p = f"SELECT q.*, {', '.join(p_cols)} FROM ({inner}) q" if p_cols else f"SELECT * FROM ({inner})"
    issue_list = ("to_json(list_filter([" + ", ".join(issues) + "], lambda e: e IS NOT NULL))"
                  if issues else "'[]'")
    source = sql_str(spec.source)
    sel = [
        f"{source} AS source", "__rid AS record_id", f"{source} || ':' || __rid AS record_key",
        f"{sql_str(spec.kind)} AS kind", "TRUE AS is_current",
    ]
    for fname in staged.fields:
        ctype = kind.fields[fname].type
        sel.append(f"CAST({ident('v_' + fname)} AS {DUCKDB_TYPES[ctype]}) AS {ident(fname)}")
    norm_cols = [c for c in staged.table.column_names if c.startswith("__n_")]
    sel += [f"{ident(c)} AS {ident(c[4:] + '_norm')}" for c in norm_cols]
    sel += ["__raw AS raw", f"{issue_list} AS dq_issues", "__row",
            "nullif(concat_ws('; ', " + ", ".join(reasons) + "), '') AS __reason"]
    return f"SELECT {', '.join(sel)} FROM ({p}) pv"


def parse_values(fs: FieldSpec, values: list[str | None], formats: list[str] | None = None
                 ) -> list[tuple[Any, str | None]]:
    """(value, problem) for each input value of field ``fs`` — the ingest rules, one by one."""
    tbl = pa.table({"x": pa.array(values, pa.string())})
    a = clean_display(tbl.column("x"))
    premapped = None
    cols = {"x": a}
    if fs.name in COUNTRY_FIELDS:
        cols["m"] = _map_countries(a)
        premapped = "m"
    t = pa.table(cols)
    f = field_sql(fs, "x", formats, premapped)
    with _SCRATCH_LOCK:
        con = _scratch()
        con.register("__cg_t", t)
        try:
            rows = con.execute(f"SELECT v, CASE WHEN x IS NOT NULL AND v IS NULL THEN "
                               f"{f.problem} END FROM (SELECT *, {f.value} AS v FROM __cg_t)"
                               ).fetchall()
        finally:
            con.unregister("__cg_t")
    return [(r[0], r[1]) for r in rows]


_SCRATCH: list[duckdb.DuckDBPyConnection] = []
_SCRATCH_LOCK = threading.Lock()


def _scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory connection for parsing loose values (not the workspace's)."""
    if not _SCRATCH:
        _SCRATCH.append(duckdb.connect())
    return _SCRATCH[0]


def parse_constant(fs: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """A spec constant parsed as field ``fs`` would parse it: (value, problem)."""
    s = _constant(value, 1)[0].as_py()
    return parse_values(fs, [s])[0]
