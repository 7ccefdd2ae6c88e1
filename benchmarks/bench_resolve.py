"""Identity resolution benchmarks: accuracy (FEBRL1-4, synthetic), blocking, speed.

Usage:
    python benchmarks/bench_resolve.py accuracy [--febrl febrl1,febrl2,febrl3,febrl4]
                                                [--synth DIR ...]
    python benchmarks/bench_resolve.py blocking --synth DIR
    python benchmarks/bench_resolve.py misses --synth DIR
    python benchmarks/bench_resolve.py speed --synth DIR [--synth DIR ...]

``--synth DIR`` is the output of ``casegraph synth --people N --out DIR`` ingested into
``DIR/ws`` (``casegraph ingest DIR/*.yaml -w DIR/ws``); the truth is ``DIR/truth/records.csv``.
``misses`` breaks the records left outside their person's main cluster down by source,
by the fields they carry, by the best scored link to that cluster (or no candidate pair at
all), and by which non-name field they share with any record of their person.
Each run works on a copy of the workspace. Results go to stdout; docs/bench-resolve.md
records them with the machine and date.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from casegraph.resolve import pipeline
from casegraph.resolve.baseline import baseline_clusters
from casegraph.resolve.evaluate import (
    load_febrl,
    predicted_from_workspace,
    score_clusters,
)
from casegraph.workspace import Workspace

FEBRL_VARIANTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    # (label, workspace.yaml resolve section)
    "default": [("casegraph", {})],
    "febrl4": [("casegraph", {}),
               ("casegraph, deduplicated sources", {
                   "distinct_given_names_veto": False,
                   "unique_sources": ["febrl4a", "febrl4b"]})],
    "febrl3": [("casegraph", {}),
               ("casegraph, no given-name veto", {"distinct_given_names_veto": False})],
}


def _row(dataset: str, method: str, s: Any, seconds: float, extra: str = "") -> str:
    d = s.as_dict()
    return (f"| {dataset} | {method} | {d['pair_precision']:.4f} | {d['pair_recall']:.4f} | "
            f"{d['pair_f1']:.4f} | {d['b3_precision']:.4f} | {d['b3_recall']:.4f} | "
            f"{d['b3_f1']:.4f} | {seconds:.1f} | {extra} |")


HEADER = ("| data | method | pair P | pair R | pair F1 | B3 P | B3 R | B3 F1 | s | notes |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def _truth_csv(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {f"{r['source']}:{r['record_id']}": r["person_id"] for r in csv.DictReader(fh)}


def _copy_ws(src: Path) -> Path:
    dst = Path(tempfile.mkdtemp(prefix="bench-resolve-")) / "ws"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("search-index", "*.sqlite*"))
    return dst


def accuracy(febrl: list[str], synth: list[Path]) -> None:
    print(HEADER)
    for name in febrl:
        for label, cfg in FEBRL_VARIANTS.get(name, FEBRL_VARIANTS["default"]):
            ws = Workspace(Path(tempfile.mkdtemp()) / "ws")
            ws.set_section("resolve", cfg)
            truth = load_febrl(ws, name)
            t = time.perf_counter()
            rep = pipeline.resolve_workspace(ws, full=True, progress=False)
            el = time.perf_counter() - t
            print(_row(name, label, score_clusters(predicted_from_workspace(ws), truth), el,
                       f"review {rep.review_open}"), flush=True)
            ws.close()
        ws = Workspace(Path(tempfile.mkdtemp()) / "ws")
        truth = load_febrl(ws, name)
        t = time.perf_counter()
        pred = baseline_clusters(ws)
        print(_row(name, "plain Splink (baseline)", score_clusters(pred, truth),
                   time.perf_counter() - t), flush=True)
        ws.close()
    for d in synth:
        truth = _truth_csv(d / "truth" / "records.csv")
        ws = Workspace(_copy_ws(d / "ws"))
        t = time.perf_counter()
        rep = pipeline.resolve_workspace(ws, full=True, progress=False)
        el = time.perf_counter() - t
        print(_row(f"synthetic {d.name} ({rep.records:,} records)", "casegraph",
                   score_clusters(predicted_from_workspace(ws), truth), el,
                   f"review {rep.review_open}, persons {rep.persons:,}"), flush=True)
        t = time.perf_counter()
        pred = baseline_clusters(ws)
        print(_row(f"synthetic {d.name}", "plain Splink (baseline)", score_clusters(pred, truth),
                   time.perf_counter() - t), flush=True)
        ws.close()


def blocking(synth: Path) -> None:
    """Comparisons per blocking rule (Splink's blocking analysis) and true-pair recall."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from casegraph.resolve.model import blocking_rules
    from casegraph.resolve.prepare import INPUT_TABLE, build_input

    truth = _truth_csv(synth / "truth" / "records.csv")
    ws = Workspace(_copy_ws(synth / "ws"))
    n = build_input(ws)
    api = DuckDBAPI(connection=ws.con)
    recs = count_comparisons_from_blocking_rules(
        api.register(INPUT_TABLE), blocking_rules=blocking_rules(), link_type="dedupe_only",
        record_sample_proportion=1.0)
    print(f"records {n:,}")
    print("| rule | marginal pairs | cumulative |\n|---|---|---|")
    for r in recs:
        print(f"| `{r['blocking_rule']}` | {r['marginal_comparison_count']:,} | "
              f"{r['cumulative_comparison_count']:,} |")
    pipeline.KEEP_PAIRS = True
    pipeline.resolve_workspace(ws, full=True, progress=False)
    scored = {(l, r) for l, r in ws.con.execute(
        f"select l, r from {pipeline.PAIRS_TABLE}").fetchall()}
    by_person: dict[str, list[str]] = {}
    for k, p in truth.items():
        by_person.setdefault(p, []).append(k)
    tot = hit = 0
    for ks in by_person.values():
        ks.sort()
        for i, a in enumerate(ks):
            for b in ks[i + 1:]:
                tot += 1
                hit += (a, b) in scored
    print(f"true pairs {tot:,}; blocked (scored) {hit:,}; blocking recall {hit / tot:.4f}; "
          f"pairs scored {len(scored):,} ({len(scored) / n:.1f} per record)")


def misses(synth: Path) -> None:
    """Why records end up outside their person's main cluster (see the module docstring)."""
    from collections import Counter, defaultdict

    from casegraph.resolve.prepare import INPUT_TABLE

    truth = _truth_csv(synth / "truth" / "records.csv")
    ws = Workspace(_copy_ws(synth / "ws"))
    pipeline.KEEP_PAIRS = True
    rep = pipeline.resolve_workspace(ws, full=True, progress=False)
    pred = predicted_from_workspace(ws)
    print(_row(synth.name, "casegraph", score_clusters(pred, truth), 0.0,
               f"persons {rep.persons:,}"))
    fields = ("dob", "a_number", "passport", "fbi", "national_id", "phone", "email",
              "street_address", "postcode")
    inp = {r[0]: r[1:] for r in ws.con.execute(
        f"select unique_id, source, {', '.join(fields)} from {INPUT_TABLE}").fetchall()}
    p_of = {(l, r): p for l, r, p in ws.con.execute(
        f"select l, r, p from {pipeline.PAIRS_TABLE}").fetchall()}
    by_person: dict[str, list[str]] = defaultdict(list)
    for k in inp:
        if k in truth and k in pred:
            by_person[truth[k]].append(k)
    split = []
    for ks in by_person.values():
        main = Counter(pred[k] for k in ks).most_common(1)[0][0]
        split += [(k, [m for m in ks if pred[m] == main], [m for m in ks if m != k])
                  for k in ks if pred[k] != main]
    by_source, by_fields, by_link, by_shared = Counter(), Counter(), Counter(), Counter()
    for k, mains, mates in split:
        src, *vals = inp[k]
        by_source[src] += 1
        by_fields["+".join(f for f, v in zip(fields, vals) if v is not None) or "names only"] += 1
        ps = [p_of[(min(k, m), max(k, m))] for m in mains if (min(k, m), max(k, m)) in p_of]
        best = max(ps, default=None)
        by_link["no candidate pair" if best is None else ">= 0.9" if best >= 0.9
                else "0.3-0.9" if best >= 0.3 else "0.01-0.3" if best >= 0.01 else "< 0.01"] += 1
        shared = [f for i, f in enumerate(fields)
                  if vals[i] is not None and any(inp[m][i + 1] == vals[i] for m in mates)]
        by_shared["+".join(shared) or "nothing but the name"] += 1
    print(f"\n{len(split):,} of {len(pred):,} records outside their person's main cluster")
    for title, c in (("source", by_source), ("fields carried", by_fields),
                     ("best link to the main cluster", by_link),
                     ("non-name fields shared with a record of the person", by_shared)):
        print(f"\n| {title} | records |\n|---|---|")
        for key, n in c.most_common(12):
            print(f"| {key} | {n:,} |")
    ws.close()


def speed_one(synth: Path) -> dict[str, Any]:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("casegraph.resolve.pipeline").setLevel(logging.INFO)
    ws = Workspace(_copy_ws(synth / "ws"))
    t = time.perf_counter()
    rep = pipeline.resolve_workspace(ws, full=True, progress=False)
    el = time.perf_counter() - t
    truth_csv = synth / "truth" / "records.csv"
    if truth_csv.exists():
        s = score_clusters(predicted_from_workspace(ws), _truth_csv(truth_csv)).as_dict()
    else:
        s = {}
    # incremental: re-run with 1% of records touched (a new batch version)
    out = {"dataset": synth.name, "records": rep.records, "persons": rep.persons,
           "seconds": round(el, 1), "phases": rep.timings, "pairs": rep.pairs_scored,
           "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
           "accuracy": s}
    ws.con.execute("update records set batch_id = 'bench-touch' where is_current and "
                   "hash(record_key) % 100 = 0")
    t = time.perf_counter()
    inc = pipeline.resolve_workspace(ws, progress=False)
    out["incremental_1pct_seconds"] = round(time.perf_counter() - t, 1)
    out["incremental_changed_persons"] = len(inc.changed_person_ids)
    out["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    ws.close()
    shutil.rmtree(ws.path.parent, ignore_errors=True)
    return out


def speed(synth: list[Path]) -> None:
    for d in synth:  # one process per size, so peak memory is per size
        res = subprocess.run([sys.executable, __file__, "speed-one", "--synth", str(d)],
                             capture_output=True, text=True, check=False)
        print(res.stdout.strip() or res.stderr[-2000:], flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=["accuracy", "blocking", "misses", "speed", "speed-one"])
    ap.add_argument("--febrl", default="febrl1,febrl2,febrl3,febrl4")
    ap.add_argument("--synth", action="append", type=Path, default=[])
    a = ap.parse_args()
    if a.what == "accuracy":
        accuracy([f for f in a.febrl.split(",") if f], a.synth)
    elif a.what == "blocking":
        blocking(a.synth[0])
    elif a.what == "misses":
        misses(a.synth[0])
    elif a.what == "speed":
        speed(a.synth)
    else:
        print(json.dumps(speed_one(a.synth[0])))


if __name__ == "__main__":
    main()
