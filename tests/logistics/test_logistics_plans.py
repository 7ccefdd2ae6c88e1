"""Planning on a workspace: inputs from the warehouse, eligibility from the policy's gates,
stored versions, publishing, occupancy, the detained population, the report."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casegraph.logistics.occupancy import facility_occupancy, occupancy_alerts, occupancy_series
from casegraph.logistics.planner import plan
from casegraph.logistics.plans import (
    PlanError,
    get_plan,
    list_plans,
    plan_assignments,
    plan_unassigned,
    publish,
)
from casegraph.logistics.population import detained_population
from casegraph.logistics.report import build_report
from casegraph.workspace import WorkspaceError
from tests.logistics.conftest import DAY0, D, add_detainee

TO = DAY0 + dt.timedelta(days=13)


def reasons(ws, plan_id):
    return {r["person_id"]: r["reason"] for r in plan_unassigned(ws, plan_id)}


def test_plan_reads_the_warehouse_and_explains_everyone(world):
    res = plan(world, DAY0, TO, "wait")
    assert res.status == "OPTIMAL"
    assert res.eligibility.source == "evaluate"
    assert res.detainees == 8  # P-009 was released before the horizon
    got = {r["person_id"]: r["leg_id"] for r in plan_assignments(world, res.plan_id)}
    assert got == {"P-001": "L-MX-1", "P-002": "L-MX-1", "P-003": "L-MX-3"}
    assert reasons(world, res.plan_id) == {
        "P-004": "capacity", "P-005": "document_not_ready", "P-006": "hold",
        "P-007": "no_leg_to_country", "P-008": "unreachable"}
    assert res.moved == res.max_flow_bound == 3
    legs = {r["leg_id"]: r for r in world.query(
        "select * from transport_plan_legs where plan_id = ?", [res.plan_id])}
    assert legs["L-MX-1"]["assigned"] == 2 and legs["L-MX-1"]["utilisation"] == 1.0
    assert legs["L-HN-1"]["recommendation"] == "cancel"


def test_custody_gate_is_ignored_but_every_other_gate_counts(world):
    # A stay granted by a court after book-in takes P-002 off the plan.
    add_detainee(world, "P-010", book_in=D(2026, 1, 1), extra=[{
        "kind": "case_event", "event_type": "stay_granted", "event_date": D(2026, 2, 20),
        "stay_authority": "court"}])
    res = plan(world, DAY0, TO, "wait")
    unassigned = {r["person_id"]: r for r in plan_unassigned(world, res.plan_id)}
    assert unassigned["P-010"]["reason"] == "not_eligible"
    assert "no_granted_stay" in unassigned["P-010"]["detail"]
    assert "P-010" not in {r["person_id"] for r in plan_assignments(world, res.plan_id)}
    # Everyone else in custody still fails "not_already_resolved" by design: not a reason.
    assert all("not_already_resolved" not in r["detail"] for r in unassigned.values())


def test_latest_run_eligibility_source(world):
    from casegraph.policy.score import run_scoring

    world.set_section("logistics", {"eligibility_source": "latest_run"})
    run_scoring(world, as_of=DAY0)
    res = plan(world, DAY0, TO, "seats")
    assert res.eligibility.source == "latest_run"
    assert res.moved == 3
    # a person the run does not know is never silently eligible
    add_detainee(world, "P-011", book_in=D(2025, 1, 1))
    res = plan(world, DAY0, TO, "seats")
    assert reasons(world, res.plan_id)["P-011"] == "not_eligible"


def test_plans_are_versioned_and_kept(world):
    a = plan(world, DAY0, TO, "seats")
    b = plan(world, DAY0, TO, "cost", user="officer1")
    assert (a.plan_id, b.plan_id) == ("TP-000001", "TP-000002")
    assert [p["plan_id"] for p in list_plans(world)] == ["TP-000002", "TP-000001"]
    assert get_plan(world)["plan_id"] == "TP-000002"
    hdr = get_plan(world, "TP-000001")
    assert hdr["status"] == "draft" and hdr["objective"] == "seats"
    assert json.loads(hdr["config"])["underfill_threshold"] == 0.8
    assert get_plan(world, "TP-000002")["created_by"] == "officer1"
    with pytest.raises(PlanError):
        get_plan(world, "TP-999999")


def test_publish_schedules_supersedes_and_is_audited(world):
    from casegraph.governance.audit import list_events

    a = plan(world, DAY0, TO, "wait")
    res = publish(world, a.plan_id, "lo1")
    assert res.scheduled == 3 and res.superseded is None and not res.withheld
    status = {r["person_id"]: r for r in world.query("select * from logistics_detainee_status")}
    assert set(status) == {"P-001", "P-002", "P-003"}
    assert status["P-001"]["status"] == "scheduled" and status["P-001"]["leg_id"] == "L-MX-1"
    with pytest.raises(PlanError):
        publish(world, a.plan_id, "lo1")
    events, _ = list_events(world, action="logistics.publish")
    assert events and events[0].actor == "lo1" and a.plan_id in events[0].object_ids

    # P-003 becomes ineligible (stay), a new plan drops them; publishing it unschedules P-003.
    from casegraph.policy.testing import insert_record

    key = insert_record(world, {"source": "court", "record_id": "stay-3", "kind": "case_event",
                                "event_type": "stay_granted", "event_date": D(2026, 2, 25),
                                "stay_authority": "court"})
    world.con.execute("insert into person_records values (?, 'court', 'stay-3', 'case_event', "
                      "'P-003', 1.0)", [key])
    b = plan(world, DAY0, TO, "wait")
    assert "P-003" not in {r["person_id"] for r in plan_assignments(world, b.plan_id)}
    res = publish(world, b.plan_id, "lo2")
    assert res.superseded == a.plan_id and res.unscheduled == 1
    assert get_plan(world, a.plan_id)["status"] == "superseded"
    assert get_plan(world, b.plan_id)["published_by"] == "lo2"
    status = {r["person_id"] for r in world.query("select * from logistics_detainee_status")}
    assert "P-003" not in status and "P-004" in status


def test_publish_withholds_people_whose_gates_no_longer_pass(world):
    from casegraph.policy.testing import insert_record

    a = plan(world, DAY0, TO, "wait")
    key = insert_record(world, {"source": "court", "record_id": "stay-1", "kind": "case_event",
                                "event_type": "stay_granted", "event_date": D(2026, 3, 1),
                                "stay_authority": "court"})
    world.con.execute("insert into person_records values (?, 'court', 'stay-1', 'case_event', "
                      "'P-001', 1.0)", [key])
    res = publish(world, a.plan_id, "lo1")
    assert [p for p, _ in res.withheld] == ["P-001"]
    assert "no_granted_stay" in res.withheld[0][1]
    assert res.scheduled == 2
    status = {r["person_id"] for r in world.query("select * from logistics_detainee_status")}
    assert status == {"P-002", "P-003"}


def test_occupancy_and_alerts(world):
    occ = {r["facility_id"]: r for r in facility_occupancy(world, DAY0)}
    assert occ["F-HOU"]["occupancy"] == 7 and occ["F-HOU"]["capacity"] == 5
    assert occ["F-HOU"]["alert"] and occ["F-HOU"]["rate"] == pytest.approx(1.4)
    assert occ["F-ATL"]["occupancy"] == 1 and not occ["F-ATL"]["alert"]
    assert [r["facility_id"] for r in occupancy_alerts(world, DAY0)] == ["F-HOU"]
    # the released person counted while in custody
    series = occupancy_series(world, D(2025, 8, 31), D(2025, 9, 1))
    assert series["F-HOU"] == [(D(2025, 8, 31), 1), (D(2025, 9, 1), 0)]
    world.set_section("logistics", {"occupancy_alert_threshold": 2.0})
    assert occupancy_alerts(world, DAY0) == []


def test_detained_population_view(world):
    rows = {r["person_id"]: r for r in detained_population(world, DAY0)}
    assert set(rows) == {f"P-00{i}" for i in range(1, 9)}
    r = rows["P-006"]
    assert r["medical_hold"] and not r["schedulable"] and r["reason"].startswith("hold")
    assert rows["P-005"]["travel_document"] == "requested"
    assert rows["P-001"]["eligible"] and rows["P-001"]["schedulable"]
    assert rows["P-001"]["days_in_custody"] == (DAY0 - D(2026, 1, 1)).days
    assert rows["P-001"]["status"] == "in custody"


def test_report_writes_a_chart(world):
    plan(world, DAY0, TO, "wait")
    rep = build_report(world, DAY0)
    assert rep.chart is not None and rep.chart.exists()
    assert rep.chart.read_bytes()[:4] == b"\x89PNG"
    assert rep.plan["plan_id"] == "TP-000001"
    assert [f["facility_id"] for f in rep.alerts] == ["F-HOU"]


def test_config_typos_are_errors(world):
    world.set_section("logistics", {"occupancy_alert_treshold": 0.5})
    with pytest.raises(WorkspaceError, match="logistics"):
        plan(world, DAY0, TO)


def test_web_board(world):
    from casegraph.logistics.board import board

    empty = board(world, DAY0)
    assert empty["plan"] is None and {leg["leg_id"] for leg in empty["legs"]} >= {"L-MX-1"}
    plan(world, DAY0, TO, "wait")
    b = board(world, DAY0)
    assert b["plan"]["plan_id"] == "TP-000001"
    assert {leg["leg_id"]: leg["filled"] for leg in b["legs"]}["L-MX-1"] == 2


def test_custody_is_set_aside_but_a_verified_departure_still_blocks(world):
    # Open detention, yet an official exit record: conflicting data, never scheduled.
    add_detainee(world, "P-012", book_in=D(2025, 12, 1), extra=[{
        "kind": "departure", "channel": "air_exit", "departure_date": D(2026, 2, 10)}])
    res = plan(world, DAY0, TO, "wait")
    unassigned = {r["person_id"]: r for r in plan_unassigned(world, res.plan_id)}
    assert unassigned["P-012"]["reason"] == "not_eligible"
    assert "not_already_resolved" in unassigned["P-012"]["detail"]
    assert "departed" in unassigned["P-012"]["detail"]


def test_an_older_draft_cannot_replace_a_newer_published_plan(world):
    a = plan(world, DAY0, TO, "wait")
    b = plan(world, DAY0, TO, "wait")
    publish(world, b.plan_id, "lo1")
    with pytest.raises(PlanError, match="older"):
        publish(world, a.plan_id, "lo1")


def test_replanning_can_keep_the_published_seats(world):
    from tests.logistics.conftest import add_leg

    a = plan(world, DAY0, TO, "wait")
    publish(world, a.plan_id, "lo1")
    add_leg(world, "L-MX-0", "MX", day=0, hour=20, seats=10)  # an earlier, bigger leg appears
    kept = plan(world, DAY0, TO, "wait", keep_published=True)
    got = {r["person_id"]: r["leg_id"] for r in plan_assignments(world, kept.plan_id)}
    assert {p: got[p] for p in ("P-001", "P-002", "P-003")} == {
        "P-001": "L-MX-1", "P-002": "L-MX-1", "P-003": "L-MX-3"}
    assert got["P-004"] == "L-MX-0"  # the capacity case now has a seat
    assert json.loads(get_plan(world, kept.plan_id)["stages"])[0]["value"] == 3
    free = plan(world, DAY0, TO, "wait")
    got = {r["person_id"]: r["leg_id"] for r in plan_assignments(world, free.plan_id)}
    assert set(got.values()) == {"L-MX-0"}
