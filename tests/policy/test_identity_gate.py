"""Gate 6 (identity confidence) is about what the other gates rely on.

- A record that *may* be this person's (an uncertain scored link in the review band, a near
  A-number, a namesake with a compatible birth date) and carries a fact that would block
  sends gate 6 to ``needs_review`` with that record as evidence -- never a silent pass.
- Uncertain links of records that carry no blocking fact (an address observation, a custody
  spell that ended) do not cap eligibility.
- Another person's record that matches the order or the subject's registration strongly (a
  twin, a namesake) needs a human before anyone acts on the order.
- A person whose own cluster is weak or self-contradicting (``persons.confidence`` below
  the threshold) needs review.
"""

from __future__ import annotations

import datetime as dt

import pytest

from casegraph.policy.config import load_policy
from casegraph.policy.facts import (
    RIVAL_KIND,
    PersonFacts,
    iter_person_facts,
    load_person_facts,
    make_fact,
)
from casegraph.policy.gates import PASS, REVIEW, evaluate, is_eligible
from casegraph.policy.score import evaluate_person
from casegraph.policy.testing import add_person

D = dt.date
CFG = load_policy().policy.gates
AS_OF = D(2026, 11, 1)


def _order():
    return make_fact("removal_order", "o:1", 1.0, order_date=D(2025, 1, 10),
                     order_type="removal", appeal_waived=True)


def _via(f, via, p=0.5):
    f["linked_via"], f["link_probability"] = via, p
    return f


def _run(facts, confidence=0.99):
    res = evaluate(PersonFacts("P-1", confidence, [_order(), *facts]), AS_OF, CFG)
    return {r.gate: r for r in res}, is_eligible(res)


def test_certain_person_without_doubts_passes():
    g, ok = _run([])
    assert ok and g["identity_confidence"].verdict == PASS


@pytest.mark.parametrize("via", ["identity_link", "a_number", "a_number_near", "name_dob"])
@pytest.mark.parametrize("fact,gate", [
    (make_fact("status", "s:1", status_type="naturalized", status_date=D(2025, 6, 1)),
     "no_citizenship_or_status"),
    (make_fact("status", "s:2", status_type="u_visa_applicant", status_date=D(2025, 6, 1)),
     "no_protected_application"),
    (make_fact("detention", "d:1", book_in_date=D(2026, 10, 1), facility_id="F1"),
     "not_already_resolved"),
    (make_fact("case_event", "e:1", event_type="stay_granted", event_date=D(2026, 9, 1),
               stay_end_date=D(2027, 1, 1), stay_authority="court"), "no_granted_stay"),
    (make_fact("case_event", "e:2", event_type="appeal_filed", event_date=D(2025, 1, 20)),
     "no_automatic_stay"),
])
def test_uncertain_record_with_a_blocking_fact_needs_review(via, fact, gate):
    g, ok = _run([_via(dict(fact), via)])
    assert not ok
    assert g["identity_confidence"].verdict == REVIEW
    assert fact["record_key"] in g["identity_confidence"].evidence
    assert "uncertain identity" in g["identity_confidence"].reason
    assert g[gate].verdict == REVIEW            # the gate the fact matters to says so too


@pytest.mark.parametrize("fact", [
    make_fact("location", "l:1", location_kind="residence", observed_on=D(2026, 10, 1)),
    make_fact("detention", "d:2", book_in_date=D(2024, 1, 1), book_out_date=D(2024, 2, 1)),
    make_fact("case_event", "e:3", event_type="stay_granted", event_date=D(2025, 2, 1),
              stay_end_date=D(2025, 8, 1)),
    make_fact("status", "s:3", status_type="lawful_permanent_resident",
              status_date=D(2020, 1, 1)),                       # before the order: superseded
])
def test_uncertain_record_without_a_blocking_fact_does_not_cap(fact):
    g, ok = _run([_via(dict(fact), "identity_link")])
    assert ok and g["identity_confidence"].verdict == PASS


