"""What resolve writes for people to read: ``persons`` and the ``identity_review`` queue.

Kept apart from the run itself because the rules here (a person's canonical values and
identity confidence; which uncertain links a human should look at) are policy about *trust*
in a resolved person, read by the legal gates, while the run is about *finding* the persons.

Identity confidence is about what the gates rely on (docs/policy.md, gate 6):

- ``persons.confidence`` is the cluster's own cohesion: its weakest record link, capped at
  :data:`CONTRADICTION_CONFIDENCE` when its records contradict each other (two valid
  A-numbers more than one edit apart, or birth dates no clerical error explains). An open
  review item no longer lowers it: an uncertain link to an address observation says
  nothing about whether a stay or a citizenship record was missed.
- ``identity_links`` keeps every scored link between records of *different* persons at or
  above the review band (by the model's probability, before the identifier rules), so the
  gates can ask whether a record that carries a legal fact might be this person's.
- ``identity_review`` is ordered by legal consequence: items that decide someone's
  eligibility come first and are always queued; other uncertain links only up to
  ``review_other_max``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from casegraph.resolve.prepare import INPUT_TABLE
from casegraph.resolve.schema import CANONICAL_FIELDS, ResolveConfig
from casegraph.workspace import Workspace

PAIRS_TABLE = "_resolve_pairs"
LINKS_TABLE = "identity_links"
LINKS_DDL = f"""create table if not exists {LINKS_TABLE} (
    record_key_l varchar, record_key_r varchar, model_p double, p double, rule varchar,
    run_id varchar)"""

#: Confidence of a person whose records contradict each other: as likely one person as two.
CONTRADICTION_CONFIDENCE = 0.5

#: Record kinds whose facts can block enforcement (the gates' blocking evidence). A link of
#: such a record to a person with a removal order decides that person's eligibility.
LEGAL_KINDS: tuple[str, ...] = ("status", "detention", "departure", "case_event", "encounter")

#: A person's records whose strong match to another person's record (not an address
#: observation) puts the order's subject in doubt. Same list in ``policy.facts``.
RIVAL_OWN_KINDS: tuple[str, ...] = ("removal_order", "person")

#: Reason prefix of review items whose decision can change someone's eligibility (listed
#: first by ``casegraph review``).
DECIDES = "decides eligibility"
#: The same item while its person fails another gate anyway (rewritten by each scoring run,
#: listed after the items that decide eligibility now).
WOULD_DECIDE = "would decide eligibility"


def anum_conflict_sql(rec: str, pan: str) -> str:
    """SQL: record ``rec`` carries an A-number more than one edit or transposition from
    every A-number of a person (``pan.an``; false when either has none). The gates
    (``policy.facts``) use the same rule."""
    return (f"({rec}.a_number is not null and {pan}.an is not null and "
            f"len(list_filter({pan}.an, lambda x: damerau_levenshtein(x, {rec}.a_number) <= 1))"
            f" = 0)")


def compatible_dates_sql(a: str, b: str) -> str:
    """SQL: birth dates a clerical error explains (the model's typo levels): equal, day and
    month swapped, one character apart, year off by one, or a Jan-1 placeholder."""
    jan1 = "(month({x}) = 1 and day({x}) = 1)"
    return (f"({a} = {b} or (year({a}) = year({b}) and month({a}) = day({b}) "
            f"and day({a}) = month({b})) "
            f"or damerau_levenshtein(strftime({a}, '%Y%m%d'), strftime({b}, '%Y%m%d')) <= 1 "
            f"or (month({a}) = month({b}) and day({a}) = day({b}) "
            f"and abs(year({a}) - year({b})) <= 1) "
            f"or (year({a}) = year({b}) and ({jan1.format(x=a)} or {jan1.format(x=b)})))")


def _contradictions_sql(person_ids_sql: str) -> str:
    """SQL: one (person_id, key_l, key_r, reason) per person whose records contradict each
    other, unless a reviewer decided those two records are the same person.

    Values contradict when no single one of them is compatible with all the others: a
    person with birth dates 1985-02-17, 1985-01-01 (placeholder) and 1986-02-17 (year typo)
    is consistent around 1985-02-17; one with 1976-10-26 and 1991-03-04 is two people. A
    typo (one edit or transposition) is compatible for A-numbers, the model's clerical levels
    for birth dates (:func:`compatible_dates_sql`).
    """
    return f"""
        with ids as (
            select pr.person_id, pr.record_key, i.a_number, i.dob
            from person_records pr
            join ({person_ids_sql}) s on s.person_id = pr.person_id
            join {INPUT_TABLE} i on i.unique_id = pr.record_key
            where i.a_number is not null or i.dob is not null),
        an as (select person_id, a_number as v, min(record_key) k from ids
               where a_number is not null group by 1, 2),
        db as (select person_id, dob as v, min(record_key) k from ids
               where dob is not null group by 1, 2),
        an_bad as (
            select a.person_id, a.v as va, b.v as vb, a.k as ka, b.k as kb
            from an a join an b on a.person_id = b.person_id and a.v <> b.v
            where damerau_levenshtein(a.v, b.v) > 1),
        db_bad as (
            select a.person_id, a.v as va, b.v as vb, a.k as ka, b.k as kb
            from db a join db b on a.person_id = b.person_id and a.v <> b.v
            where not {compatible_dates_sql("a.v", "b.v")}),
        -- every value has an incompatible partner: no value explains all the others
        an_all as (select b.person_id from (select person_id, count(distinct va) n
                   from an_bad group by 1) b
                   join (select person_id, count(*) n from an group by 1) t
                   on t.person_id = b.person_id and t.n = b.n),
        db_all as (select b.person_id from (select person_id, count(distinct va) n
                   from db_bad group by 1) b
                   join (select person_id, count(*) n from db group by 1) t
                   on t.person_id = b.person_id and t.n = b.n),
        c as (
            select x.person_id, least(x.ka, x.kb) kl, greatest(x.ka, x.kb) kr,
                   'records of one person carry different A-numbers (' || least(x.va, x.vb)
                   || ', ' || greatest(x.va, x.vb) || ')' as why
            from an_bad x join an_all using (person_id)
            union all
            select x.person_id, least(x.ka, x.kb), greatest(x.ka, x.kb),
                   'records of one person carry incompatible birth dates ('
                   || least(x.va, x.vb) || ', ' || greatest(x.va, x.vb) || ')'
            from db_bad x join db_all using (person_id)),
        same as (
            select l, r from (
                select least(record_key_l, record_key_r) l, greatest(record_key_l, record_key_r) r,
                       arg_max(decision, decided_at) d from identity_decisions group by 1, 2)
            where d = 'same')
        select distinct on (c.person_id) c.person_id, c.kl, c.kr, c.why
        from c left join same s on s.l = c.kl and s.r = c.kr
        where s.l is null
        order by c.person_id, c.kl, c.kr"""


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
        contra as ({_contradictions_sql("select person_id from _resolve_pids")})
        select r.person_id, count(*) as record_count,
            least(min(r.match_probability),
                  case when any_value(contra.person_id) is not null
                       then {CONTRADICTION_CONFIDENCE} else 1 end) as confidence,
            {", ".join(sels)},
            json_object({", ".join(provs)}),
            '{run_id}' as run_id
        from src r left join contra on contra.person_id = r.person_id
        group by r.person_id
    """)
    con.execute("drop table if exists _resolve_pids")


