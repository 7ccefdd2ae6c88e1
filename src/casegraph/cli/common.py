"""Shared pieces of the command line: the workspace option, console, CSV writing, audit."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import getpass
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from casegraph.workspace import Workspace, WorkspaceError, default_workspace_path

console = Console()
err_console = Console(stderr=True)

export_app = typer.Typer(no_args_is_help=True)

WorkspaceOpt = Annotated[
    Path,
    typer.Option("--workspace", "-w", envvar="CASEGRAPH_WORKSPACE",
                 help="Workspace directory (default ./casegraph-workspace).",
                 default_factory=default_workspace_path, show_default=False),
]
ENGINES = ("duckdb", "spark")


def _engine(value: str) -> str:
    v = (value or "duckdb").strip().lower()
    if v not in ENGINES:
        raise typer.BadParameter(f"unknown engine {value!r}: choose duckdb or spark")
    return v


EngineOpt = Annotated[
    str,
    typer.Option("--engine", envvar="CASEGRAPH_ENGINE", callback=_engine,
                 help="Batch engine: duckdb (embedded, default) or spark (PySpark; "
                      "CASEGRAPH_SPARK_MASTER / SPARK_REMOTE pick the cluster).",
                 show_default=True),
]
PurposeOpt = Annotated[
    str | None,
    typer.Option("--purpose", envvar="CASEGRAPH_PURPOSE",
                 help="Purpose of use (case number or justification), stored in the audit log."),
]


class UserError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


@contextlib.contextmanager
def fail_cleanly() -> Iterator[None]:
    try:
        yield
    except (UserError, WorkspaceError) as e:
        err_console.print(f"[bold red]error:[/] {escape(str(e))}")
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


def parse_date(value: str | None, option: str = "--as-of") -> dt.date | None:
    """A YYYY-MM-DD option value (None stays None), or a one-line error naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} must be a date YYYY-MM-DD, not {value!r}") from None


@contextlib.contextmanager
def user_errors(*kinds: type[Exception]) -> Iterator[None]:
    """Turn a room's fixable errors (``kinds``) into one-line CLI errors."""
    try:
        yield
    except kinds as e:
        raise UserError(str(e)) from e


def open_workspace(path: Path, *, must_exist: bool = False) -> Workspace:
    return Workspace(path, must_exist=must_exist)


def cli_actor() -> str:
    """Who is running the CLI: the local operator (the CLI has file access to the workspace)."""
    return os.environ.get("CASEGRAPH_USER") or f"cli:{getpass.getuser()}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a formula-safe CSV; returns the number of data rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([safe_cell(h) for h in header])
        for r in rows:
            w.writerow([safe_cell(v) for v in r])
            n += 1
    return n


def audit_cli(ws: Workspace, action: str, *, object_ids: Sequence[str] = (),
              purpose: str | None = None, result: str = "ok", detail: dict[str, Any] | None = None
              ) -> None:
    """Append a CLI event to the workspace's audit log (every read/write/export of people)."""
    from casegraph.governance.audit import record_event  # governance owns the log

    record_event(ws, actor=cli_actor(), role="operator", action=action,
                 object_ids=list(object_ids), purpose=purpose, result=result, detail=detail or {})