def test_low_cluster_confidence_needs_review():
    g, ok = _run([], confidence=0.5)
    assert not ok and g["identity_confidence"].verdict == REVIEW
    assert "below threshold" in g["identity_confidence"].reason
    g, ok = _run([], confidence=None)
    assert not ok and g["identity_confidence"].verdict == REVIEW


@pytest.mark.parametrize("p,verdict", [(0.999, REVIEW), (CFG.identity_rival_threshold, REVIEW),
                                       (0.6, PASS)])
def test_strong_rival_of_the_order_needs_review(p, verdict):
    rival = make_fact(RIVAL_KIND, "twin:1", p)
    rival["linked_via"] = "rival"
    g, ok = _run([rival])
    assert g["identity_confidence"].verdict == verdict
    assert ok == (verdict == PASS)
    if verdict == REVIEW:
        assert g["identity_confidence"].evidence == ("twin:1",)
    # no other gate reads a rival
    assert all(r.verdict == PASS for n, r in g.items() if n != "identity_confidence")


# ---- the warehouse links ------------------------------------------------------------------
def _links(ws, rows):
    ws.con.execute("""create table if not exists identity_links (
        record_key_l varchar, record_key_r varchar, model_p double, p double, rule varchar,
        run_id varchar)""")
    for l, r, mp, p in rows:
        ws.con.execute("insert into identity_links values (?, ?, ?, ?, 'test', 'r')",
                       [l, r, mp, p])


def _vias(ws, pid):
    return {f["record_key"]: (f["linked_via"], f["kind"], f["link_probability"])
            for f in load_person_facts(ws, pid).facts}


def _agree(ws):
    batched = {pf.person_id: sorted((f["record_key"], f["linked_via"], f["link_probability"])
                                    for f in pf.facts) for pf in iter_person_facts(ws)}
    for pid, facts in batched.items():
        single = sorted((f["record_key"], f["linked_via"], f["link_probability"])
                        for f in load_person_facts(ws, pid).facts)
        assert facts == single, pid


def _subject(**kw):
    return [{"kind": "person", "full_name": "Ana Sofia Martinez", "birth_date": D(1995, 6, 15),
             **kw},
            {"kind": "removal_order", "order_date": D(2025, 1, 10), "order_type": "removal",
             "appeal_waived": True, "full_name": "Ana Martinez", "birth_date": D(1995, 6, 15),
             **kw}]


def test_linked_stay_of_another_cluster_needs_review_until_decided(ws):
    add_person(ws, "P-A", _subject())
    add_person(ws, "P-B", [{"kind": "case_event", "event_type": "stay_granted",
                            "event_date": D(2026, 9, 1), "stay_authority": "court",
                            "full_name": "A. Martinez"},
                           {"kind": "location", "street_address": "1 Main St",
                            "observed_on": D(2026, 9, 1)}])
    _links(ws, [("test:P-A-1", "test:P-B-0", 0.45, 0.45), ("test:P-A-0", "test:P-B-1", 0.6, 0.6)])
    v = _vias(ws, "P-A")
    assert v["test:P-B-0"] == ("identity_link", "case_event", 0.45)   # capped at 0.5
    assert "test:P-B-1" not in v                 # an address observation is no legal fact
    r = evaluate_person(ws, "P-A", AS_OF)
    g = {x.gate: x for x in r.results}
    assert not r.eligible and g["identity_confidence"].verdict == REVIEW
    assert "test:P-B-0" in g["identity_confidence"].evidence
    _agree(ws)
    ws.con.execute("""create table if not exists identity_decisions (
        record_key_l varchar, record_key_r varchar, decision varchar, decided_by varchar,
        reason varchar, decided_at timestamp, review_id varchar)""")
    ws.con.execute("insert into identity_decisions values ('test:P-A-1', 'test:P-B-0', "
                   "'different', 'rev', 'other person', '2026-10-01', null)")
    assert "test:P-B-0" not in _vias(ws, "P-A")
    assert evaluate_person(ws, "P-A", AS_OF).eligible


