"""Identity resolution benchmarks: accuracy (FEBRL1-4, synthetic), blocking, speed.

Usage:
    python benchmarks/bench_resolve.py accuracy [--febrl febrl1,febrl2,febrl3,febrl4]
                                                [--synth DIR ...]
    python benchmarks/bench_resolve.py blocking --synth DIR
    python benchmarks/bench_resolve.py misses --synth DIR
    python benchmarks/bench_resolve.py merges --synth DIR [--show N]
    python benchmarks/bench_resolve.py speed --synth DIR [--synth DIR ...]

``--synth DIR`` is the output of ``casegraph synth --people N --out DIR`` ingested into
``DIR/ws`` (``casegraph ingest DIR/*.yaml -w DIR/ws``); the truth is ``DIR/truth/records.csv``.
``misses`` breaks the records left outside their person's main cluster down by source,
by the fields they carry, by the best scored link to that cluster (or no candidate pair at
all), and by which non-name field they share with any record of their person; and gives
an oracle's upper bound (B3 if every missed record sharing a field value with its main
cluster, or carrying a full name no other person holds, were placed there).
``merges`` is the other side: for every record placed in a cluster whose majority is
another person, the link that carried it there (its strongest scored pair to a record of
that person), broken down by what the two records share, by the comparison levels of that
link, by its match weight, and whether a hard rule (A-number must-link) forced it.
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


def _resolved_copy(synth: Path) -> tuple[dict[str, str], Workspace, dict[str, str]]:
    """A full resolve (pairs kept) of a copy of ``synth``'s workspace, its score printed."""
    truth = _truth_csv(synth / "truth" / "records.csv")
    ws = Workspace(_copy_ws(synth / "ws"))
    pipeline.KEEP_PAIRS = True
    rep = pipeline.resolve_workspace(ws, full=True, progress=False)
    pred = predicted_from_workspace(ws)
    print(_row(synth.name, "casegraph", score_clusters(pred, truth), 0.0,
               f"persons {rep.persons:,}"))
    return truth, ws, pred


def misses(synth: Path) -> None:
    """Why records end up outside their person's main cluster (see the module docstring)."""
    from collections import Counter, defaultdict

    from casegraph.resolve.prepare import INPUT_TABLE

    truth, ws, pred = _resolved_copy(synth)
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
    _ceiling(ws, truth, pred, inp, by_person)
    ws.close()


def _ceiling(ws: Workspace, truth: dict[str, str], pred: dict[str, str],
             inp: dict[str, tuple[Any, ...]], by_person: dict[str, list[str]]) -> None:
    """What B3 an oracle would reach by moving missed records into their person's main
    cluster: (a) those sharing a non-name field value with a record of that cluster, (b)
    also those whose exact full name no other person of the truth carries. A record with
    neither has nothing but a name that other people share: no evidence can place it."""
    from collections import Counter, defaultdict

    from casegraph.resolve.prepare import INPUT_TABLE

    names = {k: (g, f) for k, g, f in ws.con.execute(
        f"select unique_id, given_norm, family_norm from {INPUT_TABLE}").fetchall()}
    holders: dict[tuple[Any, Any], set[str]] = defaultdict(set)
    for k, nm in names.items():
        if k in truth:
            holders[nm].add(truth[k])
    shared, unique = dict(pred), dict(pred)
    for ks in by_person.values():
        main = Counter(pred[k] for k in ks).most_common(1)[0][0]
        mains = [m for m in ks if pred[m] == main]
        for k in ks:
            if pred[k] == main:
                continue
            vals = inp[k][1:]
            if any(v is not None and any(inp[m][i + 1] == v for m in mains)
                   for i, v in enumerate(vals)):
                shared[k] = unique[k] = main
            elif len(holders[names[k]]) == 1:
                unique[k] = main
    print("\n| oracle (upper bound) | B3 P | B3 R | B3 F1 |\n|---|---|---|---|")
    for label, p in (("as resolved", pred), ("+ missed records sharing a non-name field", shared),
                     ("+ missed records whose exact name no other person holds", unique)):
        d = score_clusters(p, truth).as_dict()
        print(f"| {label} | {d['b3_precision']:.4f} | {d['b3_recall']:.4f} | "
              f"{d['b3_f1']:.4f} |")


def _levels(linker: Any) -> dict[str, dict[int, str]]:
    """Comparison name -> gamma value -> level label, from a linker's settings."""
    out: dict[str, dict[int, str]] = {}
    for c in linker._settings_obj.comparisons:
        out[c.output_column_name] = {lv.comparison_vector_value: lv.label_for_charts
                                     for lv in c.comparison_levels}
    return out


