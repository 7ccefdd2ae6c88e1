"""The logistics commands end to end: plan, publish, report, detainees, exports, audit."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from casegraph.cli import app
from casegraph.workspace import Workspace
from tests.logistics.conftest import add_detainee, add_facility, add_leg

runner = CliRunner()
FROM, TO = "2026-03-02", "2026-03-15"


@pytest.fixture()
def wsdir(tmp_path):
    path = tmp_path / "ws"
    w = Workspace(path)
    add_facility(w, "F-HOU", capacity=2)
    add_leg(w, "L-1", "MX", day=1, seats=2)
    add_detainee(w, "P-1")
    add_detainee(w, "P-2", legal=True)
    add_detainee(w, "P-3", nat="=HYPERLINK")  # a formula-looking value must be neutralised
    w.close()
    return path


def run(*args):
    res = runner.invoke(app, list(args), catch_exceptions=False)
    return res


def events(path, action):
    from casegraph.governance.audit import list_events

    with Workspace(path) as w:
        return list_events(w, action=action)[0]


def test_plan_publish_report_detainees_and_exports(wsdir, tmp_path):
    r = run("logistics", "plan", "--workspace", str(wsdir), "--from", FROM, "--to", TO,
            "--objective", "wait", "--legs")
    assert r.exit_code == 0, r.output
    assert "TP-000001" in r.output and "OPTIMAL" in r.output
    assert "occupancy alert: F-HOU 150%" in r.output
    assert events(wsdir, "logistics.plan")

    out = tmp_path / "plan.csv"
    r = run("export", "plan", "--workspace", str(wsdir), "--out", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(out.open()))
    assert rows == [["person_id", "leg_id"], ["P-1", "L-1"]]
    assert "P-1" in events(wsdir, "export.plan")[0].object_ids

    out = tmp_path / "unassigned.csv"
    r = run("export", "unassigned", "--workspace", str(wsdir), "--out", str(out))
    assert r.exit_code == 0, r.output
    rows = dict(list(csv.reader(out.open()))[1:])
    assert rows["P-2"].startswith("hold: legal hold")
    assert rows["P-3"].startswith("no leg to that country")
    assert events(wsdir, "export.unassigned")

    r = run("logistics", "publish", "TP-000001", "--workspace", str(wsdir))
    assert r.exit_code == 0, r.output
    assert "1 detainees scheduled" in r.output
    assert events(wsdir, "logistics.publish")

    r = run("logistics", "publish", "TP-000001", "--workspace", str(wsdir))
    assert r.exit_code == 2 and "only a draft" in r.output

    r = run("logistics", "plan", "--workspace", str(wsdir), "--from", FROM, "--to", TO,
            "--keep-published")
    assert r.exit_code == 0, r.output
    assert "kept (published plan)" in r.output

    r = run("logistics", "report", "--workspace", str(wsdir), "--as-of", FROM)
    assert r.exit_code == 0, r.output
    assert "ALERT" in r.output  # 3 people in a 2-bed facility
    assert list((wsdir / "artefacts").glob("logistics-*.png"))

    r = run("logistics", "detainees", "--workspace", str(wsdir), "--as-of", FROM)
    assert r.exit_code == 0, r.output
    assert "P-1" in r.output and "on L-1" in r.output
    assert events(wsdir, "logistics.detainees")

    r = run("logistics", "plans", "--workspace", str(wsdir))
    assert r.exit_code == 0 and "TP-000002" in r.output


def test_user_errors_are_one_line(wsdir, tmp_path):
    r = run("logistics", "plan", "--workspace", str(wsdir), "--from", "tomorrow")
    assert r.exit_code == 2 and "--from must be a date" in r.output
    r = run("logistics", "plan", "--workspace", str(wsdir), "--objective", "speed")
    assert r.exit_code == 2
    r = run("export", "plan", "--workspace", str(wsdir), "--out", str(tmp_path / "x.csv"))
    assert r.exit_code == 2 and "no transport plan" in r.output
    r = run("logistics", "publish", "TP-000042", "--workspace", str(wsdir))
    assert r.exit_code == 2
    r = run("logistics", "plan", "--workspace", str(tmp_path / "nowhere"))
    assert r.exit_code == 2


def test_only_roles_with_logistics_plan_may_plan_or_publish(wsdir, monkeypatch):
    from casegraph.governance.permissions import PermissionDenied
    from casegraph.governance.users import upsert_user
    from casegraph.logistics.planner import plan
    from casegraph.logistics.plans import publish

    with Workspace(wsdir) as w:
        upsert_user(w, "ana", "analyst", "a-long-password-1")
        upsert_user(w, "lou", "logistics", "a-long-password-2")
        p = plan(w, None, None)
        with pytest.raises(PermissionDenied):
            publish(w, p.plan_id, "ana", role="analyst")
    monkeypatch.setenv("CASEGRAPH_USER", "ana")
    r = run("logistics", "publish", p.plan_id, "--workspace", str(wsdir))
    assert r.exit_code == 2 and "may not" in r.output
    r = run("logistics", "plan", "--workspace", str(wsdir), "--from", FROM)
    assert r.exit_code == 2
    assert [e.result for e in events(wsdir, "logistics.publish")] == ["denied"]
    monkeypatch.setenv("CASEGRAPH_USER", "lou")
    r = run("logistics", "publish", p.plan_id, "--workspace", str(wsdir))
    assert r.exit_code == 0, r.output
