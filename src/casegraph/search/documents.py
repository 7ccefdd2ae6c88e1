"""Person documents for the index, read from the warehouse.

Inputs (tolerating absence of every optional one):

* ``persons`` (resolve room): canonical identity, ``record_count``, ``confidence``;
* ``person_records`` + ``current_records``: every linked record's names (raw and
  ``*_norm``), aliases, birth date, identifiers, locality, nationality;
* ``eligibility`` (policy room): the latest run's verdict per person;
* ``cases`` in the operational store (cases room): whether the person has an open case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
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
_ALIAS_SPLIT = re.compile(r"\s*[;|]\s*")

_AGG_SQL = """
select pr.person_id as person_id,
  count(*) as n_records,
  list_distinct(flatten(list([r.full_name,
      nullif(concat_ws(' ', r.given_name, r.middle_name, r.family_name), ''),
      r.name_aliases]))) as names_raw,
  list_distinct(flatten(list([r.full_name_norm,
      nullif(concat_ws(' ', r.given_name_norm, r.middle_name_norm, r.family_name_norm), ''),
      r.name_aliases_norm]))) as names_norm,
  list(distinct cast(r.birth_date as varchar)) filter (where r.birth_date is not null) as dobs,
  {ident_aggs},
  list(distinct r.locality) filter (where r.locality is not null) as localities_raw,
  list(distinct r.locality_norm) filter (where r.locality_norm is not null) as localities,
  list(distinct r.nationality) filter (where r.nationality is not null) as nats
from person_records pr join current_records r on r.record_key = pr.record_key
{where}
group by pr.person_id
"""


def _ident_aggs() -> str:
    return ",\n  ".join(
        f"list(distinct r.{col}) filter (where r.{col} is not null) as id_{f}"
        for f, col in IDENTIFIER_FIELDS.items())


def _has_rows(ws: Workspace, table: str) -> bool:
    return ws.has_table(table) or _has_view(ws, table)


def _has_view(ws: Workspace, name: str) -> bool:
    return bool(ws.con.execute(
        "select 1 from information_schema.tables where table_name = ?", [name]).fetchall())


def persons_exist(ws: Workspace) -> bool:
    if not ws.warehouse_path.exists() or not ws.has_table("persons"):
        return False
    return bool(ws.con.execute("select count(*) from persons").fetchall()[0][0])


def latest_eligibility(ws: Workspace, person_ids: list[str] | None = None) -> dict[str, bool]:
    """person_id -> eligible, from the latest scoring run (empty when never scored)."""
    if not ws.has_table("eligibility"):
        return {}
    run = None
    if ws.has_table("score_runs"):
        rows = ws.con.execute(
            "select run_id from score_runs order by created_at desc limit 1").fetchall()
        run = rows[0][0] if rows else None
    if run is None:
        rows = ws.con.execute("select max(run_id) from eligibility").fetchall()
        run = rows[0][0] if rows else None
    if run is None:
        return {}
    sql = "select person_id, eligible from eligibility where run_id = ?"
    params: list[Any] = [run]
    if person_ids is not None:
        sql += " and person_id in (select unnest(?))"
        params.append(person_ids)
    return {pid: bool(e) for pid, e in ws.con.execute(sql, params).fetchall() if e is not None}


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


@lru_cache(maxsize=500_000)
def _norm(v: str) -> str | None:
    return normalise_text(v)


def _split_aliases(values: Iterable[str | None]) -> list[str]:
    out: list[str] = []
    for v in values:
        if not v:
            continue
        for part in _ALIAS_SPLIT.split(str(v)):
            part = " ".join(part.split())
            if part:
                out.append(part)
    return out


def _canon_name(p: dict[str, Any]) -> str | None:
    if p.get("full_name"):
        return " ".join(str(p["full_name"]).split())
    parts = [p.get(k) for k in ("given_name", "middle_name", "family_name")]
    s = " ".join(str(x) for x in parts if x)
    return s or None


def _iso(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()[:10]
    return str(v)[:10]


def make_doc(p: dict[str, Any], a: dict[str, Any] | None, eligible: bool | None,
             open_case: bool) -> IndexDoc:
    """One index document from a ``persons`` row ``p`` and its aggregated records ``a``."""
    a = a or {}
    pid = str(p["person_id"])
    canon = _canon_name(p)
    raw_names = _split_aliases(([canon] if canon else []) + list(a.get("names_raw") or []))
    raw_names = list(dict.fromkeys(raw_names))
    norm_names: list[str] = []
    for v in list(a.get("names_norm") or []) + raw_names:
        n = _norm(v) if v else None
        if n:
            norm_names.append(n)
    norm_names = list(dict.fromkeys(norm_names))
    toks = {t for n in norm_names for t in n.split()}
    phon = sorted({k for t in toks for k in phonetic_keys(t)})

    dobs = [d for d in dict.fromkeys([_iso(p.get("birth_date"))] + list(a.get("dobs") or []))
            if d]
    idents: dict[str, list[str]] = {}
    display_ids: dict[str, list[str]] = {}
    for f, col in IDENTIFIER_FIELDS.items():
        vals = [v for v in dict.fromkeys([p.get(col)] + list(a.get(f"id_{f}") or [])) if v]
        if not vals:
            continue
        forms: list[str] = []
        for v in vals:
            forms.extend(norm_identifier(f, str(v)))
        if forms:
            idents[f] = list(dict.fromkeys(forms))
            display_ids[col] = [str(v) for v in vals]
    nats = [n for n in dict.fromkeys([p.get("nationality")] + list(a.get("nats") or [])) if n]
    nats = [str(n).upper() for n in nats]
    localities = [x for x in dict.fromkeys(a.get("localities") or []) if x]
    rc = p.get("record_count") or a.get("n_records") or 0
    conf = p.get("confidence")
    payload = {
        "person_id": pid,
        "full_name": canon or (raw_names[0] if raw_names else None),
        "names": raw_names[:MAX_DISPLAY_NAMES],
        "birth_date": dobs[0] if dobs else None,
        "birth_dates": dobs,
        "nationality": nats[0] if nats else None,
        "nationalities": nats,
        "identifiers": display_ids,
        "localities": list(dict.fromkeys(a.get("localities_raw") or []))[:10],
        "record_count": int(rc),
        "confidence": float(conf) if conf is not None else None,
        "eligible": eligible,
        "open_case": open_case,
    }
    return IndexDoc(person_id=pid, names_norm=norm_names, names_raw=raw_names, phonetic=phon,
                    birth_dates=dobs, identifiers=idents, localities=localities,
                    nationalities=nats, eligible=eligible, open_case=open_case,
                    record_count=int(rc), payload=payload)


def iter_documents(ws: Workspace, person_ids: list[str] | None = None,
                   batch_size: int = 20_000) -> Iterator[IndexDoc]:
    """Documents of every person (or of ``person_ids`` that still exist)."""
    if not ws.has_table("persons"):
        return
    elig = latest_eligibility(ws, person_ids)
    open_cases = open_case_persons(ws)
    has_links = ws.has_table("person_records") and _has_rows(ws, "current_records")
    where_p = "where p.person_id in (select unnest(?))" if person_ids is not None else ""
    params: list[Any] = [person_ids] if person_ids is not None else []
    if has_links:
        where_a = "where pr.person_id in (select unnest(?))" if person_ids is not None else ""
        agg = _AGG_SQL.format(ident_aggs=_ident_aggs(), where=where_a)
        sql = (f"with agg as ({agg}) select p.*, a.* exclude (person_id) from persons p "
               f"left join agg a on a.person_id = p.person_id {where_p}")
        params = params * 2
    else:
        sql = f"select p.* from persons p {where_p}"
    cur = ws.con.cursor()
    try:
        reader = cur.sql(sql, params=params).to_arrow_reader(batch_size)
        agg_cols = {"n_records", "names_raw", "names_norm", "dobs", "localities_raw",
                    "localities", "nats", *(f"id_{f}" for f in IDENTIFIER_FIELDS)}
        for batch in reader:
            for row in batch.to_pylist():
                pid = str(row["person_id"])
                a = {k: row.get(k) for k in agg_cols if k in row}
                yield make_doc(row, a, elig.get(pid), pid in open_cases)
    finally:
        cur.close()
