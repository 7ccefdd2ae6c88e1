"""Helpers for tests (and demos) that need resolved persons without running resolution.

:func:`add_person` inserts crafted canonical records and links them to one person in
``persons`` / ``person_records`` with the shapes of docs/architecture.md. When the resolve
room's tables already exist they are used as they are (only the contract columns are set).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from casegraph.ontology import RECORD_COLUMN_NAMES
from casegraph.sources.normalise import normalise_text
from casegraph.sources.schema import ensure_tables as ensure_source_tables
from casegraph.workspace import Workspace

_NORM = ("full_name", "given_name", "middle_name", "family_name", "name_aliases",
         "street", "street_address", "unit", "locality", "region")

PERSONS_DDL = """create table if not exists persons (
    person_id varchar primary key, record_count bigint, confidence double, given_name varchar,
    middle_name varchar, family_name varchar, full_name varchar, birth_date date, sex varchar,
    nationality varchar, birth_country varchar, a_number varchar, passport_number varchar,
    fbi_number varchar, provenance json, run_id varchar)"""
PERSON_RECORDS_DDL = """create table if not exists person_records (
    record_key varchar, source varchar, record_id varchar, kind varchar, person_id varchar,
    match_probability double)"""


def insert_record(ws: Workspace, rec: dict[str, Any], batch_id: str = "test-batch") -> str:
    """Insert one canonical record (needs source, record_id, kind); returns its key."""
    ensure_source_tables(ws)
    row = dict.fromkeys(RECORD_COLUMN_NAMES)
    row.update(batch_id=batch_id, loaded_at=dt.datetime(2026, 1, 1), is_current=True,
               raw=json.dumps({}), dq_issues=json.dumps([]))
    row.update(rec)
    row["record_key"] = f"{row['source']}:{row['record_id']}"
    for f in _NORM:
        if row.get(f) is not None and row.get(f"{f}_norm") is None:
            row[f"{f}_norm"] = normalise_text(row[f])
    cols = ", ".join(f'"{c}"' for c in RECORD_COLUMN_NAMES)
    ws.con.execute(f"insert into records ({cols}) values "
                   f"({', '.join('?' * len(RECORD_COLUMN_NAMES))})",
                   [row[c] for c in RECORD_COLUMN_NAMES])
    return row["record_key"]


def ensure_person_tables(ws: Workspace) -> None:
    ensure_source_tables(ws)
    ws.con.execute(PERSONS_DDL)
    ws.con.execute(PERSON_RECORDS_DDL)


def add_person(ws: Workspace, person_id: str, records: list[dict[str, Any]], *,
               confidence: float = 1.0, nationality: str | None = None,
               given_name: str | None = None, family_name: str | None = None) -> list[str]:
    """Insert ``records`` and link them all to ``person_id``.

    A record dict may carry ``link_probability`` (default 1.0): the person_records
    match probability. ``source`` defaults to ``test`` and ``record_id`` to a running id.
    """
    ensure_person_tables(ws)
    keys = []
    for i, r in enumerate(records):
        r = dict(r)
        p = float(r.pop("link_probability", 1.0))
        r.setdefault("source", "test")
        r.setdefault("record_id", f"{person_id}-{i}")
        key = insert_record(ws, r)
        ws.con.execute("insert into person_records values (?, ?, ?, ?, ?, ?)",
                       [key, r["source"], r["record_id"], r["kind"], person_id, p])
        keys.append(key)
    cols = [c for (c,) in ws.con.execute(
        "select column_name from information_schema.columns where table_name = 'persons'"
    ).fetchall()]
    vals = {"person_id": person_id, "record_count": len(records), "confidence": confidence,
            "nationality": nationality, "given_name": given_name, "family_name": family_name,
            "full_name": " ".join(x for x in (given_name, family_name) if x) or None,
            "provenance": json.dumps({}), "run_id": "test"}
    use = [c for c in vals if c in cols]
    ws.con.execute(f"insert into persons ({', '.join(use)}) values ({', '.join('?' * len(use))})",
                   [vals[c] for c in use])
    return keys