def test_links_inside_one_person_are_not_doubts(ws):
    add_person(ws, "P-A", _subject() + [{"kind": "detention", "book_in_date": D(2024, 1, 1),
                                          "book_out_date": D(2024, 2, 1)}])
    _links(ws, [("test:P-A-1", "test:P-A-2", 0.45, 0.45)])   # a stale row: now one person
    assert _vias(ws, "P-A")["test:P-A-2"][0] == "resolution"
    assert evaluate_person(ws, "P-A", AS_OF).eligible


def test_twin_registration_is_a_rival(ws):
    add_person(ws, "P-A", _subject(a_number="056789012"))
    add_person(ws, "P-L", [{"kind": "person", "full_name": "Lucia Isabel Martinez",
                            "birth_date": D(1995, 6, 15), "a_number": "067890123"}])
    add_person(ws, "P-X", [{"kind": "person", "full_name": "Ana Martinez Lopez",
                            "birth_date": D(1971, 1, 2)}])
    _links(ws, [("test:P-A-0", "test:P-L-0", 0.99996, 0.001),
                ("test:P-A-1", "test:P-X-0", 0.35, 0.35)])
    v = _vias(ws, "P-A")
    assert v["test:P-L-0"] == ("rival", RIVAL_KIND, 0.99996)
    r = evaluate_person(ws, "P-A", AS_OF)
    g = {x.gate: x for x in r.results}
    assert not r.eligible and g["identity_confidence"].verdict == REVIEW
    assert g["identity_confidence"].evidence == ("test:P-L-0",)
    _agree(ws)


def test_near_a_number_and_year_off_namesake_reach_the_person(ws):
    add_person(ws, "P-A", _subject(a_number="024241430", family_name="Flores",
                                   given_name="Lupe", full_name="Lupe Flores",
                                   birth_date=D(2003, 8, 8)))
    add_person(ws, "P-D", [{"kind": "detention", "book_in_date": D(2026, 9, 1),
                            "facility_id": "F1", "a_number": "024241403"}])     # transposed
    add_person(ws, "P-E", [{"kind": "detention", "book_in_date": D(2026, 9, 1),
                            "facility_id": "F1", "a_number": "024249999"}])     # far apart
    add_person(ws, "P-F", [{"kind": "departure", "departure_date": D(2026, 3, 1),
                            "channel": "air_exit", "full_name": "Guadalupe Flores Ruiz",
                            "birth_date": D(2004, 8, 8)}])                      # year off
    v = _vias(ws, "P-A")
    assert v["test:P-D-0"][0] == "a_number_near"
    assert "test:P-E-0" not in v
    assert v["test:P-F-0"][0] == "name_dob"
    r = evaluate_person(ws, "P-A", AS_OF)
    g = {x.gate: x for x in r.results}
    assert not r.eligible and g["identity_confidence"].verdict == REVIEW
    assert {"test:P-D-0", "test:P-F-0"} <= set(g["identity_confidence"].evidence)
    _agree(ws)


def test_scoring_queues_the_doubts_only_the_gates_find(ws):
    from casegraph.policy.score import run_scoring
    from casegraph.resolve.review import decide_pair, list_queue
    from casegraph.resolve.schema import ensure_tables

    ensure_tables(ws)
    add_person(ws, "P-A", _subject(full_name="Lupe Flores", birth_date=D(2003, 8, 8)))
    add_person(ws, "P-F", [{"kind": "detention", "book_in_date": D(2026, 9, 1),
                            "facility_id": "F1", "full_name": "Guadalupe Flores Ruiz",
                            "birth_date": D(2004, 8, 8)}])
    add_person(ws, "P-N", [{"kind": "person", "full_name": "No Order", "birth_date": D(1990, 1, 2)},
                           {"kind": "detention", "book_in_date": D(2026, 9, 1),
                            "facility_id": "F1", "full_name": "Lupe Flores",
                            "birth_date": D(2003, 8, 8)}])
    rep = run_scoring(ws, as_of=AS_OF)
    # both detentions may be Lupe's; P-N has no order, so nothing decides P-N's eligibility
    assert rep.eligible == 0 and rep.review_queued == 2
    items = list_queue(ws)
    assert {frozenset((i["record_key_l"], i["record_key_r"])) for i in items} == {
        frozenset(("test:P-A-1", "test:P-F-0")), frozenset(("test:P-A-1", "test:P-N-1"))}
    assert all(i["reason"].startswith("decides eligibility of P-A") for i in items)
    assert run_scoring(ws, as_of=AS_OF).review_queued == 0     # never queued twice
    decide_pair(ws, "test:P-A-1", "test:P-F-0", "different", "rev", "other woman")
    r = evaluate_person(ws, "P-A", AS_OF)
    assert not r.eligible and r.results[5].evidence == ("test:P-N-1",)
    decide_pair(ws, "test:P-N-1", "test:P-A-1", "different", "rev", "other woman")
    assert evaluate_person(ws, "P-A", AS_OF).eligible


