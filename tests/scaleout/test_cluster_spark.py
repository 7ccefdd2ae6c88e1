"""Clustering on Spark gives the embedded engine's clusters, best links and refused links.

One Spark run over many crafted graphs at once (their record keys are disjoint, and
clustering never looks across components): the random people of
``tests/resolve/test_cluster_components.py`` (weak pairs, must-links, A-number conflicts,
a one-record-per-person source, human "same" and "different" decisions), the tie-heavy
graphs of ``tests/scaleout/test_cluster_order.py``, and pairs between two deduplicated
sources for the one-to-one rule. Plus: the pairs' rounding on Spark is DuckDB's, bit for bit.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest

from casegraph.resolve.components import CLUSTERS_TABLE, cluster_records
from casegraph.resolve.onetoone import apply_one_to_one
from casegraph.resolve.outputs import PAIRS_TABLE
from casegraph.resolve.schema import ResolveConfig, ensure_tables
from casegraph.workspace import Workspace
from tests.resolve.test_cluster_components import _random_case
from tests.scaleout.conftest import have_spark
from tests.scaleout.test_cluster_order import _graph

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

CFG = ResolveConfig(unique_sources=["reg", "u1", "u2"], mutual_best_threshold=0.5)


def _cases() -> tuple[list[tuple[str, str, str | None]], list[tuple], list[tuple[str, str, str]]]:
    """(records: key, source, a_number), (pairs: the columns of pairs_select_sql), decisions."""
    recs: list[tuple[str, str, str | None]] = []
    pairs: list[tuple] = []
    decisions: list[tuple[str, str, str]] = []
    rnd = random.Random(5)
    for seed in range(8):
        case = _random_case(seed)
        pre = f"c{seed}/"
        recs += [(pre + k, case["src"][k], case["anum"].get(k)) for k in case["keys"]]
        for (l, r), (p, w, must) in case["pairs"].items():
            conflict = rnd.random() < 0.05 and not must
            pairs.append((pre + l, pre + r, p, w, must, conflict, False,
                          rnd.random() < 0.5, min(p, 0.001) if conflict else p))
        decisions += [(pre + l, pre + r, d) for l, r, d in case["decisions"]]
    for seed in range(4):  # many ties among strong links
        nodes, scores, _edges = _graph(seed)
        pre = f"t{seed}/"
        recs += [(pre + k, "x", None) for k in nodes]
        pairs += [(pre + l, pre + r, p, round(p * 10, 1), False, False, False, True, p)
                  for (l, r), p in scores.items()]
    # one-to-one between two deduplicated sources: runner-ups, mutual bests, a capped pair
    for g in range(6):
        a = [f"o{g}/u1:{j}" for j in range(3)]
        b = [f"o{g}/u2:{j}" for j in range(3)]
        recs += [(k, "u1", None) for k in a] + [(k, "u2", None) for k in b]
        for x in a:
            for y in b:
                if rnd.random() < 0.6:
                    p = rnd.choice([0.97, 0.95, 0.7, 0.6, 0.2])
                    w = rnd.choice([9.0, 8.0, 3.0])  # ties in weight too
                    veto = rnd.random() < 0.1
                    pairs.append((x, y, p, w, False, False, veto, veto,
                                  min(p, 0.001) if veto else p))
    return recs, pairs, decisions


def _load(ws: Workspace) -> None:
    import pyarrow as pa

    recs, pairs, decisions = _cases()
    ensure_tables(ws)
    con = ws.con
    inp = pa.table({"unique_id": [r[0] for r in recs], "source": [r[1] for r in recs],
                    "a_number": pa.array([r[2] for r in recs], type=pa.string())})
    cols = ("l", "r", "model_p", "mw", "must", "anum_conflict", "given_veto", "contra", "p")
    prs = pa.table({c: [row[i] for row in pairs] for i, c in enumerate(cols)})
    con.register("_inp", inp)
    con.register("_prs", prs)
    con.execute("create or replace table resolve_input as select * from _inp")
    con.execute(f"create or replace table {PAIRS_TABLE} as select * from _prs")
    con.execute("create or replace table _crafted_pairs as select * from _prs")
    con.unregister("_inp")
    con.unregister("_prs")
    con.execute("delete from identity_decisions")
    for l, r, d in decisions:
        con.execute("insert into identity_decisions values (?, ?, ?, 'tester', 'test', "
                    "now(), null)", [r, l, d])


def _result(ws: Workspace) -> tuple[set[frozenset[str]], dict[str, float]]:
    rows = ws.con.execute(f"select unique_id, cluster, best_link from {CLUSTERS_TABLE}").fetchall()
    g: dict[int, set[str]] = defaultdict(set)
    for k, c, _b in rows:
        g[c].add(k)
    return {frozenset(v) for v in g.values()}, {k: b for k, _c, b in rows}


@pytest.fixture(scope="module")
def spark_ready() -> None:
    if not have_spark():
        pytest.skip("no Java runtime for local Spark")
    import os

    os.environ.setdefault("CASEGRAPH_SPARK_MASTER", "local[2]")


def test_spark_clusters_equal_embedded(tmp_path: Path, spark_ready: None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from casegraph.scaleout import cluster as spark_cluster
    from casegraph.scaleout.cluster import PAIRS_LAKE, cluster_pairs_on_spark
    from casegraph.scaleout.lake import export_to_lake

    ws = Workspace(tmp_path / "ws")
    _load(ws)
    # the embedded engine, as resolve.pipeline._cluster_pairs runs it
    demoted = apply_one_to_one(ws, CFG, PAIRS_TABLE)
    st = cluster_records(ws, CFG, "select unique_id from resolve_input", PAIRS_TABLE)
    rejected = st.rejected + demoted
    assert st.searched > 5 and st.settled_in_sql > 5  # both paths exercised
    assert demoted and st.rejected
    want_part, want_best = _result(ws)
    # what the write phase reads: the pairs between clusters in the review band
    review_sql = f"""select p.* from {PAIRS_TABLE} p join {CLUSTERS_TABLE} a
        on a.unique_id = p.l join {CLUSTERS_TABLE} b on b.unique_id = p.r
        where a.cluster <> b.cluster and greatest(p.model_p, p.p) >= {CFG.review_lower}
        order by l, r"""
    want_review = ws.con.execute(review_sql).fetchall()
    assert want_review

    export_to_lake(ws, "resolve_input")
    export_to_lake(ws, PAIRS_LAKE, "select * from _crafted_pairs")
    done = cluster_pairs_on_spark(ws, CFG, PAIRS_LAKE)
    got_part, got_best = _result(ws)
    assert got_part == want_part
    assert got_best == want_best
    assert sorted(done.rejected) == sorted(rejected)
    assert done.stats is not None
    assert (done.stats.components, done.stats.settled_in_sql, done.stats.searched,
            done.stats.searched_records) == (st.components, st.settled_in_sql, st.searched,
                                             st.searched_records)
    assert 0 < done.collected_pairs < done.pairs_scored
    assert ws.con.execute(f"select * from {PAIRS_TABLE} order by l, r").fetchall() \
        == want_review
    # the same with the merge on the executors (what large runs do)
    monkeypatch.setattr(spark_cluster, "DRIVER_MERGE_MAX_RECORDS", 0)
    again = cluster_pairs_on_spark(ws, CFG, PAIRS_LAKE)
    assert _result(ws) == (want_part, want_best)
    assert again.rejected == done.rejected
    assert again.collected_pairs == 0
    assert "merged on the executors" in again.notes[0]
    ws.close()


def test_pairs_rounding_is_duckdbs(tmp_path: Path, spark_ready: None) -> None:
    """``round(x, 9)`` of the pairs query on Spark equals DuckDB's, half-way cases included
    (Spark's own ``round`` differs on e.g. 0.7638592015)."""
    import pyarrow as pa

    from casegraph.resolve.pipeline import pairs_select_sql
    from casegraph.scaleout.dialect import duckdb_to_spark_exact_round, register_exact_round
    from casegraph.scaleout.lake import export_to_lake, read_lake
    from casegraph.scaleout.session import get_spark

    rnd = random.Random(3)
    ps = [rnd.random() for _ in range(2000)]
    ps += [(rnd.randrange(10**9) + 0.5) / 1e9 for _ in range(2000)] + [0.7638592015]
    n = len(ps)
    preds = pa.table({
        "unique_id_l": [f"a{i:05d}" for i in range(n)], "unique_id_r": [f"b{i:05d}" for i in range(n)],
        "match_probability": ps, "match_weight": [rnd.uniform(-20, 30) for _ in range(n)],
        "a_number_l": ["123456789"] * n, "a_number_r": ["123456789" if i % 2 else "987654321"
                                                        for i in range(n)],
        **{f"gamma_{c}": [rnd.choice([-1, 0, 1, 2]) for _ in range(n)]
           for c in ("birth_date", "given_name", "a_number", "passport", "fbi", "national_id")}})
    ws = Workspace(tmp_path / "ws")
    ws.con.register("_p", preds)
    ws.con.execute("create table preds as select * from _p")
    cfg = ResolveConfig()
    sql = pairs_select_sql(cfg, "preds") + " order by l, r"
    want = ws.con.execute(sql).fetchall()
    export_to_lake(ws, "preds")
    spark = get_spark()
    register_exact_round(spark)
    read_lake(spark, ws, "preds").createOrReplaceTempView("preds")
    got = [tuple(r) for r in spark.sql(duckdb_to_spark_exact_round(sql)).collect()]
    assert got == want
    ws.close()


def test_cli_spark_run_clustered_on_spark(pair) -> None:  # type: ignore[no-untyped-def]
    """The parity run's ``resolve --engine spark`` clustered on Spark (the hook is wired),
    and its identical persons (``test_parity.py``) therefore come from Spark's clustering."""
    import json

    notes = json.loads(pair.spark.con.execute(
        "select notes from resolve_runs order by started_at desc limit 1").fetchall()[0][0])
    assert any(n.startswith("clustered on Spark") for n in notes)
