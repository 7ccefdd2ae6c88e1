"""Operational-suite fixtures (SQLite always, PostgreSQL with CASEGRAPH_TEST_POSTGRES_URL)."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field

import pytest

from casegraph.governance.users import Principal
from casegraph.store.testing import fast_hashing, gws, seeded  # noqa: F401


@pytest.fixture()
def cws(gws):  # noqa: F811
    """A workspace with the tiny warehouse and one user per role."""
    return seeded(gws)


@pytest.fixture()
def people() -> dict[str, Principal]:
    return {
        "analyst": Principal("ana", "analyst"), "supervisor": Principal("sue", "supervisor"),
        "officer": Principal("otto", "officer"), "olga": Principal("olga", "officer"),
        "logistics": Principal("lou", "logistics"), "auditor": Principal("aud", "auditor"),
        "admin": Principal("adm", "admin"),
    }


@dataclass
class FakeGate:
    gate: str
    verdict: str
    reason: str
    flags: tuple = ()


@dataclass
class FakeEligibility:
    """Shaped like ``policy.score.PersonEligibility``."""

    person_id: str
    eligible: bool
    results: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    found: bool = True


@pytest.fixture()
def policy(monkeypatch):
    """A stand-in ``casegraph.policy.score`` whose verdicts a test sets per person."""
    verdicts: dict[str, list[FakeGate]] = {}
    missing: set[str] = set()
    calls: list[tuple] = []

    def evaluate_person(ws, person_id, as_of):
        calls.append((person_id, as_of))
        if person_id in missing:
            return FakeEligibility(person_id, False, [], [], found=False)
        gates = verdicts.get(person_id, [FakeGate("final_order", "pass", "final")])
        flags = [f for g in gates for f in g.flags]
        return FakeEligibility(person_id, all(g.verdict == "pass" for g in gates), gates, flags)

    mod = types.ModuleType("casegraph.policy.score")
    mod.evaluate_person = evaluate_person
    monkeypatch.setitem(sys.modules, "casegraph.policy.score", mod)
    return types.SimpleNamespace(verdicts=verdicts, calls=calls, Gate=FakeGate, missing=missing)


@pytest.fixture()
def resolver(monkeypatch):
    """A stand-in ``casegraph.resolve.review`` recording decisions."""
    decisions: list[tuple] = []

    def record_decision(ws, review_id, decision, user, reason):
        decisions.append((review_id, decision, user, reason))

    mod = types.ModuleType("casegraph.resolve.review")
    mod.record_decision = record_decision
    monkeypatch.setitem(sys.modules, "casegraph.resolve.review", mod)
    explain = types.ModuleType("casegraph.resolve.explain")
    explain.explain_pair = lambda ws, a, b: {"pair": [a, b], "fields": []}
    monkeypatch.setitem(sys.modules, "casegraph.resolve.explain", explain)
    return decisions