def test_items_of_persons_blocked_anyway_move_back(ws):
    from casegraph.policy.score import run_scoring
    from casegraph.resolve.review import list_queue
    from casegraph.resolve.schema import ensure_tables

    ensure_tables(ws)
    add_person(ws, "P-A", _subject() + [{"kind": "case_event", "event_type": "stay_granted",
                                          "event_date": D(2026, 9, 1), "stay_authority": "court",
                                          "stay_end_date": D(2026, 12, 31)}])
    add_person(ws, "P-Z", _subject(full_name="Zed Zulu", birth_date=D(1970, 1, 2)))
    for rid, l, r, why in (("RV-a", "test:P-A-0", "x:1", "decides eligibility of P-A: a"),
                           ("RV-z", "test:P-Z-0", "x:2", "decides eligibility of P-Z: z"),
                           ("RV-o", "test:P-Z-0", "x:3", "uncertain match probability")):
        ws.con.execute("insert into identity_review values (?, ?, ?, 0.5, 0, 'open', 'r', ?, "
                       "null)", [rid, l, r, why])
    run_scoring(ws, as_of=AS_OF)
    q = list_queue(ws)
    assert [i["review_id"] for i in q] == ["RV-z", "RV-a", "RV-o"]
    assert q[1]["reason"] == "would decide eligibility of P-A (now fails no_granted_stay): a"
    run_scoring(ws, as_of=D(2027, 2, 1))          # the stay has ended: it decides again
    q = list_queue(ws)
    assert q[0]["reason"] == "decides eligibility of P-A: a" or q[1]["reason"] == \
        "decides eligibility of P-A: a"


def test_weak_match_to_a_record_with_a_conflicting_a_number_is_another_person(ws):
    add_person(ws, "P-A", _subject(a_number="056789012"))
    stay = {"kind": "case_event", "event_type": "stay_granted", "event_date": D(2026, 9, 1),
            "stay_authority": "court"}
    add_person(ws, "P-W", [{**stay, "a_number": "099999999"}])      # weak link: other person
    add_person(ws, "P-S", [{**stay, "a_number": "088888888"}])      # strong link: a human
    add_person(ws, "P-T", [{**stay, "a_number": "056789021"}])      # a typo of hers
    add_person(ws, "P-N", [{"kind": "status", "status_type": "naturalized",
                            "status_date": D(2025, 6, 1), "full_name": "Ana Martinez",
                            "birth_date": D(1995, 6, 15), "a_number": "077777777"}])
    _links(ws, [("test:P-A-1", "test:P-W-0", 0.6, 0.6), ("test:P-A-1", "test:P-S-0", 0.97, 0.001),
                ("test:P-A-1", "test:P-T-0", 0.6, 0.6)])
    v = _vias(ws, "P-A")
    assert v.get("test:P-W-0", ("",))[0] == "rival"    # a weak rival: no legal fact
    assert "test:P-N-0" not in v
    assert v["test:P-S-0"][0] == "identity_link"
    assert v["test:P-T-0"][0] in ("identity_link", "a_number_near")
    _agree(ws)
