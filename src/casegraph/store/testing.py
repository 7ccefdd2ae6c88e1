"""Test support: run the operational suite on SQLite and, when configured, PostgreSQL.

``CASEGRAPH_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
enables the PostgreSQL backend; each test then gets a fresh schema (selected through the
connection's ``search_path``), dropped afterwards, so parallel pytest-xdist workers never
share tables.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from casegraph.store.db import dispose_engine

POSTGRES_ENV = "CASEGRAPH_TEST_POSTGRES_URL"
_ADMIN: dict[str, Any] = {}


def backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@contextlib.contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A database URL whose connections use a fresh, private schema (dropped on exit)."""
    base = os.environ[POSTGRES_ENV]
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = _ADMIN.get(base)
    if admin is None:
        admin = _ADMIN[base] = create_engine(base, pool_size=1)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    url = make_url(base).update_query_dict(
        {"options": f"-csearch_path={schema} -csynchronous_commit=off"})
    url_s = url.render_as_string(hide_password=False)
    try:
        yield url_s
    finally:
        dispose_engine(url_s)
        with admin.begin() as conn:
            conn.execute(text(f'drop schema if exists "{schema}" cascade'))


# ---- fixtures (imported by tests/governance, tests/api, tests/cases conftests) ----------
import datetime as _dt
import json as _json
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters in tests (production uses the library defaults)."""
    from argon2 import PasswordHasher

    import casegraph.governance.users as users_mod

    monkeypatch.setattr(users_mod, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(params=backends())
def gws(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh workspace whose operational store is SQLite or a private PostgreSQL schema."""
    from casegraph.workspace import Workspace

    monkeypatch.setenv("CASEGRAPH_SQLITE_SYNCHRONOUS", "OFF")  # no fsync in throw-away tests
    if request.param == "postgres":
        with postgres_schema_url() as url:
            monkeypatch.setenv("CASEGRAPH_DATABASE_URL", url)
            w = Workspace(tmp_path / "ws")
            yield w
            w.close()
    else:
        monkeypatch.delenv("CASEGRAPH_DATABASE_URL", raising=False)
        w = Workspace(tmp_path / "ws")
        yield w
        w.close()
        dispose_engine(w.database_url)


PASSWORD = "correct-horse-battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
ROLE_USERS = {"analyst": "ana", "supervisor": "sue", "officer": "otto", "logistics": "lou",
              "auditor": "aud", "admin": "adm"}


def add_role_users(ws: Any) -> dict[str, str]:
    """One user per role (password :data:`PASSWORD`) plus a second officer ``olga``."""
    from casegraph.governance.users import add_user

    for role, name in ROLE_USERS.items():
        add_user(ws, name, role, PASSWORD)
    add_user(ws, "olga", "officer", PASSWORD)
    return dict(ROLE_USERS)


_TEMPLATE: dict[str, Path] = {}


def _template_dir() -> Path:
    """A seeded warehouse and a migrated SQLite store with the role users, built once per
    process and copied into each test's workspace (seeding costs ~1 s; a copy ~5 ms)."""
    if "dir" not in _TEMPLATE:
        import tempfile

        from casegraph.workspace import OPERATIONAL_FILE, Workspace

        d = Path(tempfile.mkdtemp(prefix="casegraph-template-"))

        class _SqliteWorkspace(Workspace):
            @property
            def database_url(self) -> str:
                return f"sqlite:///{self.path / OPERATIONAL_FILE}"

        w = _SqliteWorkspace(d)
        seed_warehouse(w)
        add_role_users(w)
        w.close()
        dispose_engine(w.database_url)
        _TEMPLATE["dir"] = d
    return _TEMPLATE["dir"]


def seeded(ws: Any) -> Any:
    """Give a fresh workspace the tiny warehouse and one user per role (see seed_warehouse)."""
    import shutil

    from casegraph.workspace import OPERATIONAL_FILE, WAREHOUSE_FILE

    tpl = _template_dir()
    ws.close()
    shutil.copyfile(tpl / WAREHOUSE_FILE, ws.path / WAREHOUSE_FILE)
    if ws.database_url.startswith("sqlite"):
        dispose_engine(ws.database_url)
        shutil.copyfile(tpl / OPERATIONAL_FILE, ws.path / OPERATIONAL_FILE)
    else:
        add_role_users(ws)
    return ws


def _insert_records(ws: Any, rows: list[dict[str, Any]]) -> None:
    from casegraph.ontology import RECORD_COLUMN_NAMES
    from casegraph.sources.schema import ensure_tables

    ensure_tables(ws)
    for r in rows:
        row = {c: None for c in RECORD_COLUMN_NAMES}
        row.update(batch_id="b1", loaded_at=_dt.datetime(2026, 1, 1), is_current=True,
                   raw="{}", dq_issues="[]")
        row.update(r)
        row["record_key"] = f"{row['source']}:{row['record_id']}"
        cols = ", ".join(f'"{c}"' for c in RECORD_COLUMN_NAMES)
        ws.con.execute(f"insert into records ({cols}) values "
                       f"({', '.join('?' * len(RECORD_COLUMN_NAMES))})",
                       [row[c] for c in RECORD_COLUMN_NAMES])


