"""Benchmark of the score room (legal gates, priority, leads, departures) on synthetic data.

Measures, against the generator's truth (truth/persons.csv, truth/records.csv):
- the share of leads whose person is truly eligible at the as-of date (target 100%),
- eligibility agreement, and the share of truly eligible persons that got a lead,
- the share of eligible persons whose true current address is the top / a top-3 candidate,
- wall time of departures, scoring (all persons) and lead building.

Two identity modes: ``--resolution oracle`` links records to persons from the truth
(isolates this room's accuracy from identity errors); ``--resolution splink`` runs the
resolve room's pipeline (the end-to-end figure).

usage: python benchmarks/bench_leads.py [--people 5000] [--resolution oracle|splink|both]
       [--as-of 2026-11-01] [--workdir DIR] [--scale-persons 300000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from casegraph.workspace import Workspace


def oracle_resolution(ws: Workspace, truth_dir: Path) -> int:
    """persons / person_records straight from the truth (every link certain)."""
    from casegraph.policy.testing import ensure_person_tables

    ensure_person_tables(ws)
    con = ws.con
    con.execute("delete from person_records")
    con.execute("delete from persons")
    con.execute(f"""
        insert into person_records
        select r.record_key, r.source, r.record_id, r.kind, t.person_id, 1.0
        from read_csv('{truth_dir / 'records.csv'}', all_varchar=true) t
        join current_records r on r.source = t.source and r.record_id = t.record_id""")
    con.execute(f"""
        insert into persons (person_id, record_count, confidence, given_name, family_name,
                             full_name, birth_date, nationality, provenance, run_id)
        select p.person_id, coalesce(n.k, 0), 1.0, p.given_name, p.family_name,
               p.given_name || ' ' || p.family_name, try_cast(p.birth_date as date),
               p.nationality, '{{}}', 'oracle'
        from read_csv('{truth_dir / 'persons.csv'}', all_varchar=true) p
        left join (select person_id, count(*) k from person_records group by 1) n
          using (person_id)""")
    return con.execute("select count(*) from persons").fetchall()[0][0]


def run_pipeline(ws: Workspace, truth_dir: Path, as_of: dt.date) -> dict:
    from casegraph.departures.classify import classify_departures
    from casegraph.leads.build import build_leads
    from casegraph.leads.truth import check_against_truth
    from casegraph.policy.score import run_scoring

    out: dict = {}

    def timed(name, fn):
        t, c = time.perf_counter(), time.process_time()
        r = fn()
        out[f"{name}_s"] = round(time.perf_counter() - t, 2)
        out[f"{name}_cpu_s"] = round(time.process_time() - c, 2)
        return r
    dep = timed("departures", lambda: classify_departures(ws, as_of=as_of))
    sc = timed("score", lambda: run_scoring(ws, as_of=as_of))
    ld = timed("leads", lambda: build_leads(ws))
    tr = check_against_truth(ws, truth_dir / "persons.csv")
    out.update(review_queue(ws))
    out["gate6_needs_review"] = sc.blocked["identity_confidence"].get("needs_review", 0)
    out.update(persons=sc.persons, eligible=sc.eligible, leads=ld.leads,
               with_location=ld.with_location, departures=dict(dep.by_status),
               blocked={g: dict(c) for g, c in sc.blocked.items()},
               lead_flags=dict(ld.flags), truth=tr.as_dict(),
               false_lead_examples=tr.false_lead_examples[:10])
    return out


def review_queue(ws: Workspace) -> dict:
    """Open identity-review items, and how many decide someone's eligibility."""
    if not ws.has_table("identity_review"):
        return {"review_open": 0, "review_decides_eligibility": 0}
    n, d = ws.con.execute("select count(*), count(*) filter (where starts_with(reason, "
                          "'decides eligibility')) from identity_review "
                          "where status = 'open'").fetchall()[0]
    return {"review_open": n, "review_decides_eligibility": d}


