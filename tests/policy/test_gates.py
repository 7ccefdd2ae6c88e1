"""Each legal gate and each edge case of issue 4, on crafted facts (pure path)."""

from __future__ import annotations

import datetime as dt

import pytest

from casegraph.policy.config import GatesPolicy, load_policy
from casegraph.policy.facts import PersonFacts, make_fact
from casegraph.policy.gates import FAIL, PASS, REVIEW, evaluate, is_eligible

D = dt.date
CFG = load_policy().policy.gates
AS_OF = D(2026, 11, 1)


ORDER_DATE = D(2025, 1, 10)


def order(key="o:1", date=ORDER_DATE, p=1.0, **kw):
    return make_fact("removal_order", key, p, order_date=date, order_type=kw.pop("order_type", "removal"), **kw)


def event(key, etype, date, p=1.0, **kw):
    return make_fact("case_event", key, p, event_type=etype, event_date=date, **kw)


def status(key, stype, date=None, p=1.0):
    return make_fact("status", key, p, status_type=stype, status_date=date)


def run(facts, as_of=AS_OF, confidence=0.99, cfg: GatesPolicy = CFG):
    res = evaluate(PersonFacts("P-1", confidence, list(facts)), as_of, cfg)
    return {r.gate: r for r in res}, is_eligible(res)


def test_clean_final_order_is_eligible():
    g, ok = run([order()])
    assert ok, {k: (v.verdict, v.reason) for k, v in g.items()}
    assert g["final_order"].evidence == ("o:1",)
    assert "ran out" in g["final_order"].reason


def test_no_order_fails():
    g, ok = run([])
    assert g["final_order"].verdict == FAIL and not ok


# ---- appeal window (inclusive: order date + 30 is inside) ---------------------------------
@pytest.mark.parametrize("days_after,final", [(29, False), (30, False), (31, True)])
def test_appeal_window_boundary(days_after, final):
    od = D(2026, 10, 1)
    g, ok = run([order(date=od)], as_of=od + dt.timedelta(days=days_after))
    assert (g["final_order"].verdict == PASS) is final
    assert (g["no_automatic_stay"].verdict == PASS) is final
    assert ok is final


def test_in_absentia_final_at_once_and_waived_too():
    od = D(2026, 10, 25)
    g, ok = run([order(date=od, in_absentia=True)])
    assert ok and "absentia" in g["final_order"].reason
    g, ok = run([order(date=od, appeal_waived=True)])
    assert ok and "waived" in g["final_order"].reason
    # order types are not final at once unless the policy says so
    assert not run([order(date=od, order_type="reinstated")])[1]
    cfg = CFG.model_copy(update={"final_at_once_types": ("expedited", "reinstated")})
    g, ok = run([order(date=od, order_type="reinstated")], cfg=cfg)
    assert ok and "reinstated order" in g["final_order"].reason


def test_order_in_future_of_as_of_is_unknown():
    g, ok = run([order(date=D(2026, 12, 1))])
    assert g["final_order"].verdict == FAIL and not ok


# ---- appeal filed, then decided -----------------------------------------------------------
def test_appeal_filed_then_decided():
    od = D(2025, 1, 10)
    facts = [order(date=od), event("e:1", "appeal_filed", D(2025, 2, 1)),
             event("e:2", "appeal_decided", D(2026, 6, 1), outcome="dismissed")]
    # while pending: not final, automatic stay
    g, ok = run(facts, as_of=D(2026, 5, 31))
    assert not ok
    assert g["final_order"].verdict == FAIL and "pending" in g["final_order"].reason
    assert g["no_automatic_stay"].verdict == FAIL and "e:1" in g["no_automatic_stay"].evidence
    # decided (dismissed): final from the decision date
    g, ok = run(facts, as_of=D(2026, 6, 1))
    assert ok
    assert "appeal dismissed" in g["final_order"].reason
    assert "e:2" in g["final_order"].evidence


def test_appeal_sustained_ends_order():
    facts = [order(), event("e:1", "appeal_filed", D(2025, 2, 1)),
             event("e:2", "appeal_decided", D(2025, 9, 1), outcome="sustained")]
    g, ok = run(facts)
    assert not ok and g["final_order"].verdict == FAIL


def test_unknown_appeal_outcome_needs_review():
    facts = [order(), event("e:1", "appeal_filed", D(2025, 2, 1)),
             event("e:2", "appeal_decided", D(2025, 9, 1), outcome="???")]
    g, ok = run(facts)
    assert not ok and g["final_order"].verdict == REVIEW