def seed_warehouse(ws: Any) -> None:
    """A tiny warehouse: 4 persons, their records, gates, priority, leads, a departure and
    an identity review item, shaped as docs/architecture.md describes."""
    _insert_records(ws, [
        dict(source="eoir", record_id="1", kind="removal_order", full_name="Maria Garcia",
             given_name="Maria", family_name="Garcia", birth_date=_dt.date(1990, 1, 2),
             a_number="012345678", order_date=_dt.date(2025, 1, 1), order_type="removal",
             in_absentia=True, national_id="123-45-6789"),
        dict(source="dmv", record_id="9", kind="location", full_name="Maria Garcia",
             street_address="1 Main St", locality="Houston", region="TX",
             observed_on=_dt.date(2026, 6, 1), location_kind="residence"),
        dict(source="eoir", record_id="2", kind="person", full_name="John Smith",
             a_number="087654321"),
        dict(source="uscis", record_id="3", kind="status", full_name="Ana Lopez",
             status_type="u_visa_applicant", status_date=_dt.date(2024, 3, 1),
             status_detail="victim witness in case 22-cr-1"),
        dict(source="cbp", record_id="4", kind="departure", full_name="Li Wei",
             departure_date=_dt.date(2026, 3, 1), channel="air_exit", port="IAH"),
        dict(source="dmv", record_id="5", kind="person", full_name="Jon Smyth"),
    ])
    con = ws.con
    con.execute("""create table persons (person_id varchar, record_count int, confidence double,
        full_name varchar, given_name varchar, family_name varchar, birth_date date,
        nationality varchar, a_number varchar, national_id varchar, provenance json,
        run_id varchar)""")
    con.executemany("insert into persons values (?,?,?,?,?,?,?,?,?,?,?,?)", [
        ("P-000001", 2, 0.99, "Maria Garcia", "Maria", "Garcia", _dt.date(1990, 1, 2), "MX",
         "012345678", "123-45-6789",
         _json.dumps({"full_name": "eoir:1", "a_number": "eoir:1"}), "r1"),
        ("P-000002", 1, 0.97, "John Smith", "John", "Smith", None, "GT", "087654321", None,
         _json.dumps({"full_name": "eoir:2"}), "r1"),
        ("P-000003", 1, 0.95, "Ana Lopez", "Ana", "Lopez", None, "SV", None, None, "{}", "r1"),
        ("P-000004", 1, 0.95, "Li Wei", "Li", "Wei", None, "CN", None, None, "{}", "r1"),
        ("P-000005", 1, 0.90, "Jon Smyth", "Jon", "Smyth", None, "GT", None, None, "{}", "r1"),
    ])
    con.execute("""create table person_records (record_key varchar, source varchar,
        record_id varchar, kind varchar, person_id varchar, match_probability double)""")
    con.executemany("insert into person_records values (?,?,?,?,?,?)", [
        ("eoir:1", "eoir", "1", "removal_order", "P-000001", 1.0),
        ("dmv:9", "dmv", "9", "location", "P-000001", 0.93),
        ("eoir:2", "eoir", "2", "person", "P-000002", 1.0),
        ("uscis:3", "uscis", "3", "status", "P-000003", 1.0),
        ("cbp:4", "cbp", "4", "departure", "P-000004", 1.0),
        ("dmv:5", "dmv", "5", "person", "P-000005", 1.0),
    ])
    con.execute("create table score_runs (run_id varchar, as_of date, policy_version varchar, "
                "created_at timestamp)")
    con.execute("insert into score_runs values ('s1', date '2026-11-01', 'v1', "
                "timestamp '2026-11-01 00:00:00')")
    con.execute("""create table gate_results (run_id varchar, person_id varchar, gate varchar,
        verdict varchar, reason varchar, evidence json, as_of date, policy_version varchar)""")
    gates = []
    for pid in ("P-000001", "P-000002", "P-000004"):
        gates.append(("s1", pid, "final_order", "pass", "final in absentia", '["eoir:1"]'))
    gates.append(("s1", "P-000003", "no_protected_application", "fail",
                  "u_visa_applicant application pending", '["uscis:3"]'))
    con.executemany("insert into gate_results values (?,?,?,?,?,?, date '2026-11-01', 'v1')",
                    gates)
    con.execute("create table eligibility (run_id varchar, person_id varchar, "
                "eligible boolean, blocking json)")
    con.executemany("insert into eligibility values ('s1', ?, ?, ?)", [
        ("P-000001", True, "[]"), ("P-000002", True, "[]"),
        ("P-000003", False, '["no_protected_application"]'), ("P-000004", True, "[]")])
    con.execute("create table priority (run_id varchar, person_id varchar, score double, "
                "contributions json)")
    con.execute("insert into priority values ('s1', 'P-000001', 50, ?)",
                [_json.dumps([{"factor": "felony", "value": 1, "points": 50}])])
    con.execute("""create table leads (lead_id varchar, run_id varchar, person_id varchar,
        status varchar, priority_score double, confidence double, address varchar,
        candidates json, flags json, created_at timestamp)""")
    con.executemany("insert into leads values (?, 's1', ?, 'proposed', ?, ?, ?, ?, ?, "
                    "timestamp '2026-11-01 00:00:00')", [
        ("L-000001", "P-000001", 50.0, 0.9, "1 Main St, Houston, TX",
         _json.dumps([{"address": "1 Main St, Houston, TX", "confidence": 0.9}]), "[]"),
        ("L-000002", "P-000002", 40.0, 0.8, "2 Elm St, Dallas, TX", "[]",
         _json.dumps(["sensitive_site"])),
        ("L-000004", "P-000004", 30.0, 0.7, "3 Oak St, Austin, TX", "[]", "[]"),
    ])
    con.execute("create table departure_status (person_id varchar, status varchar, "
                "channel varchar, departure_date date, evidence json)")
    con.execute("insert into departure_status values ('P-000004', 'verified_departed', "
                "'air_exit', date '2026-03-01', '[\"cbp:4\"]')")
    con.execute("""create table identity_review (review_id varchar, record_key_l varchar,
        record_key_r varchar, match_probability double, match_weight double, status varchar,
        created_run varchar)""")
    con.execute("insert into identity_review values ('R-1', 'eoir:2', 'dmv:5', 0.6, 1.2, "
                "'open', 'r1')")
