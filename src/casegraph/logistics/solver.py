"""The transport planner's exact model (OR-Tools CP-SAT), independent of the warehouse.

Structure first: detainees who share a facility, a nationality and an availability window
are interchangeable for every hard constraint, so the model has one *integer* variable per
(group, feasible leg) — "how many of this group take this leg" — instead of one boolean per
(detainee, leg). The assignment polytope of that model is a transportation problem, which
CP-SAT's LP relaxation closes at once; the per-detainee model at 10,000 x 300 is not proved
optimal in minutes. Groups that end up with the same feasible legs and the same available
day are merged into cohorts, and cohorts that share no leg (even indirectly) form
independent components, each solved on its own. Cohorts are then expanded to individual
assignments deterministically: within a cohort, the longest-detained person (earliest
book-in, then person_id) gets the earliest leg.

Hard constraints (all on the group->leg edges, so they hold for every individual):
- the leg's destination accepts the detainee's nationality (nationals, plus configured
  third-country rules, minus refusing countries);
- travel document ``ready``; no medical or legal hold; every gate other than custody passes
  (these remove the detainee before the model);
- the detainee can reach the leg's origin before it departs: available from
  ``max(book_in, date_from)`` at 00:00 plus the transfer time facility -> origin, and still
  in custody on the departure date (``Detainee.book_out_date``, the last day in custody,
  not before it);
- seats per leg; at most one leg per detainee.

Objectives are lexicographic: first maximise people moved (seats filled); then ``wait``
minimises total days waited (departure date - available date) and ``cost`` minimises the
cost of the seats used (a seat costs leg cost / seats). ``seats`` breaks its ties like
``wait`` (earliest departures): a plan that fills the same seats later is never better,
and without a tie-break the solver's arbitrary optimum made people wait twice as long.
Legs left empty or under-filled are reported for cancelling or merging.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from casegraph.logistics.config import LogisticsConfig
from casegraph.logistics.model import Detainee, Facility, Leg, Unassigned, pre_screen

Objective = Literal["seats", "wait", "cost"]
OBJECTIVES: tuple[str, ...] = ("seats", "wait", "cost")


@dataclass
class Problem:
    detainees: list[Detainee]
    legs: list[Leg]
    facilities: dict[str, Facility]
    config: LogisticsConfig
    date_from: dt.date
    date_to: dt.date
    #: person -> leg to keep (a published plan's seats): kept when the person is still
    #: schedulable and the leg still feasible for them and in the horizon.
    fixed: dict[str, str] = field(default_factory=dict)


@dataclass
class Group:
    """Detainees interchangeable for every constraint and objective.

    Built per (facility, nationality, available from, in custody until); groups that end
    up with the same feasible legs and the same available date are then merged, since
    the model cannot tell them apart (a cohort may span facilities and nationalities).
    """

    available_from: dt.date
    members: list[Detainee] = field(default_factory=list)
    edges: list[int] = field(default_factory=list)  # indices into Structure.legs, by departure
    waits: list[int] = field(default_factory=list)  # days waited per edge

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass
class Structure:
    """The grouped problem: groups of interchangeable detainees and their feasible legs."""

    legs: list[Leg]
    groups: list[Group]
    screened: list[Unassigned]  # never schedulable (gates, holds, documents, no route)
    config: LogisticsConfig
    kept: list[tuple[Detainee, int, int]] = field(default_factory=list)  # (who, leg, wait)
    seats_left: list[int] = field(default_factory=list)  # seats per leg after the kept

    def __post_init__(self) -> None:
        if not self.seats_left:
            self.seats_left = [leg.seats for leg in self.legs]

    @property
    def n_edges(self) -> int:
        return sum(len(g.edges) for g in self.groups)

    @property
    def n_schedulable(self) -> int:
        return sum(g.size for g in self.groups)


@dataclass(slots=True)
class Assignment:
    person_id: str
    leg_id: str
    facility_id: str
    nationality: str
    departs_at: dt.datetime
    wait_days: int
    record_key: str | None = None


@dataclass(slots=True)
class LegUsage:
    leg: Leg
    assigned: int
    recommendation: str  # ok | cancel | merge into <leg> | under-filled

    @property
    def utilisation(self) -> float:
        return self.assigned / self.leg.seats if self.leg.seats else 0.0


@dataclass
class Solution:
    objective: str
    status: str  # OPTIMAL when every stage was proved optimal
    assignments: list[Assignment]
    unassigned: list[Unassigned]
    legs: list[LegUsage]
    moved: int
    wait_days: int
    cost: float  # cost of the legs that carry anyone
    seat_cost: int  # sum of the seat prices of everyone moved
    legs_flown: int
    seats_total: int
    solve_seconds: float
    groups: int
    edges: int
    stages: list[dict[str, object]] = field(default_factory=list)
    components: int = 0

    @property
    def seat_utilisation(self) -> float:
        """People moved / seats on every leg in the horizon."""
        return self.moved / self.seats_total if self.seats_total else 0.0

    @property
    def flown_utilisation(self) -> float:
        """People moved / seats on the legs that carry anyone (the rest can be cancelled)."""
        seats = sum(u.leg.seats for u in self.legs if u.assigned)
        return self.moved / seats if seats else 0.0


# ---- transfer times --------------------------------------------------------------------

def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a.strip().casefold() == b.strip().casefold()  # type: ignore[union-attr]


def transfer_hours(cfg: LogisticsConfig, facility_id: str, facility: Facility | None, leg: Leg,
                   facilities: dict[str, Facility] | None = None) -> float | None:
    """Hours to move a detainee from ``facility_id`` to the leg's origin; None = unreachable.

    An explicit ``transfer.matrix`` entry wins; else the leg departs from the facility
    itself, or the same locality, the same region, or anywhere else (``other_hours``).
    Where an origin is comes from the leg record (locality/region), else
    ``transfer.origins``, else the facility of that id (a bus leaving a facility).
    """
    t = cfg.transfer
    origin = leg.origin
    o_loc, o_reg = leg.origin_locality, leg.origin_region
    if origin is not None:
        row = t.matrix.get(facility_id)
        if row is not None and origin in row:
            return row[origin]
        if origin == facility_id:
            return t.same_site_hours
        place = t.origin_place(origin)
        if place is not None:
            o_loc, o_reg = o_loc or place.locality, o_reg or place.region
        elif facilities and origin in facilities:
            of = facilities[origin]
            o_loc, o_reg = o_loc or of.locality, o_reg or of.region
    f_loc = facility.locality if facility else None
    f_reg = facility.region if facility else None
    if _same(o_loc, f_loc) and (not (o_reg and f_reg) or _same(o_reg, f_reg)):
        return t.same_locality_hours
    if _same(o_reg, f_reg):
        return t.same_region_hours
    return t.other_hours


# ---- structure -------------------------------------------------------------------------

def build_structure(p: Problem) -> Structure:
    """Group interchangeable detainees and list each group's feasible legs."""
    cfg = p.config
    legs = sorted((leg for leg in p.legs
                   if p.date_from <= leg.departs_at.date() <= p.date_to and leg.seats > 0),
                  key=lambda leg: (leg.departs_at, leg.leg_id))
    by_dest: dict[str, list[int]] = defaultdict(list)
    for i, leg in enumerate(legs):
        by_dest[leg.destination_country].append(i)

    screened: list[Unassigned] = []
    raw: dict[tuple, list[Detainee]] = defaultdict(list)
    for d in p.detainees:
        reasons = pre_screen(d)
        if reasons:
            screened.append(Unassigned(d.person_id, reasons[0][0], reasons[0][1],
                                       [f"{c}: {t}" for c, t in reasons]))
            continue
        avail_from = max(d.book_in_date, p.date_from)
        raw[(d.facility_id, d.nationality or "", avail_from, d.book_out_date)].append(d)

    hours_cache: dict[tuple[str, int], float | None] = {}
    cohorts: dict[tuple, Group] = {}
    leg_index = {leg.leg_id: i for i, leg in enumerate(legs)}
    seats_left = [leg.seats for leg in legs]
    kept: list[tuple[Detainee, int, int]] = []
    if p.fixed:  # longest detained keep their seat first if a leg lost seats since
        for group_members in raw.values():
            group_members.sort(key=lambda d: (d.book_in_date, d.person_id))
    for key in sorted(raw, key=lambda k: (k[0], k[1], k[2], k[3] or dt.date.max)):
        facility_id, nationality, avail_from, avail_until = key
        dests = [c for c in by_dest if cfg.accepts(c, nationality)]
        candidate = sorted(i for c in dests for i in by_dest[c])
        start = dt.datetime.combine(avail_from, dt.time())
        fac = p.facilities.get(facility_id)
        nearest: float | None = None
        edges: list[int] = []
        for i in candidate:
            leg = legs[i]
            if avail_until is not None and leg.departs_at.date() > avail_until:
                continue
            ck = (facility_id, i)
            if ck not in hours_cache:
                hours_cache[ck] = transfer_hours(cfg, facility_id, fac, leg, p.facilities)
            h = hours_cache[ck]
            if h is None:
                continue
            nearest = h if nearest is None else min(nearest, h)
            if start + dt.timedelta(hours=h) <= leg.departs_at:
                edges.append(i)
        members = raw[key]
        if edges and p.fixed:
            members = []
            for d in raw[key]:
                li = leg_index.get(p.fixed.get(d.person_id, ""))
                if li is not None and li in edges and seats_left[li] > 0:
                    seats_left[li] -= 1
                    kept.append((d, li, (legs[li].departs_at.date() - avail_from).days))
                else:
                    members.append(d)
            if not members:
                continue
        if edges:
            ckey = (tuple(edges), avail_from)
            g = cohorts.get(ckey)
            if g is None:
                g = cohorts[ckey] = Group(avail_from, [], edges,
                                          [(legs[i].departs_at.date() - avail_from).days
                                           for i in edges])
            g.members.extend(members)
            continue
        if not nationality:
            code, detail = "no_leg_to_country", "nationality unknown"
        elif not candidate:
            code = "no_leg_to_country"
            detail = (f"no leg to a country accepting nationality {nationality} "
                      f"between {p.date_from} and {p.date_to}")
        else:
            code = "unreachable"
            window = f"available {avail_from}" + (
                f", in custody until {avail_until}" if avail_until else "")
            how = (f"nearest origin {nearest:g} h from {facility_id}" if nearest is not None
                   else f"no transfer route from {facility_id}")
            detail = (f"{len(candidate)} leg(s) to accepting countries, none reachable in time "
                      f"({how}; {window})")
        for d in raw[key]:
            screened.append(Unassigned(d.person_id, code, detail, [f"{code}: {detail}"]))
    groups = [cohorts[k] for k in sorted(cohorts, key=lambda k: (k[1], k[0]))]
    for g in groups:
        g.members.sort(key=lambda d: (d.book_in_date, d.person_id))
    return Structure(legs, groups, screened, cfg, kept, seats_left)

    
