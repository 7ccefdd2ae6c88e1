"""Atomicity (a load killed mid-way leaves nothing) and the CLI commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casegraph.sources.ingest import KILL_ENV, ingest_specs
from casegraph.workspace import Workspace

SPEC = {"source": "p", "kind": "person", "record_id": "id",
        "fields": {"full_name": "name", "birth_date": "dob"}}


def rows(n: int, start: int = 0, year: int = 1980) -> str:
    return "id,name,dob\n" + "".join(f"{i},Person{i} Test,{year}-01-02\n"
                                     for i in range(start, start + n))


def run_ingest(ws_path: Path, spec: Path, **env: str) -> subprocess.CompletedProcess:
    code = ("import sys; from casegraph.workspace import Workspace; "
            "from casegraph.sources.ingest import ingest_specs; "
            "ingest_specs(Workspace(sys.argv[1]), [sys.argv[2]], progress=False)")
    return subprocess.run([sys.executable, "-c", code, str(ws_path), str(spec)],
                          env={**os.environ, **env}, capture_output=True, check=False, text=True,
                          timeout=120)


def test_killed_load_leaves_nothing(tmp_path, make_source):
    spec = make_source(SPEC, rows(60))
    ws_path = tmp_path / "ws"
    # first a good batch, so that the killed one has something to (not) supersede
    first = make_source({**SPEC}, rows(5, year=1970), name="first")
    assert run_ingest(ws_path, first).returncode == 0
    p = run_ingest(ws_path, spec, **{KILL_ENV: "20", "CASEGRAPH_INGEST_CHUNK_ROWS": "10"})
    assert p.returncode == -signal.SIGKILL, p.stderr
    with Workspace(ws_path) as ws:
        assert ws.query("select count(*) n from batches")[0]["n"] == 1
        assert ws.query("select count(*) n from records")[0]["n"] == 5
        assert ws.query("select count(*) n from records where is_current")[0]["n"] == 5
        assert ws.query("select count(*) n from quarantine")[0]["n"] == 0
        assert {r["birth_date"].year for r in ws.query("select birth_date from records")} == {1970}
    # the same file loads completely afterwards (not mistaken for "already loaded")
    assert run_ingest(ws_path, spec, CASEGRAPH_INGEST_CHUNK_ROWS="10").returncode == 0
    with Workspace(ws_path) as ws:
        assert ws.query("select count(*) n from current_records")[0]["n"] == 60
        assert ws.query("select count(*) n from records where not is_current")[0]["n"] == 5


def test_error_mid_batch_rolls_back(ws, make_source, monkeypatch):
    import casegraph.sources.ingest as ing

    monkeypatch.setattr(ing, "CHUNK_ROWS", 10)
    calls = {"n": 0}
    real = ing._maybe_die

    def boom(written: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        real(written)

    monkeypatch.setattr(ing, "_maybe_die", boom)
    with pytest.raises(RuntimeError):
        ingest_specs(ws, [make_source(SPEC, rows(40))], progress=False)
    assert ws.query("select count(*) n from records")[0]["n"] == 0
    assert ws.query("select count(*) n from batches")[0]["n"] == 0
    [r] = ingest_specs(ws, [make_source(SPEC, rows(40))], progress=False)
    assert r.accepted == 40


@pytest.fixture()
def cli():
    from casegraph.cli import app

    return lambda *args: CliRunner().invoke(app, list(args))


def test_cli_ingest_sources_quarantine(tmp_path, make_source, cli):
    ws = str(tmp_path / "ws")
    spec = make_source(SPEC, rows(3) + ",No Id,1980-01-01\n")
    res = cli("ingest", str(spec), "--workspace", ws)
    assert res.exit_code == 0, res.output
    assert "p" in res.output and "loaded" in res.output
    res = cli("ingest", str(spec), "--workspace", ws, "--quiet")
    assert res.exit_code == 0 and "unchanged" in res.output
    res = cli("sources", "--workspace", ws)
    assert res.exit_code == 0 and "p-b1" in res.output
    res = cli("quarantine", "--workspace", ws, "--source", "p", "--limit", "5")
    assert res.exit_code == 0 and "no record id" in res.output
    from casegraph.governance.audit import list_events

    with Workspace(ws) as w:
        events, _ = list_events(w, action="ingest")
        assert events and events[-1].object_ids == ["p-b1"]
        assert events[-1].detail["sources"]["p"]["quarantined"] == 1


def test_cli_bad_spec_is_one_line_exit_2(tmp_path, make_source):
    spec = make_source({**SPEC, "kind": "nope"}, rows(1))
    p = subprocess.run([sys.executable, "-c", "from casegraph.cli import main; main()", "ingest",
                        str(spec),
                        "--workspace", str(tmp_path / "ws")], capture_output=True, text=True, check=False,
                       timeout=120)
    assert p.returncode == 2
    assert "kind: unknown kind 'nope'" in " ".join(p.stderr.split())
    assert "Traceback" not in p.stderr


def test_cli_sources_needs_workspace(tmp_path, cli):
    res = cli("sources", "--workspace", str(tmp_path / "none"))
    assert res.exit_code == 2


def test_cli_check_loads_nothing(tmp_path, make_source, cli):
    spec = make_source(SPEC, rows(3))
    res = cli("ingest", "--check", str(spec), "--workspace", str(tmp_path / "ws"))
    assert res.exit_code == 0 and "1 spec(s) valid" in res.output
    assert not (tmp_path / "ws" / "warehouse.duckdb").exists()
