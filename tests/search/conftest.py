"""Fixtures of the search room: a small resolved workspace built by hand.

``persons`` / ``person_records`` / ``eligibility`` are created here with the columns the
architecture fixes (the resolve and policy rooms own the real ones).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from casegraph.workspace import Workspace
from tests.factories import insert_records

PERSONS_DDL = """create table if not exists persons (
    person_id varchar, record_count bigint, confidence double, given_name varchar,
    family_name varchar, full_name varchar, middle_name varchar, birth_date date, sex varchar,
    nationality varchar, birth_country varchar, a_number varchar, passport_number varchar,
    fbi_number varchar, provenance json, run_id varchar)"""
LINKS_DDL = """create table if not exists person_records (
    record_key varchar, source varchar, record_id varchar, kind varchar, person_id varchar,
    match_probability double)"""

#: person_id -> list of records (the first gives the canonical values)
PEOPLE: dict[str, list[dict[str, Any]]] = {
    "P-000001": [
        dict(source="eid", record_id="1", kind="person", given_name="Maria",
             family_name="Garcia Lopez", birth_date=dt.date(1987, 3, 4), nationality="MX",
             a_number="012345678", locality="Houston", phone="(713) 555-0101"),
        dict(source="ident", record_id="9", kind="encounter", full_name="María García",
             birth_date=dt.date(1987, 3, 4), nationality="MX", passport_number="G1234567",
             encounter_date=dt.date(2024, 5, 1), name_aliases="Mary Garcia; Maria Lopez"),
    ],
    "P-000002": [
        dict(source="eid", record_id="2", kind="person", given_name="Maria",
             family_name="Garcia", birth_date=dt.date(1990, 1, 1), nationality="GT",
             a_number="098765432", locality="Dallas"),
    ],
    "P-000003": [
        dict(source="eid", record_id="3", kind="person", given_name="Muhammad",
             family_name="Rahman", birth_date=dt.date(1979, 11, 2), nationality="BD",
             a_number="111222333", fbi_number="FB12345X", email="m.rahman@example.org",
             national_id="123-45-6789"),
    ],
    "P-000004": [
        dict(source="eid", record_id="4", kind="person", given_name="Youssef",
             family_name="Haddad", birth_date=dt.date(1985, 6, 15), nationality="MA",
             a_number="222333444", driver_licence="D1234-5678", locality="Phoenix"),
    ],
    "P-000005": [
        dict(source="eid", record_id="5", kind="person", full_name="Nguyễn Văn An",
             given_name="An", middle_name="Văn", family_name="Nguyễn",
             birth_date=dt.date(1992, 2, 29), nationality="VN", a_number="333444555"),
    ],
    "P-000006": [
        dict(source="eid", record_id="6", kind="person", given_name="Catherine",
             family_name="O'Brien", birth_date=dt.date(1970, 7, 7), nationality="IE",
             a_number="444555666", locality="Boston"),
    ],
}

ELIGIBLE = {"P-000001": True, "P-000002": False, "P-000003": True, "P-000004": False,
            "P-000005": True, "P-000006": False}


def add_person(ws: Workspace, pid: str, records: list[dict[str, Any]]) -> None:
    """Insert ``records`` and link them to person ``pid`` (canonical = first record)."""
    ws.con.execute(PERSONS_DDL)
    ws.con.execute(LINKS_DDL)
    keys = insert_records(ws, records)
    first = records[0]
    full = first.get("full_name") or " ".join(
        x for x in (first.get("given_name"), first.get("middle_name"), first.get("family_name"))
        if x)
    ws.con.execute("delete from persons where person_id = ?", [pid])
    ws.con.execute(
        "insert into persons (person_id, record_count, confidence, given_name, family_name, "
        "full_name, birth_date, nationality, a_number, run_id) values (?,?,?,?,?,?,?,?,?,?)",
        [pid, len(records), 0.97, first.get("given_name"), first.get("family_name"), full,
         first.get("birth_date"), first.get("nationality"), first.get("a_number"), "R1"])
    for k, r in zip(keys, records):
        ws.con.execute("insert into person_records values (?,?,?,?,?,?)",
                       [k, r["source"], r["record_id"], r["kind"], pid, 1.0])


def set_eligibility(ws: Workspace, verdicts: dict[str, bool], run_id: str = "S1") -> None:
    ws.con.execute("create table if not exists score_runs (run_id varchar, as_of date, "
                   "policy_version varchar, created_at timestamp)")
    ws.con.execute("create table if not exists eligibility (run_id varchar, person_id varchar, "
                   "eligible boolean, blocking json)")
    ws.con.execute("insert into score_runs values (?, current_date, 'v1', now())", [run_id])
    for pid, e in verdicts.items():
        ws.con.execute("insert into eligibility values (?,?,?,'[]')", [run_id, pid, e])


@pytest.fixture()
def people_ws(ws: Workspace) -> Workspace:
    for pid, recs in PEOPLE.items():
        add_person(ws, pid, recs)
    set_eligibility(ws, ELIGIBLE)
    return ws


@pytest.fixture(scope="module")
def ro_ws(tmp_path_factory) -> Workspace:
    """The same people, shared by the read-only tests of a module (built once)."""
    w = Workspace(tmp_path_factory.mktemp("search") / "ws")
    for pid, recs in PEOPLE.items():
        add_person(w, pid, recs)
    set_eligibility(w, ELIGIBLE)
    yield w
    w.close()
