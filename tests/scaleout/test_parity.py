"""Parity: the batch pipeline on Spark (local mode) gives the embedded engine's results.

Two workspaces ingest the same synthetic agency. One resolves and scores on DuckDB, the
other scores candidate pairs and decides every person on Spark. Persons must be the same
partition of records (ids may differ), gate verdicts identical, and leads identical.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from casegraph.workspace import Workspace

AS_OF = dt.date(2026, 11, 1)
PEOPLE = 2000

pytestmark = [pytest.mark.spark]


def _have_spark() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Workspace]:
    if not _have_spark():
        pytest.skip("no Java runtime for local Spark")
    from casegraph.leads.build import build_leads
    from casegraph.policy.score import run_scoring
    from casegraph.resolve.pipeline import resolve_workspace
    from casegraph.scaleout.resolve import predict_on_spark
    from casegraph.scaleout.score import decide_on_spark
    from casegraph.sources.ingest import ingest_specs
    from casegraph.synth import generate

    root = tmp_path_factory.mktemp("parity")
    data = root / "agency"
    generate(PEOPLE, data, seed=11, as_of=AS_OF)
    specs = sorted(data.glob("*.yaml"))
    ws_d, ws_s = Workspace(root / "duckdb"), Workspace(root / "spark")
    for ws in (ws_d, ws_s):
        ingest_specs(ws, specs, progress=False)
    resolve_workspace(ws_d, full=True, progress=False)
    trained = sorted(ws_d.models_dir.glob("*.json"))[-1]
    resolve_workspace(ws_s, full=True, progress=False, predictor=predict_on_spark, model=trained)
    run_scoring(ws_d, AS_OF)
    run_scoring(ws_s, AS_OF, decide_all=decide_on_spark)
    for ws in (ws_d, ws_s):
        build_leads(ws)
    yield ws_d, ws_s
    for ws in (ws_d, ws_s):
        ws.close()


def _partition(ws: Workspace) -> tuple[set[frozenset[str]], dict[str, frozenset[str]]]:
    """Clusters as sets of record keys, and each person id's cluster."""
    members: dict[str, set[str]] = defaultdict(set)
    for key, pid in ws.con.execute("select record_key, person_id from person_records").fetchall():
        members[pid].add(key)
    of = {pid: frozenset(keys) for pid, keys in members.items()}
    return set(of.values()), of


def test_same_trained_model(pair: tuple[Workspace, Workspace]) -> None:
    ws_d, ws_s = pair
    import json

    models = [json.loads(sorted(ws.models_dir.glob("*.json"))[-1].read_text()) for ws in pair]
    for m in models:
        m.pop("linker_uid", None)
    assert models[0] == models[1]


def test_identical_persons(pair: tuple[Workspace, Workspace]) -> None:
    (pd_, _), (ps, _) = _partition(pair[0]), _partition(pair[1])
    assert len(pd_) > PEOPLE * 0.5
    assert pd_ == ps


def _by_cluster(ws: Workspace, sql: str) -> list[tuple]:
    """Rows of ``sql`` (first column person_id) keyed by the person's records, not the id."""
    _, of = _partition(ws)
    rows = ws.con.execute(sql).fetchall()
    return sorted((tuple(sorted(of[r[0]])),) + tuple(r[1:]) for r in rows)


def test_identical_gate_verdicts(pair: tuple[Workspace, Workspace]) -> None:
    sql = ("select g.person_id, g.gate, g.verdict, g.reason, g.evidence::varchar from gate_results g "
           "where g.run_id = (select run_id from score_runs order by created_at desc limit 1)")
    a, b = (_by_cluster(ws, sql) for ws in pair)
    assert len(a) > 0
    assert a == b


def test_identical_priorities_and_leads(pair: tuple[Workspace, Workspace]) -> None:
    run = "(select run_id from score_runs order by created_at desc limit 1)"
    prio = f"select person_id, score, contributions::varchar from priority where run_id = {run}"
    leads = (f"select person_id, priority_score, confidence, address, flags::varchar "
             f"from leads where run_id = {run}")
    for sql in (prio, leads):
        a, b = (_by_cluster(ws, sql) for ws in pair)
        assert a == b
    assert _by_cluster(pair[0], leads), "the synthetic agency should produce leads"


def test_lake_holds_parquet(pair: tuple[Workspace, Workspace]) -> None:
    from casegraph.scaleout.lake import lake_uri

    lake = Path(lake_uri(pair[1]))
    assert any(lake.rglob("*.parquet"))
