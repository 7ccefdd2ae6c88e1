"""The score room's commands end to end on a small crafted workspace."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from casegraph.cli import app
from casegraph.policy.testing import add_person
from casegraph.workspace import Workspace

D = dt.date
ORDER = {"kind": "removal_order", "order_date": D(2024, 1, 10), "appeal_waived": True}
runner = CliRunner()


@pytest.fixture()
def wsdir(tmp_path):
    path = tmp_path / "ws"
    w = Workspace(path)
    add_person(w, "P-1", [ORDER, {"kind": "location", "street_address": "1 Main St",
                                  "postcode": "77002", "observed_on": D(2026, 9, 1),
                                  "location_kind": "residence"},
                          {"kind": "conviction", "severity": "felony",
                           "conviction_date": D(2025, 1, 1)}])
    add_person(w, "P-2", [ORDER, {"kind": "location", "street_address": "=cmd|' /C calc'!A0",
                                  "postcode": "77003", "observed_on": D(2026, 9, 1)}])
    add_person(w, "P-3", [ORDER, {"kind": "status", "status_type": "naturalized",
                                  "status_date": D(2025, 1, 1)}])
    add_person(w, "P-4", [ORDER, {"kind": "departure", "channel": "air_exit",
                                  "departure_date": D(2026, 2, 1)}], nationality="MX")
    w.close()
    return path


def run(*args):
    res = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return res


def test_score_leads_exports_departures(wsdir, tmp_path):
    r = run("score", "--workspace", wsdir, "--as-of", "2026-11-01")
    assert r.exit_code == 0, r.output
    assert "no_citizenship_or_status" in r.output and "eligible" in r.output
    r = run("leads", "--workspace", wsdir, "--format", "json")
    assert r.exit_code == 0, r.output
    items = json.loads(r.output)
    assert [i["person_id"] for i in items] == ["P-1", "P-2"]      # priority first
    assert items[0]["candidates"][0]["address"].startswith("1 MAIN ST")
    r = run("leads", "--workspace", wsdir, "--format", "csv", "--top", "1")
    assert r.exit_code == 0 and r.output.count("\n") == 2
    r = run("leads", "--workspace", wsdir)
    assert r.exit_code == 0 and "P-1" in r.output
    out = tmp_path / "leads.csv"
    r = run("export", "leads", "--workspace", wsdir, "--out", out)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert [x["person_id"] for x in rows] == ["P-1", "P-2"]
    assert {"person_id", "priority_score", "confidence", "address"} <= set(rows[0])
    assert float(rows[0]["priority_score"]) >= float(rows[1]["priority_score"])
    out = tmp_path / "elig.csv"
    r = run("export", "eligibility", "--workspace", wsdir, "--out", out)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4 * 7
    assert {"person_id", "eligible", "gate", "verdict"} <= set(rows[0])
    p3 = [x for x in rows if x["person_id"] == "P-3" and x["verdict"] != "pass"]
    assert [x["gate"] for x in p3] == ["no_citizenship_or_status"]
    r = run("departures", "--workspace", wsdir, "--as-of", "2026-11-01")
    assert r.exit_code == 0 and "verified_departed" in r.output
    r = run("departures", "report", "--workspace", wsdir)
    assert r.exit_code == 0 and "air_exit" in r.output
    assert (wsdir / "artefacts" / "departures_by_month.png").exists()


def test_leads_before_any_score_run_scores_today(wsdir):
    r = run("leads", "--workspace", wsdir)
    assert r.exit_code == 0, r.output
    assert "no scoring run yet" in r.output


def test_bad_inputs_are_one_line_errors(wsdir, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: x\npriority: {severity_points: {felony: high}}\n")
    r = run("score", "--workspace", wsdir, "--policy", bad)
    assert r.exit_code == 2 and "priority.severity_points.felony" in r.output
    r = run("score", "--workspace", wsdir, "--as-of", "yesterday")
    assert r.exit_code == 2 and "--as-of" in r.output
    r = run("leads", "--workspace", wsdir, "--format", "xml")
    assert r.exit_code == 2
    r = run("score", "--workspace", tmp_path / "nope")
    assert r.exit_code == 2


def test_no_eligible_persons(tmp_path):
    path = tmp_path / "ws2"
    w = Workspace(path)
    add_person(w, "P-1", [])
    w.close()
    assert run("score", "--workspace", path, "--as-of", "2026-11-01").exit_code == 0
    r = run("leads", "--workspace", path)
    assert r.exit_code == 0 and "no leads" in r.output
    out = tmp_path / "l.csv"
    assert run("export", "leads", "--workspace", path, "--out", out).exit_code == 0
    assert out.read_text().startswith("rank,lead_id,person_id,priority_score,confidence,address")


def test_roles_are_enforced(wsdir, tmp_path, monkeypatch):
    from casegraph.governance.users import upsert_user

    w = Workspace(wsdir)
    upsert_user(w, "olga", "officer", "a-long-enough-password-1")
    w.close()
    monkeypatch.setenv("CASEGRAPH_USER", "olga")
    r = run("export", "leads", "--workspace", wsdir, "--out", tmp_path / "x.csv")
    assert r.exit_code == 2 and not (tmp_path / "x.csv").exists()
    assert run("departures", "--workspace", wsdir).exit_code == 0


def test_leads_csv_stdout_is_clean_before_any_run(wsdir):
    r = runner.invoke(app, ["leads", "--workspace", str(wsdir), "--format", "csv"],
                      catch_exceptions=False)
    assert r.exit_code == 0
    out = r.stdout
    assert out.startswith("rank,lead_id,person_id"), out[:200]
    assert len(list(csv.DictReader(out.splitlines()))) == 2
