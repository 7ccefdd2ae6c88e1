"""What resolve writes for people to read: ``persons`` and the ``identity_review`` queue.

Kept apart from the run itself because the two rules here (a person's canonical values
and identity confidence; which uncertain links a human should look at) are policy about
*trust* in a resolved person, read by the legal gates, while the run is about *finding*
the persons.
"""

from __future__ import annotations

import hashlib
from typing import Any

from casegraph.resolve.prepare import INPUT_TABLE
from casegraph.resolve.schema import CANONICAL_FIELDS, ResolveConfig
from casegraph.workspace import Workspace

PAIRS_TABLE = "_resolve_pairs"


def _fetch(ws: Workspace, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return ws.con.execute(sql, params or []).fetchall()


def _scalar(ws: Workspace, sql: str, params: list[Any] | None = None) -> Any:
    rows = _fetch(ws, sql, params)
    return rows[0][0] if rows else None


def _insert_rows(ws: Workspace, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Bulk insert (DuckDB's executemany is row-at-a-time and slow)."""
    if not rows:
        return
    import pandas as pd

    cols = [c for (c,) in _fetch(ws, "select column_name from information_schema.columns "
                                     "where table_name = ? order by ordinal_position", [table])]
    df = pd.DataFrame(rows, columns=cols).astype(object)
    ws.con.register("_rows_df", df)
    ws.con.execute(f"insert into {table} select * from _rows_df")
    ws.con.unregister("_rows_df")


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def review_id_for(a: str, b: str) -> str:
    l, r = pair_key(a, b)
    return "RV-" + hashlib.sha1(f"{l}|{r}".encode()).hexdigest()[:12]


def _reliability_sql(cfg: ResolveConfig) -> str:
    parts = []
    for s, w in sorted(cfg.source_reliability.items()):
        parts.append(f"when r.source = '{s.replace(chr(39), chr(39) * 2)}' then {int(w)}")
    for k, w in sorted(cfg.kind_reliability.items()):
        parts.append(f"when r.kind = '{k.replace(chr(39), chr(39) * 2)}' then {int(w)}")
    return "case " + " ".join(parts) + " else 0 end" if parts else "0"


def _write_persons(ws: Workspace, cfg: ResolveConfig, run_id: str, person_ids_sql: str) -> None:
    """(Re)write the ``persons`` rows of the persons selected by ``person_ids_sql``."""
    con = ws.con
    rel = _reliability_sql(cfg)
    value_expr = {
        "given_name": "coalesce(r.given_name, r.given_display)",
        "family_name": "coalesce(r.family_name, r.family_display)",
        "full_name": "coalesce(r.full_name, nullif(concat_ws(' ', coalesce(r.given_name, "
                     "r.given_display), coalesce(r.family_name, r.family_display)), ''))",
        "a_number": "r.a_clean",
        "street_address": "coalesce(r.street_address, nullif(concat_ws(' ', r.street_number, "
                          "r.street), ''))",
    }
    sels, provs = [], []
    for f, _t in CANONICAL_FIELDS:
        e = value_expr.get(f, f"r.{f}")
        sels.append(f"arg_max({e}, rank_key) filter (where {e} is not null) as {f}")
        provs.append(f"'{f}', arg_max(r.record_key, rank_key) filter (where {e} is not null)")
    con.execute(f"create or replace temp table _resolve_pids as {person_ids_sql}")
    con.execute("delete from persons where person_id in (select person_id from _resolve_pids)")
    con.execute(f"""
        insert into persons
        with src as (
            select pr.person_id, pr.match_probability, r.*, i.given_display, i.family_display,
                   i.a_number as a_clean,
                   lpad(cast({rel} as varchar), 6, '0') || strftime(r.loaded_at, '%Y%m%d%H%M%S')
                       || r.record_key as rank_key
            from person_records pr
            join _resolve_pids s on s.person_id = pr.person_id
            join current_records r on r.record_key = pr.record_key
            left join {INPUT_TABLE} i on i.unique_id = pr.record_key),
        rev as (
            select pr.person_id, max(v.match_probability) as p
            from (select record_key_l k, match_probability from identity_review
                  where status = 'open'
                  union all select record_key_r, match_probability from identity_review
                  where status = 'open') v
            join person_records pr on pr.record_key = v.k
            join _resolve_pids s on s.person_id = pr.person_id
            group by pr.person_id)
        select r.person_id, count(*) as record_count,
            least(min(r.match_probability), 1 - coalesce(any_value(rev.p), 0)) as confidence,
            {", ".join(sels)},
            json_object({", ".join(provs)}),
            '{run_id}' as run_id
        from src r left join rev on rev.person_id = r.person_id
        group by r.person_id
    """)
    con.execute("drop table if exists _resolve_pids")


def _write_review(ws: Workspace, cfg: ResolveConfig, run_id: str, scope_sql: str,
                  rejected: list[tuple[str, str, float, str]]) -> None:
    """Refresh open review items among the records in ``scope_sql`` (query of unique_id)."""
    con = ws.con
    con.execute(f"create or replace temp table _resolve_scope as {scope_sql}")
    con.execute("""delete from identity_review where status = 'open' and
                   record_key_l in (select unique_id from _resolve_scope) and
                   record_key_r in (select unique_id from _resolve_scope)""")
    rej = {pair_key(l, r): why for l, r, _p, why in rejected}
    # one item per record at most: its strongest link to another person (a reviewer
    # deciding that settles the record; weaker alternatives follow at the next run)
    rows = _fetch(ws, f"""
        with c as (
            select p.l, p.r, p.model_p, p.mw, p.anum_conflict, p.given_veto
            from {PAIRS_TABLE} p
            join person_records a on a.record_key = p.l
            join person_records b on b.record_key = p.r
            where a.person_id <> b.person_id and p.model_p >= ?
              and p.l in (select unique_id from _resolve_scope)),
        ranked as (
            select *, row_number() over (partition by l order by mw desc, r) as rl,
                      row_number() over (partition by r order by mw desc, l) as rr
            from c)
        select l, r, model_p, mw, anum_conflict, given_veto from ranked
        where rl = 1 or rr = 1
        order by abs(model_p - ?) asc, l, r
        """, [cfg.review_lower, cfg.link_threshold])
    decided = {pair_key(l, r) for l, r in _fetch(
        ws, "select record_key_l, record_key_r from identity_decisions")}
    existing = {r for (r,) in _fetch(ws, "select review_id from identity_review")}
    out = []
    for l, r, mp, mw, anum, veto in rows:
        if (l, r) in decided:
            continue
        rid = review_id_for(l, r)
        if rid in existing:
            continue
        if (l, r) in rej:
            why = rej[(l, r)]
        elif anum:
            why = "strong match but different A-numbers"
        elif veto:
            why = "strong match but clearly different given names"
        else:
            why = "uncertain match probability"
        out.append((rid, l, r, mp, mw, "open", run_id, why, None))
        if len(out) >= cfg.max_review_items:
            break
    _insert_rows(ws, "identity_review", out)
    con.execute("drop table if exists _resolve_scope")
