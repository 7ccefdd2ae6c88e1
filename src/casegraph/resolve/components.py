"""Clustering at scale: components settled in SQL, the constrained merge only where needed.

The constrained merge (:func:`casegraph.resolve.cluster.cluster`) never looks outside a
candidate component (records joined by links at or above the threshold, must-links and
human "same" decisions): its greedy merges, density tests and ambiguity checks only see
pairs inside one component. So the work splits:

* components are found by min-label propagation with pointer jumping over integer ids
  (the links cross into numpy once as two integer arrays; a handful of passes);
* a component whose every scored internal pair is at least ``min_density`` (and
  ``veto_below``), with no conflicting A-numbers, no two records of a one-record-per-person
  source and no human decision, is one cluster: its threshold links connect it, every
  greedy merge passes the density test, and no record can be ambiguous (its strong links
  are all inside). Singletons and most small components are of this kind. They are
  settled in SQL;
* only the remaining components go to the Python merge, one component at a time, with
  integer ids numbered in record-key order (so tie-breaks are the ones string keys gave);
  large searches are split between two forked workers.

Why not Python for everything: at 1M records, fetching every link as strings and running
union-find and the greedy merge over them took 140-220 s; most components need no search.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from casegraph.resolve.cluster import cluster
from casegraph.resolve.prepare import INPUT_TABLE
from casegraph.resolve.schema import ResolveConfig
from casegraph.workspace import Workspace

log = logging.getLogger(__name__)

#: result table: unique_id, cluster (the smallest record number in it), best_link
CLUSTERS_TABLE = "_resolve_clusters"


@dataclass
class ComponentStats:
    """What the clustering did (for the benchmark and the run notes)."""

    records: int = 0
    components: int = 0          # components of two or more records
    settled_in_sql: int = 0      # of which settled without search
    searched: int = 0            # of which went to the constrained merge
    searched_records: int = 0
    passes: int = 0              # label-propagation passes
    rejected: list[tuple[str, str, float, str]] = field(default_factory=list)


def against_sql(cfg: ResolveConfig, columns: set[str], t: str) -> str:
    """SQL: the scored pair ``t`` (a row of the pairs table) is evidence of two people.

    Improbable (below ``veto_below``) and either capped by a hard rule (conflicting
    A-numbers, the twins' given-name rule: ``p < model_p``) or carrying contrary evidence
    (``contra``: see :mod:`casegraph.resolve.evidence`). A pairs table without those
    columns: every improbable pair."""
    low = f"{t}.p < {float(cfg.veto_below)!r}::double"
    if not {"contra", "model_p"} <= columns:
        return f"({low})"
    return f"({low} and ({t}.contra or {t}.p < {t}.model_p))"


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# ---- the SQL of each step -------------------------------------------------------------------
# One definition per step, over table names given by the caller: the embedded engine runs it
# on DuckDB temp tables, the Spark engine (casegraph.scaleout.cluster) transpiles the same text
# and runs it on lake tables. Written in DuckDB SQL that sqlglot carries to Spark (no tuple
# IN, no named parameters).

def nodes_sql(nodes_sql: str) -> str:
    """(k, i): the records of ``nodes_sql`` (a query of ``unique_id``) numbered in key order."""
    return f"""select unique_id as k, (row_number() over (order by unique_id) - 1)::bigint as i
        from ({nodes_sql}) t"""


def decisions_sql(nodes: str, decisions: str = "identity_decisions") -> str:
    """(l, r, same): the latest human decision per pair, among the records of ``nodes``."""
    return f"""select a.i l, b.i r, d.decision = 'same' as same from (
            select l, r, arg_max(decision, decided_at) decision from (
                select least(record_key_l, record_key_r) l, greatest(record_key_l, record_key_r) r,
                       decision, decided_at from {decisions}) group by l, r) d
        join {nodes} a on a.k = d.l join {nodes} b on b.k = d.r"""


#: the columns of the pairs table ``against_sql`` reads (``pipeline.pairs_select_sql``'s)
AGAINST_COLUMNS = frozenset({"contra", "model_p"})


def int_pairs_sql(pairs_table: str, nodes: str, cfg: ResolveConfig,
                  columns: frozenset[str] | set[str] = AGAINST_COLUMNS) -> str:
    """(l, r, p, mw, must, against): the scored pairs between records of ``nodes``, by record
    number; ``columns``: those of ``pairs_table`` (see :func:`against_sql`)."""
    return f"""select a.i l, b.i r, p.p, p.mw, p.must, {against_sql(cfg, set(columns), 'p')} as against
        from {pairs_table} p join {nodes} a on a.k = p.l join {nodes} b on b.k = p.r"""


def links_sql(cfg: ResolveConfig, pairs: str, dec: str) -> str:
    """(l, r): followed pairs (at the threshold or must-links, not refused by a human) and
    human "same" decisions: the edges of the candidate components."""
    thr = f"{float(cfg.link_threshold)!r}::double"
    return f"""select p.l, p.r from {pairs} p where (p.p >= {thr} or p.must)
            and not exists (select 1 from {dec} d where d.l = p.l and d.r = p.r and not d.same)
        union select l, r from {dec} where same"""


def propagate_sql(lab: str, links: str) -> str:
    """(i, c): one pass of min-label propagation: each record takes the smallest label of
    itself and of both ends of its links. (The embedded engine runs this step in numpy.)"""
    return f"""with m as (
            select least(a.c, b.c) c, k.l, k.r from {links} k
            join {lab} a on a.i = k.l join {lab} b on b.i = k.r),
        cand as (select i, c from {lab} union all select l, c from m union all select r, c from m)
        select i, min(c) c from cand group by i"""


def jump_sql(lab: str) -> str:
    """(i, c): one pointer jump: each record takes its label's label."""
    return f"select a.i, b.c from {lab} a join {lab} b on b.i = a.c"


def components_sql(cfg: ResolveConfig, lab: str, pairs: str, nodes: str, dec: str,
                   input_table: str = INPUT_TABLE) -> str:
    """(c, n, settled): each component of two or more records and whether it is settled,
    i.e. no search could split it (see the module docstring)."""
    floor = max(cfg.min_density, cfg.veto_below)
    excl = ", ".join(_q(s) for s in cfg.unique_sources) or "null"
    return f"""with sz as (select c, count(*) n from {lab} group by c having count(*) > 1),
        inner_min as (
            select a.c, min(p.p) minp from {pairs} p join {lab} a on a.i = p.l
            join {lab} b on b.i = p.r where a.c = b.c group by a.c),
        anum as (
            select distinct l.c, i.a_number a from {lab} l join {nodes} n on n.i = l.i
            join {input_table} i on i.unique_id = n.k where i.a_number is not null),
        anum_conflict as (
            select distinct x.c from anum x join anum y on x.c = y.c and x.a < y.a
            where damerau_levenshtein(x.a, y.a) > 1),
        dup_source as (
            select distinct l.c from {lab} l join {nodes} n on n.i = l.i
            join {input_table} i on i.unique_id = n.k where i.source in ({excl})
            group by l.c, i.source having count(*) > 1),
        decided as (
            select distinct l.c from {lab} l
            where l.i in (select l from {dec} union select r from {dec}))
        select sz.c, sz.n,
            coalesce(m.minp >= {floor}, false)
            and sz.c not in (select c from anum_conflict)
            and sz.c not in (select c from dup_source)
            and sz.c not in (select c from decided) as settled
        from sz left join inner_min m on m.c = sz.c"""


def component_counts_sql(comp: str) -> str:
    """(components, settled, records in unsettled components)."""
    return f"""select count(*), count(*) filter (where settled),
        coalesce(sum(n) filter (where not settled), 0) from {comp}"""


def search_members_sql(lab: str, comp: str) -> str:
    """(i, c): the records of the unsettled components (the constrained merge's input)."""
    return f"select l.i, l.c from {lab} l join {comp} c on c.c = l.c where not c.settled"


def search_nodes_sql(search: str, nodes: str, input_table: str = INPUT_TABLE) -> str:
    """(c, i, k, a_number, source) of the records in ``search``, in component, number order."""
    return f"""select s.c, s.i, n.k, i.a_number, i.source from {search} s
        join {nodes} n on n.i = s.i join {input_table} i on i.unique_id = n.k
        order by s.c, s.i"""


def search_pairs_sql(search: str, pairs: str) -> str:
    """(c, l, r, p, mw, must, against): the scored pairs inside each component of ``search``."""
    return f"""select s.c, p.l, p.r, p.p, p.mw, p.must, p.against from {pairs} p
        join {search} s on s.i = p.l join {search} t on t.i = p.r
        where s.c = t.c order by s.c, p.l, p.r"""


def search_decisions_sql(search: str, dec: str) -> str:
    """(c, l, r, same): the human decisions inside each component of ``search``."""
    return f"""select s.c, d.l, d.r, d.same from {dec} d
        join {search} s on s.i = d.l join {search} t on t.i = d.r
        where s.c = t.c order by s.c, d.l, d.r"""


def apply_found_sql(lab: str, found: str) -> str:
    """(i, c): each record's cluster: what the search found, else its component."""
    return f"""select l.i, coalesce(f.c, l.c) c from {lab} l left join {found} f on f.i = l.i"""


def clusters_sql(nodes: str, clusters: str, pairs: str, dec: str) -> str:
    """(unique_id, cluster, best_link): each record's cluster and its best link inside it
    (1.0 for a record alone or joined by a human decision only)."""
    return f"""with same_cluster as (
            select p.l, p.r, p.p from {pairs} p join {clusters} a on a.i = p.l
            join {clusters} b on b.i = p.r where a.c = b.c
            union all
            select d.l, d.r, 1.0 from {dec} d join {clusters} a on a.i = d.l
            join {clusters} b on b.i = d.r where d.same and a.c = b.c),
        best as (
            select x, max(p) p from (select l x, p from same_cluster
                                     union all select r, p from same_cluster) group by x)
        select n.k as unique_id, c.c as cluster, coalesce(b.p, 1.0) as best_link
        from {nodes} n join {clusters} c on c.i = n.i left join best b on b.x = n.i"""


# ---- the embedded engine --------------------------------------------------------------------

def cluster_records(ws: Workspace, cfg: ResolveConfig, nodes_sql_: str, pairs_table: str
                    ) -> ComponentStats:
    """Cluster the records of ``nodes_sql_`` (a query with a ``unique_id`` column) into
    ``_resolve_clusters`` (unique_id, cluster, best_link), using the scored pairs of
    ``pairs_table`` (l, r, p, mw, must) and the latest human decisions."""
    con = ws.con
    st = ComponentStats()
    con.execute(f"create or replace temp table _rc_nodes as {nodes_sql(nodes_sql_)}")
    st.records = int(con.execute("select count(*) from _rc_nodes").fetchall()[0][0])
    con.execute(f"create or replace temp table _rc_dec as {decisions_sql('_rc_nodes')}")
    cols = {c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_name = ?",
        [pairs_table]).fetchall()}
    con.execute("create or replace temp table _rc_pairs as "
                f"{int_pairs_sql(pairs_table, '_rc_nodes', cfg, cols)}")
    con.execute(f"create or replace temp table _rc_links as "
                f"{links_sql(cfg, '_rc_pairs', '_rc_dec')}")
    _components(ws, st)
    con.execute("create or replace temp table _rc_comp as "
                f"{components_sql(cfg, '_rc_lab', '_rc_pairs', '_rc_nodes', '_rc_dec')}")
    rows = con.execute(component_counts_sql("_rc_comp")).fetchall()
    st.components, st.settled_in_sql, st.searched_records = (int(x) for x in rows[0])
    st.searched = st.components - st.settled_in_sql
    # the cluster of each record: its component's label unless the component is searched
    if st.searched:
        _search(ws, cfg, st)
        con.execute("create or replace temp table _rc_cluster as "
                    f"{apply_found_sql('_rc_lab', '_rc_found')}")
        con.execute("drop table if exists _rc_found")
    else:
        con.execute("create or replace temp table _rc_cluster as select i, c from _rc_lab")
    con.execute(f"create or replace temp table {CLUSTERS_TABLE} as "
                f"{clusters_sql('_rc_nodes', '_rc_cluster', '_rc_pairs', '_rc_dec')}")
    for t in ("_rc_dec", "_rc_pairs", "_rc_links", "_rc_lab", "_rc_comp", "_rc_cluster"):
        con.execute(f"drop table if exists {t}")
    log.info("clustering: %d records, %d components (%d settled in SQL, %d searched, "
             "%d records), %d passes", st.records, st.components, st.settled_in_sql,
             st.searched, st.searched_records, st.passes)
    return st


