"""The search CLI: JSON output, reindex, empty workspace, audit."""

from __future__ import annotations

import json
import sqlite3

from typer.testing import CliRunner

from casegraph.cli import app

runner = CliRunner()


def test_search_json_and_reindex(people_ws):
    path = str(people_ws.path)
    people_ws.close()
    r = runner.invoke(app, ["search", "maria garcia", "--workspace", path, "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert isinstance(out, list) and out[0]["person_id"] in ("P-000001", "P-000002")
    assert {"person_id", "score", "names", "matched", "record_count"} <= set(out[0])
    assert out[0]["score"] >= out[-1]["score"]
    r = runner.invoke(app, ["search", "reindex", "--workspace", path])
    assert r.exit_code == 0, r.output
    assert "6" in r.stdout
    r = runner.invoke(app, ["search", "maria", "-w", path, "--nationality", "GT", "-f", "json"])
    assert [h["person_id"] for h in json.loads(r.stdout)] == ["P-000002"]
    r = runner.invoke(app, ["search", "maria", "-w", path, "--eligible"])
    assert r.exit_code == 0 and "P-000001" in r.stdout and "P-000002" not in r.stdout
    r = runner.invoke(app, ["search", "foo:bar", "-w", path])
    assert r.exit_code == 2
    con = sqlite3.connect(f"{path}/operational.sqlite")
    rows = con.execute("select action, detail, result from audit_events order by seq").fetchall()
    con.close()
    searches = [json.loads(d)["query"] for a, d, _ in rows if a == "search"]
    assert "maria garcia" in searches and "foo:bar" in searches
    assert any(a == "search.reindex" for a, _, _ in rows)


def test_search_without_persons_prints_empty_json(tmp_path):
    r = runner.invoke(app, ["search", "maria", "--workspace", str(tmp_path / "none"),
                            "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == []


def test_search_with_warehouse_but_no_persons(ws):
    ws.con.execute("create table t (x int)")
    path = str(ws.path)
    ws.close()
    r = runner.invoke(app, ["search", "maria", "--workspace", path, "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == []
