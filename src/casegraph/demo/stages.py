"""The demo's stages: each calls one room's public API and prints a short summary.

This module sits at the top of the data flow (like the CLI and API) and is the only
place that knows the order of the whole pipeline.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from rich.table import Table

from casegraph.cli.common import console
from casegraph.workspace import Workspace

DEMO_USERS = (
    ("analyst", "analyst"),
    ("supervisor", "supervisor"),
    ("officer", "officer"),
    ("logistics", "logistics"),
    ("auditor", "auditor"),
    ("admin", "admin"),
)


def synthesise(ws: Workspace, out: Path, people: int, seed: int, as_of: dt.date) -> None:
    from casegraph.synth import generate

    summary = generate(people, out, seed=seed, as_of=as_of)
    console.print(summary if isinstance(summary, str) else _summary_table(summary))


def _summary_table(summary: object) -> object:
    data = getattr(summary, "__dict__", None) or (summary if isinstance(summary, dict) else None)
    if not data:
        return str(summary)
    t = Table(show_header=False, box=None)
    for k, v in data.items():
        if isinstance(v, (int, float, str)):
            t.add_row(str(k), f"{v:,}" if isinstance(v, int) else str(v))
    return t


def spec_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.glob("*.yaml"))


def ingest(ws: Workspace, data_dir: Path) -> None:
    from casegraph.cli.ingest_cmds import _reports_table
    from casegraph.sources.ingest import ingest_specs

    reports = ingest_specs(ws, spec_files(data_dir), progress=True)
    console.print(_reports_table(reports))
    read = sum(r.read for r in reports)
    ok = sum(r.accepted for r in reports)
    bad = sum(r.quarantined for r in reports)
    console.print(f"read {read:,} = accepted {ok:,} + quarantined {bad:,}: "
                  + ("[green]reconciles[/]" if read == ok + bad else "[red]DOES NOT RECONCILE[/]"))


def resolve(ws: Workspace, data_dir: Path) -> None:
    from casegraph.resolve.pipeline import resolve_workspace

    report = resolve_workspace(ws, full=True, progress=True)
    console.print(f"{report.records:,} person-bearing records -> [bold]{report.persons:,} persons[/]; "
                  f"{report.pairs_scored:,} pairs scored; {report.review_open:,} pairs in the "
                  f"identity review queue")
    truth = data_dir / "truth" / "records.csv"
    if truth.exists():
        console.print(resolution_accuracy(ws, truth))


def resolution_accuracy(ws: Workspace, truth_csv: Path) -> Table:
    """Pairwise and B-cubed precision / recall / F1 against the generator's truth."""
    import csv

    from casegraph.resolve.evaluate import predicted_from_workspace, score_clusters

    with truth_csv.open(encoding="utf-8") as fh:
        truth = {f"{r['source']}:{r['record_id']}": r["person_id"] for r in csv.DictReader(fh)}
    s = score_clusters(predicted_from_workspace(ws), truth)
    t = Table(title="Identity resolution vs the generator's truth")
    for c in ("measure", "precision", "recall", "F1"):
        t.add_column(c, justify="right" if c != "measure" else "left")
    t.add_row("pairwise", f"{s.pair_precision:.4f}", f"{s.pair_recall:.4f}", f"{s.pair_f1:.4f}")
    t.add_row("cluster (B-cubed)", f"{s.b3_precision:.4f}", f"{s.b3_recall:.4f}", f"{s.b3_f1:.4f}")
    return t


def index(ws: Workspace) -> None:
    from casegraph.search.service import reindex

    n = reindex(ws)
    console.print(f"indexed {n:,} persons in {ws.index_dir}")


def score(ws: Workspace, data_dir: Path, as_of: dt.date) -> None:
    from casegraph.departures.classify import classify_departures
    from casegraph.leads.build import build_leads
    from casegraph.policy.score import run_scoring

    console.print(classify_departures(ws, as_of=as_of))
    console.print(run_scoring(ws, as_of=as_of))
    console.print(build_leads(ws))
    truth = data_dir / "truth" / "persons.csv"
    if truth.exists():
        from casegraph.leads.truth import check_against_truth

        console.print(check_against_truth(ws, truth))


def logistics(ws: Workspace, as_of: dt.date) -> None:
    from casegraph.logistics.planner import plan

    console.print(plan(ws, as_of, as_of + dt.timedelta(days=14), "seats"))


def demo_users(ws: Workspace) -> list[tuple[str, str, str]]:
    """One user per role, each with a fresh random password (never hard-coded)."""
    from casegraph.governance.users import upsert_user

    creds = []
    for username, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        upsert_user(ws, username, role, password)
        creds.append((role, username, password))
    return creds


def serve(path: Path, host: str, port: int) -> None:
    import uvicorn

    from casegraph.api.app import create_app

    uvicorn.run(create_app(Workspace(path)), host=host, port=port, log_level="warning")