def components(s: Structure) -> list[list[int]]:
    """Independent sub-problems: cohorts that share no leg, directly or through others."""
    parent = list(range(len(s.legs)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for g in s.groups:
        r0 = find(g.edges[0])
        for li in g.edges[1:]:
            r = find(li)
            if r != r0:
                parent[r] = r0
    comps: dict[int, list[int]] = defaultdict(list)
    for gi, g in enumerate(s.groups):
        comps[find(g.edges[0])].append(gi)
    return sorted(comps.values(), key=lambda c: c[0])


# ---- the CP-SAT model ------------------------------------------------------------------

def _cents(x: float | None) -> int:
    return round((x or 0.0) * 100)


def solve(p: Problem, objective: str = "seats", *, time_limit: float | None = None,
          structure: Structure | None = None,
          progress: Callable[[int, int], None] | None = None) -> Solution:
    """Assign detainees to legs optimally (lexicographic objectives, see module doc).

    Each independent component (cohorts sharing legs) is solved on its own: the
    lexicographic optimum of the whole is the union of the components' optima.
    ``progress(done, total)`` is called after each component.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    cfg = p.config
    t0 = time.perf_counter()
    s = structure or build_structure(p)
    limit = time_limit if time_limit is not None else cfg.max_solve_seconds
    deadline = t0 + limit
    counts: dict[tuple[int, int], int] = {}
    totals: dict[str, dict[str, object]] = {}
    comps = components(s)
    # Components are independent: solve them on ``parallel_components`` threads (CP-SAT
    # releases the GIL while it searches), largest first; results are merged in component
    # order, so the plan does not depend on which thread finished first.
    order = sorted(range(len(comps)), key=lambda i: -sum(len(s.groups[g].edges)
                                                          for g in comps[i]))
    results: dict[int, tuple[dict[tuple[int, int], int], list[dict[str, object]]]] = {}
    if cfg.parallel_components > 1 and len(comps) > 1:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(max_workers=cfg.parallel_components) as pool:
            futs = {pool.submit(_solve_component, s, comps[i], objective, deadline): i
                    for i in order}
            for done, fut in enumerate(as_completed(futs)):
                results[futs[fut]] = fut.result()
                if progress:
                    progress(done + 1, len(comps))
    else:
        for done, i in enumerate(order):
            results[i] = _solve_component(s, comps[i], objective, deadline)
            if progress:
                progress(done + 1, len(comps))
    unsolved: set[int] = set()
    for k in range(len(comps)):
        c_counts, c_stages = results[k]
        counts.update(c_counts)
        if any(st["status"] not in ("OPTIMAL", "FEASIBLE") for st in c_stages):
            unsolved.update(comps[k])
        for st in c_stages:
            agg = totals.setdefault(str(st["stage"]), {"stage": st["stage"], "value": 0,
                                                       "status": "OPTIMAL", "seconds": 0.0})
            agg["value"] = (None if st["value"] is None or agg["value"] is None
                            else agg["value"] + st["value"])  # type: ignore[operator]
            agg["seconds"] = round(agg["seconds"] + st["seconds"], 4)  # type: ignore[operator]
            if st["status"] != "OPTIMAL":
                agg["status"] = st["status"]
    stages = list(totals.values())
    sol = expand(s, counts, objective, unsolved)
    sol.status = ("OPTIMAL" if all(st["status"] == "OPTIMAL" for st in stages)
                  else next(str(st["status"]) for st in stages if st["status"] != "OPTIMAL"))
    sol.stages = stages
    sol.components = len(comps)
    sol.solve_seconds = time.perf_counter() - t0
    return sol


def seat_price(leg: Leg) -> int:
    """What one seat on ``leg`` costs, in whole currency units (leg cost / seats)."""
    return round((leg.cost or 0.0) / leg.seats) if leg.seats else 0


def _price_tens(leg: Leg) -> int:
    """Seat price in tens of currency units: the ``cost`` objective's coefficient.

    Measured on the 10k benchmark's largest component: with whole units the weighted
    objective reaches ~5e10 and CP-SAT spends 3 s closing a gap that is LP round-off;
    in tens it proves the same plan (to within 10 per seat) in 0.65 s.
    """
    return round((leg.cost or 0.0) / leg.seats / 10) if leg.seats else 0


def _solve_component(s: Structure, gids: list[int], objective: str, deadline: float
                     ) -> tuple[dict[tuple[int, int], int], list[dict[str, object]]]:
    """CP-SAT solve of one component; returns ((group, leg) -> people, stage reports).

    Lexicographic objectives are solved exactly in one pass with integer weights:
    maximise ``sum((B - c_e) * x_e)`` where ``c_e`` is the secondary cost of one person
    on edge ``e`` and ``B`` exceeds the secondary cost of any whole plan, so one more
    person moved always outweighs any secondary saving. (Measured: one pass is faster than
    two stages joined by a "moved >= optimum" row, and proves the same optimum.)
    """
    import pandas as pd
    from ortools.sat.python import cp_model

    cfg = s.config
    legs = s.legs
    m = cp_model.CpModel()
    e_group: list[int] = []
    e_leg: list[int] = []
    e_ub: list[int] = []
    e_cost: list[int] = []
    people = 0
    for gi in gids:
        g = s.groups[gi]
        people += g.size
        for li, w in zip(g.edges, g.waits):
            e_group.append(gi)
            e_leg.append(li)
            e_ub.append(min(g.size, s.seats_left[li]))
            e_cost.append(_price_tens(legs[li]) if objective == "cost" else w)
    # One vectorised call instead of one Python call per variable (model building was
    # a third of the solve time at 15k variables).
    series = m.new_int_var_series("x", pd.RangeIndex(len(e_group)), 0, pd.Series(e_ub))
    xv = series.tolist()
    on_leg: dict[int, list[object]] = defaultdict(list)
    start = 0
    for gi in gids:
        n = len(s.groups[gi].edges)
        m.add(cp_model.LinearExpr.sum(xv[start:start + n]) <= s.groups[gi].size)
        start += n
    for v, li in zip(xv, e_leg):
        on_leg[li].append(v)
    for li, vs in on_leg.items():
        m.add(cp_model.LinearExpr.sum(vs) <= s.seats_left[li])
    big = max(e_cost, default=0) * people + 1
    m.maximize(cp_model.LinearExpr.weighted_sum(xv, [big - c for c in e_cost]))

    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = cfg.solver_workers
    prm.random_seed = 0
    # Measured on the 10k benchmark: the grouped model is a transportation problem whose
    # LP relaxation is integral; letting the root LP run to the end proves it at once,
    # while presolve only slows it down.
    prm.cp_model_presolve = False
    prm.root_lp_iterations = 100_000
    prm.max_time_in_seconds = max(0.05, deadline - time.perf_counter())
    ts = time.perf_counter()
    st = solver.solve(m)
    status = solver.status_name(st)
    seconds = round(time.perf_counter() - ts, 4)
    counts: dict[tuple[int, int], int] = {}
    moved = secondary = None
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        moved = secondary = 0
        for gi, li, n, c in zip(e_group, e_leg, solver.values(series).tolist(), e_cost):
            if n:
                counts[(gi, li)] = int(n)
                moved += int(n)
                secondary += int(n) * c
    stages: list[dict[str, object]] = [
        {"stage": "max people moved", "value": moved, "status": status, "seconds": seconds}]
    if objective in SECONDARY:
        stages.append({"stage": SECONDARY[objective], "value": secondary, "status": status,
                       "seconds": 0.0})
    return counts, stages


SECONDARY = {"seats": "then min days waited (tie-break)", "wait": "then min days waited",
             "cost": "then min seat cost (tens)"}


def expand(s: Structure, counts: dict[tuple[int, int], int], objective: str,
           unsolved: set[int] | None = None) -> Solution:
    """Turn group->leg counts into per-person assignments (deterministic) and explain the rest.

    ``unsolved`` cohorts belong to a component the solver stopped on without any plan (time
    limit): their people are ``not_planned``, never reported as a capacity problem.
    """
    legs = s.legs
    assignments: list[Assignment] = []
    unassigned = list(s.screened)
    per_leg: dict[int, int] = defaultdict(int)
    groups_on_leg: dict[int, set[int]] = defaultdict(set)
    by_group: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (gi, li), n in counts.items():
        by_group[gi].append((li, n))
    for d, li, wait in s.kept:  # seats of a published plan, kept
        per_leg[li] += 1
        assignments.append(Assignment(d.person_id, legs[li].leg_id, d.facility_id,
                                      d.nationality or "", legs[li].departs_at, wait,
                                      d.record_key))
    for gi, g in enumerate(s.groups):
        slots = sorted(by_group.get(gi, []), key=lambda t: (legs[t[0]].departs_at, legs[t[0]].leg_id))
        members = iter(g.members)
        for li, n in slots:
            leg = legs[li]
            per_leg[li] += n
            groups_on_leg[li].add(gi)
            wait = (leg.departs_at.date() - g.available_from).days
            for _ in range(n):
                d = next(members)
                assignments.append(Assignment(d.person_id, leg.leg_id, d.facility_id,
                                              d.nationality or "", leg.departs_at, wait,
                                              d.record_key))
        rest = list(members)
        if rest and unsolved and gi in unsolved:
            detail = "the solver stopped (time limit) before planning this part; plan again"
            for d in rest:
                unassigned.append(Unassigned(d.person_id, "not_planned", detail,
                                             [f"not_planned: {detail}"]))
        elif rest:
            dests = sorted({legs[li].destination_country for li in g.edges})
            detail = (f"all {len(g.edges)} leg(s) this detainee can reach, to "
                      f"{', '.join(dests)}, are full")
            for d in rest:
                unassigned.append(Unassigned(d.person_id, "capacity", detail,
                                             [f"capacity: {detail}"]))
    usage = recommend(s, per_leg, groups_on_leg)
    assignments.sort(key=lambda a: (a.departs_at, a.leg_id, a.person_id))
    unassigned.sort(key=lambda u: u.person_id)
    total_cost = sum(u.leg.cost or 0.0 for u in usage if u.assigned)
    return Solution(
        objective=objective, status="", assignments=assignments, unassigned=unassigned,
        legs=usage, moved=len(assignments), wait_days=sum(a.wait_days for a in assignments),
        cost=round(total_cost, 2),
        seat_cost=sum(seat_price(legs[li]) * n for (_, li), n in counts.items()),
        legs_flown=sum(1 for u in usage if u.assigned),
        seats_total=sum(leg.seats for leg in legs), solve_seconds=0.0,
        groups=len(s.groups), edges=s.n_edges)


def recommend(s: Structure, per_leg: dict[int, int], groups_on_leg: dict[int, set[int]]
              ) -> list[LegUsage]:
    """Seat use per leg, and which legs to cancel (empty) or merge (under-filled).

    An under-filled leg is merged into another leg to the same country departing within
    ``merge_window_days`` that has room for all its passengers and that every one of them
    can reach; otherwise it is reported as under-filled.
    """
    cfg = s.config
    legs = s.legs
    edge_sets = [set(g.edges) for g in s.groups]
    spare = {li: legs[li].seats - per_leg.get(li, 0) for li in range(len(legs))}
    pinned = {li for _, li, _ in s.kept}  # people were told: never merged away
    rec: dict[int, str] = {}
    under = [li for li in range(len(legs))
             if per_leg.get(li, 0) and per_leg[li] / legs[li].seats < cfg.underfill_threshold
             and li not in pinned]
    merged_into: set[int] = set()
    merged_away: set[int] = set()
    for li in sorted(under, key=lambda i: (per_leg[i], legs[i].departs_at, legs[i].leg_id)):
        n = per_leg[li]
        leg = legs[li]
        best = None
        for lj in range(len(legs)):
            other = legs[lj]
            if (lj == li or lj in merged_away or other.destination_country != leg.destination_country
                    or abs((other.departs_at - leg.departs_at).days) > cfg.merge_window_days
                    or spare[lj] < n):
                continue
            if not all(lj in edge_sets[gi] for gi in groups_on_leg[li]):
                continue
            k = (-(per_leg.get(lj, 0)), abs((other.departs_at - leg.departs_at).total_seconds()),
                 other.leg_id)
            if best is None or k < best[0]:
                best = (k, lj)
        if best is not None and li not in merged_into:
            lj = best[1]
            spare[lj] -= n
            spare[li] += n
            merged_into.add(lj)
            merged_away.add(li)
            rec[li] = f"merge into {legs[lj].leg_id}"
        else:
            rec[li] = "under-filled"
    for li in pinned:
        if per_leg.get(li, 0) / legs[li].seats < cfg.underfill_threshold:
            rec[li] = "under-filled"
    out = []
    for li, leg in enumerate(legs):
        n = per_leg.get(li, 0)
        r = "cancel" if n == 0 else rec.get(li, "ok")
        out.append(LegUsage(leg, n, r))
    return out


# ---- independent references ------------------------------------------------------------

def max_flow_bound(s: Structure) -> int:
    """Most people any plan can move (OR-Tools SimpleMaxFlow on the grouped graph)."""
    from ortools.graph.python import max_flow

    if not s.groups:
        return len(s.kept)
    f = max_flow.SimpleMaxFlow()
    src, G = 0, len(s.groups)
    sink = G + len(s.legs) + 1
    for gi, g in enumerate(s.groups):
        f.add_arc_with_capacity(src, 1 + gi, g.size)
        for li in g.edges:
            f.add_arc_with_capacity(1 + gi, 1 + G + li, g.size)
    for li in range(len(s.legs)):
        f.add_arc_with_capacity(1 + G + li, sink, s.seats_left[li])
    if f.solve(src, sink) != f.OPTIMAL:
        raise RuntimeError("max flow failed")
    return int(f.optimal_flow()) + len(s.kept)


def min_wait_reference(s: Structure, flow: int) -> int:
    """Least total days waited moving ``flow`` people (OR-Tools SimpleMinCostFlow).

    ``flow`` counts the kept seats too (as ``max_flow_bound`` does).
    """
    from ortools.graph.python import min_cost_flow

    kept_wait = sum(w for _, _, w in s.kept)
    flow -= len(s.kept)
    if flow <= 0:
        return kept_wait
    f = min_cost_flow.SimpleMinCostFlow()
    src, G = 0, len(s.groups)
    sink = G + len(s.legs) + 1
    for gi, g in enumerate(s.groups):
        f.add_arc_with_capacity_and_unit_cost(src, 1 + gi, g.size, 0)
        for li, w in zip(g.edges, g.waits):
            f.add_arc_with_capacity_and_unit_cost(1 + gi, 1 + G + li, g.size, w)
    for li in range(len(s.legs)):
        f.add_arc_with_capacity_and_unit_cost(1 + G + li, sink, s.seats_left[li], 0)
    f.set_node_supply(src, flow)
    f.set_node_supply(sink, -flow)
    if f.solve() != f.OPTIMAL:
        raise RuntimeError("min cost flow failed")
    return int(f.optimal_cost()) + kept_wait


def greedy_fcfs(s: Structure) -> tuple[int, int, int]:
    """First come, first served: longest-detained first, each on the earliest leg with a seat.

    Returns (people moved, total days waited, legs flown). The manual baseline.
    """
    seats = list(s.seats_left)
    queue = sorted(((d.book_in_date, d.person_id, gi) for gi, g in enumerate(s.groups)
                    for d in g.members))
    moved, wait = len(s.kept), sum(w for _, _, w in s.kept)
    used: set[int] = {li for _, li, _ in s.kept}
    for _, _, gi in queue:
        g = s.groups[gi]
        for li, w in zip(g.edges, g.waits):  # edges are in departure order
            if seats[li]:
                seats[li] -= 1
                moved += 1
                wait += w
                used.add(li)
                break
    return moved, wait, len(used)