def _components(ws: Workspace, st: ComponentStats) -> None:
    """``_rc_lab`` (i, c): each record's component, labelled by its smallest record number.

    Min-label propagation over integer arrays (numpy): each pass gives both ends of every
    link the smaller of their labels, then jumps labels to their label's label (pointer
    jumping) until stable. Passes grow with the logarithm of a component's diameter; the
    links cross into Python once, as two integer arrays (in SQL, each pass rewrote a table:
    3.7 s at 300k records)."""
    import numpy as np
    import pandas as pd

    con = ws.con
    n = int(con.execute("select count(*) from _rc_nodes").fetchall()[0][0])
    arr = con.execute("select l, r from _rc_links").fetchnumpy()
    a = np.asarray(arr["l"], dtype=np.int64)
    b = np.asarray(arr["r"], dtype=np.int64)
    lab = np.arange(n, dtype=np.int64)
    while True:
        st.passes += 1
        before = lab.copy()
        m = np.minimum(lab[a], lab[b])
        np.minimum.at(lab, a, m)
        np.minimum.at(lab, b, m)
        while True:
            jumped = lab[lab]
            if np.array_equal(jumped, lab):
                break
            lab = jumped
        if np.array_equal(before, lab):
            break
    df = pd.DataFrame({"i": np.arange(n, dtype=np.int64), "c": lab})
    con.register("_rc_lab_df", df)
    con.execute("create or replace temp table _rc_lab as select i, c from _rc_lab_df")
    con.unregister("_rc_lab_df")