# ---- motions to reopen ----------------------------------------------------------------------
def test_motion_to_reopen_in_absentia_stays_by_rule():
    facts = [order(in_absentia=True), event("e:1", "motion_to_reopen_filed", D(2026, 9, 1))]
    g, ok = run(facts)
    assert not ok
    assert g["no_automatic_stay"].verdict == FAIL and "in-absentia" in g["no_automatic_stay"].reason


def test_other_motion_to_reopen_does_not_stay_but_is_flagged():
    facts = [order(), event("e:1", "motion_to_reopen_filed", D(2026, 9, 1))]
    g, ok = run(facts)
    assert ok
    assert "motion_to_reopen_pending" in g["no_granted_stay"].flags


def test_motion_decided_denied_clears_in_absentia_stay():
    facts = [order(in_absentia=True), event("e:1", "motion_to_reopen_filed", D(2026, 9, 1)),
             event("e:2", "motion_decided", D(2026, 10, 1), outcome="denied")]
    _g, ok = run(facts)
    assert ok


def test_motion_granted_reopens():
    facts = [order(in_absentia=True), event("e:1", "motion_to_reopen_filed", D(2026, 9, 1)),
             event("e:2", "motion_decided", D(2026, 10, 1), outcome="granted")]
    g, ok = run(facts)
    assert not ok and g["final_order"].verdict == FAIL


# ---- petitions for review and granted stays -----------------------------------------------
def test_petition_pending_without_stay_passes_flagged():
    facts = [order(), event("e:1", "petition_for_review_filed", D(2026, 3, 1))]
    g, ok = run(facts)
    assert ok
    assert g["no_granted_stay"].verdict == PASS
    assert "petition_for_review_pending" in g["no_granted_stay"].flags
    assert "e:1" in g["no_granted_stay"].evidence


def test_petition_pending_with_court_stay_blocks():
    facts = [order(), event("e:1", "petition_for_review_filed", D(2026, 3, 1)),
             event("e:2", "stay_granted", D(2026, 3, 15), stay_authority="court")]
    g, ok = run(facts)
    assert not ok
    assert g["no_granted_stay"].verdict == FAIL and g["no_granted_stay"].evidence == ("e:2",)


@pytest.mark.parametrize("end,blocks", [(D(2026, 10, 31), False), (D(2026, 11, 1), True),
                                        (D(2026, 11, 2), True), (None, True)])
def test_stay_end_date_inclusive(end, blocks):
    facts = [order(), event("e:1", "stay_granted", D(2026, 1, 1), stay_end_date=end,
                            stay_authority="agency")]
    g, ok = run(facts)
    assert (g["no_granted_stay"].verdict == FAIL) is blocks
    assert ok is not blocks


def test_stay_ended_event_lifts_stay():
    facts = [order(), event("e:1", "stay_granted", D(2026, 1, 1), stay_authority="board"),
             event("e:2", "stay_ended", D(2026, 6, 1))]
    assert run(facts)[1]
    assert not run(facts, as_of=D(2026, 5, 31))[1]


def test_stay_from_another_system_blocks():
    facts = [order(key="eoir:1"),
             event("court:9", "stay_granted", D(2026, 1, 1), stay_authority="court")]
    g, ok = run(facts)
    assert not ok and g["no_granted_stay"].evidence == ("court:9",)


# ---- relief, vacatur, citizenship, lawful status --------------------------------------------
def test_relief_granted_after_order_blocks():
    g, ok = run([order(), event("e:1", "relief_granted", D(2026, 2, 1))])
    assert not ok and g["no_citizenship_or_status"].verdict == FAIL


def test_order_vacated_after_order():
    g, ok = run([order(), event("e:1", "order_vacated", D(2026, 2, 1))])
    assert not ok and g["final_order"].verdict == FAIL and "vacated" in g["final_order"].reason


def test_naturalization_after_order_blocks():
    g, ok = run([order(), status("s:1", "naturalized", D(2026, 4, 1))])
    assert not ok and g["no_citizenship_or_status"].verdict == FAIL
    assert g["no_citizenship_or_status"].evidence == ("s:1",)


def test_naturalization_dated_after_as_of_not_yet_known():
    _g, ok = run([order(), status("s:1", "naturalized", D(2026, 12, 1))])
    assert ok


def test_lpr_before_order_does_not_block_but_after_does():
    assert run([order(), status("s:1", "lawful_permanent_resident", D(2020, 1, 1))])[1]
    assert not run([order(), status("s:1", "lawful_permanent_resident", D(2025, 6, 1))])[1]


