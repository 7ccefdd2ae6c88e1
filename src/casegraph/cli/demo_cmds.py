"""`casegraph demo`: the whole pipeline on a synthetic agency, then the UI.

Orchestration only: each stage calls its room's public function and prints what a
new user needs to see (counts that reconcile, accuracy against the generator's
truth, the top leads, the plan's seat utilisation, where to log in).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.rule import Rule

from casegraph.cli.common import UserError, WorkspaceOpt, console
from casegraph.workspace import Workspace

DEMO_MARKER = ".casegraph-demo"


def _prepare(path: Path, force: bool) -> None:
    """A demo workspace is rebuilt from scratch; never wipe a directory we did not create."""
    if path.exists() and any(path.iterdir()):
        if not (path / DEMO_MARKER).exists() and not force:
            raise UserError(f"{path} exists and is not a demo workspace; pass --force to replace "
                            "it or choose another --workspace")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / DEMO_MARKER).write_text("created by casegraph demo\n", encoding="utf-8")


def _stage(title: str) -> float:
    console.print(Rule(f"[bold]{title}"))
    return time.perf_counter()


def _done(t0: float) -> None:
    console.print(f"[dim]{time.perf_counter() - t0:.1f} s[/]")


def run_demo(path: Path, people: int, seed: int, as_of: dt.date, force: bool) -> Workspace:
    """Run every stage of the pipeline that exists on a fresh synthetic agency."""
    from casegraph.demo import stages

    _prepare(path, force)
    ws = Workspace(path)
    data_dir = path / "sources"

    t = _stage(f"1. Synthesise a {people:,}-person agency (seed {seed}, as of {as_of})")
    stages.synthesise(ws, data_dir, people, seed, as_of)
    _done(t)

    t = _stage("2. Ingest every source")
    stages.ingest(ws, data_dir)
    _done(t)

    t = _stage("3. Resolve identities (Splink)")
    stages.resolve(ws, data_dir)
    _done(t)

    t = _stage(f"4. Legal gates, priority, leads and departures as of {as_of}")
    stages.score(ws, data_dir, as_of)
    _done(t)

    t = _stage("5. Search index (names, identifiers, eligibility)")
    stages.index(ws)
    _done(t)

    t = _stage("6. Removal logistics plan")
    stages.logistics(ws, as_of)
    _done(t)
    return ws


def register(app: typer.Typer) -> None:
    """Add `casegraph demo`."""

    @app.command("demo")
    def demo(
        workspace: WorkspaceOpt,
        people: Annotated[int, typer.Option(help="People in the synthetic agency.", min=10)] = 5000,
        seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Decision date (YYYY-MM-DD); default today.")] = None,
        serve: Annotated[bool, typer.Option(
            "--serve/--no-serve", help="Serve the web UI on the demo data at the end.")] = True,
        host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
        force: Annotated[bool, typer.Option(
            help="Replace an existing non-demo workspace directory.")] = False,
    ) -> None:
        """Synthesise an agency, run the whole pipeline on it, and serve the UI."""
        from casegraph.demo import stages

        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
        ws = run_demo(workspace, people, seed, day, force)
        t = _stage("7. Users and the web UI")
        creds = stages.demo_users(ws)
        _done(t)
        url = f"http://{host}:{port}/"
        lines = [f"[bold]{url}[/]", ""] + [f"{role:<11} {user:<12} {pw}" for role, user, pw in creds]
        console.print(Panel("\n".join(lines), title="Log in (passwords generated for this demo)",
                            expand=False))
        if serve:
            console.print("Serving; press Ctrl-C to stop.")
            ws.close()
            stages.serve(workspace, host, port)
