"""Location leads: confidence ordering, corroboration, flags, eligibility-only, storage."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casegraph.leads.address import normalise_address, parse_street_line
from casegraph.leads.build import NoScoreRun, build_leads, leads_for_run
from casegraph.policy.score import run_scoring
from casegraph.policy.testing import add_person, insert_record

D = dt.date
AS_OF = D(2026, 11, 1)
ORDER = {"kind": "removal_order", "order_date": D(2024, 1, 10), "order_type": "removal",
         "appeal_waived": True}


def loc(source, street, zip_, when, kind="residence", **kw):
    return {"kind": "location", "source": source, "street_address": street, "postcode": zip_,
            "observed_on": when, "location_kind": kind, **kw}


def candidates(ws, run_id, pid):
    row = ws.query("select * from leads where run_id = ? and person_id = ?", [run_id, pid])[0]
    return row, json.loads(row["candidates"])


def test_parse_and_normalise_agree_across_spellings():
    a = normalise_address({"street_address": "1200 Main Street Apt 4", "postcode": "77002"})
    b = normalise_address({"street_address": "1200 MAIN ST #4", "locality": "Houston",
                           "region": "TX", "postcode": "77002-1234"})
    assert a.unit_key == b.unit_key and a.display == "1200 MAIN ST APT 4, HOUSTON, TX 77002"
    assert a.precision == "zip" and a.latitude == pytest.approx(29.7594)
    c = normalise_address({"street_number": "55", "street": "Elm St", "locality": "Dallas",
                           "region": "TX"})
    assert c.precision == "city" and c.latitude is not None
    assert parse_street_line("12 N. Oak Avenue Unit 3B").street == "n oak ave"


def test_corroboration_and_recency_order_candidates(ws):
    add_person(ws, "P-1", [
        ORDER,
        # old place, repeated many times by one system
        loc("dmv", "10 Oak St", "77002", D(2025, 1, 1)),
        loc("dmv", "10 Oak Street", "77002", D(2025, 2, 1)),
        loc("dmv", "10 OAK ST", "77002", D(2025, 3, 1)),
        # new place, seen by two independent systems
        loc("utility", "99 Elm Ave", "77003", D(2026, 9, 1), kind="utility"),
        loc("mail", "99 Elm Avenue", "77003", D(2026, 8, 1), kind="mail"),
        # a single fresh but weak sighting elsewhere
        loc("work", "5 Pine Rd", "77004", D(2026, 10, 1), kind="employment"),
    ])
    run = run_scoring(ws, as_of=AS_OF)
    rep = build_leads(ws)
    assert rep.leads == 1 and rep.with_location == 1
    lead, cands = candidates(ws, run.run_id, "P-1")
    assert lead["status"] == "proposed"
    # homes by confidence, then the workplace (flagged) even though its evidence is freshest
    assert [c["address"].split(",")[0] for c in cands] == ["99 ELM AVE", "10 OAK ST", "5 PINE RD"]
    assert cands[0]["sources"] == ["mail", "utility"]
    assert cands[0]["confidence"] > cands[1]["confidence"]
    assert cands[2]["place_type"] == "workplace" and "workplace" in cands[2]["flags"]
    assert lead["confidence"] == cands[0]["confidence"] and lead["address"] == cands[0]["address"]
    assert cands[1]["observations"] == 3 and "stale" not in cands[0]["flags"]
    assert all(0 <= c["confidence"] <= 100 for c in cands)
    assert cands[0]["evidence"][0]["record_key"] == "utility:P-1-4"
    assert cands[0]["age_days"] == (AS_OF - D(2026, 9, 1)).days


def test_two_systems_beat_one_system_repeating(ws):
    same = [loc("dmv", "1 A St", "77002", D(2026, 9, 1)), loc("dmv", "1 A St", "77002", D(2026, 9, 2))]
    two = [loc("dmv", "1 A St", "77002", D(2026, 9, 1)), loc("court", "1 A St", "77002", D(2026, 9, 2))]
    add_person(ws, "P-1", [ORDER, *same])
    add_person(ws, "P-2", [ORDER, *two])
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    c1 = candidates(ws, run.run_id, "P-1")[1][0]["confidence"]
    c2 = candidates(ws, run.run_id, "P-2")[1][0]["confidence"]
    assert c2 > c1


def test_stale_flag_and_max_three(ws):
    add_person(ws, "P-1", [ORDER] + [loc("s", f"{i} Oak St", "77002", D(2024, 1, i + 1))
                                     for i in range(1, 6)])
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    lead, cands = candidates(ws, run.run_id, "P-1")
    assert len(cands) == 3
    assert all("stale" in c["flags"] for c in cands)
    assert "stale" in json.loads(lead["flags"])


def test_shared_address_flag(ws):
    for i, fam in enumerate(["Garcia", "Nguyen", "Haddad", "Smith", "Okafor"]):
        add_person(ws, f"P-{i}", [ORDER, loc("s", "7 Crowded Ln", "77002", D(2026, 9, 1))],
                   family_name=fam)
    add_person(ws, "P-9", [ORDER, loc("s", "8 Quiet Ln", "77002", D(2026, 9, 1))])
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    assert "shared_address" in candidates(ws, run.run_id, "P-0")[1][0]["flags"]
    assert "shared_address" not in candidates(ws, run.run_id, "P-9")[1][0]["flags"]


def test_shared_address_counts_unrelated_people_only(ws):
    for i in range(6):
        add_person(ws, f"P-{i}", [ORDER, loc("s", "7 Family Ln", "77002", D(2026, 9, 1))],
                   family_name="Garcia")
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    assert "shared_address" not in candidates(ws, run.run_id, "P-0")[1][0]["flags"]


def test_sensitive_site_flag_when_policy_asks(ws, tmp_path):
    insert_record(ws, {"source": "sites", "record_id": "S1", "kind": "sensitive_site",
                       "site_kind": "school", "name": "Lincoln Elementary",
                       "latitude": 29.7600, "longitude": -95.3600})
    add_person(ws, "P-1", [ORDER, loc("s", "1 Near St", "77002", D(2026, 9, 1),
                                      latitude=29.7605, longitude=-95.3602)])
    add_person(ws, "P-2", [ORDER, loc("s", "1 Far St", "77002", D(2026, 9, 1),
                                      latitude=29.90, longitude=-95.50)])
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    c1 = candidates(ws, run.run_id, "P-1")[1][0]
    assert "sensitive_site" in c1["flags"]
    assert c1["sensitive_sites"][0]["record_key"] == "sites:S1"
    assert c1["sensitive_sites"][0]["distance_m"] < 300
    assert "sensitive_site" not in candidates(ws, run.run_id, "P-2")[1][0]["flags"]
    # a policy that does not ask for it
    from casegraph.policy.config import default_policy_text
    p = tmp_path / "p.yaml"
    p.write_text(default_policy_text().replace("    enabled: true", "    enabled: false"))
    run2 = run_scoring(ws, as_of=AS_OF, policy_path=p)
    build_leads(ws)
    assert "sensitive_site" not in candidates(ws, run2.run_id, "P-1")[1][0]["flags"]


def test_only_eligible_persons_get_leads(ws):
    add_person(ws, "P-ok", [ORDER, loc("s", "1 A St", "77002", D(2026, 9, 1))])
    add_person(ws, "P-stay", [ORDER, loc("s", "2 A St", "77002", D(2026, 9, 1)),
                              {"kind": "case_event", "event_type": "stay_granted",
                               "event_date": D(2026, 1, 1), "stay_authority": "court"}])
    add_person(ws, "P-cit", [ORDER, {"kind": "status", "status_type": "us_citizen",
                                     "link_probability": 0.5}])
    add_person(ws, "P-noloc", [ORDER])
    run = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    leads = leads_for_run(ws, run.run_id)
    assert {ld["person_id"] for ld in leads} == {"P-ok", "P-noloc"}
    noloc = next(ld for ld in leads if ld["person_id"] == "P-noloc")
    assert noloc["address"] is None and "no_location" in json.loads(noloc["flags"])
    elig = {r["person_id"] for r in ws.query(
        "select person_id from eligibility where run_id = ? and eligible", [run.run_id])}
    assert {ld["person_id"] for ld in leads} <= elig


def test_observations_after_as_of_ignored_and_replay_identical(ws):
    add_person(ws, "P-1", [ORDER, loc("s", "1 Old St", "77002", D(2026, 6, 1)),
                           loc("s", "2 New St", "77002", D(2026, 12, 1))])
    r1 = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    r2 = run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    a, ca = candidates(ws, r1.run_id, "P-1")
    b, cb = candidates(ws, r2.run_id, "P-1")
    assert ca == cb and len(ca) == 1 and ca[0]["address"].startswith("1 OLD ST")
    assert a["confidence"] == b["confidence"]


def test_no_score_run_and_no_eligible(ws):
    add_person(ws, "P-1", [])
    with pytest.raises(NoScoreRun):
        build_leads(ws)
    run_scoring(ws, as_of=AS_OF)
    rep = build_leads(ws)
    assert rep.leads == 0 and "no eligible" in rep.message


def test_leads_flags_carry_gate_flags(ws):
    add_person(ws, "P-1", [ORDER, {"kind": "departure", "channel": "self_report",
                                   "departure_date": D(2026, 5, 1)},
                           loc("s", "1 A St", "77002", D(2026, 9, 1))])
    run = run_scoring(ws, as_of=AS_OF)
    rep = build_leads(ws)
    lead, _ = candidates(ws, run.run_id, "P-1")
    assert "claimed_departure" in json.loads(lead["flags"])
    assert rep.flags["claimed_departure"] == 1
