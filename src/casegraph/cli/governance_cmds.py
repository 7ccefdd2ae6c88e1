"""CLI commands of the governance room: users, audit, retention, serve.

When ``CASEGRAPH_USER`` names a registered user, these commands act as that user and the
permission matrix applies; otherwise they run as the local operator (who has file access
to the workspace anyway) and are audited as such.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from casegraph.cli.common import (
    UserError,
    WorkspaceOpt,
    console,
    fail_cleanly,
    open_workspace,
    user_errors,
)
from casegraph.workspace import Workspace

audit_app = typer.Typer(no_args_is_help=True, help="Verify and read the audit log.")
users_app = typer.Typer(no_args_is_help=True, help="Manage users and roles.")
retention_app = typer.Typer(no_args_is_help=True, help="Retention of source records.")


# ---- audit ---------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(workspace: WorkspaceOpt) -> None:
    """Re-compute the audit hash chain and name the first altered or missing event.

    Exit code 0 when intact, 2 when broken.
    """
    from casegraph.governance.audit import record_event, verify
    from casegraph.governance.permissions import cli_require

    with fail_cleanly():
        ws = open_workspace(workspace)
        actor, role = cli_require(ws, "audit.verify", "audit.verify")
        res = verify(ws)
        record_event(ws, actor=actor, role=role, action="audit.verify", object_ids=[],
                     purpose=None, result="ok" if res.ok else "broken",
                     detail={"message": res.message})
        if res.ok:
            console.print(f"[green]ok[/] {res.message}; head {res.head_hash}")
            return
        raise UserError(f"audit chain broken: {res.message}")


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()
    if v.endswith(("d", "h")) and v[:-1].isdigit():
        delta = dt.timedelta(days=int(v[:-1])) if v.endswith("d") else \
            dt.timedelta(hours=int(v[:-1]))
        from casegraph.store.db import now_iso

        return now_iso(dt.datetime.now(dt.UTC) - delta)
    try:
        dt.datetime.fromisoformat(v.replace("Z", ""))
    except ValueError as e:
        raise UserError(f"--since {value!r}: expected a date (2026-11-01), timestamp or "
                        f"age like 7d / 12h") from e
    return v


@audit_app.command("show")
def audit_show(
    workspace: WorkspaceOpt,
    user: Annotated[str | None, typer.Option("--user", help="Only events by this user.")] = None,
    person: Annotated[str | None, typer.Option(
        "--person", help="Only events about this person (or any object id).")] = None,
    action: Annotated[str | None, typer.Option(
        "--action", help="Only this action; * wildcard (person.*).")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="From this date/time (UTC) or age (7d, 12h).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show audit events (newest first), filtered by user, person, action, time."""
    from casegraph.governance.audit import list_events, record_event
    from casegraph.governance.permissions import cli_require

    with fail_cleanly():
        ws = open_workspace(workspace)
        actor, role = cli_require(ws, "audit.read", "audit.read")
        events, total = list_events(ws, user=user, person=person, action=action,
                                    since=_since(since), limit=limit)
        record_event(ws, actor=actor, role=role, action="audit.read", object_ids=[],
                     purpose=None, result="ok",
                     detail={"user": user, "person": person, "action": action,
                             "since": since, "returned": len(events)})
        if as_json:
            for e in events:
                sys.stdout.write(json.dumps(e.as_dict(), ensure_ascii=False) + "\n")
            return
        t = Table(title=f"audit events ({len(events)} of {total})")
        for c in ("seq", "when (UTC)", "actor", "role", "action", "objects", "purpose",
                  "result"):
            t.add_column(c)
        for e in events:
            objs = ", ".join(e.object_ids[:3]) + (" …" if len(e.object_ids) > 3 else "")
            t.add_row(str(e.seq), e.occurred_at[:19].replace("T", " "), e.actor, e.role,
                      e.action, objs, e.purpose or "", e.result)
        console.print(t)


# ---- users ---------------------------------------------------------------------------------
PasswordStdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from standard input.")]
PromptOpt = Annotated[bool, typer.Option("--prompt", help="Ask for the password (hidden).")]


