"""Parity: every batch command on Spark (local mode) gives the embedded engine's results.

Both workspaces run ``ingest``, ``resolve --full``, ``score``, ``leads`` and ``departures``
through the CLI on the same synthetic agency (see ``conftest.py``); the Spark one with
``--engine spark`` and the DuckDB run's trained model. Persons must be the same partition
of records (ids may differ), and gate verdicts, priorities, leads and departures identical.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from casegraph.workspace import Workspace
from tests.scaleout.conftest import Pair

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

RUN = "(select run_id from score_runs order by created_at desc limit 1)"


def _partition(ws: Workspace) -> tuple[set[frozenset[str]], dict[str, frozenset[str]]]:
    """Clusters as sets of record keys, and each person id's cluster."""
    members: dict[str, set[str]] = defaultdict(set)
    for key, pid in ws.con.execute("select record_key, person_id from person_records").fetchall():
        members[pid].add(key)
    of = {pid: frozenset(keys) for pid, keys in members.items()}
    return set(of.values()), of


def _by_cluster(ws: Workspace, sql: str) -> list[tuple]:
    """Rows of ``sql`` (first column person_id) keyed by the person's records, not the id."""
    _, of = _partition(ws)
    rows = ws.con.execute(sql).fetchall()
    return sorted((tuple(sorted(of[r[0]])),) + tuple(r[1:]) for r in rows)


def _both(pair: Pair, sql: str) -> tuple[list[tuple], list[tuple]]:
    return _by_cluster(pair.duckdb, sql), _by_cluster(pair.spark, sql)


def test_same_trained_model(pair: Pair) -> None:
    models = [json.loads(max(ws.models_dir.glob("*.json")).read_text())
              for ws in (pair.duckdb, pair.spark)]
    for m in models:
        m.pop("linker_uid", None)
    assert models[0] == models[1]


def test_identical_persons(pair: Pair) -> None:
    (pd_, _), (ps, _) = _partition(pair.duckdb), _partition(pair.spark)
    assert len(pd_) > 100
    assert pd_ == ps


def test_identical_gate_verdicts(pair: Pair) -> None:
    a, b = _both(pair, "select person_id, gate, verdict, reason, evidence::varchar, "
                       f"flags::varchar from gate_results where run_id = {RUN}")
    assert a
    assert a == b
    a, b = _both(pair, "select person_id, eligible, blocking::varchar, flags::varchar "
                       f"from eligibility where run_id = {RUN}")
    assert any(r[1] for r in a), "the synthetic agency should have eligible persons"
    assert a == b


def test_identical_priorities_and_leads(pair: Pair) -> None:
    prio = f"select person_id, score, contributions::varchar from priority where run_id = {RUN}"
    leads = ("select person_id, priority_score, confidence, address, flags::varchar, "
             f"candidates::varchar, latitude, longitude, rank from leads where run_id = {RUN}")
    for sql in (prio, leads):
        a, b = _both(pair, sql)
        assert a == b
    assert _by_cluster(pair.duckdb, leads), "the synthetic agency should produce leads"


def test_identical_departures(pair: Pair) -> None:
    sql = ("select person_id, status, channel, departure_date, evidence::varchar, returned, "
           "claims::varchar, as_of from departure_status")
    a, b = _both(pair, sql)
    assert a, "the synthetic agency should have departures"
    assert a == b
    assert pair.outputs["duckdb"]["departures"] == pair.outputs["spark"]["departures"]


def test_leads_command_output(pair: Pair) -> None:
    """``casegraph leads --format json`` prints the same leads (ids and run aside)."""
    def norm(out: str) -> list[dict]:
        items = json.loads(out)
        for d in items:
            for k in ("lead_id", "person_id", "run_id"):
                d.pop(k)
        return items

    a, b = (norm(pair.outputs[e]["leads"]) for e in ("duckdb", "spark"))
    assert a and a == b


def test_ingest_publishes_the_lake(pair: Pair) -> None:
    import pyarrow.parquet as pq

    from casegraph.scaleout.lake import batch_uri, committed_batches, lake_uri

    n = pair.spark.con.execute("select count(*) from records").fetchall()[0][0]
    batches = committed_batches(pair.spark)  # the system of record (test_ingest_spark.py)
    assert sum(pq.read_table(batch_uri(pair.spark, b, "records")).num_rows
               for b in batches) == n
    assert not (Path(lake_uri(pair.duckdb)) / "sources").exists()
    assert "lake" in pair.outputs["spark"]["ingest"]
