"""CLI commands of the synth room: ``casegraph synth``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from casegraph.cli.common import UserError, console


def register(app: typer.Typer) -> None:
    """Add this room's commands to the main app."""

    @app.command("synth")
    def synth(
        people: Annotated[int, typer.Option("--people", "-n", min=8,
                                            help="Number of true persons in the agency.")],
        out: Annotated[Path, typer.Option("--out", "-o",
                                          help="Directory for the specs, data/ and truth/.")],
        seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Date the truth's eligibility is computed for (YYYY-MM-DD); "
                            "default today. Transport legs fall in the 14 days after it.")] = None,
    ) -> None:
        """Write a synthetic agency: source files in many layouts, their ingest specs
        (OUT/*.yaml, ready for `casegraph ingest OUT/*.yaml`), and the truth (OUT/truth/)."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from casegraph.synth import generate

        try:
            day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
        except ValueError as e:
            raise UserError(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from e
        if out.exists() and not out.is_dir():
            raise UserError(f"--out: {out} exists and is not a directory")
        steps = 5
        with Progress(TextColumn("[bold]synth[/] {task.description}"), BarColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("starting", total=steps)

            def step(msg: str) -> None:
                bar.update(task, description=msg, advance=1)

            summary = generate(people, out, seed=seed, as_of=day, progress=step)
            bar.update(task, completed=steps)
        console.print(str(summary))