@contextlib.contextmanager
def _user_admin(workspace: Path, action: str, username: str
                ) -> Iterator[tuple[Workspace, str, str]]:
    """What every change to a user runs in: one-line CLI errors, the workspace, the
    ``users.manage`` permission (a refusal is audited as ``action`` on ``username``) and
    the users room's refusals (UserAdminError) as one-line errors.

    Yields (workspace, acting user, acting role).
    """
    from casegraph.governance.permissions import cli_require
    from casegraph.governance.users import UserAdminError

    with fail_cleanly():
        ws = open_workspace(workspace)
        actor, role = cli_require(ws, "users.manage", action, [username])
        with user_errors(UserAdminError):
            yield ws, actor, role


def _show_generated(generated: str | None) -> None:
    if generated:
        console.print(f"password (shown once): [bold]{generated}[/]", soft_wrap=True)


def _read_password(password_stdin: bool, prompt: bool) -> str | None:
    if password_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
        if not pw:
            raise UserError("--password-stdin: no password on standard input")
        return pw
    if prompt:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return None


@users_app.command("add")
def users_add(
    workspace: WorkspaceOpt,
    username: Annotated[str, typer.Argument(help="Login name (lower case).")],
    role: Annotated[str, typer.Option("--role", "-r",
                                      help="analyst, supervisor, officer, logistics, auditor "
                                           "or admin.")],
    password_stdin: PasswordStdinOpt = False,
    prompt: PromptOpt = False,
) -> None:
    """Add a user. Without --password-stdin/--prompt a password is generated and printed once."""
    from casegraph.governance.users import add_user

    with _user_admin(workspace, "user.add", username) as (ws, actor, arole):
        pw = _read_password(password_stdin, prompt)
        user, generated = add_user(ws, username, role, pw, actor=actor, actor_role=arole)
        console.print(f"added user [bold]{user.username}[/] ({user.role})")
        _show_generated(generated)


@users_app.command("list")
def users_list(workspace: WorkspaceOpt) -> None:
    """List users with role, state and last login."""
    from casegraph.governance.audit import record_event
    from casegraph.governance.permissions import cli_require
    from casegraph.governance.users import list_users

    with fail_cleanly():
        ws = open_workspace(workspace)
        actor, role = cli_require(ws, "users.manage", "user.list")
        users = list_users(ws)
        record_event(ws, actor=actor, role=role, action="user.list", object_ids=[],
                     purpose=None, result="ok", detail={"returned": len(users)})
        t = Table(title=f"users ({len(users)})")
        for c in ("user", "role", "state", "created", "last login"):
            t.add_column(c)
        for u in users:
            state = "disabled" if u.disabled else ("locked" if u.locked_until else "active")
            t.add_row(u.username, u.role, state, u.created_at[:16].replace("T", " "),
                      (u.last_login_at or "")[:16].replace("T", " "))
        console.print(t)


def _change(workspace: WorkspaceOpt, username: str, action: str, fn_name: str,
            *args: str) -> None:
    from casegraph.governance import users as users_mod

    with _user_admin(workspace, action, username) as (ws, actor, role):
        u = getattr(users_mod, fn_name)(ws, username, *args, actor=actor, actor_role=role)
        console.print(f"{u.username}: role {u.role}, "
                      f"{'disabled' if u.disabled else 'active'}")


@users_app.command("disable")
def users_disable(workspace: WorkspaceOpt,
                  username: Annotated[str, typer.Argument(help="User to disable.")]) -> None:
    """Disable a user (their sessions end at once)."""
    _change(workspace, username, "user.disable", "disable_user")


@users_app.command("enable")
def users_enable(workspace: WorkspaceOpt,
                 username: Annotated[str, typer.Argument(help="User to enable.")]) -> None:
    """Re-enable a disabled or locked-out user."""
    _change(workspace, username, "user.enable", "enable_user")


@users_app.command("set-role")
def users_set_role(workspace: WorkspaceOpt,
                   username: Annotated[str, typer.Argument(help="User to change.")],
                   role: Annotated[str, typer.Argument(help="New role.")]) -> None:
    """Change a user's role (their sessions end at once)."""
    _change(workspace, username, "user.set_role", "set_role", role)


