"""The planner's model on small crafted cases: every hard constraint, known optima,
unassigned reasons, recommendations. Pure: no warehouse."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from casegraph.logistics.config import LogisticsConfig
from casegraph.logistics.model import Detainee, Facility, Leg
from casegraph.logistics.solver import (
    Problem,
    build_structure,
    greedy_fcfs,
    max_flow_bound,
    min_wait_reference,
    solve,
)
from casegraph.logistics.synthetic import synthetic_problem

D = dt.date
DAY0 = D(2026, 3, 2)
FEB1 = D(2026, 2, 1)
HOUSTON = Facility("F-HOU", "Houston PC", 100, "Houston", "TX")
ELPASO = Facility("F-ELP", "El Paso PC", 100, "El Paso", "TX")
ATLANTA = Facility("F-ATL", "Atlanta PC", 100, "Atlanta", "GA")
FACS = {f.facility_id: f for f in (HOUSTON, ELPASO, ATLANTA)}


def det(pid: str, nat: str = "MX", fac: str = "F-HOU", book_in: D = FEB1, **kw) -> Detainee:
    kw.setdefault("travel_document", "ready")
    return Detainee(pid, fac, book_in, nat, **kw)


def leg(lid: str, dest: str = "MX", day: int = 1, hour: int = 12, seats: int = 10,
        origin: str = "IAH", cost: float = 1000.0) -> Leg:
    return Leg(lid, dest, dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(hour)),
               seats, origin, "charter_air", cost)


def run(detainees, legs, objective="wait", days=14, **cfg):
    p = Problem(detainees, legs, FACS, LogisticsConfig(**cfg), DAY0,
                DAY0 + dt.timedelta(days=days - 1))
    return solve(p, objective)


def placed(sol) -> dict[str, str]:
    return {a.person_id: a.leg_id for a in sol.assignments}


def reasons(sol) -> dict[str, str]:
    return {u.person_id: u.reason for u in sol.unassigned}


# ---- hard constraints -------------------------------------------------------------------

def test_destination_must_accept_nationality_and_third_country_rules():
    people = [det("P1", "GT"), det("P2", "MX")]
    sol = run(people, [leg("L-MX", "MX")])
    assert placed(sol) == {"P2": "L-MX"}
    assert reasons(sol) == {"P1": "no_leg_to_country"}
    assert "GT" in sol.unassigned[0].detail

    sol = run(people, [leg("L-MX", "MX")], third_country={"MX": ["GT"]})
    assert placed(sol) == {"P1": "L-MX", "P2": "L-MX"}

    sol = run(people, [leg("L-MX", "MX")], refusing_countries=["MX"])
    assert placed(sol) == {}
    assert set(reasons(sol).values()) == {"no_leg_to_country"}


def test_unknown_nationality_is_never_placed():
    sol = run([det("P1", None)], [leg("L1")])
    assert placed(sol) == {}
    assert sol.unassigned[0].reason == "no_leg_to_country"
    assert "nationality unknown" in sol.unassigned[0].detail


@pytest.mark.parametrize("doc", ["requested", "none", None])
def test_travel_document_must_be_ready(doc):
    sol = run([det("P1", travel_document=doc), det("P2")], [leg("L1")])
    assert placed(sol) == {"P2": "L1"}
    assert reasons(sol) == {"P1": "document_not_ready"}


@pytest.mark.parametrize("hold", ["medical_hold", "legal_hold"])
def test_no_medical_or_legal_hold(hold):
    sol = run([det("P1", **{hold: True}), det("P2")], [leg("L1")])
    assert placed(sol) == {"P2": "L1"}
    assert reasons(sol) == {"P1": "hold"}
    assert hold.split("_")[0] in sol.unassigned[0].detail


def test_blocking_gate_or_missing_decision_keeps_detainee_off():
    people = [det("P1", blocking_gates=("no_granted_stay",),
                  gate_reasons=("no_granted_stay: fail: stay granted by court",)),
              det("P2", eligibility_known=False), det("P3")]
    sol = run(people, [leg("L1")])
    assert placed(sol) == {"P3": "L1"}
    r = {u.person_id: u for u in sol.unassigned}
    assert r["P1"].reason == "not_eligible" and "no_granted_stay" in r["P1"].detail
    assert r["P2"].reason == "not_eligible"


def test_binding_reason_order_and_all_reasons_listed():
    p = det("P1", "GT", travel_document="requested", medical_hold=True,
            blocking_gates=("no_automatic_stay",))
    sol = run([p], [leg("L1")])
    u = sol.unassigned[0]
    assert u.reason == "not_eligible"
    assert [r.split(":")[0] for r in u.all_reasons] == ["not_eligible", "hold",
                                                        "document_not_ready"]


def test_seat_capacity_and_longest_detained_first():
    people = [det("P1", book_in=D(2026, 1, 5)), det("P2", book_in=D(2025, 12, 1)),
              det("P3", book_in=D(2026, 2, 20))]
    sol = run(people, [leg("L1", seats=2)])
    assert placed(sol) == {"P2": "L1", "P1": "L1"}
    assert reasons(sol) == {"P3": "capacity"}
    assert sol.legs[0].assigned == 2 and sol.legs[0].utilisation == 1.0


def test_one_leg_per_detainee():
    sol = run([det("P1")], [leg("L1"), leg("L2", day=2), leg("L3", day=3)])
    assert len(sol.assignments) == 1
    assert placed(sol) == {"P1": "L1"}  # the earliest (wait objective)


def test_reachability_transfer_times():
    # El Paso -> IAH (Houston): same region TX = 24 h; Atlanta -> IAH: other = 48 h.
    legs = [leg("L-D0", day=0, hour=6), leg("L-D1", day=1, hour=6), leg("L-D2", day=2, hour=6)]
    people = [det("P-HOU"), det("P-ELP", fac="F-ELP"), det("P-ATL", fac="F-ATL")]
    sol = run(people, legs)
    # Houston same locality (4 h) makes day 0 06:00; El Paso day 1; Atlanta day 2.
    assert placed(sol) == {"P-HOU": "L-D0", "P-ELP": "L-D1", "P-ATL": "L-D2"}

    # Only the day-0 leg: El Paso and Atlanta cannot reach it in time.
    sol = run(people, [legs[0]])
    assert placed(sol) == {"P-HOU": "L-D0"}
    assert reasons(sol) == {"P-ELP": "unreachable", "P-ATL": "unreachable"}
    assert "24 h" in {u.person_id: u for u in sol.unassigned}["P-ELP"].detail


def test_transfer_matrix_overrides_rules_and_null_means_unreachable():
    legs = [leg("L1", day=0, hour=8)]
    sol = run([det("P-ATL", fac="F-ATL")], legs,
              transfer={"matrix": {"F-ATL": {"IAH": 5}}})
    assert placed(sol) == {"P-ATL": "L1"}
    sol = run([det("P-HOU")], legs, transfer={"matrix": {"F-HOU": {"IAH": None}}})
    assert reasons(sol) == {"P-HOU": "unreachable"}
    sol = run([det("P-ATL", fac="F-ATL")], [leg("L1", day=5)], transfer={"other_hours": None})
    assert reasons(sol) == {"P-ATL": "unreachable"}


def test_leg_from_the_facility_itself_and_origin_facility_place():
    sol = run([det("P1", fac="F-ELP")], [leg("L1", day=0, hour=1, origin="F-ELP")])
    assert placed(sol) == {"P1": "L1"}  # same site: 0 h
    sol = run([det("P1", fac="F-HOU")], [leg("L1", day=0, hour=5, origin="F-HOU")])
    assert placed(sol) == {"P1": "L1"}


def test_book_in_during_horizon_and_book_out_limit_availability():
    legs = [leg("L-D1", day=1), leg("L-D5", day=5)]
    late = det("P-LATE", book_in=DAY0 + dt.timedelta(days=3))
    leaving = det("P-OUT", book_out_date=DAY0 + dt.timedelta(days=2))  # last day in custody
    sol = run([late, leaving], legs)
    assert placed(sol) == {"P-LATE": "L-D5", "P-OUT": "L-D1"}
    sol = run([late, leaving], [legs[0]], days=14)
    assert reasons(sol) == {"P-LATE": "unreachable"}
    sol = run([late, leaving], [legs[1]])
    assert reasons(sol) == {"P-OUT": "unreachable"}


def test_legs_outside_the_horizon_or_without_seats_are_ignored():
    sol = run([det("P1")], [leg("L-late", day=20), leg("L-zero", seats=0)], days=14)
    assert placed(sol) == {}
    assert len(sol.legs) == 0 and sol.seats_total == 0
    assert reasons(sol) == {"P1": "no_leg_to_country"}


def test_infeasible_everything_reports_and_is_optimal():
    sol = run([det("P1", travel_document="none"), det("P2", "CN")], [])
    assert sol.status == "OPTIMAL" and sol.moved == 0
    assert reasons(sol) == {"P1": "document_not_ready", "P2": "no_leg_to_country"}


# ---- optimality -------------------------------------------------------------------------

def test_beats_first_come_first_served_on_a_known_optimum():
    # P1 (longest detained, US) may fly L1 (MX takes US nationals as third country) or L2
    # (US); P2 (GT) only L1. First come first served puts P1 on the earliest leg, L1, and
    # strands P2; the optimum moves both.
    legs = [leg("L1", "MX", day=1, seats=1), leg("L2", "US", day=2, seats=1)]
    people = [det("P1", "US", book_in=D(2025, 1, 1)), det("P2", "GT", book_in=D(2026, 1, 1))]
    cfg = {"third_country": {"MX": ["GT", "US"]}}
    p = Problem(people, legs, FACS, LogisticsConfig(**cfg), DAY0, DAY0 + dt.timedelta(days=13))
    s = build_structure(p)
    assert greedy_fcfs(s)[0] == 1  # P1 grabs L1, P2 has nothing left
    sol = solve(p, "wait")
    assert sol.moved == 2 == max_flow_bound(s)
    assert placed(sol) == {"P1": "L2", "P2": "L1"}


def test_wait_objective_prefers_earlier_legs_at_equal_people_moved():
    sol = run([det("P1"), det("P2")], [leg("L-late", day=9, seats=5), leg("L-early", day=2, seats=5)])
    assert placed(sol) == {"P1": "L-early", "P2": "L-early"}
    assert sol.wait_days == 2 * 2


def test_cost_objective_prefers_cheaper_seats():
    legs = [leg("L-dear", day=1, seats=10, cost=100_000), leg("L-cheap", day=8, seats=10,
                                                              cost=5_000)]
    sol = run([det("P1"), det("P2")], legs, objective="cost")
    assert placed(sol) == {"P1": "L-cheap", "P2": "L-cheap"}
    assert sol.cost == 5_000
    sol = run([det("P1"), det("P2")], legs, objective="wait")
    assert placed(sol) == {"P1": "L-dear", "P2": "L-dear"}


def test_people_moved_always_comes_first():
    # Cheap leg has one seat; moving both needs the dear leg too.
    legs = [leg("L-dear", seats=1, cost=100_000), leg("L-cheap", seats=1, cost=1_000)]
    sol = run([det("P1"), det("P2")], legs, objective="cost")
    assert sol.moved == 2


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_instances_match_independent_flow_optima(seed):
    p = synthetic_problem(detainees=300, facilities=6, legs=25, countries=5, days=7, seed=seed)
    s = build_structure(p)
    bound = max_flow_bound(s)
    sol = solve(p, "wait", structure=s)
    assert sol.status == "OPTIMAL"
    assert sol.moved == bound >= greedy_fcfs(s)[0]
    assert sol.wait_days == min_wait_reference(s, bound)
    # every assignment respects seats, one leg each
    per_leg: dict[str, int] = {}
    for a in sol.assignments:
        per_leg[a.leg_id] = per_leg.get(a.leg_id, 0) + 1
    seats = {leg.leg_id: leg.seats for leg in s.legs}
    assert all(n <= seats[lid] for lid, n in per_leg.items())
    assert len({a.person_id for a in sol.assignments}) == len(sol.assignments)
    assert len(sol.assignments) + len(sol.unassigned) == len(p.detainees)


def test_plans_are_deterministic():
    p = synthetic_problem(detainees=400, facilities=5, legs=30, countries=6, days=7, seed=9)
    a, b = solve(p, "seats"), solve(p, "seats")
    assert [(x.person_id, x.leg_id) for x in a.assignments] == \
        [(x.person_id, x.leg_id) for x in b.assignments]


# ---- recommendations --------------------------------------------------------------------

def test_empty_legs_cancel_and_under_filled_legs_merge():
    # Houston people reach the day-0 leg (same locality); El Paso people only day 1+.
    legs = [leg("L-D0", day=0, hour=10, seats=10), leg("L-D1", day=1, hour=10, seats=10),
            leg("L-D9", day=9, seats=10)]
    people = [det("H1"), det("H2"), det("E1", fac="F-ELP"), det("E2", fac="F-ELP")]
    sol = run(people, legs, underfill_threshold=0.8)
    rec = {u.leg.leg_id: u.recommendation for u in sol.legs}
    assert placed(sol) == {"H1": "L-D0", "H2": "L-D0", "E1": "L-D1", "E2": "L-D1"}
    assert rec["L-D9"] == "cancel"
    assert rec["L-D0"] == "merge into L-D1"  # everyone on L-D0 can reach L-D1 and it has room
    assert rec["L-D1"] == "under-filled"


def test_full_legs_are_ok():
    sol = run([det(f"P{i}") for i in range(9)], [leg("L1", seats=10)], underfill_threshold=0.8)
    assert sol.legs[0].recommendation == "ok"
    assert sol.seat_utilisation == pytest.approx(0.9)


def test_seed_is_stable():
    random.seed(0)  # the generator must not depend on global random state
    a = synthetic_problem(detainees=50, legs=5, seed=3)
    random.seed(1)
    b = synthetic_problem(detainees=50, legs=5, seed=3)
    assert a.detainees == b.detainees and a.legs == b.legs


def test_where_an_origin_is_facility_id_or_configured_place():
    # A bus leaving the El Paso facility: a Houston detainee is in the same region (24 h).
    sol = run([det("P1")], [leg("L1", day=0, hour=23, origin="F-ELP")])
    assert reasons(sol) == {"P1": "unreachable"}
    sol = run([det("P1")], [leg("L1", day=1, hour=1, origin="F-ELP")])
    assert placed(sol) == {"P1": "L1"}
    # An origin the defaults do not know, configured in Atlanta: same locality (4 h).
    cfg = {"transfer": {"origins": {"PDK": {"locality": "Atlanta", "region": "GA"}}}}
    sol = run([det("P1", fac="F-ATL")], [leg("L1", day=0, hour=5, origin="PDK")], **cfg)
    assert placed(sol) == {"P1": "L1"}
    # ... and the default hubs still apply alongside it (ATL is Atlanta).
    sol = run([det("P1", fac="F-ATL")], [leg("L1", day=0, hour=5, origin="ATL")], **cfg)
    assert placed(sol) == {"P1": "L1"}


def test_a_part_the_solver_could_not_plan_is_not_called_capacity(monkeypatch):
    from casegraph.logistics import solver as solver_mod

    def give_up(s, gids, objective, deadline):
        return {}, [{"stage": "max people moved", "value": None, "status": "UNKNOWN",
                     "seconds": 0.0}]

    monkeypatch.setattr(solver_mod, "_solve_component", give_up)
    sol = run([det("P1"), det("P2", travel_document="none")], [leg("L1")])
    assert sol.status == "UNKNOWN"
    assert reasons(sol) == {"P1": "not_planned", "P2": "document_not_ready"}


# ---- keeping a published plan's seats --------------------------------------------------

def run_fixed(detainees, legs, fixed, objective="wait"):
    p = Problem(detainees, legs, FACS, LogisticsConfig(), DAY0, DAY0 + dt.timedelta(days=13),
                fixed)
    s = build_structure(p)
    sol = solve(p, objective, structure=s)
    assert sol.moved == max_flow_bound(s)
    if objective == "wait":
        assert sol.wait_days == min_wait_reference(s, sol.moved)
    return sol, s


def test_kept_seats_stay_and_the_rest_is_planned_around_them():
    legs = [leg("L-early", day=1, seats=5), leg("L-late", day=5, seats=1)]
    sol, s = run_fixed([det("P1"), det("P2")], legs, {"P1": "L-late"})
    assert placed(sol) == {"P1": "L-late", "P2": "L-early"}
    assert len(s.kept) == 1
    # without keeping, the wait objective moves P1 to the earlier leg
    sol, _ = run_fixed([det("P1"), det("P2")], legs, {})
    assert placed(sol) == {"P1": "L-early", "P2": "L-early"}


def test_kept_seat_is_dropped_when_no_longer_valid():
    legs = [leg("L1", day=1, seats=5), leg("L-gone", day=30, seats=5)]
    # now on hold: not kept, not placed
    sol, s = run_fixed([det("P1", legal_hold=True)], legs, {"P1": "L1"})
    assert not s.kept and reasons(sol) == {"P1": "hold"}
    # leg left the horizon: replanned onto another leg
    sol, s = run_fixed([det("P1")], legs, {"P1": "L-gone"})
    assert not s.kept and placed(sol) == {"P1": "L1"}


def test_when_a_kept_leg_lost_seats_the_longest_detained_keep_theirs():
    legs = [leg("L1", day=1, seats=1), leg("L2", day=2, seats=1)]
    people = [det("P-new", book_in=D(2026, 2, 20)), det("P-old", book_in=D(2025, 5, 1))]
    sol, s = run_fixed(people, legs, {"P-new": "L1", "P-old": "L1"})
    assert [d.person_id for d, _, _ in s.kept] == ["P-old"]
    assert placed(sol) == {"P-old": "L1", "P-new": "L2"}
