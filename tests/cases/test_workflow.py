"""Lead -> case workflow, profiles, review, departures (service level)."""

from __future__ import annotations

import pytest

from casegraph.cases import departures, leads, persons, review, workflow
from casegraph.governance.audit import list_events, verify
from casegraph.governance.errors import Conflict, Forbidden, Invalid, NotFound


def test_lead_list_filter_sort_page(cws, people) -> None:
    res = leads.list_leads(cws, people["analyst"])
    assert res["total"] == 3 and res["run_id"] == "s1"
    assert [i["lead_id"] for i in res["items"]] == ["L-000001", "L-000002", "L-000004"]
    assert all(i["workflow_status"] == "proposed" for i in res["items"])
    res = leads.list_leads(cws, people["analyst"], sort="priority_score", order="asc", limit=1,
                           offset=1)
    assert res["total"] == 3 and [i["lead_id"] for i in res["items"]] == ["L-000002"]
    assert leads.list_leads(cws, people["analyst"], flag="sensitive")["total"] == 1
    assert leads.list_leads(cws, people["analyst"], min_score=45)["total"] == 1
    assert leads.list_leads(cws, people["analyst"], q="houston")["total"] == 1
    with pytest.raises(Forbidden):
        leads.list_leads(cws, people["officer"])
    with pytest.raises(Invalid):
        leads.list_leads(cws, people["analyst"], sort="drop table")


def test_approve_assign_outcomes(cws, people, policy) -> None:
    sue, otto, olga = people["supervisor"], people["officer"], people["olga"]
    with pytest.raises(Forbidden):
        leads.approve_lead(cws, people["analyst"], "L-000001", "looks right")
    with pytest.raises(Invalid):
        leads.approve_lead(cws, sue, "L-000001", "")
    res = leads.approve_lead(cws, sue, "L-000001", "all gates pass, recent address")
    assert policy.calls and policy.calls[0][0] == "P-000001"
    case_id = res["case_id"]
    assert case_id.startswith("C-")
    with pytest.raises(Conflict, match="already approved"):
        leads.approve_lead(cws, sue, "L-000001", "again")
    with pytest.raises(Conflict, match="already approved"):
        leads.reject_lead(cws, sue, "L-000001", "changed my mind")
    assert leads.get_lead(cws, sue, "L-000001")["workflow_status"] == "open"
    with pytest.raises(Conflict, match="not assigned"):
        workflow.record_outcome(cws, sue, case_id, "located", "x")
    with pytest.raises(Invalid, match="not an officer"):
        workflow.assign_case(cws, sue, case_id, "ana")
    c = workflow.assign_case(cws, sue, case_id, "otto", "your area")
    assert c["status"] == "assigned" and c["assigned_to"] == "otto"
    # officers see only their own cases
    assert workflow.list_cases(cws, otto)["total"] == 1
    assert workflow.list_cases(cws, olga)["total"] == 0
    with pytest.raises(NotFound):
        workflow.get_case(cws, olga, case_id)
    with pytest.raises(NotFound):
        workflow.record_outcome(cws, olga, case_id, "located")
    with pytest.raises(Forbidden):
        workflow.assign_case(cws, otto, case_id, "olga")
    c = workflow.record_outcome(cws, otto, case_id, "not_found", "nobody home at 7am")
    c = workflow.add_note(cws, otto, case_id, "neighbour says moved to Dallas")
    c = workflow.record_outcome(cws, otto, case_id, "located", "found at new address")
    with pytest.raises(Invalid):
        workflow.record_outcome(cws, otto, case_id, "vanished")
    c = workflow.record_outcome(cws, otto, case_id, "closed", "in custody transferred")
    assert [e["event"] for e in c["events"]] == ["opened", "assigned", "outcome", "note",
                                                 "outcome", "outcome"]
    assert all(e["at"] for e in c["events"])
    with pytest.raises(Conflict, match="closed"):
        workflow.record_outcome(cws, otto, case_id, "located")
    acts = [e.action for e in list_events(cws, person="P-000001", limit=100)[0]]
    assert {"lead.approve", "case.assign", "case.outcome", "case.note"} <= set(acts)
    assert verify(cws).ok


def test_approval_refused_when_no_longer_eligible(cws, people, policy) -> None:
    policy.verdicts["P-000001"] = [
        policy.Gate("final_order", "pass", "final"),
        policy.Gate("no_granted_stay", "fail", "stay granted by the board until 2027-01-01"),
    ]
    with pytest.raises(Conflict) as e:
        leads.approve_lead(cws, people["supervisor"], "L-000001", "approve please")
    assert e.value.code == "not_eligible"
    assert "no_granted_stay" in str(e.value) and "stay granted" in str(e.value)
    assert leads.get_lead(cws, people["supervisor"], "L-000001")["workflow_status"] == "proposed"
    evs, _ = list_events(cws, action="lead.approve")
    assert evs[0].result == "refused"


