"""The batch pipeline on DuckDB vs Spark local mode, every phase on both engines.

    .venv/bin/python benchmarks/bench_scaleout.py --people 10000 [--master local[2]]

Synthesises an agency, then runs ingest, resolve (full), score, leads and departures on
each engine in its own workspace (the Spark run scores pairs with the model the DuckDB run
trained: "same settings and trained model"), prints the wall time of every phase and
whether the engines agree on every output: persons (as record partitions), gate verdicts,
priorities, leads and departures. ``--json FILE`` also writes the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from casegraph.workspace import Workspace

AS_OF = dt.date(2026, 11, 1)
PHASES = ("spark start", "ingest", "resolve", "score", "leads", "departures")
RUN = "(select run_id from score_runs order by created_at desc limit 1)"

#: What must be identical, as queries whose first column is a person id.
CHECKS = {
    "gate verdicts": "select person_id, gate, verdict, reason, evidence::varchar, "
                     f"flags::varchar from gate_results where run_id = {RUN}",
    "eligibility": "select person_id, eligible, blocking::varchar, flags::varchar "
                   f"from eligibility where run_id = {RUN}",
    "priorities": f"select person_id, score, contributions::varchar from priority "
                  f"where run_id = {RUN}",
    "leads": "select person_id, priority_score, confidence, address, flags::varchar, "
             f"candidates::varchar, rank from leads where run_id = {RUN}",
    "departures": "select person_id, status, channel, departure_date, evidence::varchar, "
                  "returned, claims::varchar from departure_status",
}


def _clusters(ws: Workspace) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = defaultdict(list)
    for key, pid in ws.con.execute("select record_key, person_id from person_records").fetchall():
        members[pid].append(key)
    return {pid: tuple(sorted(keys)) for pid, keys in members.items()}


def _keyed(ws: Workspace, sql: str) -> list[tuple]:
    of = _clusters(ws)
    return sorted((of.get(r[0], (r[0],)),) + tuple(r[1:]) for r in ws.con.execute(sql).fetchall())


def compare(a: Workspace, b: Workspace) -> dict[str, Any]:
    """Which outputs agree; for persons, how many records are placed differently."""
    ca, cb = set(_clusters(a).values()), set(_clusters(b).values())
    moved = {k for c in ca ^ cb for k in c}
    out: dict[str, Any] = {"persons": not moved, "records placed differently": len(moved)}
    for name, sql in CHECKS.items():
        ra, rb = _keyed(a, sql), _keyed(b, sql)
        out[name] = ra == rb
        if ra != rb:
            out[f"{name}: rows differing"] = len(set(ra) ^ set(rb))
    return out


def run(people: int, master: str, workdir: Path) -> dict[str, Any]:
    from casegraph.departures.classify import classify_departures
    from casegraph.leads.build import build_leads
    from casegraph.policy.score import run_scoring
    from casegraph.resolve.pipeline import resolve_workspace
    from casegraph.scaleout.cluster import cluster_on_spark
    from casegraph.scaleout.departures import decide_departures_on_spark
    from casegraph.scaleout.ingest import ingest_on_spark
    from casegraph.scaleout.leads import observations_on_spark
    from casegraph.scaleout.resolve import predict_to_lake
    from casegraph.scaleout.score import decide_on_spark
    from casegraph.scaleout.session import get_spark
    from casegraph.sources.ingest import ingest_specs
    from casegraph.synth import generate

    os.environ["CASEGRAPH_SPARK_MASTER"] = master
    data = workdir / "agency"
    t = time.perf_counter()
    generate(people, data, seed=5, as_of=AS_OF)
    print(f"synth {people:,} people: {time.perf_counter() - t:.1f} s", flush=True)
    specs = sorted(data.glob("*.yaml"))
    timings: dict[str, dict[str, float]] = {}
    spaces: dict[str, Workspace] = {}
    for engine in ("duckdb", "spark"):
        ws = spaces[engine] = Workspace(workdir / engine)
        spark = engine == "spark"
        tm: dict[str, float] = timings.setdefault(engine, {})

        def timed(phase: str, fn: Callable[[], Any], tm: dict[str, float] = tm,
                  engine: str = engine) -> None:
            t = time.perf_counter()
            fn()
            tm[phase] = time.perf_counter() - t
            print(f"  {engine:<7}{phase:<12}{tm[phase]:8.1f} s", flush=True)

        if spark:
            timed("spark start", get_spark)
            timed("ingest", lambda ws=ws: ingest_on_spark(ws, specs, progress=False))
            model = max(spaces["duckdb"].models_dir.glob("*.json"))
            timed("resolve", lambda ws=ws, m=model: resolve_workspace(
                ws, full=True, progress=False, model=m, predictor=predict_to_lake,
                clusterer=cluster_on_spark))
            timed("score", lambda ws=ws: run_scoring(ws, AS_OF, decide_all=decide_on_spark))
            timed("leads", lambda ws=ws: build_leads(ws, observations=observations_on_spark))
            timed("departures", lambda ws=ws: classify_departures(
                ws, AS_OF, decide_all=decide_departures_on_spark))
        else:
            timed("ingest", lambda ws=ws: ingest_specs(ws, specs, progress=False))
            timed("resolve", lambda ws=ws: resolve_workspace(ws, full=True, progress=False))
            timed("score", lambda ws=ws: run_scoring(ws, AS_OF))
            timed("leads", lambda ws=ws: build_leads(ws))
            timed("departures", lambda ws=ws: classify_departures(ws, AS_OF))
    d = spaces["duckdb"]
    records = d.con.execute("select count(*) from current_records").fetchall()[0][0]
    persons = d.con.execute("select count(*) from persons").fetchall()[0][0]
    agree = compare(d, spaces["spark"])
    print(f"\n{platform.node()} {os.cpu_count()} cores, {dt.date.today()}, "
          f"{people:,} people / {records:,} records / {persons:,} persons, "
          f"Spark master {master}")
    print("| phase | DuckDB s | Spark s |\n|---|---:|---:|")
    for phase in PHASES:
        a, b = timings["duckdb"].get(phase), timings["spark"].get(phase)
        print(f"| {phase} | {'—' if a is None else f'{a:.1f}'} | "
              f"{'—' if b is None else f'{b:.1f}'} |")
    print("agreement:", json.dumps(agree))
    for ws in spaces.values():
        ws.close()
    return {"people": people, "records": records, "persons": persons, "master": master,
            "date": dt.date.today().isoformat(), "timings": timings, "agreement": agree}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--people", type=int, default=10000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    a = ap.parse_args()
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="cg-scaleout-"))
    res = run(a.people, a.master, workdir)
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
