"""Uncertain evidence can block or route to review, never make anyone eligible.

"Certain" = linked at or above ``fact_link_threshold`` by resolution, or by a case number
that resolution does not contradict. Everything else (A-number / name+birth-date fallbacks,
a case number shared with another person's case) can only add doubts or blockers: it never
settles a pending appeal, motion or petition, never lifts a stay.
"""

from __future__ import annotations

import datetime as dt

import pytest

from casegraph.policy.config import load_policy
from casegraph.policy.facts import PersonFacts, iter_person_facts, load_person_facts, make_fact
from casegraph.policy.gates import FAIL, PASS, REVIEW, evaluate, is_certain, is_eligible
from casegraph.policy.score import evaluate_person, run_scoring
from casegraph.policy.testing import add_person

D = dt.date
CFG = load_policy().policy.gates
AS_OF = D(2026, 11, 1)
OD = D(2025, 1, 10)


def order(key="o:1", date=OD, **kw):
    return make_fact("removal_order", key, 1.0, order_date=date, order_type="removal", **kw)


def event(key, etype, date, p=1.0, via="resolution", **kw):
    f = make_fact("case_event", key, p, event_type=etype, event_date=date, **kw)
    f["linked_via"] = via
    return f


def run(facts, as_of=AS_OF):
    res = evaluate(PersonFacts("P-1", 0.99, list(facts)), as_of, CFG)
    return {r.gate: r for r in res}, is_eligible(res)


# ---- what is certain ------------------------------------------------------------------------
@pytest.mark.parametrize("via,p,sure", [
    ("resolution", 0.95, True), ("case_number", 0.95, True), ("resolution", 0.5, False),
    ("a_number", 1.0, False), ("name_dob", 1.0, False), ("case_number_conflict", 1.0, False)])
def test_certain_needs_probability_and_a_resolution_backed_link(via, p, sure):
    f = event("e:1", "appeal_decided", OD, p=p, via=via)
    assert is_certain(f, CFG.fact_link_threshold) is sure


# ---- an uncertain decision never settles a pending appeal -----------------------------------
UNCERTAIN = [(0.5, "a_number"), (1.0, "a_number"), (1.0, "case_number_conflict"),
             (0.5, "resolution"), (1.0, "name_dob")]


@pytest.mark.parametrize("p,via", UNCERTAIN)
def test_uncertain_dismissal_does_not_settle_pending_appeal(p, via):
    facts = [order(), event("e:1", "appeal_filed", D(2025, 2, 1)),
             event("e:2", "appeal_decided", D(2026, 3, 1), p=p, via=via, outcome="dismissed")]
    g, ok = run(facts)
    assert not ok
    assert g["final_order"].verdict == FAIL and "pending" in g["final_order"].reason
    assert g["no_automatic_stay"].verdict == FAIL and "e:1" in g["no_automatic_stay"].evidence


def test_certain_dismissal_settles_pending_appeal():
    facts = [order(), event("e:1", "appeal_filed", D(2025, 2, 1)),
             event("e:2", "appeal_decided", D(2026, 3, 1), outcome="dismissed")]
    assert run(facts)[1]


def test_uncertain_appeal_and_uncertain_dismissal_go_to_review():
    facts = [order(), event("e:1", "appeal_filed", D(2025, 2, 1), p=0.5, via="a_number"),
             event("e:2", "appeal_decided", D(2026, 3, 1), p=0.5, via="a_number",
                   outcome="dismissed")]
    g, ok = run(facts)
    assert not ok
    assert g["final_order"].verdict == REVIEW and g["no_automatic_stay"].verdict == REVIEW


def test_later_uncertain_filing_does_not_soften_a_certain_pending_appeal():
    facts = [order(), event("e:1", "appeal_filed", D(2025, 2, 1)),
             event("e:2", "appeal_filed", D(2025, 3, 1), p=0.5, via="a_number")]
    g, _ = run(facts)
    assert g["no_automatic_stay"].verdict == FAIL and "e:1" in g["no_automatic_stay"].evidence


def test_uncertain_sustained_appeal_is_a_doubt_not_an_end():
    facts = [order(), event("e:1", "appeal_filed", D(2025, 2, 1)),
             event("e:2", "appeal_decided", D(2025, 9, 1), p=0.5, via="a_number",
                   outcome="sustained")]
    g, ok = run(facts)
    assert not ok and g["final_order"].verdict == FAIL      # the certain appeal is still pending


def test_uncertain_unknown_outcome_does_not_clear_pending_appeal():
    facts = [order(), event("e:1", "appeal_filed", D(2025, 2, 1)),
             event("e:2", "appeal_decided", D(2025, 9, 1), p=0.5, via="a_number", outcome="?")]
    g, ok = run(facts)
    assert not ok and g["no_automatic_stay"].verdict == FAIL