def test_person_merged_away_cannot_be_approved(cws, people, policy) -> None:
    policy.missing.add("P-000001")
    with pytest.raises(Conflict, match="no longer exists"):
        leads.approve_lead(cws, people["supervisor"], "L-000001", "approve")


def test_recheck_failure_fails_closed(cws, people, monkeypatch) -> None:
    import sys
    import types

    mod = types.ModuleType("casegraph.policy.score")

    def broken(ws, person_id, as_of):
        raise RuntimeError("no score run")

    mod.evaluate_person = broken
    monkeypatch.setitem(sys.modules, "casegraph.policy.score", mod)
    from casegraph.governance.errors import Unavailable

    with pytest.raises(Unavailable, match="cannot re-check"):
        leads.approve_lead(cws, people["supervisor"], "L-000001", "approve")
    assert leads.get_lead(cws, people["supervisor"], "L-000001")["workflow_status"] == "proposed"


def test_verified_departure_blocks_approval(cws, people, policy) -> None:
    with pytest.raises(Conflict, match="verified departure"):
        leads.approve_lead(cws, people["supervisor"], "L-000004", "approve")


def test_flags_need_acknowledgement(cws, people, policy) -> None:
    sue = people["supervisor"]
    with pytest.raises(Conflict) as e:
        leads.approve_lead(cws, sue, "L-000002", "approve")
    assert e.value.code == "acknowledgement_required" and "sensitive_site" in str(e.value)
    res = leads.approve_lead(cws, sue, "L-000002", "approve; site is 2 km away",
                             acknowledge=["sensitive_site"])
    assert res["decision"] == "approved"
    lead = leads.get_lead(cws, sue, "L-000002")
    assert lead["decision"]["acknowledged"] == ["sensitive_site"]


def test_recheck_flags_need_needs_review_ack(cws, people, policy) -> None:
    policy.verdicts["P-000001"] = [policy.Gate("no_granted_stay", "pass", "none",
                                               ("petition_for_review_pending",))]
    with pytest.raises(Conflict, match="needs_review"):
        leads.approve_lead(cws, people["supervisor"], "L-000001", "approve")
    leads.approve_lead(cws, people["supervisor"], "L-000001", "approve, petition noted",
                       acknowledge=["needs_review"])


def test_stored_gates_used_without_policy_engine(cws, people, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "casegraph.policy.score", None)  # import fails
    rc = leads.recheck_person(cws, "P-000003")
    assert not rc.eligible and rc.source.startswith("stored")
    assert leads.recheck_person(cws, "P-000001").eligible


def test_reject(cws, people) -> None:
    res = leads.reject_lead(cws, people["supervisor"], "L-000001", "address too stale")
    assert res["decision"] == "rejected"
    assert leads.list_leads(cws, people["supervisor"], status="rejected")["total"] == 1
    with pytest.raises(NotFound):
        leads.reject_lead(cws, people["supervisor"], "L-999", "nope")


def test_profile_masking_purpose_and_officer_scope(cws, people, policy) -> None:
    ana, sue, otto = people["analyst"], people["supervisor"], people["officer"]
    with pytest.raises(persons.PurposeMissing):
        persons.get_profile(cws, ana, "P-000003", None)
    p = persons.get_profile(cws, ana, "P-000003", "C-000001")
    rec = p["records"][0]
    assert rec["status_type"] == "protected_status" and rec["status_detail"] == "[masked]"
    assert "u_visa" not in str(p)
    assert p["gates"][0]["verdict"] == "fail" and "masked" in p["gates"][0]["reason"]
    full = persons.get_profile(cws, sue, "P-000003", "C-000001")
    assert full["records"][0]["status_type"] == "u_visa_applicant"
    p1 = persons.get_profile(cws, ana, "P-000001", "locating subject for the removal order")
    assert p1["canonical"]["full_name"] == {"value": "Maria Garcia", "record_key": "eoir:1"}
    assert {r["record_key"] for r in p1["records"]} == {"eoir:1", "dmv:9"}
    assert [r["match_probability"] for r in p1["records"] if r["record_key"] == "dmv:9"] == [0.93]
    assert p1["priority"]["contributions"][0]["factor"] == "felony"
    assert p1["location_candidates"][0]["address"].startswith("1 Main")
    assert [t["kind"] for t in p1["timeline"]] == ["removal_order", "location"]
    # officers: only persons on their cases
    with pytest.raises(NotFound):
        persons.get_profile(cws, otto, "P-000001", "C-000001")
    case = leads.approve_lead(cws, sue, "L-000001", "go ahead")["case_id"]
    workflow.assign_case(cws, sue, case, "otto")
    p = persons.get_profile(cws, otto, "P-000001", case)
    assert any(t["kind"] == "case_event" for t in p["timeline"])
    evs, _ = list_events(cws, action="person.read", user="ana")
    assert {e.purpose for e in evs if e.result == "ok"} == {
        "C-000001", "locating subject for the removal order"}
    assert any(e.result == "purpose_missing" for e in evs)


