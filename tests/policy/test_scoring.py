"""Scoring runs on a workspace: stored tables, batched vs single-person agreement, replay,
policy loading and versions, priority contributions."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casegraph.policy.config import PolicyError, default_policy_text, load_policy
from casegraph.policy.score import evaluate_person, latest_run, run_scoring, stored_results
from casegraph.policy.testing import add_person

D = dt.date
AS_OF = D(2026, 11, 1)


ORDER_DATE = D(2024, 1, 10)


def order(date=ORDER_DATE, **kw):
    return {"kind": "removal_order", "order_date": date, "order_type": "removal", **kw}


def ev(etype, date, **kw):
    return {"kind": "case_event", "event_type": etype, "event_date": date, **kw}


@pytest.fixture()
def world(ws):
    add_person(ws, "P-001", [order(), {"kind": "conviction", "severity": "felony",
                                       "offense_category": "violent", "sentence_days": 800,
                                       "conviction_date": D(2025, 1, 1)}])
    add_person(ws, "P-002", [order(), ev("stay_granted", D(2026, 1, 1), stay_authority="court")])
    add_person(ws, "P-003", [order(), {"kind": "status", "status_type": "us_citizen",
                                       "link_probability": 0.6}])
    add_person(ws, "P-004", [order(date=D(2026, 10, 2))])           # window through 11-01
    add_person(ws, "P-005", [order()], confidence=0.5)
    add_person(ws, "P-006", [order(), {"kind": "departure", "channel": "air_exit",
                                       "departure_date": D(2026, 3, 1)}])
    add_person(ws, "P-007", [order(), {"kind": "departure", "channel": "self_report",
                                       "departure_date": D(2026, 3, 1)},
                             {"kind": "encounter", "encounter_date": D(2026, 6, 1),
                              "charge_status": "pending", "charges": "theft"}])
    add_person(ws, "P-008", [order(), ev("petition_for_review_filed", D(2026, 2, 1))])
    add_person(ws, "P-009", [])
    add_person(ws, "P-010", [order(), {"kind": "detention", "facility_id": "F1",
                                       "book_in_date": D(2026, 9, 1)}])
    return ws


def test_run_scoring_stores_contract_tables(world):
    rep = run_scoring(world, as_of=AS_OF)
    assert rep.persons == 10
    elig = {r["person_id"]: r for r in world.query(
        "select * from eligibility where run_id = ?", [rep.run_id])}
    assert {p for p, r in elig.items() if r["eligible"]} == {"P-001", "P-007", "P-008"}
    assert rep.eligible == 3
    assert json.loads(elig["P-002"]["blocking"]) == ["no_granted_stay"]
    assert json.loads(elig["P-003"]["blocking"]) == ["no_citizenship_or_status"]
    assert "claimed_departure" in json.loads(elig["P-007"]["flags"])
    assert "petition_for_review_pending" in json.loads(elig["P-008"]["flags"])
    g = world.query("select * from gate_results where run_id = ? and person_id = 'P-003' "
                    "and gate = 'no_citizenship_or_status'", [rep.run_id])[0]
    assert g["verdict"] == "needs_review"
    assert json.loads(g["evidence"]) == ["test:P-003-1"]
    assert g["as_of"] == AS_OF and g["policy_version"] == rep.policy_version
    run = latest_run(world)
    assert run["run_id"] == rep.run_id and run["as_of"] == AS_OF
    assert rep.blocked["no_granted_stay"]["fail"] == 1
    pr = world.query("select * from priority where run_id = ? and person_id = 'P-001'",
                     [rep.run_id])[0]
    contribs = json.loads(pr["contributions"])
    factors = {c["factor"]: c["points"] for c in contribs}
    assert factors["conviction_severity"] == 40 and factors["conviction_category"] == 40
    assert factors["sentence_length"] == 4                      # 2 full years x 2 points
    assert pr["score"] == pytest.approx(sum(c["points"] for c in contribs))
    p7 = json.loads(world.query("select contributions from priority where run_id = ? and "
                                "person_id = 'P-007'", [rep.run_id])[0]["contributions"])
    assert any(c["factor"] == "pending_charges" for c in p7)


def test_batched_and_single_person_paths_agree(world):
    rep = run_scoring(world, as_of=AS_OF)
    stored = stored_results(world, rep.run_id)
    for pid, rows in stored.items():
        single = evaluate_person(world, pid, AS_OF)
        assert [(r.gate, r.verdict, r.reason, list(r.evidence)) for r in single.results] == \
            [(r["gate"], r["verdict"], r["reason"], json.loads(r["evidence"])) for r in rows]
        elig = world.query("select eligible from eligibility where run_id = ? and person_id = ?",
                           [rep.run_id, pid])[0]["eligible"]
        assert single.eligible == elig


def test_as_of_replay_is_identical(world):
    a = run_scoring(world, as_of=AS_OF)
    b = run_scoring(world, as_of=AS_OF)
    assert a.run_id != b.run_id

    def rows(run_id, table, cols):
        return world.query(f"select {cols} from {table} where run_id = ? order by all", [run_id])
    gate_cols = ("person_id, gate, verdict, reason, evidence::varchar, flags::varchar, as_of, "
                 "policy_version")
    for table, cols in (("gate_results", gate_cols),
                        ("eligibility", "person_id, eligible, blocking::varchar, flags::varchar"),
                        ("priority", "person_id, score, contributions::varchar")):
        assert rows(a.run_id, table, cols) == rows(b.run_id, table, cols)
    # an earlier as-of: P-004's order is not yet known; P-006 had not departed
    early = run_scoring(world, as_of=D(2026, 2, 1))
    e = {r["person_id"]: r["eligible"] for r in world.query(
        "select person_id, eligible from eligibility where run_id = ?", [early.run_id])}
    assert e["P-006"] and not e["P-004"]


def test_unknown_person_is_never_eligible(world):
    r = evaluate_person(world, "P-404", AS_OF)
    assert not r.eligible and not r.found


def test_policy_version_changes_with_file(world, tmp_path):
    p = tmp_path / "pol.yaml"
    p.write_text(default_policy_text().replace("severity_points: {felony: 40",
                                               "severity_points: {felony: 80"))
    lp = load_policy(p)
    assert lp.version != load_policy().version
    assert lp.version.startswith("2026.11-default+")
    rep = run_scoring(world, as_of=AS_OF, policy_path=p)
    assert rep.policy_version == lp.version
    pts = json.loads(world.query("select contributions from priority where run_id = ? and "
                                 "person_id = 'P-001'", [rep.run_id])[0]["contributions"])
    assert {c["factor"]: c["points"] for c in pts}["conviction_severity"] == 80
    # evaluate_person uses the latest run's policy by default
    assert evaluate_person(world, "P-001", AS_OF).policy_version == lp.version


@pytest.mark.parametrize("text,key", [
    ("version: x\npriority:\n  severity_points: {felony: lots}\n", "priority.severity_points.felony"),
    ("version: x\ngates:\n  apeal_window_days: 30\n", "gates.apeal_window_days"),
    ("version: x\ngates:\n  identity_confidence_threshold: 3\n",
     "gates.identity_confidence_threshold"),
    ("gates: {}\n", "version"),
    ("version: x\nleads:\n  sensitive_sites: {distance_m: -1}\n", "leads.sensitive_sites.distance_m"),
])
def test_bad_policy_names_the_key(tmp_path, text, key):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(PolicyError) as e:
        load_policy(p)
    assert key in str(e.value) and str(p) in str(e.value)


def test_policy_not_yaml_or_missing(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("version: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(p)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def test_split_identity_cannot_hide_blocking_records(ws):
    """Resolution split one person in two: the order is on P-A; a stay (same A-number) and the
    vacating event (same case number) ended up on P-B. P-A must not become a lead."""
    add_person(ws, "P-A", [order(a_number="012345678", case_number="HOU-1")])
    add_person(ws, "P-B", [ev("stay_granted", D(2026, 1, 1), stay_authority="court",
                              a_number="012345678")])
    add_person(ws, "P-C", [order(a_number="099999999", case_number="HOU-2")])
    add_person(ws, "P-D", [ev("order_vacated", D(2025, 5, 1), case_number="HOU-2")])
    rep = run_scoring(ws, as_of=AS_OF)
    rows = {(r["person_id"], r["gate"]): r for r in world_rows(ws, rep.run_id)}
    stay = rows[("P-A", "no_granted_stay")]
    assert stay["verdict"] == "needs_review" and "A-number" in stay["reason"]
    assert json.loads(stay["evidence"]) == ["test:P-B-0"]
    fo = rows[("P-C", "final_order")]
    assert fo["verdict"] == "fail" and "vacated" in fo["reason"]
    assert rep.eligible == 0
    # the single-person path sees the same links
    assert evaluate_person(ws, "P-A", AS_OF).results[2].verdict == "needs_review"
    assert not evaluate_person(ws, "P-C", AS_OF).eligible


def world_rows(ws, run_id):
    return ws.query("select * from gate_results where run_id = ?", [run_id])


def test_unlinked_departure_with_same_birth_date_and_name_goes_to_review(ws):
    """An exit manifest row without an A-number that resolution left apart (name order
    differs) still reaches the person by birth date + a name word: needs_review."""
    add_person(ws, "P-A", [order(full_name="Harpreet Karan Gupta", birth_date=D(1993, 1, 13))])
    add_person(ws, "P-B", [{"kind": "departure", "channel": "air_exit",
                            "departure_date": D(2025, 1, 15), "full_name": "GUPTA KARAN HARPREET",
                            "birth_date": D(1993, 1, 13)}])
    add_person(ws, "P-C", [order(full_name="Maria Lopez", birth_date=D(1993, 1, 13))])
    rep = run_scoring(ws, as_of=AS_OF)
    rows = {(r["person_id"], r["gate"]): r for r in world_rows(ws, rep.run_id)}
    g7 = rows[("P-A", "not_already_resolved")]
    assert g7["verdict"] == "needs_review" and "birth date and name" in g7["reason"]
    assert rows[("P-C", "not_already_resolved")]["verdict"] == "pass"   # same DOB, other name
    assert evaluate_person(ws, "P-A", AS_OF).results[6].verdict == "needs_review"


def test_decide_person_is_the_stored_decision(world):
    from casegraph.policy.facts import load_person_facts
    from casegraph.policy.score import decide_person

    rep = run_scoring(world, as_of=AS_OF)
    d = decide_person(load_person_facts(world, "P-001"), AS_OF, load_policy())
    row = world.query("select score, contributions from priority where run_id = ? and "
                      "person_id = 'P-001'", [rep.run_id])[0]
    assert d.eligible and d.blocking == [] and d.score == row["score"]
    assert d.contributions == json.loads(row["contributions"])
