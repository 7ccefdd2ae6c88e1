"""A small crafted workspace for the web UI tests: records plus the tables later rooms write.

The downstream tables (persons, gates, priority, leads, departures, review queue) are
created here with the columns ``docs/architecture.md`` fixes, so the UI can be tested
before (and independently of) the pipeline rooms.
"""

from __future__ import annotations

import datetime as dt
import json

from casegraph.workspace import Workspace
from tests.factories import insert_records

PEOPLE = [
    # person_id, given, family, birth, nationality, sex, a_number, lat, lon, region, city
    ("P-000001", "Maria", "Lopez Garcia", dt.date(1985, 3, 14), "MX", "F", "012345678",
     29.42, -98.49, "TX", "San Antonio"),
    ("P-000002", "Jose", "Hernandez", dt.date(1979, 11, 2), "GT", "M", "023456789",
     34.05, -118.24, "CA", "Los Angeles"),
    ("P-000003", "Ana", "Ivanova", dt.date(1990, 6, 30), "UA", "F", "034567890",
     40.71, -74.0, "NY", "New York"),
    ("P-000004", "Samuel", "Okafor", dt.date(1972, 1, 20), "NG", "M", "045678901",
     25.76, -80.19, "FL", "Miami"),
    ("P-000005", "Li", "Wei", dt.date(1988, 9, 9), "CN", "M", "056789012",
     41.88, -87.63, "IL", "Chicago"),
    ("P-000006", "Carmen", "Diaz", dt.date(1995, 4, 4), "HN", "F", "067890123",
     33.45, -112.07, "AZ", "Phoenix"),
]

#: a hostile alias: every page must show it as text, never run it
XSS = '<img src=x onerror="document.title=\'pwned\'">'

GATES = ("final_order", "no_automatic_stay", "no_granted_stay", "no_lawful_status",
         "no_protected_application", "identity_confidence", "not_resolved")