def test_search(cws, people) -> None:
    ana = people["analyst"]
    res = persons.search_persons(cws, ana, "maria")
    assert [h["person_id"] for h in res["items"]] == ["P-000001"]
    with pytest.raises(persons.PurposeMissing):
        persons.search_persons(cws, ana, "012345678")
    res = persons.search_persons(cws, ana, "12345678", purpose="C-000001")
    assert [h["person_id"] for h in res["items"]] == ["P-000001"]
    evs, _ = list_events(cws, action="person.search", user="ana")
    assert evs[0].purpose == "C-000001" and evs[0].detail["query"] == "12345678"
    with pytest.raises(Forbidden):
        persons.search_persons(cws, people["officer"], "maria")
    # a masked field is not searchable for roles that cannot see it
    assert persons.search_persons(cws, ana, "123-45-6789", purpose="C-000001")["items"] == []
    hits = persons.search_persons(cws, people["supervisor"], "123-45-6789", purpose="C-000001")
    assert [h["person_id"] for h in hits["items"]] == ["P-000001"]



def test_review_queue(cws, people, resolver) -> None:
    ana = people["analyst"]
    q = review.list_reviews(cws, ana)
    assert q["total"] == 1
    item = review.get_review(cws, ana, "R-1")
    assert item["left"]["full_name"] == "John Smith" and item["right"]["full_name"] == "Jon Smyth"
    assert item["explanation"] == {"pair": ["eoir:2", "dmv:5"], "fields": []}
    with pytest.raises(Invalid):
        review.decide_review(cws, ana, "R-1", "maybe", "hmm")
    review.decide_review(cws, ana, "R-1", "different", "different birth dates on file")
    assert resolver == [("R-1", "different", "ana", "different birth dates on file")]
    with pytest.raises(Forbidden):
        review.decide_review(cws, people["officer"], "R-1", "same", "x")


def test_departures(cws, people) -> None:
    res = departures.list_departures(cws, people["logistics"])
    assert res["total"] == 1 and res["items"][0]["nationality"] == "CN"
    assert departures.list_departures(cws, people["analyst"],
                                      status="claimed_departed")["total"] == 0
    s = departures.departure_summary(cws, people["analyst"])
    assert s["totals"] == {"verified_departed": 1}
    assert s["by_month"][0]["month"] == "2026-03"


def test_empty_warehouse_gives_empty_sections(gws, people) -> None:
    from casegraph.store.testing import add_role_users

    add_role_users(gws)
    assert leads.list_leads(gws, people["supervisor"])["total"] == 0
    assert review.list_reviews(gws, people["analyst"])["total"] == 0
    assert departures.list_departures(gws, people["analyst"])["total"] == 0
    assert persons.search_persons(gws, people["analyst"], "maria")["items"] == []
    with pytest.raises(NotFound):
        persons.get_profile(gws, people["analyst"], "P-000001", "C-000001")


def test_which_flags_need_acknowledgement() -> None:
    need = leads.required_acknowledgements
    assert need(["stale", "no_location", "shared_address", "workplace"], []) == []
    assert need(["sensitive_site"], []) == ["sensitive_site"]
    assert need(["petition_for_review_pending"], []) == ["needs_review"]
    assert need([], ["claimed_departure"]) == ["needs_review"]
    assert need([{"flag": "sensitive_site", "site": "school"}, "stale"], ["x"]) == [
        "sensitive_site", "needs_review"]


def test_concurrent_decisions_leave_one(cws, people, policy) -> None:
    import threading

    results: list[str] = []

    def decide(kind: str) -> None:
        try:
            if kind == "approve":
                leads.approve_lead(cws, people["supervisor"], "L-000001", "approve it")
            else:
                leads.reject_lead(cws, people["supervisor"], "L-000001", "reject it")
            results.append(kind)
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=decide, args=(k,))
               for k in ("approve", "reject", "approve", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count("conflict") == 3, results
    assert verify(cws).ok