def test_citizenship_on_low_confidence_link_needs_review_never_pass():
    g, ok = run([order(), status("s:1", "us_citizen", None, p=0.55)])
    assert not ok
    assert g["no_citizenship_or_status"].verdict == REVIEW
    assert g["no_citizenship_or_status"].evidence == ("s:1",)


def test_citizenship_certain_fails():
    g, ok = run([order(), status("s:1", "us_citizen")])
    assert g["no_citizenship_or_status"].verdict == FAIL and not ok


@pytest.mark.parametrize("stype", ["t_visa_applicant", "u_visa_applicant", "vawa_self_petitioner"])
def test_protected_application_blocks(stype):
    g, ok = run([order(), status("s:1", stype, D(2026, 1, 1))])
    assert not ok and g["no_protected_application"].verdict == FAIL
    assert "s:1" in g["no_protected_application"].evidence


# ---- identity confidence ---------------------------------------------------------------------
def test_identity_confidence_threshold():
    thr = CFG.identity_confidence_threshold
    assert run([order()], confidence=thr)[1]
    g, ok = run([order()], confidence=thr - 0.01)
    assert not ok and g["identity_confidence"].verdict == REVIEW
    g, ok = run([order()], confidence=None)
    assert not ok and g["identity_confidence"].verdict == REVIEW


def test_order_only_on_uncertain_link_needs_review():
    g, ok = run([order(p=0.5)])
    assert not ok and g["final_order"].verdict == REVIEW


# ---- custody, removed, departed ------------------------------------------------------------
def test_in_custody_blocks_and_release_on_as_of_does_not():
    det = make_fact("detention", "d:1", 1.0, facility_id="F1", book_in_date=D(2026, 10, 1))
    g, ok = run([order(), det])
    assert not ok and g["not_already_resolved"].verdict == FAIL
    out = make_fact("detention", "d:1", 1.0, facility_id="F1", book_in_date=D(2026, 10, 1),
                    book_out_date=AS_OF)
    assert run([order(), out])[1]


def test_removed_encounter_blocks():
    enc = make_fact("encounter", "x:1", 1.0, encounter_date=D(2026, 5, 1),
                    encounter_type="removal")
    assert not run([order(), enc])[1]


@pytest.mark.parametrize("channel", ["air_exit", "sea_exit", "land_exit", "biometric_exit",
                                     "consular_verification"])
def test_verified_departure_leaves_pool(channel):
    dep = make_fact("departure", "dep:1", 1.0, departure_date=D(2026, 5, 1), channel=channel)
    g, ok = run([order(), dep])
    assert not ok and g["not_already_resolved"].verdict == FAIL
    assert g["not_already_resolved"].evidence == ("dep:1",)


def test_self_reported_departure_stays_in_pool_flagged():
    dep = make_fact("departure", "app:1", 1.0, departure_date=D(2026, 5, 1), channel="self_report")
    g, ok = run([order(), dep])
    assert ok and "claimed_departure" in g["not_already_resolved"].flags


def test_departure_then_later_sighting_needs_review():
    dep = make_fact("departure", "dep:1", 1.0, departure_date=D(2025, 5, 1), channel="air_exit")
    enc = make_fact("encounter", "enc:1", 1.0, encounter_date=D(2026, 2, 1))
    g, ok = run([order(), dep, enc])
    assert not ok
    assert g["not_already_resolved"].verdict == REVIEW
    assert g["not_already_resolved"].evidence == ("dep:1", "enc:1")
    assert "reentered_after_departure" in g["not_already_resolved"].flags


def test_departure_on_uncertain_link_needs_review():
    dep = make_fact("departure", "dep:1", 0.5, departure_date=D(2026, 5, 1), channel="air_exit")
    g, ok = run([order(), dep])
    assert not ok and g["not_already_resolved"].verdict == REVIEW


def test_case_number_routes_events_to_their_order():
    facts = [order("o:1", D(2015, 1, 1), case_number="A"), order("o:2", D(2026, 10, 20),
                                                               case_number="B"),
             event("e:1", "appeal_decided", D(2016, 1, 1), outcome="dismissed", case_number="A")]
    g, ok = run(facts)
    # the newer order B is inside its appeal window -> stayed, even though A is final
    assert g["final_order"].verdict == PASS
    assert g["no_automatic_stay"].verdict == FAIL and not ok
