"""Benchmark the transport planner: 10,000 detainees, 40 facilities, 300 legs to 25 countries
over 14 days.

Prints, per objective: time to a proven-optimal plan (wall and CPU), people moved, seat
utilisation, days waited, cost; against an independent max-flow upper bound (OR-Tools
SimpleMaxFlow), the min-cost-flow optimum of days waited (SimpleMinCostFlow), and a greedy
first-come-first-served baseline. Optionally the naive one-boolean-per-(detainee, leg) CP-SAT
model with a time limit, and the whole path through a workspace (load, solve, store).

    .venv/bin/python benchmarks/bench_logistics.py [--naive-seconds 60] [--workspace]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import tempfile
import time
from pathlib import Path

from casegraph.logistics.solver import (
    build_structure,
    greedy_fcfs,
    max_flow_bound,
    min_wait_reference,
    solve,
)
from casegraph.logistics.synthetic import synthetic_problem


def timed(fn, *a, **kw):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    out = fn(*a, **kw)
    return out, time.perf_counter() - w, time.process_time() - c


def naive(p, s, seconds: float):  # type: ignore[no-untyped-def]
    """One boolean per (detainee, feasible leg): the model the structure replaces."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    on_leg: dict[int, list] = {}
    allv = []
    for g in s.groups:
        for d in g.members:
            row = []
            for li in g.edges:
                v = m.new_bool_var("")
                row.append(v)
                on_leg.setdefault(li, []).append(v)
            m.add_at_most_one(row)
            allv += row
    for li, vs in on_leg.items():
        m.add(cp_model.LinearExpr.sum(vs) <= s.legs[li].seats)
    m.maximize(cp_model.LinearExpr.sum(allv))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    t = time.perf_counter()
    st = solver.solve(m)
    return (solver.status_name(st), int(solver.objective_value), int(solver.best_objective_bound),
            time.perf_counter() - t, len(allv))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--detainees", type=int, default=10_000)
    ap.add_argument("--facilities", type=int, default=40)
    ap.add_argument("--legs", type=int, default=300)
    ap.add_argument("--countries", type=int, default=25)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-seconds", type=float, default=0.0,
                    help="also run the naive per-detainee model with this time limit")
    ap.add_argument("--workspace", action="store_true",
                    help="also time plan(ws) end to end through a DuckDB workspace")
    a = ap.parse_args()

    print(f"# bench_logistics  {dt.datetime.now():%Y-%m-%d %H:%M}  "
          f"{platform.machine()} python {platform.python_version()}")
    try:
        import os
        print(f"cores: {os.cpu_count()}  load average: {os.getloadavg()}")
    except OSError:
        pass
    import ortools

    print(f"ortools {ortools.__version__}")
    p, w, _ = timed(synthetic_problem, a.detainees, a.facilities, a.legs, a.countries, a.days,
                    a.seed)
    s, w_struct, c_struct = timed(build_structure, p)
    seats = sum(leg.seats for leg in s.legs)
    print(f"\nscenario: {len(p.detainees):,} detainees, {len(p.facilities)} facilities, "
          f"{len(s.legs)} legs ({seats:,} seats) to {len({x.destination_country for x in s.legs})} "
          f"countries over {a.days} days (seed {a.seed})")
    print(f"schedulable (eligible, document ready, no hold, some leg reachable): "
          f"{s.n_schedulable:,}; screened out: {len(s.screened):,}")
    print(f"structure: {len(s.groups)} cohorts, {s.n_edges:,} cohort-leg options "
          f"(vs {sum(g.size * len(g.edges) for g in s.groups):,} per-detainee booleans), "
          f"built in {w_struct:.3f} s wall, {c_struct:.3f} s CPU")

    bound, w_mf, _ = timed(max_flow_bound, s)
    ref_wait, w_mcf, _ = timed(min_wait_reference, s, bound)
    (g_moved, g_wait, g_legs), w_g, _ = timed(greedy_fcfs, s)
    print(f"\nmax-flow upper bound (SimpleMaxFlow): {bound:,} people = {bound / seats:.1%} of "
          f"seats ({w_mf:.3f} s)")
    print(f"min days waited at that flow (SimpleMinCostFlow): {ref_wait:,} ({w_mcf:.3f} s)")
    print(f"greedy first-come-first-served: {g_moved:,} people = {g_moved / seats:.1%} of seats, "
          f"{g_wait:,} days waited, {g_legs} legs used ({w_g:.3f} s)")

    solve(p, "wait", structure=s)  # warm-up: imports and first-call overheads
    print("\n| objective | status | solve wall s (median) | solve CPU s | moved | seat util. | "
          "vs bound | days waited | legs flown | flown util. | cost of legs flown |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = {}
    for obj in ("seats", "wait", "cost"):
        walls, cpus = [], []
        for _ in range(a.repeat):
            sol, wall, cpu = timed(solve, p, obj, structure=s)
            walls.append(wall)
            cpus.append(cpu)
        rows[obj] = sol
        print(f"| {obj} | {sol.status} | {statistics.median(walls):.2f} "
              f"(min {min(walls):.2f}) | {statistics.median(cpus):.2f} | {sol.moved:,} | "
              f"{sol.seat_utilisation:.1%} | {sol.moved / bound:.1%} | {sol.wait_days:,} | "
              f"{sol.legs_flown} | {sol.flown_utilisation:.1%} | {sol.cost:,.0f} |")
    w = rows["wait"]
    print(f"\ncheck: CP-SAT moved == max-flow bound: {w.moved == bound}; CP-SAT days waited == "
          f"min-cost-flow optimum: {w.wait_days == ref_wait}")
    print(f"planner vs greedy FCFS: +{w.moved - g_moved} people moved, "
          f"{g_wait - w.wait_days:,} fewer days waited ({(g_wait - w.wait_days) / g_wait:.1%})")
    print("unassigned by reason (wait): "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(
              __import__('collections').Counter(u.reason for u in w.unassigned).items())))
    _, w_tot, c_tot = timed(lambda: solve(p, "wait", structure=build_structure(p)))
    print(f"time to a proven-optimal plan from the detainee list (grouping + CP-SAT, wait): "
          f"{w_tot:.2f} s wall, {c_tot:.2f} s CPU")

    if a.naive_seconds > 0:
        st, val, bnd, secs, nvars = naive(p, s, a.naive_seconds)
        print(f"\nnaive model ({nvars:,} booleans, 2 workers, limit {a.naive_seconds:.0f} s): "
              f"{st}, moved {val:,}, bound {bnd:,}, {secs:.1f} s")

    if a.workspace:
        from casegraph.logistics.planner import plan
        from casegraph.logistics.synthetic import write_workspace
        from casegraph.workspace import Workspace

        with tempfile.TemporaryDirectory() as tmp:
            ws = Workspace(Path(tmp) / "ws")
            _, w_write, _ = timed(write_workspace, ws, p)
            ws.set_section("logistics", p.config.model_copy(
                update={"eligibility_source": "latest_run"}).model_dump(mode="json"))
            res, w_plan, c_plan = timed(plan, ws, p.date_from, p.date_to, "wait")
            print(f"\nworkspace: wrote {len(p.detainees) + len(p.legs) + len(p.facilities):,} "
                  f"records in {w_write:.1f} s; plan(ws) end to end {w_plan:.2f} s wall "
                  f"({c_plan:.2f} s CPU): " + ", ".join(f"{k} {v:.2f} s"
                                                        for k, v in res.timings.items())
                  + f"; {res.plan_id} moved {res.moved:,} ({res.status})")
            ws.close()


if __name__ == "__main__":
    main()
