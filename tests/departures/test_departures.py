"""Departure classification (verified / claimed / returned), storage and the report."""

from __future__ import annotations

import datetime as dt
import json

from casegraph.departures.classify import classify_departures, departure_report
from casegraph.departures.rules import CLAIMED, VERIFIED, departure_state
from casegraph.policy.facts import make_fact
from casegraph.policy.score import run_scoring
from casegraph.policy.testing import add_person

D = dt.date
AS_OF = D(2026, 11, 1)
ORDER = {"kind": "removal_order", "order_date": D(2024, 1, 10), "appeal_waived": True}


def dep(channel, when, **kw):
    return {"kind": "departure", "channel": channel, "departure_date": when, **kw}


def test_rules_pure():
    f = [make_fact("departure", "a:1", 1.0, channel="self_report", departure_date=D(2026, 1, 1))]
    assert departure_state(f, AS_OF, 0.9).status == CLAIMED
    f.append(make_fact("departure", "b:1", 1.0, channel="land_exit", departure_date=D(2026, 1, 3)))
    s = departure_state(f, AS_OF, 0.9)
    assert s.status == VERIFIED and s.channel == "land_exit" and s.claims == ("a:1",)
    assert departure_state(f, D(2026, 1, 2), 0.9).status == CLAIMED     # as-of replay
    assert departure_state(f, D(2025, 1, 1), 0.9).status is None
    f.append(make_fact("encounter", "c:1", 1.0, encounter_date=D(2026, 3, 1)))
    assert departure_state(f, AS_OF, 0.9).returned
    f[-1]["link_probability"] = 0.5     # an uncertain sighting does not cancel a departure
    assert not departure_state(f, AS_OF, 0.9).returned


def test_classify_and_gate_agree(ws):
    add_person(ws, "P-air", [ORDER, dep("air_exit", D(2026, 3, 1))], nationality="MX")
    add_person(ws, "P-consul", [ORDER, dep("consular_verification", D(2026, 4, 1))],
               nationality="GT")
    add_person(ws, "P-app", [ORDER, dep("self_report", D(2026, 5, 1))], nationality="MX")
    add_person(ws, "P-both", [ORDER, dep("self_report", D(2026, 5, 1)),
                              dep("land_exit", D(2026, 5, 3))], nationality="HN")
    add_person(ws, "P-back", [ORDER, dep("air_exit", D(2025, 3, 1)),
                              {"kind": "encounter", "encounter_date": D(2026, 2, 1)}],
               nationality="MX")
    add_person(ws, "P-none", [ORDER])
    rep = classify_departures(ws, as_of=AS_OF)
    st = {r["person_id"]: r for r in ws.query("select * from departure_status")}
    assert set(st) == {"P-air", "P-consul", "P-app", "P-both", "P-back"}
    assert st["P-back"]["returned"] and not st["P-air"]["returned"]
    assert st["P-air"]["status"] == VERIFIED and st["P-air"]["channel"] == "air_exit"
    assert st["P-app"]["status"] == CLAIMED
    assert st["P-both"]["status"] == VERIFIED and json.loads(st["P-both"]["claims"])
    assert json.loads(st["P-air"]["evidence"]) == ["test:P-air-1"]
    assert rep.by_status[VERIFIED] == 4 and rep.by_status[CLAIMED] == 1 and rep.returned == 1
    run = run_scoring(ws, as_of=AS_OF)
    elig = {r["person_id"]: r["eligible"] for r in ws.query(
        "select person_id, eligible from eligibility where run_id = ?", [run.run_id])}
    for pid, row in st.items():      # verified departed <=> blocked by gate 7
        assert elig[pid] is (row["status"] != VERIFIED)
    assert elig["P-none"]


def test_report_counts_and_chart(ws):
    add_person(ws, "P-1", [ORDER, dep("air_exit", D(2026, 3, 1))], nationality="MX")
    add_person(ws, "P-2", [ORDER, dep("self_report", D(2026, 3, 9))], nationality="GT")
    add_person(ws, "P-3", [ORDER, dep("land_exit", D(2026, 4, 2))], nationality="MX")
    s = departure_report(ws, as_of=AS_OF)
    assert s.events == 3
    assert dict(s.by_month["2026-03"]) == {"air_exit": 1, "self_report": 1}
    assert s.by_nationality == {"MX": 2, "GT": 1}
    assert s.chart is not None and s.chart.exists() and s.chart.read_bytes()[:4] == b"\x89PNG"
    assert departure_report(ws, as_of=D(2026, 3, 5), chart=False).events == 1


def test_no_departures_is_fine(ws):
    add_person(ws, "P-1", [ORDER])
    rep = classify_departures(ws, as_of=AS_OF)
    assert rep.persons == 0
    assert departure_report(ws, chart=True).events == 0
