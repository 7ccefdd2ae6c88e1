"""The governance commands: users, audit verify/show, retention."""

from __future__ import annotations

import json

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from casegraph.cli import governance_cmds
from casegraph.governance.users import login
from casegraph.store.db import get_engine
from casegraph.store.testing import seed_warehouse

app = typer.Typer()
governance_cmds.register(app)
runner = CliRunner()


def run(ws, *args: str, input: str | None = None, env: dict | None = None):
    return runner.invoke(app, [*args, "--workspace", str(ws.path)], input=input, env=env)


def test_verify_on_fresh_workspace(gws) -> None:
    r = run(gws, "audit", "verify")
    assert r.exit_code == 0, r.output
    assert "intact" in r.output


def test_users_lifecycle(gws) -> None:
    r = run(gws, "users", "add", "ana", "--role", "analyst")
    assert r.exit_code == 0, r.output
    generated = r.output.split("password (shown once):")[1].split()[0]
    assert login(gws, "ana", generated)
    r = run(gws, "users", "add", "sue", "--role", "supervisor", "--password-stdin",
            input="a-long-password-here\n")
    assert r.exit_code == 0 and "shown once" not in r.output
    assert login(gws, "sue", "a-long-password-here")
    r = run(gws, "users", "add", "bad", "--role", "king")
    assert r.exit_code == 2 and "unknown role" in r.output
    r = run(gws, "users", "set-password", "ana")
    assert r.exit_code == 0, r.output
    newpw = r.output.split("password (shown once):")[1].split()[0]
    assert login(gws, "ana", newpw)
    r = runner.invoke(app, ["users", "roles"])
    assert r.exit_code == 0 and "permission matrix" in r.output
    r = run(gws, "users", "set-role", "ana", "officer")
    assert r.exit_code == 0 and "officer" in r.output
    r = run(gws, "users", "disable", "ana")
    assert r.exit_code == 0 and "disabled" in r.output
    r = run(gws, "users", "list")
    assert "ana" in r.output and "disabled" in r.output
    r = run(gws, "users", "disable", "ghost")
    assert r.exit_code == 2 and "no user" in r.output


def test_cli_acting_as_registered_user_obeys_matrix(gws) -> None:
    run(gws, "users", "add", "sue", "--role", "supervisor", "--password-stdin",
        input="a-long-password-here\n")
    r = run(gws, "users", "list", env={"CASEGRAPH_USER": "sue"})
    assert r.exit_code == 2 and "may not" in r.output
    r = run(gws, "audit", "show", "--json", "--user", "sue")
    rows = [json.loads(x) for x in r.output.splitlines() if x.startswith("{")]
    assert rows and rows[0]["result"] == "denied"


def test_audit_show_filters_and_verify_detects_tampering(gws) -> None:
    run(gws, "users", "add", "ana", "--role", "analyst")
    run(gws, "users", "add", "bob", "--role", "analyst")
    r = run(gws, "audit", "show", "--person", "bob", "--json")
    rows = [json.loads(x) for x in r.output.splitlines() if x.startswith("{")]
    assert [x["object_ids"] for x in rows] == [["bob"]]
    r = run(gws, "audit", "show", "--since", "1d")
    assert r.exit_code == 0 and "user.add" in r.output
    r = run(gws, "audit", "show", "--since", "yesterday-ish")
    assert r.exit_code == 2
    eng = get_engine(gws)
    with eng.begin() as conn:
        if eng.dialect.name == "sqlite":
            conn.execute(text("drop trigger audit_events_no_update"))
        else:
            conn.execute(text("alter table audit_events disable trigger audit_events_no_change"))
        conn.execute(text("update audit_events set actor = 'mallory' where seq = 1"))
    r = run(gws, "audit", "verify")
    assert r.exit_code == 2
    assert "event 1 altered" in r.output


def test_retention_apply(gws) -> None:
    seed_warehouse(gws)
    gws.set_section("retention", {"sources": {"dmv": 30}})
    gws.close()
    r = run(gws, "retention", "apply", "--as-of", "2026-06-01", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "would purge 2" in r.output
    r = run(gws, "retention", "apply", "--as-of", "2026-06-01")
    assert r.exit_code == 0 and "purged 2" in r.output
    r = run(gws, "audit", "show", "--action", "retention.*", "--json")
    rows = [json.loads(x) for x in r.output.splitlines() if x.startswith("{")]
    assert [x["action"] for x in rows] == ["retention.purge", "retention.dry_run"]


@pytest.mark.parametrize("cmd", [["users", "--help"], ["audit", "--help"],
                                 ["retention", "--help"], ["serve", "--help"]])
def test_help(cmd) -> None:
    r = runner.invoke(app, cmd)
    assert r.exit_code == 0 and "Usage" in r.output


def test_cli_events_of_a_registered_user_carry_their_role(gws, monkeypatch) -> None:
    from casegraph.cli.common import audit_cli
    from casegraph.governance.audit import list_events
    from casegraph.governance.users import add_user

    add_user(gws, "sue", "supervisor", "a-long-password-here")
    monkeypatch.setenv("CASEGRAPH_USER", "sue")
    audit_cli(gws, "export.leads", object_ids=["L-1"], purpose="C-000001")
    monkeypatch.delenv("CASEGRAPH_USER")
    audit_cli(gws, "export.leads", object_ids=["L-2"], purpose="C-000001")
    evs, _ = list_events(gws, action="export.leads")
    assert [(e.actor.split(":")[0], e.role) for e in evs] == [("cli", "operator"),
                                                             ("sue", "supervisor")]
