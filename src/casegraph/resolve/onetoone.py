"""One-to-one links between deduplicated sources.

A source declared in ``resolve.unique_sources`` holds at most one record per person (a
deduplicated register). Between two such sources a record can therefore match at most one
record of the other: of its links into that source only the best (highest match weight)
may be followed; a runner-up is not followed (it stays scored, so the review queue shows
it when it is strong enough). And a link that is each record's best into the other's
source (mutual best) is far more likely a true match than its probability alone says
(the probability is computed as if every record could match anything): it is followed
from ``mutual_best_threshold`` on, unless a hard rule (conflicting A-numbers, the twins'
given-name veto) capped it.

Applied to the scored pairs before clustering (full and incremental runs), as SQL over
the pairs table; records of other sources are untouched.
"""

from __future__ import annotations

from casegraph.resolve.prepare import INPUT_TABLE
from casegraph.resolve.schema import ResolveConfig
from casegraph.workspace import Workspace

#: the reason the review queue shows for a strong link not followed by this rule
RUNNER_UP = "one-to-one: a better link to another record of that deduplicated source"


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def one_to_one_sql(cfg: ResolveConfig, pairs_table: str, input_table: str = INPUT_TABLE
                   ) -> str:
    """(l, r, p, model_p, must, new_p): the pairs between two different unique sources and
    their probability under the rule (one definition: the Spark engine transpiles it)."""
    srcs = ", ".join(_q(s) for s in cfg.unique_sources)
    thr = cfg.link_threshold
    # hard-rule caps are kept: a capped pair has p < model_p
    return f"""
        with x as (
            select p.l, p.r, p.p, p.model_p, p.mw, p.must, a.source sl, b.source sr
            from {pairs_table} p
            join {input_table} a on a.unique_id = p.l
            join {input_table} b on b.unique_id = p.r
            where a.source in ({srcs}) and b.source in ({srcs}) and a.source <> b.source),
        ranked as (
            select *, row_number() over (partition by l, sr order by mw desc, p desc, r) rl,
                      row_number() over (partition by r, sl order by mw desc, p desc, l) rr
            from x)
        select l, r, p, model_p, must,
            case when rl = 1 and rr = 1 and not must and p = model_p
                      and p >= {cfg.mutual_best_threshold} then greatest(p, {thr})
                 when (rl > 1 or rr > 1) and not must then least(p, {thr} / 2)
                 else p end as new_p
        from ranked"""


def apply_one_to_one(ws: Workspace, cfg: ResolveConfig, pairs_table: str
                     ) -> list[tuple[str, str, float, str]]:
    """Adjust ``p`` of pairs between two different unique sources in ``pairs_table``.

    Returns the strong links (``p >= link_threshold``) that were demoted, as
    (l, r, probability, reason) for the review queue.
    """
    if len(cfg.unique_sources) < 2 or not cfg.one_to_one_unique_sources:
        return []
    con = ws.con
    thr = cfg.link_threshold
    con.execute(f"create or replace temp table _o2o as {one_to_one_sql(cfg, pairs_table)}")
    demoted = con.execute(f"""select l, r, p from _o2o where p >= {thr} and new_p < {thr}
                              order by l, r""").fetchall()
    con.execute(f"""update {pairs_table} set p = o.new_p from _o2o o
                    where o.l = {pairs_table}.l and o.r = {pairs_table}.r and o.new_p <> o.p""")
    con.execute("drop table if exists _o2o")
    return [(l, r, float(p), RUNNER_UP) for l, r, p in demoted]