@users_app.command("set-password")
def users_set_password(
    workspace: WorkspaceOpt,
    username: Annotated[str, typer.Argument(help="User whose password to replace.")],
    password_stdin: PasswordStdinOpt = False,
    prompt: PromptOpt = False,
) -> None:
    """Replace a user's password (generated and printed once unless given); ends sessions."""
    from casegraph.governance.users import generate_password, set_password

    with _user_admin(workspace, "user.set_password", username) as (ws, actor, role):
        pw = _read_password(password_stdin, prompt)
        generated = None
        if pw is None:
            pw = generated = generate_password()
        set_password(ws, username, pw, actor=actor, actor_role=role)
        console.print(f"password of {username} replaced; open sessions ended")
        _show_generated(generated)


@users_app.command("roles")
def users_roles() -> None:
    """Show the permission matrix (which role may do what)."""
    from casegraph.governance.permissions import MATRIX, PERMISSIONS, ROLES

    t = Table(title="permission matrix")
    t.add_column("permission")
    for r in ROLES:
        t.add_column(r)
    for p, doc in PERMISSIONS.items():
        t.add_row(f"{p}\n[dim]{doc}[/]", *("✓" if p in MATRIX[r] else "" for r in ROLES))
    console.print(t)


# ---- retention -----------------------------------------------------------------------------
@retention_app.command("apply")
def retention_apply(
    workspace: WorkspaceOpt,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, do not delete.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Reference date (default now), YYYY-MM-DD.")] = None,
) -> None:
    """Purge records older than their source's retention period (workspace.yaml `retention:`).

    What was purged is written to the audit log.
    """
    from casegraph.governance.permissions import cli_require
    from casegraph.governance.retention import apply_retention, plan

    with fail_cleanly():
        ws = open_workspace(workspace)
        actor, role = cli_require(ws, "retention.apply", "retention.purge")
        when = None
        if as_of:
            try:
                when = dt.datetime.fromisoformat(as_of)
            except ValueError as e:
                raise UserError(f"--as-of {as_of!r}: expected YYYY-MM-DD") from e
        periods = plan(ws)
        if not any(v is not None for v in periods.values()):
            console.print("no retention periods configured (workspace.yaml `retention:`); "
                          "nothing to purge")
        rep = apply_retention(ws, actor=actor, role=role, as_of=when, dry_run=dry_run)
        t = Table(title=f"retention {'(dry run) ' if dry_run else ''}as of {rep.as_of:%Y-%m-%d}")
        for c in ("source", "keep (days)", "record versions purged", "quarantine purged"):
            t.add_column(c)
        for src, days in periods.items():
            t.add_row(src, "for ever" if days is None else str(days),
                      str(rep.purged.get(src, 0)), str(rep.quarantine_purged.get(src, 0)))
        console.print(t)
        console.print(f"{'would purge' if dry_run else 'purged'} {rep.total} record versions "
                      f"({len(rep.record_keys)} records); audited")
        if rep.total and not dry_run:
            console.print("persons and the search index still hold values derived from the "
                          "purged records: run `casegraph resolve` and `casegraph search "
                          "reindex` (or the next scheduled pipeline run) to drop them")


@retention_app.command("show")
def retention_show(workspace: WorkspaceOpt) -> None:
    """Show the retention period of each source."""
    from casegraph.governance.retention import plan

    with fail_cleanly():
        ws = open_workspace(workspace)
        for src, days in plan(ws).items():
            console.print(f"{src}: {'for ever' if days is None else f'{days} days'}")


# ---- serve ---------------------------------------------------------------------------------
def serve(
    workspace: WorkspaceOpt,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
) -> None:
    """Serve the HTTP API (and web UI) with uvicorn. OpenAPI docs at /api/docs."""
    import uvicorn

    from casegraph.api.app import create_app

    with fail_cleanly():
        ws = open_workspace(workspace)
        app = create_app(ws)
        console.print(f"casegraph serving {ws.path} at http://{host}:{port}/ "
                      f"(API docs: http://{host}:{port}/api/docs); Ctrl-C stops")
        uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the main app."""
    app.add_typer(audit_app, name="audit")
    app.add_typer(users_app, name="users")
    app.add_typer(retention_app, name="retention")
    app.command("serve")(serve)
