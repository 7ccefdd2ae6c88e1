"""CLI commands of the governance room: audit, users, retention, serve."""

from __future__ import annotations

from typing import Annotated

import typer

from casegraph.cli.common import WorkspaceOpt, UserError, console, fail_cleanly, open_workspace

audit_app = typer.Typer(no_args_is_help=True, help="Verify and read the audit log.")


@audit_app.command("verify")
def audit_verify(workspace: WorkspaceOpt) -> None:
    """Re-compute the audit hash chain and name the first altered or missing event."""
    from casegraph.governance.audit import verify

    with fail_cleanly():
        ws = open_workspace(workspace)
        res = verify(ws)
        if res.ok:
            console.print(f"[green]ok[/] {res.message}")
            return
        raise UserError(f"audit chain broken: {res.message}")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the main app."""
    app.add_typer(audit_app, name="audit")
