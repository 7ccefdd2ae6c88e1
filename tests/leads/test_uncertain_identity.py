"""Leads from records that are only uncertainly the person's: weight, flag, confidence cap."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casegraph.leads.build import build_leads
from casegraph.policy.config import PolicyError, default_policy_text, parse_policy
from casegraph.policy.score import run_scoring
from casegraph.policy.testing import add_person

D = dt.date
AS_OF = D(2026, 11, 1)
ORDER = {"kind": "removal_order", "order_date": D(2024, 1, 10), "order_type": "removal",
         "appeal_waived": True}
FLAG = "uncertain_identity"


def loc(source, street, zip_, when, kind="residence", **kw):
    return {"kind": "location", "source": source, "street_address": street, "postcode": zip_,
            "observed_on": when, "location_kind": kind, **kw}


def fresh(source="dmv", street="1 A St", p=1.0, **kw):
    return loc(source, street, "77002", D(2026, 10, 1), link_probability=p, **kw)


def lead(ws, run_id, pid):
    row = ws.query("select * from leads where run_id = ? and person_id = ?", [run_id, pid])[0]
    return json.loads(row["flags"]), json.loads(row["candidates"]), row["confidence"]


def links(ws, rows):
    ws.con.execute("""create table if not exists identity_links (
        record_key_l varchar, record_key_r varchar, model_p double, p double, rule varchar,
        run_id varchar)""")
    for left, right, p in rows:
        ws.con.execute("insert into identity_links values (?, ?, ?, ?, 'test', 'r')",
                       [left, right, p, p])


def test_link_probability_weighs_each_record(ws):
    add_person(ws, "P-sure", [ORDER, fresh(p=0.999), fresh("court", p=0.999)])
    add_person(ws, "P-less", [ORDER, fresh(p=0.92), fresh("court", p=0.92)])
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    conf1 = lead(ws, run.run_id, "P-sure")[2]
    f2, c2, conf2 = lead(ws, run.run_id, "P-less")
    assert conf2 < conf1
    # 0.92 is above the default 0.9: weighed down, not flagged
    assert FLAG not in f2 and FLAG not in c2[0]["flags"]
    assert {e["link_probability"] for e in c2[0]["evidence"]} == {0.92}
    assert not any(e["uncertain_identity"] for e in c2[0]["evidence"])


def test_all_evidence_weakly_linked_flags_and_caps(ws):
    # three fresh, reliable, independent systems: high confidence if the records were certain
    weak = [fresh(s, p=0.85) for s in ("dmv", "court", "utility")]
    add_person(ws, "P-weak", [ORDER, *weak])
    add_person(ws, "P-mixed", [ORDER, *weak[:2], fresh("utility", p=1.0)])
    run = run_scoring(ws, as_of=AS_OF)
    rep = build_leads(ws)
    flags, cands, conf = lead(ws, run.run_id, "P-weak")
    assert FLAG in cands[0]["flags"] and FLAG in flags
    assert conf == cands[0]["confidence"] == 50.0          # capped (uncapped it is ~99)
    assert cands[0]["uncertain_evidence"] == 3
    assert all(e["uncertain_identity"] for e in cands[0]["evidence"])
    # one certain record at the place is enough: no flag, no cap
    flags_m, cands_m, conf_m = lead(ws, run.run_id, "P-mixed")
    assert FLAG not in flags_m and conf_m > 90 and cands_m[0]["uncertain_evidence"] == 2
    assert rep.flags[FLAG] == 1


def test_capped_uncertain_place_ranks_below_a_certain_one(ws):
    add_person(ws, "P-1", [ORDER,
                           *[fresh(s, "9 Uncertain St", p=0.8) for s in ("dmv", "court", "mail")],
                           loc("utility", "5 Known Ave", "77003", D(2026, 8, 15), kind="utility")])
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    flags, cands, _ = lead(ws, run.run_id, "P-1")
    assert cands[0]["address"].startswith("5 KNOWN AVE") and FLAG not in cands[0]["flags"]
    assert cands[1]["address"].startswith("9 UNCERTAIN ST") and FLAG in cands[1]["flags"]
    assert FLAG not in flags     # lead-level flags follow the top candidate


def test_open_link_to_another_person_flags_until_decided_different(ws):
    from casegraph.resolve.schema import ensure_tables

    ensure_tables(ws)
    k1 = add_person(ws, "P-1", [ORDER, fresh("dmv"), fresh("court")])
    k2 = add_person(ws, "P-2", [fresh("dmv", "1 A St", record_id="other")])
    links(ws, [(k1[1], k2[0], 0.6)])
    ws.con.execute("insert into identity_review values ('RV-1', ?, ?, 0.55, 0, 'open', 'r', "
                   "'uncertain match probability', null)", [k2[0], k1[2]])
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    flags, cands, conf = lead(ws, run.run_id, "P-1")
    assert FLAG in flags and conf <= 50
    rivals = {e["record_key"]: e["rival"] for e in cands[0]["evidence"]}
    assert rivals == {k1[1]: {"person_id": "P-2", "probability": 0.6},
                      k1[2]: {"person_id": "P-2", "probability": 0.55}}
    # a reviewer says the dmv record is not P-2's, and the court record's item is closed:
    # both records are certain now -> no flag, no cap
    ws.con.execute("update identity_review set status = 'decided' where review_id = 'RV-1'")
    ws.con.execute("insert into identity_decisions values (?, ?, 'different', 'rev', 'x', "
                   "?, 'RV-1')", [k2[0], k1[1], dt.datetime(2026, 10, 2)])
    run2 = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    flags2, cands2, conf2 = lead(ws, run2.run_id, "P-1")
    assert FLAG not in flags2 and conf2 > conf and cands2[0]["uncertain_evidence"] == 0


def test_weak_rival_below_threshold_is_ignored(ws, tmp_path):
    k1 = add_person(ws, "P-1", [ORDER, fresh("dmv")])
    k2 = add_person(ws, "P-2", [fresh("dmv", record_id="other")])
    links(ws, [(k1[1], k2[0], 0.4)])
    p = tmp_path / "p.yaml"
    p.write_text(default_policy_text().replace("rival_min_probability: 0.3",
                                               "rival_min_probability: 0.5"))
    run = run_scoring(ws, as_of=AS_OF, policy_path=p)
    build_leads(ws)
    assert FLAG not in lead(ws, run.run_id, "P-1")[0]
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    assert FLAG in lead(ws, run.run_id, "P-1")[0]


def test_policy_thresholds_are_validated():
    pol = parse_policy(default_policy_text()).policy.leads.uncertain_identity
    assert (pol.min_link_probability, pol.rival_min_probability, pol.max_confidence) == (
        0.9, 0.3, 50.0)
    with pytest.raises(PolicyError, match=r"leads\.uncertain_identity\.max_confidence"):
        parse_policy(default_policy_text().replace("max_confidence: 50", "max_confidence: 150"))
    with pytest.raises(PolicyError, match=r"leads\.uncertain_identity\.min_link_probability"):
        parse_policy(default_policy_text().replace("min_link_probability: 0.9",
                                                   "min_link_probability: 1.5"))
    with pytest.raises(PolicyError, match=r"leads\.uncertain_identity\.typo"):
        parse_policy(default_policy_text().replace("max_confidence: 50",
                                                   "max_confidence: 50\n    typo: 1"))