def _search(ws: Workspace, cfg: ResolveConfig, st: ComponentStats) -> None:
    """Run the constrained merge on each unsettled component into ``_rc_found`` (i, c)."""
    con = ws.con
    con.execute("create or replace temp table _rc_search as "
                f"{search_members_sql('_rc_lab', '_rc_comp')}")
    nodes = con.execute(search_nodes_sql("_rc_search", "_rc_nodes")).fetchall()
    pairs = con.execute(search_pairs_sql("_rc_search", "_rc_pairs")).fetchall()
    decs = con.execute(search_decisions_sql("_rc_search", "_rc_dec")).fetchall()
    out_i, out_c, rejected = search_components(cfg, nodes, pairs, decs)
    del nodes, pairs, decs
    st.rejected.extend(rejected)
    _register_ints(ws, "_rc_found", out_i, out_c)
    con.execute("drop table if exists _rc_search")


def search_components(cfg: ResolveConfig, nodes: list[tuple[Any, ...]],
                      pairs: list[tuple[Any, ...]], decs: list[tuple[Any, ...]]
                      ) -> tuple[list[int], list[int], list[tuple[str, str, float, str]]]:
    """The constrained merge on each unsettled component, from the rows of
    :func:`search_nodes_sql`, :func:`search_pairs_sql` and :func:`search_decisions_sql`
    (in their order): each record's cluster label (its smallest record number) and the
    refused links (by record key)."""
    excl = set(cfg.unique_sources)
    key: dict[int, str] = {}
    members: dict[int, list[int]] = defaultdict(list)
    anum: dict[int, str] = {}
    src: dict[int, str] = {}
    for c, i, k, a, s in nodes:
        key[i] = k
        members[c].append(i)
        if a is not None:
            anum[i] = a
        if s in excl:
            src[i] = s
    pairs_of: dict[int, list[tuple[int, int, float, float, bool, bool]]] = defaultdict(list)
    for c, l, r, p, mw, must, against in pairs:
        pairs_of[c].append((l, r, p, mw, must, against))
    dec_of: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    for c, l, r, same in decs:
        dec_of[c].append((l, r, same))
    global _JOB
    _JOB = _Job(cfg, members, pairs_of, dec_of, anum, src)
    comps = list(members)
    try:
        if len(pairs_of) and sum(len(v) for v in pairs_of.values()) >= PARALLEL_MIN_PAIRS \
                and (os.cpu_count() or 1) > 1 and "fork" in mp.get_all_start_methods():
            # the merge is pure Python (one core): split the components between two forked
            # workers that read them from this process's memory; DuckDB is idle meanwhile
            chunks = _balanced(comps, pairs_of, 2)
            with mp.get_context("fork").Pool(2) as pool:
                parts = pool.map(_search_chunk, chunks)
        else:
            parts = [_search_chunk(comps)]
    finally:
        _JOB = None
    out_i: list[int] = []
    out_c: list[int] = []
    rejected: list[tuple[str, str, float, str]] = []
    for xs, cs, rej in parts:
        out_i.extend(xs)
        out_c.extend(cs)
        rejected.extend((key[l], key[r], p, why) for l, r, p, why in rej)
    return out_i, out_c, rejected


