"""Build, explain and store a transport plan: the room's main entry point.

Example:
    >>> from casegraph.logistics.planner import plan
    >>> result = plan(ws, dt.date(2026, 3, 2), dt.date(2026, 3, 15), "wait")
    >>> result.plan_id, result.moved, f"{result.seat_utilisation:.0%}"
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group as RichGroup
from rich.table import Table

from casegraph.logistics import plans as store
from casegraph.logistics.config import LogisticsConfig, load_config
from casegraph.logistics.data import EligibilityInfo, load_problem_inputs
from casegraph.logistics.model import REASON_LABELS
from casegraph.logistics.solver import (
    OBJECTIVES,
    Problem,
    Solution,
    build_structure,
    greedy_fcfs,
    max_flow_bound,
    solve,
)
from casegraph.workspace import Workspace


@dataclass
class PlanResult:
    """A stored plan version with its solution and the reference figures."""

    plan_id: str
    version: int
    date_from: dt.date
    date_to: dt.date
    solution: Solution
    eligibility: EligibilityInfo
    detainees: int
    max_flow_bound: int
    greedy_moved: int
    greedy_wait_days: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    # headline figures
    @property
    def moved(self) -> int:
        return self.solution.moved

    @property
    def status(self) -> str:
        return self.solution.status

    @property
    def seat_utilisation(self) -> float:
        return self.solution.seat_utilisation

    @property
    def unassigned_by_reason(self) -> Counter:
        return Counter(u.reason for u in self.solution.unassigned)

    def as_dict(self) -> dict[str, Any]:
        s = self.solution
        return {
            "plan_id": self.plan_id, "version": self.version,
            "date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
            "objective": s.objective, "solver_status": s.status, "detainees": self.detainees,
            "moved": s.moved, "unassigned": len(s.unassigned),
            "unassigned_by_reason": dict(self.unassigned_by_reason),
            "seats_total": s.seats_total, "seat_utilisation": round(s.seat_utilisation, 4),
            "flown_utilisation": round(s.flown_utilisation, 4), "legs_total": len(s.legs),
            "legs_flown": s.legs_flown, "wait_days": s.wait_days, "cost": s.cost,
            "max_flow_bound": self.max_flow_bound, "greedy_moved": self.greedy_moved,
            "greedy_wait_days": self.greedy_wait_days, "seconds": round(self.seconds, 3),
            "eligibility_source": self.eligibility.source,
        }

    def __rich__(self) -> RichGroup:
        s = self.solution
        t = Table(title=f"Transport plan {self.plan_id} ({self.date_from} .. {self.date_to}, "
                        f"objective {s.objective}) — {s.status}", show_header=False)
        t.add_column(justify="left")
        t.add_column(justify="right")
        t.add_row("detainees in custody", f"{self.detainees:,}")
        t.add_row("[bold]moved[/] (assigned to a leg)", f"[bold]{s.moved:,}[/]")
        kept = next((st["value"] for st in s.stages if str(st["stage"]).startswith("kept")), None)
        if kept is not None:
            t.add_row("  kept (published plan)", f"{kept:,}")
        t.add_row("most any plan can move (max-flow bound)", f"{self.max_flow_bound:,}")
        t.add_row("first-come-first-served baseline", f"{self.greedy_moved:,}")
        t.add_row("[bold]seat utilisation[/] (all legs)",
                  f"[bold]{s.seat_utilisation:.1%}[/] of {s.seats_total:,} seats")
        t.add_row("seat utilisation of legs flown",
                  f"{s.flown_utilisation:.1%} on {s.legs_flown} of {len(s.legs)} legs")
        rec = Counter(u.recommendation.split()[0] for u in s.legs)
        t.add_row("legs to cancel / merge / under-filled",
                  f"{rec.get('cancel', 0)} / {rec.get('merge', 0)} / {rec.get('under-filled', 0)}")
        t.add_row("days waited (total, planner vs baseline)",
                  f"{s.wait_days:,} vs {self.greedy_wait_days:,}")
        t.add_row("cost of legs flown", f"{s.cost:,.0f}")
        t.add_row("solve time", f"{s.solve_seconds:.2f} s ({s.groups} cohorts, {s.edges:,} "
                                f"options, {s.components} independent parts)")
        r = Table(title="Unassigned, by binding reason")
        r.add_column("reason")
        r.add_column("people", justify="right")
        for code, n in self.unassigned_by_reason.most_common():
            r.add_row(REASON_LABELS.get(code, code), f"{n:,}")
        return RichGroup(t, r)


def plan(ws: Workspace, date_from: dt.date | None = None, date_to: dt.date | None = None,
         objective: str = "seats", *, user: str | None = None,
         config: LogisticsConfig | None = None, keep_published: bool = False,
         progress: Callable[[int, int], None] | None = None) -> PlanResult:
    """Plan transport for [date_from, date_to] and store it as a new draft version.

    Args:
        ws: the workspace.
        date_from: first departure day (default today); eligibility is decided on it.
        date_to: last departure day (default ``date_from`` + ``default_horizon_days`` - 1).
        objective: ``seats`` | ``wait`` | ``cost`` (see :mod:`casegraph.logistics.solver`).
        user: who asked for the plan (stored with it).
        config: overrides the workspace's ``logistics:`` section.
        keep_published: people scheduled by the published plan keep their seats when they
            are still schedulable and their leg is still feasible and in the horizon; the
            rest of the plan is optimised around them.
        progress: ``progress(done, total)`` over the solver's independent parts.

    Returns:
        The stored :class:`PlanResult` (a draft until published).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}")
    cfg = config or load_config(ws)
    date_from = date_from or dt.date.today()
    date_to = date_to or date_from + dt.timedelta(days=max(cfg.default_horizon_days - 1, 0))
    if date_to < date_from:
        raise ValueError(f"--to {date_to} is before --from {date_from}")
    t0 = time.perf_counter()
    detainees, legs, facilities, info = load_problem_inputs(ws, date_from, date_to, cfg)
    t_load = time.perf_counter()
    fixed: dict[str, str] = {}
    if keep_published:
        pub = store.published_plan(ws)
        if pub is not None:
            fixed = {r["person_id"]: r["leg_id"] for r in ws.query(
                "select person_id, leg_id from logistics_detainee_status "
                "where status = 'scheduled' and plan_id = ?", [pub["plan_id"]])}
    problem = Problem(detainees, legs, facilities, cfg, date_from, date_to, fixed)
    structure = build_structure(problem)
    t_struct = time.perf_counter()
    sol = solve(problem, objective, structure=structure, progress=progress)
    if keep_published:
        sol.stages.insert(0, {"stage": "kept from the published plan",
                              "value": len(structure.kept), "status": "OPTIMAL",
                              "seconds": 0.0})
    t_solve = time.perf_counter()
    bound = max_flow_bound(structure)
    g_moved, g_wait, _ = greedy_fcfs(structure)
    t_ref = time.perf_counter()
    plan_id, version = store.next_plan_id(ws)
    rec = Counter(u.recommendation.split()[0] for u in sol.legs)
    header = {
        "plan_id": plan_id, "version": version,
        "created_at": dt.datetime.now().replace(microsecond=0),
        "created_by": user, "date_from": date_from, "date_to": date_to,
        "objective": objective, "status": "draft", "solver_status": sol.status,
        "eligibility_source": info.source, "eligibility_run_id": info.run_id,
        "policy_version": info.policy_version, "detainees": len(detainees),
        "schedulable": structure.n_schedulable, "moved": sol.moved,
        "unassigned": len(sol.unassigned), "seats_total": sol.seats_total,
        "seat_utilisation": sol.seat_utilisation, "flown_utilisation": sol.flown_utilisation,
        "legs_total": len(sol.legs), "legs_flown": sol.legs_flown,
        "legs_to_cancel": rec.get("cancel", 0), "legs_to_merge": rec.get("merge", 0),
        "wait_days": sol.wait_days, "cost": sol.cost, "seat_cost": sol.seat_cost,
        "max_flow_bound": bound, "greedy_moved": g_moved, "greedy_wait_days": g_wait,
        "solve_seconds": sol.solve_seconds, "groups": sol.groups, "edges": sol.edges,
        "components": sol.components, "stages": store.dumps(sol.stages),
        "config": cfg.model_dump_json(),
    }
    store.store_plan(
        ws, header,
        [(plan_id, a.person_id, a.record_key, a.leg_id, a.facility_id, a.nationality,
          a.departs_at, a.wait_days) for a in sol.assignments],
        [(plan_id, u.person_id, u.reason, u.detail, store.dumps(u.all_reasons))
         for u in sol.unassigned],
        [(plan_id, u.leg.leg_id, u.leg.mode, u.leg.origin, u.leg.destination_country,
          u.leg.departs_at, u.leg.seats, u.assigned, u.utilisation, u.leg.cost,
          u.recommendation) for u in sol.legs])
    t_end = time.perf_counter()
    return PlanResult(plan_id, version, date_from, date_to, sol, info, len(detainees), bound,
                      g_moved, g_wait, t_end - t0,
                      {"load": t_load - t0, "group": t_struct - t_load,
                       "solve": t_solve - t_struct, "references": t_ref - t_solve,
                       "store": t_end - t_ref})