def _score_pairs(ws: Workspace, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Score given pairs with the run's model, keeping gamma and Bayes-factor columns."""
    from splink import DuckDBAPI, Linker

    from casegraph.resolve import model as rmodel
    from casegraph.resolve.prepare import INPUT_TABLE

    settings = json.loads(Path(pipeline.latest_model_path(ws)).read_text(encoding="utf-8"))
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = True
    api = DuckDBAPI(connection=ws.con)
    linker = Linker(api.register(INPUT_TABLE), settings, log_level=None)
    for c in rmodel.TF_COLUMNS:
        linker.table_management.compute_tf_table(c)
    rows = [(i, k) for i, (a, b) in enumerate(pairs) for k in (a, b)]
    import pandas as pd

    ws.con.register("_merge_pairs_df", pd.DataFrame(rows, columns=["grp", "k"]))
    ws.con.execute(f"""create or replace table _merge_pairs as
        select i.* replace (i.unique_id || '#' || d.grp as unique_id), d.grp as _grp
               from _merge_pairs_df d join {INPUT_TABLE} i on i.unique_id = d.k""")
    ws.con.unregister("_merge_pairs_df")
    preds = linker.inference.predict_within(
        api.register("_merge_pairs"), blocking_rules_to_generate_predictions=["l._grp = r._grp"],
        warning_mode="never")
    recs = preds.as_record_list()
    preds.drop_table_from_database_and_remove_from_cache()
    levels = _levels(linker)
    for rec in recs:
        rec["_levels"] = {name: labels.get(rec.get(f"gamma_{name}"), "?")
                          for name, labels in levels.items()}
    return recs


def merges(synth: Path, show: int = 15) -> None:
    """Which false merges happen and what carried them (see the module docstring)."""
    from collections import Counter, defaultdict

    from casegraph.resolve.prepare import INPUT_TABLE

    truth, ws, pred = _resolved_copy(synth)
    fields = ("given_norm", "family_norm", "dob", "a_number", "passport", "fbi",
              "national_id", "phone", "email", "street_address", "postcode", "locality",
              "nationality", "sex")
    inp = {r[0]: dict(zip(("source", *fields), r[1:], strict=True)) for r in ws.con.execute(
        f"select unique_id, source, {', '.join(fields)} from {INPUT_TABLE}").fetchall()}
    pairs = {(l, r): (p, mw, must) for l, r, p, mw, must in ws.con.execute(
        f"select l, r, p, mw, must from {pipeline.PAIRS_TABLE}").fetchall()}
    adj: dict[str, list[str]] = defaultdict(list)
    for l, r in pairs:
        adj[l].append(r)
        adj[r].append(l)
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for k, c in pred.items():
        if k in truth and k in inp:
            by_cluster[c].append(k)
    wrong: list[tuple[str, tuple[str, str] | None]] = []  # (record, carrying pair)
    n_clusters = 0
    for ks in by_cluster.values():
        persons = Counter(truth[k] for k in ks)
        if len(persons) < 2:
            continue
        n_clusters += 1
        major = persons.most_common(1)[0][0]
        for k in ks:
            if truth[k] == major:
                continue
            best, carry = -1.0, None
            for m in adj[k]:
                if pred.get(m) == pred[k] and truth.get(m) != truth[k]:
                    key = (min(k, m), max(k, m))
                    if pairs[key][0] > best:
                        best, carry = pairs[key][0], key
            wrong.append((k, carry))
    print(f"\n{len(wrong):,} records of {n_clusters:,} clusters placed with another person "
          f"(of {len(pred):,} records)")
    carried = sorted({c for _k, c in wrong if c is not None})
    scored = {}
    for rec in _score_pairs(ws, carried) if carried else []:
        a, b = (rec[f"unique_id_{s}"].rsplit("#", 1)[0] for s in ("l", "r"))
        scored[(min(a, b), max(a, b))] = rec
    by_src, by_shared, by_weight, by_level = Counter(), Counter(), Counter(), Counter()
    by_combo = Counter()
    no_link = 0
    for k, c in wrong:
        by_src[inp[k]["source"]] += 1
        if c is None:
            no_link += 1
            continue
        a, b = inp[c[0]], inp[c[1]]
        shared = [f for f in fields if a[f] is not None and a[f] == b[f]]
        by_shared["+".join(shared) or "nothing exactly"] += 1
        _p, mw, must = pairs[c]
        by_weight["A-number must-link" if must else
                  f"{int(mw // 5 * 5)}..{int(mw // 5 * 5) + 5} bits"] += 1
        rec = scored.get(c)
        if rec is not None:
            for name, lab in rec["_levels"].items():
                if lab not in ("missing", "different"):
                    by_level[f"{name}: {lab}"] += 1
            by_combo[" / ".join(f"{n}={lab}" for n, lab in rec["_levels"].items()
                                if lab != "missing")] += 1
    print(f"{no_link:,} joined only through records of their own person (no direct link)")
    for title, cnt in (("source of the wrongly placed record", by_src),
                       ("fields equal on the carrying link", by_shared),
                       ("match weight of the carrying link", by_weight),
                       ("comparison levels of the carrying link", by_level),
                       ("level combination of the carrying link", by_combo)):
        print(f"\n| {title} | records |\n|---|---|")
        for key, n in cnt.most_common(show if title != "comparison levels of the carrying link"
                                      else 40):
            print(f"| {key} | {n:,} |")
    print("\nexamples (record | carrying partner | p | weight)")
    for k, c in wrong[:show]:
        if c is None:
            continue
        o = c[1] if c[0] == k else c[0]
        fmt = lambda x: " ".join(str(inp[x][f]) for f in fields if inp[x][f] is not None)
        print(f"- {k}: {fmt(k)}\n  {o}: {fmt(o)}\n  p={pairs[c][0]:.4f} mw={pairs[c][1]:.1f}")
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
    ap.add_argument("what", choices=["accuracy", "blocking", "misses", "merges", "speed",
                                     "speed-one"])
    ap.add_argument("--febrl", default="febrl1,febrl2,febrl3,febrl4")
    ap.add_argument("--synth", action="append", type=Path, default=[])
    ap.add_argument("--show", type=int, default=15, help="merges: rows per table / examples")
    a = ap.parse_args()
    if a.what == "accuracy":
        accuracy([f for f in a.febrl.split(",") if f], a.synth)
    elif a.what == "blocking":
        blocking(a.synth[0])
    elif a.what == "misses":
        misses(a.synth[0])
    elif a.what == "merges":
        merges(a.synth[0], a.show)
    elif a.what == "speed":
        speed(a.synth)
    else:
        print(json.dumps(speed_one(a.synth[0])))


if __name__ == "__main__":
    main()