#: scored links between records of different persons at or above the review band, with
#: both persons and kinds: read by ``identity_links`` and by the review queue (one join of
#: every scored pair with ``person_records`` instead of two)
_XLINKS = "_resolve_xlinks"


def _cross_person_links(ws: Workspace, cfg: ResolveConfig) -> None:
    """``_XLINKS``: scored pairs whose left record is in ``_resolve_scope``, between records
    of different persons, at or above ``review_lower`` (model probability or the
    probability after the identifier rules, whichever is higher)."""
    ws.con.execute(f"""
        create or replace temp table {_XLINKS} as
        select p.l, p.r, p.model_p, p.p, p.mw, p.anum_conflict, p.given_veto,
               a.person_id as pa, b.person_id as pb, a.kind as ka, b.kind as kb
        from {PAIRS_TABLE} p
        join person_records a on a.record_key = p.l
        join person_records b on b.record_key = p.r
        where a.person_id <> b.person_id and greatest(p.model_p, p.p) >= ?
          and p.l in (select unique_id from _resolve_scope)""", [cfg.review_lower])


def _write_identity_links(ws: Workspace, cfg: ResolveConfig, run_id: str) -> None:
    """Refresh ``identity_links`` among the records in ``_resolve_scope`` from ``_XLINKS``
    (:func:`_cross_person_links`). Which persons the two records belong to is read at
    scoring time, so rows stay right when persons change."""
    con = ws.con
    con.execute(LINKS_DDL)
    con.execute(f"""delete from {LINKS_TABLE} where
                    record_key_l in (select unique_id from _resolve_scope) and
                    record_key_r in (select unique_id from _resolve_scope)""")
    con.execute(f"""
        insert into {LINKS_TABLE}
        select p.l, p.r, p.model_p, p.p,
               case when p.anum_conflict then 'different A-numbers'
                    when p.given_veto then 'clearly different given names'
                    when p.p >= ? then 'refused by clustering'
                    else 'uncertain match' end, ?
        from {_XLINKS} p""", [cfg.link_threshold, run_id])


