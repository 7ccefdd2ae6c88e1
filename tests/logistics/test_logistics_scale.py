"""The benchmark's size: proven optimal and equal to the independent flow optima (slow)."""

from __future__ import annotations

import pytest

from casegraph.logistics.solver import build_structure, max_flow_bound, min_wait_reference, solve
from casegraph.logistics.synthetic import synthetic_problem


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["wait", "cost"])
def test_ten_thousand_detainees_three_hundred_legs(objective):
    p = synthetic_problem(detainees=10_000, facilities=40, legs=300, countries=25, days=14)
    s = build_structure(p)
    sol = solve(p, objective, structure=s)
    assert sol.status == "OPTIMAL"
    bound = max_flow_bound(s)
    assert sol.moved == bound
    if objective == "wait":
        assert sol.wait_days == min_wait_reference(s, bound)
    assert len(sol.assignments) + len(sol.unassigned) == 10_000
