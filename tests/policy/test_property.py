"""Property: over random case histories, nobody failing or needing review is ever eligible,
and certain blocking facts always block."""

from __future__ import annotations

import datetime as dt

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from casegraph.ontology import CASE_EVENT_TYPES, DEPARTURE_CHANNELS, STATUS_TYPES
from casegraph.policy.config import load_policy
from casegraph.policy.facts import PersonFacts, make_fact
from casegraph.policy.gates import PASS, evaluate, is_eligible

CFG = load_policy().policy.gates
AS_OF = dt.date(2026, 11, 1)
dates = st.dates(dt.date(2018, 1, 1), dt.date(2027, 6, 1))
probs = st.sampled_from([1.0, 0.99, 0.95, 0.9, 0.85, 0.5])
outcomes = st.sampled_from(["dismissed", "denied", "granted", "sustained", "remanded", None, "x"])


@st.composite
def fact(draw, i):
    kind = draw(st.sampled_from(["removal_order", "case_event", "status", "detention",
                                 "departure", "encounter"]))
    key, p = f"r:{i}", draw(probs)
    if kind == "removal_order":
        return make_fact(kind, key, p, order_date=draw(dates),
                         order_type=draw(st.sampled_from(["removal", "expedited", "reinstated"])),
                         in_absentia=draw(st.booleans()), appeal_waived=draw(st.booleans()),
                         case_number=draw(st.sampled_from([None, "A", "B"])))
    if kind == "case_event":
        return make_fact(kind, key, p, event_type=draw(st.sampled_from(CASE_EVENT_TYPES)),
                         event_date=draw(dates), outcome=draw(outcomes),
                         stay_end_date=draw(st.none() | dates),
                         case_number=draw(st.sampled_from([None, "A", "B"])))
    if kind == "status":
        return make_fact(kind, key, p, status_type=draw(st.sampled_from(STATUS_TYPES)),
                         status_date=draw(st.none() | dates))
    if kind == "detention":
        return make_fact(kind, key, p, facility_id="F", book_in_date=draw(dates),
                         book_out_date=draw(st.none() | dates))
    if kind == "departure":
        return make_fact(kind, key, p, departure_date=draw(dates),
                         channel=draw(st.sampled_from(DEPARTURE_CHANNELS)))
    return make_fact(kind, key, p, encounter_date=draw(dates),
                     encounter_type=draw(st.sampled_from([None, "arrest", "removal"])),
                     charge_status=draw(st.sampled_from([None, "pending", "convicted"])))


@st.composite
def history(draw):
    n = draw(st.integers(0, 8))
    facts = [draw(fact(i)) for i in range(n)]
    conf = draw(st.none() | st.floats(0, 1))
    return PersonFacts("P-1", conf, facts), draw(dates)


@settings(max_examples=400, deadline=None)
@given(history())
def test_no_failing_or_review_person_is_eligible(h):
    person, as_of = h
    results = evaluate(person, as_of, CFG)
    assert len(results) == 7
    bad = [r for r in results if r.verdict != PASS]
    if bad:
        assert not is_eligible(results)
    else:
        assert is_eligible(results)
    # certain blocking facts known on the as-of date always block
    for f in person.facts:
        if f["link_probability"] < CFG.fact_link_threshold:
            continue
        if f["kind"] == "status" and f["status_type"] in (
                "us_citizen", "naturalized", "t_visa_applicant", "u_visa_applicant",
                "vawa_self_petitioner") and (f["status_date"] is None or f["status_date"] <= as_of):
            assert not is_eligible(results)
        if f["kind"] == "case_event" and f["event_type"] == "stay_granted" \
                and f["event_date"] <= as_of and (f["stay_end_date"] is None
                                                  or f["stay_end_date"] >= as_of) \
                and not any(g["event_type"] == "stay_ended" for g in person.facts
                            if g["kind"] == "case_event"):
            assert not is_eligible(results)
        if f["kind"] == "detention" and f["book_in_date"] <= as_of and (
                f["book_out_date"] is None or f["book_out_date"] > as_of):
            assert not is_eligible(results)
    # uncertain citizenship evidence is never a silent pass
    for f in person.facts:
        if f["kind"] == "status" and f["status_type"] in ("us_citizen", "naturalized") \
                and (f["status_date"] is None or f["status_date"] <= as_of):
            g4 = next(r for r in results if r.gate == "no_citizenship_or_status")
            assert g4.verdict != PASS and f["record_key"] in g4.evidence or g4.verdict != PASS