#: below this many pairs in searched components the merge runs in this process
PARALLEL_MIN_PAIRS = 200_000


@dataclass
class _Job:
    cfg: ResolveConfig
    members: dict[int, list[int]]
    pairs_of: dict[int, list[tuple[int, int, float, float, bool, bool]]]
    dec_of: dict[int, list[tuple[int, int, bool]]]
    anum: dict[int, str]
    src: dict[int, str]


_JOB: _Job | None = None


def _balanced(comps: list[int], pairs_of: dict[int, list[Any]], k: int) -> list[list[int]]:
    """Split components into ``k`` chunks of about equal pair counts (largest first)."""
    chunks: list[list[int]] = [[] for _ in range(k)]
    load = [0] * k
    for c in sorted(comps, key=lambda c: -len(pairs_of.get(c, ()))):
        j = load.index(min(load))
        chunks[j].append(c)
        load[j] += len(pairs_of.get(c, ())) + 1
    return chunks


def _search_chunk(comps: list[int]
                  ) -> tuple[list[int], list[int], list[tuple[int, int, float, str]]]:
    """The constrained merge on each component of ``comps`` (read from ``_JOB``): each
    record's cluster label (its smallest record number) and the refused links."""
    job = _JOB
    assert job is not None
    cfg, thr = job.cfg, job.cfg.link_threshold
    out_i: list[int] = []
    out_c: list[int] = []
    rejected: list[tuple[int, int, float, str]] = []
    for c in comps:
        xs = job.members[c]
        decs = job.dec_of.get(c, ())
        diff = {(l, r) for l, r, same in decs if not same}
        same = [(l, r) for l, r, s in decs if s]
        ps = job.pairs_of.get(c, [])
        edges = [(l, r, p, w) for l, r, p, w, must, _a in ps
                 if p >= thr and not must and (l, r) not in diff]
        musts = [(l, r) for l, r, p, w, must, _a in ps if must and (l, r) not in diff]
        res = cluster(xs, edges, pair_scores={(l, r): p for l, r, p, _w, _m, _a in ps},
                      against={(l, r) for l, r, _p, _w, _m, a in ps if a},
                      a_number={x: job.anum[x] for x in xs if x in job.anum},
                      must_link=musts, human_same=same, cannot_link=list(diff),
                      exclusive_source={x: job.src[x] for x in xs if x in job.src},
                      link_threshold=thr, min_density=cfg.min_density,
                      veto_below=cfg.veto_below)
        first: dict[int, int] = {}
        for x in sorted(res.cluster_of):
            first.setdefault(res.cluster_of[x], x)
        for x, n in res.cluster_of.items():
            out_i.append(x)
            out_c.append(first[n])
        rejected.extend(res.rejected)
    return out_i, out_c, rejected


def _register_ints(ws: Workspace, table: str, i: list[int], c: list[int]) -> None:
    import pandas as pd

    arr = pd.DataFrame({"i": pd.array(i, dtype="int64"), "c": pd.array(c, dtype="int64")})
    ws.con.register("_rc_arrays", arr)
    ws.con.execute(f"create or replace temp table {table} as select i, c from _rc_arrays")
    ws.con.unregister("_rc_arrays")
