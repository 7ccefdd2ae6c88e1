"""The batch pipeline on DuckDB vs Spark local mode, phase by phase.

    .venv/bin/python benchmarks/bench_scaleout.py --people 20000 [--master local[2]]

Synthesises an agency, ingests it once, copies the warehouse, then runs resolve (full),
score, leads and departures on each engine and prints the wall time of every phase and
whether the two engines agree (persons as record partitions, gate verdicts, leads).
Record the printed table in docs/benchmarks.md with the machine and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from casegraph.workspace import Workspace

AS_OF = dt.date(2026, 11, 1)


def _partition(ws: Workspace) -> set[frozenset[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for key, pid in ws.con.execute("select record_key, person_id from person_records").fetchall():
        members[pid].add(key)
    return {frozenset(v) for v in members.values()}


def _verdicts(ws: Workspace) -> list[tuple]:
    of = {}
    for key, pid in ws.con.execute("select record_key, person_id from person_records").fetchall():
        of.setdefault(pid, []).append(key)
    rows = ws.con.execute(
        "select person_id, gate, verdict from gate_results where run_id = "
        "(select run_id from score_runs order by created_at desc limit 1)").fetchall()
    return sorted((tuple(sorted(of[p])), g, v) for p, g, v in rows)


def run(people: int, master: str, workdir: Path) -> None:
    from casegraph.departures.classify import classify_departures
    from casegraph.leads.build import build_leads
    from casegraph.policy.score import run_scoring
    from casegraph.resolve.pipeline import resolve_workspace
    from casegraph.scaleout.resolve import predict_on_spark
    from casegraph.scaleout.score import decide_on_spark
    from casegraph.scaleout.session import get_spark
    from casegraph.sources.ingest import ingest_specs
    from casegraph.synth import generate

    os.environ["CASEGRAPH_SPARK_MASTER"] = master
    data = workdir / "agency"
    t = time.perf_counter()
    generate(people, data, seed=5, as_of=AS_OF)
    print(f"synth {people:,} people: {time.perf_counter() - t:.1f} s")
    base = Workspace(workdir / "base")
    t = time.perf_counter()
    ingest_specs(base, sorted(data.glob("*.yaml")), progress=False)
    records = base.con.execute("select count(*) from current_records").fetchall()[0][0]
    print(f"ingest {records:,} records: {time.perf_counter() - t:.1f} s")
    base.close()
    timings: dict[str, dict[str, float]] = {}
    spaces = {}
    for engine in ("duckdb", "spark"):
        shutil.copytree(workdir / "base", workdir / engine)
        ws = Workspace(workdir / engine)
        spaces[engine] = ws
        tm: dict[str, float] = {}
        if engine == "spark":
            t = time.perf_counter()
            get_spark()
            tm["spark start"] = time.perf_counter() - t
        t = time.perf_counter()
        # the Spark run scores with the model the DuckDB run trained ("same settings and
        # trained model"): training samples pairs, so two trainings are not bit-identical
        model = (sorted(spaces["duckdb"].models_dir.glob("*.json"))[-1]
                 if engine == "spark" else None)
        resolve_workspace(ws, full=True, progress=False, model=model,
                          predictor=predict_on_spark if engine == "spark" else None)
        tm["resolve"] = time.perf_counter() - t
        t = time.perf_counter()
        run_scoring(ws, AS_OF, decide_all=decide_on_spark if engine == "spark" else None)
        tm["score"] = time.perf_counter() - t
        t = time.perf_counter()
        build_leads(ws)
        tm["leads"] = time.perf_counter() - t
        t = time.perf_counter()
        classify_departures(ws, as_of=AS_OF)
        tm["departures"] = time.perf_counter() - t
        timings[engine] = tm
    print(f"\n{platform.node()} {os.cpu_count()} cores, {dt.date.today()}, "
          f"{people:,} people / {records:,} records, Spark master {master}")
    print(f"{'phase':<14}{'duckdb s':>10}{'spark s':>10}")
    for phase in ("spark start", "resolve", "score", "leads", "departures"):
        d, s = timings["duckdb"].get(phase), timings["spark"].get(phase)
        print(f"{phase:<14}{'' if d is None else f'{d:.1f}':>10}{'' if s is None else f'{s:.1f}':>10}")
    same_p = _partition(spaces["duckdb"]) == _partition(spaces["spark"])
    same_v = _verdicts(spaces["duckdb"]) == _verdicts(spaces["spark"])
    print(f"identical persons: {same_p}; identical gate verdicts: {same_v}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--workdir", type=Path, default=None)
    a = ap.parse_args()
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="cg-scaleout-"))
    run(a.people, a.master, workdir)


if __name__ == "__main__":
    main()
