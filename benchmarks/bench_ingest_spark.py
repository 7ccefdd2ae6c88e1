"""Ingest on both engines: time each, then check the sources tables are identical.

    nice -n 10 .venv/bin/python benchmarks/bench_ingest_spark.py --people 20000 --work /tmp/bi
    nice -n 10 .venv/bin/python benchmarks/bench_ingest_spark.py --data /tmp/s20k --work /tmp/bi

Spark runs ``local[2]`` unless ``CASEGRAPH_SPARK_MASTER`` says otherwise; its session start
is timed apart. The load average before and after each run is printed (the machine is
shared: say it next to any figure you quote).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import time
from pathlib import Path

from casegraph.ontology import RECORDS_COLUMNS
from casegraph.workspace import Workspace

QUERIES = {
    "records": "select " + ", ".join(f'"{c}"' for c, _ in RECORDS_COLUMNS
                                     if c not in ("batch_id", "loaded_at")) + " from records",
    "quarantine": "select source, row_number, record_id, reason, raw::varchar from quarantine",
    "batches": "select batch_id, source, rows_read, rows_accepted, rows_quarantined, "
               "rows_superseded, rows_with_issues, notices::varchar from batches",
}


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _same(a: Workspace, b: Workspace) -> dict[str, bool]:
    return {t: sorted(map(repr, a.con.execute(q).fetchall()))
            == sorted(map(repr, b.con.execute(q).fetchall())) for t, q in QUERIES.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--data", type=Path, help="an existing `casegraph synth` directory")
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args()
    os.environ.setdefault("CASEGRAPH_SPARK_MASTER", "local[2]")
    data = args.data
    if data is None:
        from casegraph.synth import generate

        data = args.work / "agency"
        generate(args.people, data, seed=5, as_of=dt.date(2026, 11, 1))
    spaces = {}
    for engine in ("duckdb", "spark"):
        path = args.work / engine
        shutil.rmtree(path, ignore_errors=True)
        ws = spaces[engine] = Workspace(path)
        before = _load()
        if engine == "spark":
            from casegraph.scaleout.ingest import ingest_on_spark
            from casegraph.scaleout.session import get_spark

            t = time.perf_counter()
            get_spark()
            print(f"spark session start {time.perf_counter() - t:.1f} s", flush=True)
            t = time.perf_counter()
            reports, _ = ingest_on_spark(ws, [data], progress=False)
        else:
            from casegraph.sources.ingest import ingest_specs

            t = time.perf_counter()
            reports = ingest_specs(ws, [data], progress=False)
        took = time.perf_counter() - t
        print(f"{engine:<7} ingest {took:7.1f} s  rows read {sum(r.read for r in reports):,}  "
              f"accepted {sum(r.accepted for r in reports):,}  "
              f"quarantined {sum(r.quarantined for r in reports):,}  "
              f"load {before} -> {_load()}", flush=True)
    print("identical:", _same(spaces["duckdb"], spaces["spark"]))


if __name__ == "__main__":
    main()