# ---- an uncertain stay end never lifts a stay -----------------------------------------------
@pytest.mark.parametrize("p,via", UNCERTAIN)
def test_uncertain_stay_end_does_not_lift_stay(p, via):
    facts = [order(), event("e:1", "stay_granted", D(2026, 1, 1), stay_authority="court"),
             event("e:2", "stay_ended", D(2026, 6, 1), p=p, via=via)]
    g, ok = run(facts)
    assert not ok and g["no_granted_stay"].verdict == FAIL
    assert "e:1" in g["no_granted_stay"].evidence


def test_certain_stay_end_lifts_stay():
    facts = [order(), event("e:1", "stay_granted", D(2026, 1, 1), stay_authority="court"),
             event("e:2", "stay_ended", D(2026, 6, 1))]
    g, ok = run(facts)
    assert ok and g["no_granted_stay"].verdict == PASS


# ---- an uncertain motion decision never ends an automatic stay ------------------------------
@pytest.mark.parametrize("p,via", UNCERTAIN)
def test_uncertain_motion_denial_keeps_in_absentia_stay(p, via):
    facts = [order(in_absentia=True), event("e:1", "motion_to_reopen_filed", D(2026, 9, 1)),
             event("e:2", "motion_decided", D(2026, 10, 1), p=p, via=via, outcome="denied")]
    g, ok = run(facts)
    assert not ok and g["no_automatic_stay"].verdict == FAIL
    assert "e:1" in g["no_automatic_stay"].evidence


def test_uncertain_motion_grant_is_a_doubt():
    facts = [order(in_absentia=True),
             event("e:2", "motion_decided", D(2026, 10, 1), p=0.5, via="a_number",
                   outcome="granted")]
    g, ok = run(facts)
    assert not ok and g["final_order"].verdict == REVIEW


def test_uncertain_petition_decision_keeps_the_flag():
    facts = [order(), event("e:1", "petition_for_review_filed", D(2026, 3, 1)),
             event("e:2", "petition_decided", D(2026, 6, 1), p=0.5, via="a_number",
                   outcome="denied")]
    g, ok = run(facts)
    assert ok and "petition_for_review_pending" in g["no_granted_stay"].flags


# ---- the warehouse links --------------------------------------------------------------------
def _order(case_number=None, a_number=None, **kw):
    return {"kind": "removal_order", "order_date": D(2026, 1, 5), "order_type": "removal",
            "case_number": case_number, "a_number": a_number, **kw}


def _ev(etype, date, **kw):
    return {"kind": "case_event", "event_type": etype, "event_date": date, **kw}


def _vias(ws, pid):
    return {f["record_key"]: (f["linked_via"], f["link_probability"])
            for f in load_person_facts(ws, pid).facts}


def _agree(ws, pids):
    """The batched and single-person paths read the same facts."""
    batched = {pf.person_id: sorted((f["record_key"], f["linked_via"], f["link_probability"])
                                    for f in pf.facts) for pf in iter_person_facts(ws)}
    for pid in pids:
        single = sorted((f["record_key"], f["linked_via"], f["link_probability"])
                        for f in load_person_facts(ws, pid).facts)
        assert batched[pid] == single, pid


def test_case_number_collision_does_not_settle_another_persons_appeal(ws):
    add_person(ws, "P-K", [_order("1001", "800100200", source="court_a", record_id="1001"),
                           _ev("appeal_filed", D(2026, 1, 20), case_number="1001")])
    add_person(ws, "P-O", [_order("1001", "900100299", source="court_b", record_id="1001",
                                  order_date=D(2025, 6, 1)),
                           _ev("appeal_filed", D(2025, 6, 20), case_number="1001"),
                           _ev("appeal_decided", D(2026, 3, 1), case_number="1001",
                               outcome="dismissed")])
    v = _vias(ws, "P-K")
    assert v["test:P-O-2"] == ("case_number_conflict", 0.5)
    rep = run_scoring(ws, as_of=AS_OF)
    k = evaluate_person(ws, "P-K", AS_OF)
    assert not k.eligible and k.results[0].verdict == FAIL and k.results[1].verdict == FAIL
    assert evaluate_person(ws, "P-O", AS_OF).eligible       # her own dismissal settles hers
    assert rep.eligible == 1
    _agree(ws, ["P-K", "P-O"])


def test_case_number_event_with_another_a_number_is_uncertain(ws):
    add_person(ws, "P-A", [_order("HOU-1", "012345678"),
                           _ev("appeal_filed", D(2026, 1, 20), case_number="HOU-1")])
    add_person(ws, "P-B", [_ev("appeal_decided", D(2026, 3, 1), case_number="HOU-1",
                               a_number="099999999", outcome="dismissed")])
    assert _vias(ws, "P-A")["test:P-B-0"] == ("case_number_conflict", 0.5)
    assert not evaluate_person(ws, "P-A", AS_OF).eligible
    _agree(ws, ["P-A", "P-B"])


