"""Identity resolution's clustering on Spark: the scored pairs never come to the driver.

The embedded engine (:func:`casegraph.resolve.components.cluster_records`) turns the
scored pairs into persons in four steps; each runs here on the same SQL text, transpiled
(:mod:`casegraph.scaleout.dialect`):

1. the pairs: Splink's predictions with the hard rules and the rounding
   (:func:`casegraph.resolve.pipeline.pairs_select_sql`), then the one-to-one rule between
   deduplicated sources (:func:`casegraph.resolve.onetoone.one_to_one_sql`);
2. the candidate components: min-label propagation with pointer jumping
   (:func:`~casegraph.resolve.components.propagate_sql`,
   :func:`~casegraph.resolve.components.jump_sql`) over the links, iterated to the fixed
   point (every schedule of these monotone steps ends at each component's smallest record
   number, which is what the embedded engine's numpy loop computes);
3. which components are settled (:func:`~casegraph.resolve.components.components_sql`);
4. only the unsettled components' records, pairs and decisions are collected to the
   driver, for the one constrained merge
   (:func:`~casegraph.resolve.components.search_components`); what it finds goes back to
   Spark, which computes each record's cluster and best link.

What returns to the embedded engine (the serving copy the API, UI and the write phase
read): one row per record (``_resolve_clusters``: unique_id, cluster, best_link) and the
pairs the write phase reads, i.e. those between two different clusters at or above the
review band (``_resolve_pairs``: the review queue and ``identity_links``). Same-cluster
pairs, the bulk, stay in the lake.

Record numbers: the embedded engine numbers records with ``row_number() over (order by
unique_id)``; on Spark that window has no partition and moves every record to one task,
so records are numbered by a distributed sort and ``monotonically_increasing_id`` (not
consecutive, but in key order, which is all the labels and the merge's tie-breaks need).
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from casegraph.resolve import components as comp
from casegraph.resolve.components import CLUSTERS_TABLE, ComponentStats
from casegraph.resolve.onetoone import RUNNER_UP, one_to_one_sql
from casegraph.resolve.outputs import PAIRS_TABLE
from casegraph.resolve.pipeline import Clustered, pairs_select_sql
from casegraph.resolve.prepare import INPUT_TABLE
from casegraph.resolve.schema import ResolveConfig
from casegraph.scaleout.dialect import (
    duckdb_to_spark,
    duckdb_to_spark_exact_round,
    register_exact_round,
    register_udfs,
)
from casegraph.scaleout.lake import (
    export_to_lake,
    import_from_lake,
    read_lake,
    table_uri,
    write_lake,
)
from casegraph.scaleout.session import get_spark
from casegraph.workspace import Workspace

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

#: lake tables this step writes: every scored pair (with the rules applied), each record's
#: cluster, and the pairs the write phase needs
PAIRS_LAKE = "resolve_pairs"
CLUSTERS_LAKE = "resolve_clusters"
REVIEW_PAIRS_LAKE = "resolve_review_pairs"


def _sql(spark: SparkSession, duckdb_sql: str) -> DataFrame:
    return spark.sql(duckdb_to_spark(duckdb_sql, drop_order=True))


def _keep(df: DataFrame, view: str) -> DataFrame:
    """Materialise ``df`` (cutting its lineage: the propagation loop would otherwise grow
    its plan every pass) and name it ``view`` for the next SQL step.

    Spark 4.3 carries the constraints of a checkpointed plan into the checkpoint, and a
    union over one (the propagation pass) then failed in constraint rewriting ("key not
    found: i#134L"); :func:`cluster_pairs_on_spark` turns constraint propagation off
    while it runs (it only serves filter inference, which these joins do not need)."""
    kept = df.localCheckpoint(eager=True)
    kept.createOrReplaceTempView(view)
    return kept


def _rows(df: DataFrame) -> list[tuple[Any, ...]]:
    """The rows of ``df`` in order, as tuples of Python values (Arrow's conversion, as the
    embedded engine's ``fetchall`` gives them)."""
    t = df.toArrow()
    cols = [t.column(i).to_pylist() for i in range(t.num_columns)]
    return list(zip(*cols, strict=True))


def cluster_on_spark(ws: Workspace, cfg: ResolveConfig, predictions: str,
                     model: dict[str, Any] | None = None) -> Clustered:
    """Cluster the records of the input table from Splink's predictions in lake table
    ``predictions`` (written by :func:`casegraph.scaleout.resolve.predict_to_lake`), scored
    with ``model`` (the run's saved model: it says which pairs are contrary evidence).

    Leaves ``_resolve_clusters`` and ``_resolve_pairs`` (pairs between clusters at or
    above ``review_lower``) in the warehouse; returns the pair count and the refused links.
    """
    spark = get_spark()
    register_exact_round(spark)
    register_udfs(spark)
    # the scored pairs, with the hard rules and the rounding
    read_lake(spark, ws, predictions).createOrReplaceTempView("_cg_preds")
    t = time.perf_counter()
    write_lake(spark.sql(duckdb_to_spark_exact_round(pairs_select_sql(cfg, "_cg_preds",
                                                                     model=model))),
               ws, PAIRS_LAKE)
    spark.catalog.dropTempView("_cg_preds")
    took = time.perf_counter() - t
    done = cluster_pairs_on_spark(ws, cfg, PAIRS_LAKE)
    done.notes.append(f"Spark clustering steps (s): pairs {took:.1f}, {done.notes.pop()}")
    return done


def cluster_pairs_on_spark(ws: Workspace, cfg: ResolveConfig, pairs_lake: str) -> Clustered:
    """Cluster the input table's records (lake table ``resolve_input``) from the scored
    pairs of lake table ``pairs_lake`` (the columns of ``pairs_select_sql``); see
    :func:`cluster_on_spark`."""
    spark = get_spark()
    register_udfs(spark)
    key = "spark.sql.constraintPropagation.enabled"
    before = spark.conf.get(key, "true")
    spark.conf.set(key, "false")  # see _keep
    try:
        return _cluster_pairs(spark, ws, cfg, pairs_lake)
    finally:
        spark.conf.set(key, before)


def _cluster_pairs(spark: SparkSession, ws: Workspace, cfg: ResolveConfig, pairs_lake: str
                   ) -> Clustered:
    st = ComponentStats()
    steps: dict[str, float] = {}
    t0 = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t0
        steps[name] = time.perf_counter() - t0
        t0 = time.perf_counter()

    read_lake(spark, ws, INPUT_TABLE).createOrReplaceTempView("_cg_input")
    export_to_lake(ws, "identity_decisions")
    read_lake(spark, ws, "identity_decisions").createOrReplaceTempView("_cg_decisions")
    pairs = read_lake(spark, ws, pairs_lake)
    pairs.createOrReplaceTempView("_cg_pairs")
    n_pairs = pairs.count()
    cols = set(pairs.columns)

    # 1. the one-to-one rule between deduplicated sources
    demoted: list[tuple[str, str, float, str]] = []
    # the condition of resolve.onetoone.apply_one_to_one
    if len(cfg.unique_sources) >= 2 and cfg.one_to_one_unique_sources:
        _keep(_sql(spark, one_to_one_sql(cfg, "_cg_pairs", "_cg_input")), "_cg_o2o")
        thr = cfg.link_threshold
        demoted = [(l, r, float(p), RUNNER_UP) for l, r, p in _rows(spark.sql(
            f"select l, r, p from _cg_o2o where p >= {thr} and new_p < {thr} order by l, r"))]
        _sql(spark, f"""select p.l, p.r, p.model_p, p.mw, p.must, p.anum_conflict,
                p.given_veto, {"p.contra, " if "contra" in cols else ""}coalesce(o.new_p, p.p) as p
            from _cg_pairs p left join _cg_o2o o on o.l = p.l and o.r = p.r""") \
            .createOrReplaceTempView("_cg_pairs")

    step("one-to-one")
    # 2. records by number, decisions, pairs by number, links; the components
    from pyspark.sql import functions as F

    nodes = _keep(spark.sql("select unique_id as k from _cg_input").orderBy("k")
                  .withColumn("i", F.monotonically_increasing_id()), "_cg_nodes")
    st.records = nodes.count()
    _keep(_sql(spark, comp.decisions_sql("_cg_nodes", "_cg_decisions")), "_cg_dec")
    step("numbering")
    _keep(_sql(spark, comp.int_pairs_sql("_cg_pairs", "_cg_nodes", cfg, cols)), "_cg_ipairs")
    _keep(_sql(spark, comp.links_sql(cfg, "_cg_ipairs", "_cg_dec")), "_cg_links")
    step("pairs by number")
    _components(spark, st)
    step("propagation")
    # 3. settled components
    _keep(_sql(spark, comp.components_sql(cfg, "_cg_lab", "_cg_ipairs", "_cg_nodes",
                                          "_cg_dec", "_cg_input")), "_cg_comp")
    counts = _rows(_sql(spark, comp.component_counts_sql("_cg_comp")))[0]
    st.components, st.settled_in_sql, st.searched_records = (int(x or 0) for x in counts)
    st.searched = st.components - st.settled_in_sql

    step("settled")
    # 4. the constrained merge, for the unsettled components only
    collected_pairs = 0
    merged_on = "the driver"
    found: list[tuple[int, int]] = []
    if st.searched:
        _keep(_sql(spark, comp.search_members_sql("_cg_lab", "_cg_comp")), "_cg_search")
    if st.searched and st.searched_records > DRIVER_MERGE_MAX_RECORDS:
        merged_on = "the executors"
        st.rejected.extend(_merge_on_executors(spark, cfg, st.searched_records))
    elif st.searched:
        nodes_rows = _rows(spark.sql(duckdb_to_spark(
            comp.search_nodes_sql("_cg_search", "_cg_nodes", "_cg_input"))))
        pair_rows = _rows(spark.sql(duckdb_to_spark(
            comp.search_pairs_sql("_cg_search", "_cg_ipairs"))))
        dec_rows = _rows(spark.sql(duckdb_to_spark(
            comp.search_decisions_sql("_cg_search", "_cg_dec"))))
        collected_pairs = len(pair_rows)
        out_i, out_c, rejected = comp.search_components(cfg, nodes_rows, pair_rows, dec_rows)
        del nodes_rows, pair_rows, dec_rows
        st.rejected.extend(rejected)
        found = [(int(i), int(c)) for i, c in zip(out_i, out_c, strict=True)]
    if merged_on == "the driver":
        spark.createDataFrame(found, "i bigint, c bigint").createOrReplaceTempView("_cg_found")
    step("merge")
    # records outside every link are their own component
    _sql(spark, """select n.i, coalesce(l.c, n.i) as c from _cg_nodes n
                   left join _cg_lab l on l.i = n.i""").createOrReplaceTempView("_cg_all_lab")
    _keep(_sql(spark, comp.apply_found_sql("_cg_all_lab", "_cg_found")), "_cg_cluster")
    clusters = _sql(spark, comp.clusters_sql("_cg_nodes", "_cg_cluster", "_cg_ipairs",
                                             "_cg_dec"))
    write_lake(clusters, ws, CLUSTERS_LAKE)
    read_lake(spark, ws, CLUSTERS_LAKE).createOrReplaceTempView("_cg_clusters")
    write_lake(_sql(spark, review_pairs_sql(cfg, "_cg_pairs", "_cg_clusters")), ws,
               REVIEW_PAIRS_LAKE)

    step("clusters")
    # back to the serving copy
    ws.con.execute(f"create or replace temp table {CLUSTERS_TABLE} as select * from "
                   f"read_parquet('{table_uri(ws, CLUSTERS_LAKE)}/*.parquet')")
    n_review = import_from_lake(ws, REVIEW_PAIRS_LAKE, PAIRS_TABLE)
    for view in ("_cg_merged", "_cg_input", "_cg_decisions", "_cg_pairs", "_cg_o2o", "_cg_nodes", "_cg_dec", "_cg_ipairs", "_cg_links", "_cg_lab",
                 "_cg_comp", "_cg_search", "_cg_cluster", "_cg_prop", "_cg_next", "_cg_found",
                 "_cg_all_lab", "_cg_clusters"):
        spark.catalog.dropTempView(view)
    step("import")
    note = (f"clustered on Spark: {st.records:,} records, {st.components:,} components of "
            f"2+ records ({st.settled_in_sql:,} settled on Spark, {st.searched:,} merged on "
            f"{merged_on}: {st.searched_records:,} records, {collected_pairs:,} pairs "
            f"collected), "
            f"{st.passes} propagation passes; {n_review:,} review-band links between "
            f"clusters of {n_pairs:,} pairs came back")
    log.info(note)
    timing = ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
    return Clustered(pairs_scored=n_pairs, rejected=st.rejected + demoted, notes=[note, timing],
                     stats=st, collected_pairs=collected_pairs)


#: Unsettled components holding more records than this are merged on the executors (each
#: partition of components by the same merge function) instead of collected to the driver.
#: The driver is quicker while they fit in its memory (no Python workers, no shuffle); at
#: 20,000 synthetic people they were 35% of the records (see docs/scaleout.md).
DRIVER_MERGE_MAX_RECORDS = int(os.environ.get("CASEGRAPH_SPARK_DRIVER_MERGE_MAX_RECORDS",
                                              "2000000"))

#: records of unsettled components per merge task on the executors
MERGE_RECORDS_PER_TASK = 200_000


def _merge_on_executors(spark: SparkSession, cfg: ResolveConfig, records: int
                        ) -> list[tuple[str, str, float, str]]:
    """The constrained merge of ``_cg_search``'s components on the executors: the rows the
    driver would collect (nodes, pairs, decisions), tagged and partitioned by component,
    each partition sorted as the driver's queries order them, then
    :func:`~casegraph.resolve.components.search_components` per partition (components are
    independent, so any split gives the driver's result). Leaves ``_cg_found`` (i, c);
    returns the refused links, in the driver's order (by component)."""
    q = [duckdb_to_spark(sql, drop_order=True) for sql in (
        comp.search_nodes_sql("_cg_search", "_cg_nodes", "_cg_input"),
        comp.search_pairs_sql("_cg_search", "_cg_ipairs"),
        comp.search_decisions_sql("_cg_search", "_cg_dec"))]
    tagged = spark.sql(f"""
        select c, 0 as kind, i as x, cast(null as bigint) as y, k, a_number, source,
               cast(null as double) as p, cast(null as double) as mw,
               cast(null as boolean) as flag, cast(null as boolean) as against
        from ({q[0]}) n
        union all select c, 1, l, r, null, null, null, p, mw, must, against from ({q[1]}) p
        union all select c, 2, l, r, null, null, null, null, null, same, null from ({q[2]}) d""")
    parts = max(int(spark.conf.get("spark.sql.shuffle.partitions", "200")),
                records // MERGE_RECORDS_PER_TASK + 1)
    frame = tagged.repartition(parts, "c").sortWithinPartitions("c", "kind", "x", "y")
    schema = "i bigint, c bigint, seq bigint, l string, r string, p double, why string"

    def run(batches: Any) -> Any:
        import pyarrow as pa

        from casegraph.resolve import components as rc

        rc.PARALLEL_MIN_PAIRS = 1 << 62  # a task has one core: no forked workers here
        nodes, pairs, decs = [], [], []
        for b in batches:
            cols = [b.column(j).to_pylist() for j in range(b.num_columns)]
            for c, kind, x, y, k, a, src, p, mw, flag, against in zip(*cols, strict=True):
                if kind == 0:
                    nodes.append((c, x, k, a, src))
                elif kind == 1:
                    pairs.append((c, x, y, p, mw, flag, against))
                else:
                    decs.append((c, x, y, flag))
        if not nodes:
            return
        out_i, out_c, rej = rc.search_components(cfg, nodes, pairs, decs)
        key_comp = {k: c for c, _x, k, *_ in nodes}
        n, m = len(out_i), len(rej)
        yield pa.RecordBatch.from_pydict({
            "i": pa.array(out_i + [None] * m, pa.int64()),
            "c": pa.array(out_c + [key_comp[l] for l, *_ in rej], pa.int64()),
            "seq": pa.array([None] * n + list(range(m)), pa.int64()),
            "l": pa.array([None] * n + [l for l, *_ in rej], pa.string()),
            "r": pa.array([None] * n + [r for _l, r, *_ in rej], pa.string()),
            "p": pa.array([None] * n + [float(p) for _l, _r, p, _w in rej], pa.float64()),
            "why": pa.array([None] * n + [w for *_x, w in rej], pa.string())})

    merged = _keep(frame.mapInArrow(run, schema), "_cg_merged")
    merged.where("l is null").select("i", "c").createOrReplaceTempView("_cg_found")
    return [(l, r, p, why) for l, r, p, why in _rows(
        merged.where("l is not null").orderBy("c", "seq").select("l", "r", "p", "why"))]


def review_pairs_sql(cfg: ResolveConfig, pairs: str, clusters: str) -> str:
    """The pairs the write phase reads (``outputs._cross_person_links``): between two
    different clusters (a full run gives each cluster its own person) and at or above
    ``review_lower`` by model probability or by the probability after the rules."""
    return f"""select p.* from {pairs} p join {clusters} a on a.unique_id = p.l
        join {clusters} b on b.unique_id = p.r
        where a.cluster <> b.cluster
          and greatest(p.model_p, p.p) >= {float(cfg.review_lower)!r}::double"""


def _components(spark: SparkSession, st: ComponentStats) -> None:
    """``_cg_lab`` (i, c) for the records of some link: each one's component, labelled by
    its smallest record number. Each pass propagates once and jumps once. Labels never
    rise and every record keeps a row, so a pass changed a label exactly when the sum of
    the labels fell: one aggregate over the materialised pass, not a join with the last."""
    def total(df: DataFrame) -> int:
        return int(df.selectExpr("sum(cast(c as decimal(38, 0)))").first()[0] or 0)

    lab = _keep(spark.sql("select l as i, l as c from _cg_links union "
                          "select r, r from _cg_links"), "_cg_lab")
    before = total(lab)
    while True:
        st.passes += 1
        _sql(spark, comp.propagate_sql("_cg_lab", "_cg_links")) \
            .createOrReplaceTempView("_cg_prop")
        lab = _keep(_sql(spark, comp.jump_sql("_cg_prop")), "_cg_next")
        lab.createOrReplaceTempView("_cg_lab")
        after = total(lab)
        if after == before:
            break
        before = after