def _write_review(ws: Workspace, cfg: ResolveConfig, run_id: str, scope_sql: str,
                  rejected: list[tuple[str, str, float, str]]) -> None:
    """Refresh open review items among the records in ``scope_sql`` (query of unique_id).

    Items are ranked by legal consequence. First, always queued, the links that decide
    someone's eligibility (reason starts with :data:`DECIDES`): a record carrying a legal fact
    (status, custody, departure, case event, removal) that may belong to a person with a
    removal order; a removal order that matches another person's record strongly; two records
    of one person that contradict each other. Then other uncertain links, one per record,
    those touching a person with a removal order first, up to ``review_other_max``.
    """
    con = ws.con
    con.execute(f"create or replace temp table _resolve_scope as {scope_sql}")
    con.execute("""delete from identity_review where status = 'open' and
                   record_key_l in (select unique_id from _resolve_scope) and
                   record_key_r in (select unique_id from _resolve_scope)""")
    _cross_person_links(ws, cfg)
    _write_identity_links(ws, cfg, run_id)
    rej = {pair_key(l, r): why for l, r, _p, why in rejected}
    legal = ", ".join(f"'{k}'" for k in LEGAL_KINDS)
    rival = ", ".join(f"'{k}'" for k in RIVAL_OWN_KINDS)
    rows = _fetch(ws, f"""
        with c as (select * from {_XLINKS}),
        ord as (select distinct person_id from person_records where kind = 'removal_order'),
        leg as (select record_key, a_number from current_records where kind in ({legal})
                and (kind <> 'encounter'
                     or lower(coalesce(encounter_type, '')) in ('removal', 'removed'))),
        pan as (select pr.person_id, list(distinct o.a_number) as an
                from person_records pr join current_records o on o.record_key = pr.record_key
                where o.a_number is not null
                  and pr.person_id in (select pa from c union select pb from c)
                group by pr.person_id),
        k as (
            select c.*,
                   oa.person_id is not null as order_a, ob.person_id is not null as order_b,
                   -- a band link to a record whose A-number conflicts with all of the
                   -- person's is a different person: no legal doubt (as in policy.facts)
                   la.record_key is not null and not (greatest(c.model_p, c.p) < ? and
                       coalesce({anum_conflict_sql("la", "pb_")}, false)) as legal_a,
                   lb.record_key is not null and not (greatest(c.model_p, c.p) < ? and
                       coalesce({anum_conflict_sql("lb", "pa_")}, false)) as legal_b
            from c
            left join ord oa on oa.person_id = c.pa left join ord ob on ob.person_id = c.pb
            left join leg la on la.record_key = c.l left join leg lb on lb.record_key = c.r
            left join pan pa_ on pa_.person_id = c.pa left join pan pb_ on pb_.person_id = c.pb),
        cls as (
            select *,
                case when order_a and legal_b then pa when order_b and legal_a then pb
                     when order_a and ka in ({rival}) and kb <> 'location' and model_p >= ?
                          then pa
                     when order_b and kb in ({rival}) and ka <> 'location' and model_p >= ?
                          then pb
                end as decides,
                case when order_a and legal_b then kb when order_b and legal_a then ka end
                    as legal_kind
            from k),
        ranked as (
            select *, row_number() over (partition by l order by mw desc, r) as rl,
                      row_number() over (partition by r order by mw desc, l) as rr
            from cls)
        select l, r, model_p, mw, anum_conflict, given_veto, decides, legal_kind,
               order_a or order_b as touches_order
        from ranked
        where decides is not null or rl = 1 or rr = 1
        order by decides is null, not (order_a or order_b), abs(model_p - ?) asc, l, r
        """, [cfg.link_threshold, cfg.link_threshold, cfg.link_threshold,
              cfg.link_threshold, cfg.link_threshold])
    contra = _fetch(ws, _contradictions_sql(
        "select distinct pr.person_id from person_records pr join _resolve_scope s "
        "on s.unique_id = pr.record_key"))
    decided = {pair_key(l, r) for l, r in _fetch(
        ws, "select record_key_l, record_key_r from identity_decisions")}
    existing = {r for (r,) in _fetch(ws, "select review_id from identity_review")}
    out: list[tuple[Any, ...]] = []
    others = 0
    ordered = ([(kl, kr, None, None, False, False, pid, why, True) for pid, kl, kr, why in contra]
               + list(rows))
    for l, r, mp, mw, anum, veto, decides, what, touches in ordered:
        if (l, r) in decided:
            continue
        rid = review_id_for(l, r)
        if rid in existing:
            continue
        if mp is None:
            why = f"{DECIDES} of {decides}: {what}"
        else:
            if (l, r) in rej:
                why = rej[(l, r)]
            elif anum:
                why = "strong match but different A-numbers"
            elif veto:
                why = "strong match but clearly different given names"
            else:
                why = "uncertain match probability"
            if decides is not None:
                fact = (f"a {what.replace('_', ' ')} record may be this person's" if what
                        else "another person's record matches this person's order or "
                             "registration")
                why = f"{DECIDES} of {decides}: {fact} ({why})"
            elif others >= cfg.review_other_max:
                continue
            else:
                others += 1
        existing.add(rid)
        out.append((rid, l, r, mp if mp is not None else 1.0, mw, "open", run_id, why, None))
        if len(out) >= cfg.max_review_items:
            break
    _insert_rows(ws, "identity_review", out)
    con.execute(f"drop table if exists {_XLINKS}")
    con.execute("drop table if exists _resolve_scope")
