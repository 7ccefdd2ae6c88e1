"""Benchmark of the synthetic agency generator: wall time, records/s, peak memory, output size.

Usage: .venv/bin/python benchmarks/bench_synth.py [--people 100000 1000000] [--out DIR]
Each size runs in a fresh process so peak RSS is per size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from casegraph.synth import generate
n, out = int(sys.argv[1]), sys.argv[2]
steps, last = [], [time.perf_counter()]
def step(msg):
    now = time.perf_counter(); steps.append((msg, now - last[0])); last[0] = now
t0 = time.perf_counter()
s = generate(n, out, seed=1, as_of="2026-11-15", progress=step)
wall = time.perf_counter() - t0
steps.append(("(end)", time.perf_counter() - last[0]))
phases = {}
for (name, _), (_, dt) in zip(steps, steps[1:]):
    phases[name] = round(dt, 2)
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"people": n, "wall_s": round(wall, 2), "records": s.records,
                  "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
                  "records_per_s": round(s.records / wall),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "phases": phases}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--out", type=Path, default=None, help="Keep the output here (default: temp).")
    args = ap.parse_args()
    for n in args.people:
        out = args.out / str(n) if args.out else Path(tempfile.mkdtemp(prefix="bench_synth_"))
        try:
            res = subprocess.run([sys.executable, "-c", CHILD, str(n), str(out)],
                                 capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONHASHSEED": "0"})
            r = json.loads(res.stdout.strip().splitlines()[-1])
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
            r["output_mb"] = round(size / 2**20)
            print(f"{n:>10,} people  {r['wall_s']:>7.1f} s wall  {r['cpu_s']:>7.1f} s cpu  "
                  f"{r['records']:>11,} records  "
                  f"{r['records_per_s']:>9,} rec/s  peak {r['peak_rss_mb']:,} MB  "
                  f"output {r['output_mb']:,} MB")
            print("            phases: " + ", ".join(f"{k} {v}s" for k, v in r["phases"].items()))
        finally:
            if not args.out:
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