@settings(max_examples=150, deadline=None)
@given(history())
def test_evaluation_is_deterministic(h):
    person, as_of = h
    assert evaluate(person, as_of, CFG) == evaluate(person, as_of, CFG)


@settings(max_examples=5, deadline=None,
          phases=(Phase.explicit, Phase.reuse, Phase.generate))   # no slow shrinking
@given(st.lists(history(), min_size=1, max_size=6))
def test_stored_batched_path_matches_pure_evaluation(histories):
    """Random histories written as records, scored through the warehouse (one query for all
    persons), give exactly the verdicts of the pure function on the same facts. Case numbers
    are made unique per person (as real case numbers are): events follow their case number
    across persons in the warehouse."""
    import json
    import tempfile
    from pathlib import Path

    from casegraph.policy.config import load_policy as _lp
    from casegraph.policy.facts import FACT_COLUMNS
    from casegraph.policy.score import run_scoring
    from casegraph.policy.testing import add_person
    from casegraph.workspace import Workspace

    as_of = histories[0][1]
    with tempfile.TemporaryDirectory() as d:
        ws = Workspace(Path(d) / "ws")
        expected = {}
        for i, (person, _) in enumerate(histories):
            pid = f"P-{i:03d}"
            recs, facts = [], []
            for j, f in enumerate(person.facts):
                key = f"hyp:{pid}-{j}"
                if f["case_number"]:
                    f = {**f, "case_number": f"{pid}/{f['case_number']}"}
                rec = {c: f[c] for c in FACT_COLUMNS if f[c] is not None
                       and c not in ("record_key", "source")}
                rec.update(source="hyp", record_id=f"{pid}-{j}",
                           link_probability=f["link_probability"])
                recs.append(rec)
                facts.append({**f, "record_key": key, "source": "hyp"})
            conf = 0.5 if person.confidence is None else person.confidence
            add_person(ws, pid, recs, confidence=conf)
            expected[pid] = evaluate(PersonFacts(pid, conf, facts), as_of, _lp().policy.gates)
        rep = run_scoring(ws, as_of=as_of)
        rows = ws.query("select person_id, gate, verdict, reason, evidence from gate_results "
                        "where run_id = ? order by person_id", [rep.run_id])
        got: dict[str, list] = {}
        for r in rows:
            got.setdefault(r["person_id"], []).append(
                (r["gate"], r["verdict"], r["reason"], json.loads(r["evidence"])))
        for pid, res in expected.items():
            assert sorted(got[pid]) == sorted((r.gate, r.verdict, r.reason, list(r.evidence))
                                              for r in res)
        ws.close()


vias = st.sampled_from(["resolution", "resolution", "case_number", "case_number_conflict",
                        "a_number", "a_number_near", "name_dob", "identity_link"])


@settings(max_examples=400, deadline=None)
@given(history(), st.lists(vias, min_size=8, max_size=8))
def test_uncertain_facts_never_make_anyone_eligible(h, how):
    """Uncertain evidence can block or send to review, never enable: whoever is eligible with
    their uncertain facts is eligible on their certain facts alone."""
    from casegraph.policy.gates import is_certain

    person, as_of = h
    facts = [{**f, "linked_via": v} for f, v in zip(person.facts, how, strict=False)]
    sure = [f for f in facts if is_certain(f, CFG.fact_link_threshold)]
    if is_eligible(evaluate(PersonFacts("P-1", person.confidence, facts), as_of, CFG)):
        assert is_eligible(evaluate(PersonFacts("P-1", person.confidence, sure), as_of, CFG))


@settings(max_examples=300, deadline=None)
@given(history(), st.lists(vias, min_size=8, max_size=8))
def test_uncertain_blocking_facts_always_reach_identity_review(h, how):
    """Whenever a record of uncertain identity (not resolved to the person) carries a fact
    that makes some gate say no, the identity gate says needs_review and names it."""
    from casegraph.policy.gates import IDENTITY_FALLBACK_VIAS

    person, as_of = h
    facts = [{**f, "linked_via": v} for f, v in zip(person.facts, how, strict=False)]
    res = {r.gate: r for r in evaluate(PersonFacts("P-1", person.confidence, facts), as_of,
                                       CFG)}
    doubtful = {f["record_key"] for f in facts if f["linked_via"] in IDENTITY_FALLBACK_VIAS}
    cited = {k for g, r in res.items() if g != "identity_confidence" and r.verdict != "pass"
             for k in r.evidence} & doubtful
    if cited:
        assert res["identity_confidence"].verdict == "needs_review"
        assert cited <= set(res["identity_confidence"].evidence)