def test_unresolved_case_number_event_of_a_split_cluster_stays_certain(ws):
    add_person(ws, "P-A", [_order("HOU-1", "012345678"),
                           _ev("appeal_filed", D(2026, 1, 20), case_number="HOU-1")])
    add_person(ws, "P-B", [_ev("appeal_decided", D(2026, 3, 1), case_number="HOU-1",
                               outcome="dismissed")])
    assert _vias(ws, "P-A")["test:P-B-0"] == ("case_number", 1.0)
    assert evaluate_person(ws, "P-A", AS_OF).eligible


def _decide(ws, a, b, decision, when):
    ws.con.execute("""create table if not exists identity_decisions (
        record_key_l varchar, record_key_r varchar, decision varchar, decided_by varchar,
        reason varchar, decided_at timestamp, review_id varchar)""")
    ws.con.execute("insert into identity_decisions values (?, ?, ?, 'rev', 'test', ?, null)",
                   [a, b, decision, when])


def test_reviewers_different_decision_keeps_a_number_record_out(ws):
    add_person(ws, "P-A", [_order(None, "800100200"),
                           _ev("appeal_filed", D(2026, 1, 20))])
    add_person(ws, "P-W", [_ev("appeal_decided", D(2026, 3, 1), a_number="800100200",
                               outcome="dismissed", full_name="Wei Zhang")])
    assert _vias(ws, "P-A")["test:P-W-0"] == ("a_number", 0.5)
    assert not evaluate_person(ws, "P-A", AS_OF).eligible
    _decide(ws, "test:P-W-0", "test:P-A-0", "different", dt.datetime(2026, 5, 1))
    assert "test:P-W-0" not in _vias(ws, "P-A")
    r = evaluate_person(ws, "P-A", AS_OF)
    assert not r.eligible and r.results[1].verdict == FAIL     # his own appeal is pending
    _agree(ws, ["P-A", "P-W"])
    # the latest decision counts: 'same' after 'different' lets the fallback in again
    _decide(ws, "test:P-A-0", "test:P-W-0", "same", dt.datetime(2026, 6, 1))
    assert "test:P-W-0" in _vias(ws, "P-A")


def test_reviewers_different_decision_makes_case_number_link_uncertain(ws):
    add_person(ws, "P-A", [_order("HOU-1"), _ev("appeal_filed", D(2026, 1, 20),
                                                 case_number="HOU-1")])
    add_person(ws, "P-B", [_ev("appeal_decided", D(2026, 3, 1), case_number="HOU-1",
                               outcome="dismissed")])
    _decide(ws, "test:P-A-0", "test:P-B-0", "different", dt.datetime(2026, 5, 1))
    assert _vias(ws, "P-A")["test:P-B-0"] == ("case_number_conflict", 0.5)
    assert not evaluate_person(ws, "P-A", AS_OF).eligible


def test_naturalization_with_swapped_birth_date_goes_to_review(ws):
    add_person(ws, "P-A", [_order(None, None, full_name="Carmen Rodriguez Perez",
                                  birth_date=D(1984, 3, 4))])
    add_person(ws, "P-B", [{"kind": "status", "status_type": "naturalized",
                            "status_date": D(2025, 1, 1), "full_name": "Carmen Rodriguez",
                            "birth_date": D(1984, 4, 3)}])
    add_person(ws, "P-C", [_order(None, None, full_name="Carmen Rodriguez Perez",
                                  birth_date=D(1984, 4, 5))])          # not a swap
    assert _vias(ws, "P-A")["test:P-B-0"] == ("name_dob", 0.5)
    r = evaluate_person(ws, "P-A", AS_OF)
    assert not r.eligible and r.results[3].verdict == REVIEW
    assert "test:P-B-0" not in _vias(ws, "P-C")
    assert evaluate_person(ws, "P-C", AS_OF).eligible
    _agree(ws, ["P-A", "P-B", "P-C"])


# ---- an uncertain order neither takes events from a certain one nor hides a status ---------
def _uorder(key, date, p=0.5):
    return make_fact("removal_order", key, p, order_date=date, order_type="removal")


def test_uncertain_order_does_not_take_a_vacatur_from_the_certain_order():
    facts = [order(), _uorder("o:2", D(2025, 3, 1)), event("e:1", "order_vacated", D(2025, 6, 1))]
    g, ok = run(facts)
    assert not ok and g["final_order"].verdict != PASS


def test_uncertain_later_order_does_not_hide_a_lawful_status():
    facts = [order(), make_fact("status", "s:1", 1.0, status_type="lawful_permanent_resident",
                                status_date=D(2025, 6, 1)),
             _uorder("o:2", D(2026, 1, 1))]
    g, ok = run(facts)
    assert not ok and g["no_citizenship_or_status"].verdict == FAIL
