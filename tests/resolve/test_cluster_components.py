"""Clustering at scale gives what the one-pass constrained merge gives.

``components.cluster_records`` finds candidate components in SQL, settles the ones no
search could split and runs the constrained merge per remaining component: on random
graphs with weak pairs, twins' vetoes, A-number conflicts, one-record-per-person sources
and human decisions, the partition must equal :func:`cluster` run over everything.
Also: scoring straight into the pairs table equals ``predict()`` + the hard rules.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from casegraph.resolve import components
from casegraph.resolve import training as rtraining
from casegraph.resolve.cluster import cluster
from casegraph.resolve.components import CLUSTERS_TABLE, cluster_records
from casegraph.resolve.pipeline import (
    _materialise_pairs,
    latest_model_path,
    pairs_select_sql,
    resolve_workspace,
)
from casegraph.resolve.schema import ResolveConfig, ensure_tables
from casegraph.resolve.scoring import score_pairs_into
from casegraph.workspace import Workspace
from tests.factories import insert_records


def _partition(of: dict[str, int] | dict[str, str]) -> set[frozenset[str]]:
    g: dict[object, set[str]] = defaultdict(set)
    for k, c in of.items():
        g[c].add(k)
    return {frozenset(v) for v in g.values()}


def _random_case(seed: int) -> dict[str, object]:
    """People with several records each; strong links inside a person, occasional weak or
    vetoing pairs, strong false links between people, A-numbers, a unique source."""
    rnd = random.Random(seed)
    keys, person, anum, src = [], {}, {}, {}
    for p in range(40):
        n = rnd.choice([1, 1, 2, 3, 4, 6])
        a = f"{rnd.randrange(10**8, 10**9)}"
        for j in range(n):
            s = rnd.choice(["reg", "x", "y", "z"])
            k = f"{s}:{p:03d}-{j}"
            keys.append(k)
            person[k] = p
            src[k] = s
            if rnd.random() < 0.4:
                anum[k] = a if rnd.random() < 0.9 else f"{rnd.randrange(10**8, 10**9)}"
    pairs: dict[tuple[str, str], tuple[float, float, bool]] = {}
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            same = person[a] == person[b]
            if same and rnd.random() < 0.85:
                p = rnd.choice([0.999, 0.97, 0.95, 0.92, 0.6, 0.3, 0.999999])
            elif not same and rnd.random() < 0.02:
                p = rnd.choice([0.95, 0.91, 0.4, 0.005, 0.0009])
            else:
                continue
            must = same and a in anum and anum.get(b) == anum[a] and rnd.random() < 0.5
            w = round(rnd.uniform(-5, 25), 6)
            pairs[(a, b)] = (1.0 if must else p, w, must)
    decided = rnd.sample(sorted(pairs), 3)
    decisions = [(l, r, "same" if rnd.random() < 0.5 else "different") for l, r in decided]
    return {"keys": keys, "anum": anum, "src": src, "pairs": pairs, "decisions": decisions}


def _reference(case: dict[str, object], cfg: ResolveConfig) -> dict[str, int]:
    """The constrained merge over every record at once (what the run did before)."""
    pairs = case["pairs"]
    diff = {(l, r) for l, r, d in case["decisions"] if d == "different"}
    same = [(l, r) for l, r, d in case["decisions"] if d == "same"]
    edges = [(l, r, p, w) for (l, r), (p, w, must) in pairs.items()
             if p >= cfg.link_threshold and not must and (l, r) not in diff]
    musts = [(l, r) for (l, r), (_p, _w, must) in pairs.items() if must and (l, r) not in diff]
    res = cluster(case["keys"], edges, pair_scores={k: v[0] for k, v in pairs.items()},
                  a_number=dict(case["anum"]), must_link=musts, human_same=same,
                  cannot_link=list(diff),
                  exclusive_source={k: s for k, s in case["src"].items()
                                    if s in cfg.unique_sources},
                  link_threshold=cfg.link_threshold, min_density=cfg.min_density,
                  veto_below=cfg.veto_below)
    return res.cluster_of


def _load(ws: Workspace, case: dict[str, object]) -> None:
    ensure_tables(ws)
    con = ws.con
    con.execute("create or replace table resolve_input (unique_id varchar, source varchar, "
                "a_number varchar)")
    for k in case["keys"]:
        con.execute("insert into resolve_input values (?, ?, ?)",
                    [k, case["src"][k], case["anum"].get(k)])
    con.execute("create or replace table _resolve_pairs (l varchar, r varchar, p double, "
                "mw double, must boolean)")
    for (l, r), (p, w, must) in case["pairs"].items():
        con.execute("insert into _resolve_pairs values (?, ?, ?, ?, ?)", [l, r, p, w, must])
    con.execute("delete from identity_decisions")
    for l, r, d in case["decisions"]:
        con.execute("insert into identity_decisions values (?, ?, ?, 'tester', 'test', "
                    "now(), null)", [r, l, d])


@pytest.mark.parametrize("seed", range(12))
def test_components_give_the_one_pass_partition(ws: Workspace, seed: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    if seed % 3 == 0:  # the two-worker search too
        monkeypatch.setattr(components, "PARALLEL_MIN_PAIRS", 0)
    case = _random_case(seed)
    cfg = ResolveConfig(unique_sources=["reg"])
    _load(ws, case)
    st = cluster_records(ws, cfg, "select unique_id from resolve_input", "_resolve_pairs")
    got = dict(ws.con.execute(f"select unique_id, cluster from {CLUSTERS_TABLE}").fetchall())
    assert set(got) == set(case["keys"])
    assert _partition(got) == _partition(_reference(case, cfg))
    assert st.settled_in_sql + st.searched == st.components


def test_settled_components_take_their_best_link(ws: Workspace) -> None:
    case = {"keys": ["a:1", "a:2", "a:3", "b:1"], "anum": {}, "src": {
        "a:1": "a", "a:2": "a", "a:3": "a", "b:1": "b"},
            "pairs": {("a:1", "a:2"): (0.99, 10.0, False), ("a:2", "a:3"): (0.95, 8.0, False),
                      ("a:1", "a:3"): (0.7, 2.0, False), ("a:3", "b:1"): (0.2, -1.0, False)},
            "decisions": []}
    _load(ws, case)
    st = cluster_records(ws, ResolveConfig(), "select unique_id from resolve_input",
                         "_resolve_pairs")
    rows = dict(ws.con.execute(f"select unique_id, best_link from {CLUSTERS_TABLE}").fetchall())
    assert st.settled_in_sql == 1 and st.searched == 0
    assert rows == {"a:1": 0.99, "a:2": 0.99, "a:3": 0.95, "b:1": 1.0}


def test_scoring_into_pairs_equals_predict(tmp_path: Path) -> None:
    from tests.resolve.test_resolve import CRAFTED

    ws = Workspace(tmp_path / "ws")
    insert_records(ws, CRAFTED)
    resolve_workspace(ws, full=True, progress=False)
    cfg = ResolveConfig()
    settings = json.loads(Path(latest_model_path(ws)).read_text(encoding="utf-8"))
    linker, _sdf, _api = rtraining.make_linker(ws, "resolve_input", settings)
    preds = linker.inference.predict(warning_mode="never")
    _materialise_pairs(ws, preds.physical_name, cfg, target="_old_pairs")
    linker, _sdf, _api = rtraining.make_linker(ws, "resolve_input", settings)
    n = score_pairs_into(ws, linker, "_new_pairs",
                         lambda p: pairs_select_sql(cfg, p, join_input=True))
    q = "select * from {} order by l, r"
    old = ws.con.execute(q.format("_old_pairs")).fetchall()
    assert n == len(old) > 0
    assert ws.con.execute(q.format("_new_pairs")).fetchall() == old
    ws.close()


# ---- one-to-one links between deduplicated sources -------------------------------------------

def test_one_to_one_between_unique_sources(ws: Workspace) -> None:
    from casegraph.resolve.onetoone import RUNNER_UP, apply_one_to_one

    con = ws.con
    con.execute("create or replace table resolve_input (unique_id varchar, source varchar, "
                "a_number varchar)")
    for k in ("a:1", "a:2", "b:1", "b:2", "b:3", "c:1"):
        con.execute("insert into resolve_input values (?, ?, null)", [k, k.split(":")[0]])
    con.execute("create or replace table _resolve_pairs (l varchar, r varchar, model_p double, "
                "mw double, must boolean, p double)")
    rows = [("a:1", "b:1", 0.97, 9.0, False, 0.97),   # a:1's best into b
            ("a:1", "b:2", 0.95, 8.0, False, 0.95),   # runner-up: not followed
            ("a:2", "b:3", 0.7, 3.0, False, 0.7),     # mutual best, below 0.9: followed
            ("a:2", "b:2", 0.6, 2.0, False, 0.001),   # capped by a hard rule: stays capped
            ("a:1", "c:1", 0.95, 8.0, False, 0.95)]   # c is not a unique source: untouched
    for r in rows:
        con.execute("insert into _resolve_pairs values (?, ?, ?, ?, ?, ?)", list(r))
    cfg = ResolveConfig(unique_sources=["a", "b"], mutual_best_threshold=0.5)
    demoted = apply_one_to_one(ws, cfg, "_resolve_pairs")
    p = {(l, r): p for l, r, p in con.execute("select l, r, p from _resolve_pairs").fetchall()}
    assert p[("a:1", "b:1")] == 0.97
    assert p[("a:1", "b:2")] < cfg.link_threshold
    assert p[("a:2", "b:3")] >= cfg.link_threshold
    assert p[("a:2", "b:2")] == 0.001
    assert p[("a:1", "c:1")] == 0.95
    assert demoted == [("a:1", "b:2", 0.95, RUNNER_UP)]
    off = ResolveConfig(unique_sources=["a", "b"], one_to_one_unique_sources=False)
    assert apply_one_to_one(ws, off, "_resolve_pairs") == []