def scale(n: int, as_of: dt.date, workdir: Path) -> dict:
    """Score ``n`` crafted persons (oracle links) to time the batched gate path."""
    import numpy as np
    import pyarrow as pa

    from casegraph.ontology import RECORD_COLUMN_NAMES, RECORDS_COLUMNS
    from casegraph.policy.score import run_scoring
    from casegraph.policy.testing import ensure_person_tables

    if (workdir / "scale-ws").exists():
        shutil.rmtree(workdir / "scale-ws")
    ws = Workspace(workdir / "scale-ws")
    ensure_person_tables(ws)
    rng = np.random.default_rng(1)
    pid = np.array([f"P-{i:07d}" for i in range(n)], dtype=object)
    base = np.datetime64("2015-01-01")
    kinds, keys, persons, dates = [], [], [], []
    # per person: an order, a location, sometimes a conviction, an appeal, a stay
    for k, share in (("removal_order", 0.92), ("location", 1.0), ("conviction", 0.4),
                     ("case_event", 0.3), ("encounter", 0.3)):
        m = rng.random(n) < share
        idx = np.flatnonzero(m)
        kinds.append(np.full(len(idx), k, dtype=object))
        persons.append(pid[idx])
        keys.append(np.array([f"{k}:{i}" for i in idx], dtype=object))
        dates.append(base + rng.integers(0, 4000, len(idx)).astype("timedelta64[D]"))
    kinds = np.concatenate(kinds)
    persons = np.concatenate(persons)
    keys = np.concatenate(keys)
    dates = np.concatenate(dates)
    m = len(keys)
    types = dict(RECORDS_COLUMNS)
    data = {"source": pa.array([k.split(":")[0] for k in keys]),
            "record_id": pa.array([k.split(":")[1] for k in keys]),
            "kind": pa.array(kinds), "record_key": pa.array(keys),
            "d": pa.array(dates.astype("datetime64[D]"))}
    ws.con.register("_scale", pa.table(data))
    sel = []
    for c in RECORD_COLUMN_NAMES:
        t = types[c]
        if c in ("source", "record_id", "kind", "record_key"):
            sel.append(f"{c}")
        elif c == "is_current":
            sel.append("true")
        elif c == "order_date":
            sel.append("case when kind = 'removal_order' then d end")
        elif c == "observed_on":
            sel.append("case when kind = 'location' then d end")
        elif c == "conviction_date":
            sel.append("case when kind = 'conviction' then d end")
        elif c == "encounter_date":
            sel.append("case when kind = 'encounter' then d end")
        elif c == "event_date":
            sel.append("case when kind = 'case_event' then d end")
        elif c == "event_type":
            sel.append("case when kind = 'case_event' then (['appeal_filed', 'stay_granted', "
                       "'appeal_decided', 'petition_for_review_filed'])[(1 + hash(record_key) % 4)::bigint]"
                       " end")
        elif c == "outcome":
            sel.append("case when kind = 'case_event' then 'dismissed' end")
        elif c == "severity":
            sel.append("case when kind = 'conviction' then 'felony' end")
        elif c == "street_address":
            sel.append("case when kind = 'location' then ((hash(record_key) % 9000)::bigint)::varchar "
                       "|| ' Main St' end")
        elif c == "postcode":
            sel.append("case when kind = 'location' then '77002' end")
        else:
            sel.append(f"null::{t}")
    ws.con.execute(f"insert into records select {', '.join(sel)} from _scale")
    ws.con.execute("""insert into person_records select record_key, source, record_id, kind,
                      'P-' || lpad(split_part(record_key, ':', 2), 7, '0'), 0.99 from _scale""")
    ws.con.register("_pids", pa.table({"person_id": pa.array(pid)}))
    ws.con.execute("insert into persons (person_id, confidence) select person_id, 0.97 from _pids")
    t, c = time.perf_counter(), time.process_time()
    rep = run_scoring(ws, as_of=as_of)
    secs, csecs = time.perf_counter() - t, time.process_time() - c
    from casegraph.leads.build import build_leads
    t, c = time.perf_counter(), time.process_time()
    ld = build_leads(ws)
    lsecs, lcsecs = time.perf_counter() - t, time.process_time() - c
    ws.close()
    return {"persons": rep.persons, "facts": m, "eligible": rep.eligible,
            "score_s": round(secs, 1), "score_cpu_s": round(csecs, 1), "leads": ld.leads,
            "leads_s": round(lsecs, 1), "leads_cpu_s": round(lcsecs, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default="2026-11-01")
    ap.add_argument("--resolution", choices=("oracle", "splink", "both"), default="both")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--scale-persons", type=int, default=0,
                    help="also time scoring of this many crafted persons")
    args = ap.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-leads-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench_leads {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
          f"({platform.machine()}), python {sys.version.split()[0]}; workdir {work}")
    results: dict = {"people": args.people, "seed": args.seed, "as_of": args.as_of}

    from casegraph.sources.ingest import ingest_specs
    from casegraph.synth.generate import generate

    src = work / "src"
    if not (src / "truth" / "persons.csv").exists():
        t = time.perf_counter()
        generate(args.people, src, seed=args.seed, as_of=as_of)
        print(f"synth {args.people} people: {time.perf_counter() - t:.1f} s")
    truth = src / "truth"
    modes = ("oracle", "splink") if args.resolution == "both" else (args.resolution,)
    for mode in modes:
        wdir = work / f"ws-{mode}"
        if wdir.exists():
            shutil.rmtree(wdir)
        ws = Workspace(wdir)
        t = time.perf_counter()
        ingest_specs(ws, sorted(src.glob("*.yaml")), progress=False)
        print(f"[{mode}] ingest: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        if mode == "oracle":
            n = oracle_resolution(ws, truth)
        else:
            from casegraph.resolve.pipeline import resolve_workspace
            n = resolve_workspace(ws, full=True).persons
        print(f"[{mode}] resolution: {n} persons, {time.perf_counter() - t:.1f} s")
        r = run_pipeline(ws, truth, as_of)
        results[mode] = r
        tr = r["truth"]
        print(f"[{mode}] persons {r['persons']}, eligible {r['eligible']}, leads {r['leads']} "
              f"({r['with_location']} with a location)")
        print(f"[{mode}] leads truly eligible: {tr['leads_truly_eligible_pct']}% "
              f"(false leads by true gate: {tr['false_leads_by_true_gate']})")
        print(f"[{mode}] eligibility agreement: {tr['eligibility_agreement_pct']}%; truly "
              f"eligible with a lead: {tr['eligible_recall_pct']}%")
        print(f"[{mode}] identity review queue: {r['review_open']} open "
              f"({r['review_decides_eligibility']} decide someone's eligibility); gate 6 "
              f"needs_review: {r['gate6_needs_review']} persons")
        print(f"[{mode}] true current address top-1: {tr['address_top1_pct']}%, top-3: "
              f"{tr['address_top3_pct']}% (of {tr['address_checked']}); ceiling (true address on any "
              f"linked record): {tr['address_observed_pct']}%")
        print(f"[{mode}] wall (cpu) s: departures {r['departures_s']} ({r['departures_cpu_s']}), "
              f"score {r['score_s']} ({r['score_cpu_s']}), leads {r['leads_s']} "
              f"({r['leads_cpu_s']})")
        flags = tr.get("flags_on_correct_top1", {})
        for k, v in flags.items():
            print(f"[{mode}] flag {k} on correct top-1: {v}")
        ws.close()
    if args.scale_persons:
        s = scale(args.scale_persons, as_of, work)
        results["scale"] = s
        print(f"[scale] {s['persons']:,} persons / {s['facts']:,} facts: score {s['score_s']} s "
              f"wall ({s['score_cpu_s']} s cpu), {s['leads']:,} leads in {s['leads_s']} s wall "
              f"({s['leads_cpu_s']} s cpu)")
    (work / "bench_leads.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {work / 'bench_leads.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