def build(ws: Workspace) -> dict:
    rows = []
    for i, (pid, g, f, bd, nat, sex, anum, lat, lon, region, city) in enumerate(PEOPLE, 1):
        base = {"given_name": g, "family_name": f, "full_name": f"{g} {f}", "birth_date": bd,
                "nationality": nat, "sex": sex, "a_number": anum}
        rows += [
            {"source": "eoir", "record_id": f"O{i}", "kind": "removal_order",
             "order_date": dt.date(2023, 2, i), "order_type": "removal", "in_absentia": i % 2 == 0,
             "case_number": f"EOIR-{1000 + i}", "court": "San Antonio", **base},
            {"source": "eoir", "record_id": f"E{i}", "kind": "case_event",
             "event_type": "appeal_decided", "event_date": dt.date(2023, 6, i),
             "outcome": "dismissed", **base},
            {"source": "arrests", "record_id": f"A{i}", "kind": "encounter",
             "encounter_date": dt.date(2021, 5, i), "agency": "County Sheriff",
             "charges": "DUI", "charge_status": "convicted", **base},
            {"source": "courts", "record_id": f"C{i}", "kind": "conviction",
             "conviction_date": dt.date(2021, 9, i), "offense_category": "dui",
             "severity": "misdemeanor", "sentence_days": 30, **base},
            {"source": "dmv", "record_id": f"L{i}", "kind": "location",
             "observed_on": dt.date(2025, 10, i), "location_kind": "residence",
             "street_address": f"{100 + i} Main St", "locality": city, "region": region,
             "latitude": lat, "longitude": lon, **base},
        ]
    # a second, slightly different record of person 1 (the review pair) and of person 2
    rows.append({"source": "dmv", "record_id": "D1", "kind": "person", "given_name": "Maria",
                 "family_name": "Lopez", "full_name": "Maria Lopez", "birth_date": dt.date(1985, 3, 14),
                 "nationality": "MX", "sex": "F", "driver_licence": "TX1234567"})
    rows.append({"source": "cbp", "record_id": "X2", "kind": "departure",
                 "departure_date": dt.date(2025, 8, 3), "channel": "air_exit", "port": "IAH",
                 "given_name": "Carmen", "family_name": "Diaz", "full_name": "Carmen Diaz",
                 "birth_date": dt.date(1995, 4, 4), "nationality": "HN"})
    rows.append({"source": "app", "record_id": "S5", "kind": "departure",
                 "departure_date": dt.date(2025, 9, 12), "channel": "self_report",
                 "given_name": "Li", "family_name": "Wei", "full_name": "Li Wei",
                 "nationality": "CN"})
    rows += [
        {"source": "ops", "record_id": "F1", "kind": "facility", "facility_id": "FAC-1",
         "name": "South Texas Processing Center", "capacity": 10},
        {"source": "ops", "record_id": "F2", "kind": "facility", "facility_id": "FAC-2",
         "name": "Desert Hold Facility", "capacity": 4},
        {"source": "ops", "record_id": "T1", "kind": "transport_leg", "leg_id": "LEG-1",
         "mode": "charter_air", "origin": "SAT", "destination_country": "MX",
         "departs_at": dt.datetime(2026, 1, 10, 9), "seats": 8},
        {"source": "ops", "record_id": "T2", "kind": "transport_leg", "leg_id": "LEG-2",
         "mode": "bus", "origin": "ELP", "destination_country": "GT",
         "departs_at": dt.datetime(2026, 1, 12, 7), "seats": 4},
        {"source": "ice", "record_id": "DT1", "kind": "detention", "facility_id": "FAC-1",
         "book_in_date": dt.date(2025, 12, 1), "given_name": "Pedro", "family_name": "Ramirez",
         "full_name": "Pedro Ramirez", "birth_date": dt.date(1980, 2, 2), "nationality": "GT",
         "travel_document": "ready"},
        {"source": "eoir", "record_id": "O7", "kind": "removal_order",
         "order_date": dt.date(2024, 3, 1), "order_type": "removal", "appeal_waived": True,
         "case_number": "EOIR-1007", "given_name": "Pedro", "family_name": "Ramirez",
         "full_name": "Pedro Ramirez", "birth_date": dt.date(1980, 2, 2), "nationality": "GT"},
        {"source": "ice", "record_id": "DT2", "kind": "detention", "facility_id": "FAC-2",
         "book_in_date": dt.date(2025, 12, 3), "given_name": "Pat", "family_name": "Doe",
         "travel_document": "none"},
    ]
    insert_records(ws, rows)
    con = ws.con
    con.execute("""create table persons (person_id varchar, record_count bigint,
        confidence double, given_name varchar, family_name varchar, full_name varchar,
        middle_name varchar, birth_date date, sex varchar, nationality varchar,
        birth_country varchar, a_number varchar, passport_number varchar, fbi_number varchar,
        name_aliases varchar, provenance json, run_id varchar)""")
    con.execute("""create table person_records (record_key varchar, source varchar,
        record_id varchar, kind varchar, person_id varchar, match_probability double)""")
    for i, (pid, g, f, bd, nat, sex, anum, *_rest) in enumerate(PEOPLE, 1):
        keys = [f"eoir:O{i}", f"eoir:E{i}", f"arrests:A{i}", f"courts:C{i}", f"dmv:L{i}"]
        if i == 1:
            keys.append("dmv:D1")
        if i == 6:
            keys.append("cbp:X2")
        if i == 5:
            keys.append("app:S5")
        prov = {"full_name": f"eoir:O{i}", "birth_date": f"courts:C{i}",
                "a_number": f"eoir:O{i}", "nationality": f"arrests:A{i}"}
        con.execute("insert into persons values (?,?,?,?,?,?,null,?,?,?,null,?,null,null,?,?,'r1')",
                    [pid, len(keys), 0.97 - i / 100, g, f, f"{g} {f}", bd, sex, nat, anum,
                     "Mary Lopez" if i == 1 else XSS if i == 3 else None, json.dumps(prov)])
        for j, k in enumerate(keys):
            src, rid = k.split(":")
            con.execute("insert into person_records values (?,?,?,?,?,?)",
                        [k, src, rid, "x", pid, 1.0 if j == 0 else 0.99 - j / 50])
    # a detainee (in custody, so no lead) for the logistics planner
    con.execute("insert into persons values ('P-000007', 2, 0.99, 'Pedro', 'Ramirez', "
                "'Pedro Ramirez', null, '1980-02-02', 'M', 'GT', null, null, null, null, null, "
                "'{}', 'r1')")
    con.execute("insert into person_records values ('ice:DT1', 'ice', 'DT1', 'detention', "
                "'P-000007', 1.0), ('eoir:O7', 'eoir', 'O7', 'removal_order', 'P-000007', 0.99)")
    con.execute("""create table identity_review (review_id varchar, record_key_l varchar,
        record_key_r varchar, match_probability double, match_weight double, status varchar,
        created_run varchar)""")
    con.execute("insert into identity_review values ('R-0001', 'eoir:O1', 'dmv:D1', 0.62, 0.7,"
                " 'open', 'r1'), ('R-0002', 'eoir:O2', 'eoir:O3', 0.41, -0.5, 'open', 'r1')")
    con.execute("create table score_runs (run_id varchar, as_of date, policy_version varchar,"
                " created_at timestamp)")
    con.execute("insert into score_runs values ('S1', '2026-01-01', 'policy-2026.1', "
                "'2026-01-01 00:00:00')")
    con.execute("""create table gate_results (run_id varchar, person_id varchar, gate varchar,
        verdict varchar, reason varchar, evidence json, as_of date, policy_version varchar)""")
    con.execute("create table eligibility (run_id varchar, person_id varchar, eligible boolean,"
                " blocking json)")
    con.execute("create table priority (run_id varchar, person_id varchar, score double,"
                " contributions json)")
    con.execute("""create table leads (lead_id varchar, run_id varchar, person_id varchar,
        status varchar, priority_score double, confidence double, address varchar,
        candidates json, flags json, created_at timestamp)""")
    for i, (pid, g, f, bd, nat, sex, anum, lat, lon, region, city) in enumerate(PEOPLE, 1):
        eligible = i <= 4
        for gate in GATES:
            verdict = "pass"
            if i == 5 and gate == "not_resolved":
                verdict = "needs_review"
            if i == 6 and gate == "not_resolved":
                verdict = "fail"
            con.execute("insert into gate_results values ('S1',?,?,?,?,?, '2026-01-01',"
                        " 'policy-2026.1')",
                        [pid, gate, verdict, f"{gate.replace('_', ' ')}: {verdict}",
                         json.dumps([f"eoir:O{i}"] if gate == "final_order" else [])])
        con.execute("insert into eligibility values ('S1',?,?,?)",
                    [pid, eligible, json.dumps([] if eligible else ["not_resolved"])])
        contribs = [{"factor": "conviction_severity", "value": "misdemeanor", "points": 20},
                    {"factor": "time_since_final_order", "value": "2y", "points": 10 + i},
                    {"factor": "recent_contact", "value": "no", "points": -5}]
        con.execute("insert into priority values ('S1',?,?,?)",
                    [pid, sum(c["points"] for c in contribs), json.dumps(contribs)])
        if eligible:
            flags = ["sensitive_site"] if i == 2 else []
            cands = [{"address": f"{100 + i} Main St, {city}, {region}", "latitude": lat,
                      "longitude": lon, "region": region, "confidence": 0.8 - i / 20,
                      "flags": flags, "evidence": [f"dmv:L{i}"], "last_seen": "2025-10-0" + str(i)}]
            con.execute("insert into leads values (?, 'S1', ?, 'proposed', ?, ?, ?, ?, ?, "
                        "'2026-01-01')",
                        [f"L-{i:04d}", pid, sum(c["points"] for c in contribs), 0.8 - i / 20,
                         cands[0]["address"], json.dumps(cands), json.dumps(flags)])
    con.execute("""create table departure_status (person_id varchar, status varchar,
        channel varchar, departure_date date, evidence json)""")
    con.execute("insert into departure_status values ('P-000006', 'verified_departed', "
                "'air_exit', '2025-08-03', '[\"cbp:X2\"]'), ('P-000005', 'claimed_departed', "
                "'self_report', '2025-09-12', '[\"app:S5\"]')")
    return {"persons": [p[0] for p in PEOPLE]}
