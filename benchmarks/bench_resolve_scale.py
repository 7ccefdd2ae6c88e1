"""Identity resolution at scale: wall time per phase, peak memory, accuracy, one size per process.

Usage:
    python benchmarks/bench_resolve_scale.py DIR [DIR ...] [--train-sample N] [--no-incremental]

Each ``DIR`` is ``casegraph synth --people N --out DIR`` ingested into ``DIR/ws``
(``casegraph ingest DIR/*.yaml -w DIR/ws``); about 7.2 records per person, so
14k / 42k / 139k people give the 100k / 300k / 1M points of the scale curve. Each size runs
in its own process on a copy of the workspace (peak RSS is per size): a full run from
``current_records`` to ``persons``, then (unless ``--no-incremental``) an incremental run
after 1% of the records get a new batch version. Prints one JSON line per size (wall and
CPU seconds, in total and per phase); the
figures are recorded in docs/bench-resolve-speed.md with the date and the machine's load.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from casegraph.resolve import pipeline
from casegraph.resolve.evaluate import predicted_from_workspace, score_clusters
from casegraph.workspace import Workspace


def _truth(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {f"{r['source']}:{r['record_id']}": r["person_id"] for r in csv.DictReader(fh)}


def _cpu() -> float:
    """CPU seconds of this process (all DuckDB threads) and its finished children (the
    clustering's forked workers): on a shared machine wall time moves with the load, CPU
    time much less."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _time_phases_cpu(cpu: dict[str, float]) -> None:
    """Record each resolve phase's CPU seconds in ``cpu`` (wraps ``pipeline._Phases.phase``)."""
    orig = pipeline._Phases.phase

    @contextmanager
    def phase(self: Any, name: str) -> Iterator[None]:
        c = _cpu()
        try:
            with orig(self, name):
                yield
        finally:
            cpu[name] = round(_cpu() - c, 1)

    pipeline._Phases.phase = phase  # type: ignore[method-assign]


def one(synth: Path, train_sample: int | None, incremental: bool) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("casegraph.resolve").setLevel(logging.INFO)
    dst = Path(tempfile.mkdtemp(prefix="bench-resolve-scale-")) / "ws"
    shutil.copytree(synth / "ws", dst, ignore=shutil.ignore_patterns("search-index", "*.sqlite*"))
    ws = Workspace(dst)
    if train_sample is not None:
        sec = dict(ws.raw_config().get("resolve") or {})
        sec["train_sample_records"] = train_sample
        ws.set_section("resolve", sec)
    load0 = os.getloadavg()[0]
    phases_cpu: dict[str, float] = {}
    _time_phases_cpu(phases_cpu)
    t, c = time.perf_counter(), _cpu()
    rep = pipeline.resolve_workspace(ws, full=True, progress=False)
    el, cpu = time.perf_counter() - t, _cpu() - c
    out: dict[str, Any] = {
        "dataset": synth.name, "records": rep.records, "persons": rep.persons,
        "seconds": round(el, 1), "cpu_seconds": round(cpu, 1), "phases": rep.timings,
        "phases_cpu": dict(phases_cpu), "pairs": rep.pairs_scored,
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "load_before": round(load0, 1), "load_after": round(os.getloadavg()[0], 1),
        "notes": rep.notes}
    truth_csv = synth / "truth" / "records.csv"
    if truth_csv.exists():
        out["accuracy"] = score_clusters(predicted_from_workspace(ws), _truth(truth_csv)).as_dict()
    if incremental:
        ws.con.execute("update records set batch_id = 'bench-touch' where is_current and "
                       "hash(record_key) % 100 = 0")
        t = time.perf_counter()
        inc = pipeline.resolve_workspace(ws, progress=False)
        out["incremental_1pct_seconds"] = round(time.perf_counter() - t, 1)
        out["incremental_phases"] = inc.timings
        out["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    ws.close()
    shutil.rmtree(dst.parent, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("synth", nargs="+", type=Path)
    ap.add_argument("--train-sample", type=int, default=None,
                    help="resolve.train_sample_records for the run (default: the config's)")
    ap.add_argument("--no-incremental", action="store_true")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.synth[0], a.train_sample, not a.no_incremental)), flush=True)
        return
    for d in a.synth:  # one process per size, so that peak memory is per size
        cmd = [sys.executable, __file__, str(d), "--one"]
        if a.train_sample is not None:
            cmd += ["--train-sample", str(a.train_sample)]
        if a.no_incremental:
            cmd.append("--no-incremental")
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        print(res.stdout.strip() or res.stderr[-3000:], flush=True)


if __name__ == "__main__":
    main()
