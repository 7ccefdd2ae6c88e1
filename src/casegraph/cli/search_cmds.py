"""CLI commands of the search room: ``casegraph search "QUERY"`` and ``casegraph search reindex``."""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer

from casegraph.cli.common import (
    PurposeOpt,
    UserError,
    WorkspaceOpt,
    audit_cli,
    console,
    err_console,
    fail_cleanly,
    open_workspace,
)

QUERY_HELP = """Query: free text (maria garcia lopez 1987), fielded (a:012345678, dob:1987-03-04,
name:"nguyen van", passport:, fbi:, licence:, phone:, email:, city:, nat:MX, eligible:yes,
case:open, id:P-000123). The literal query `reindex` rebuilds the index instead."""


def _role_for_cli(ws) -> tuple[str, str | None]:
    """(role for auditing/permissions, role passed to search) of the CLI user."""
    try:
        from casegraph.governance.permissions import cli_require
    except ImportError:  # governance not installed: the local operator sees everything
        return "operator", None
    _actor, role = cli_require(ws, "search.persons", "search")
    return role, role


def _reindex(ws) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from casegraph.search.service import reindex

    total = None
    if ws.has_table("persons"):
        total = ws.con.execute("select count(*) from persons").fetchall()[0][0]
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as prog:
        task = prog.add_task("indexing persons", total=total)
        n = reindex(ws, progress=lambda k: prog.advance(task, k))
    return n


def _rich_markup(snippet: str) -> str:
    import html

    from rich.markup import escape

    parts = re.split(r"(<b>|</b>)", snippet)
    out = []
    for p in parts:
        if p == "<b>":
            out.append("[bold yellow]")
        elif p == "</b>":
            out.append("[/bold yellow]")
        else:
            out.append(escape(html.unescape(p)))
    return "".join(out)


def register(app: typer.Typer) -> None:
    """Add this room's commands to the main app."""

    @app.command("search", help="Search persons by name (typo- and transliteration-tolerant), "
                                "birth date or identifier. `casegraph search reindex` rebuilds "
                                "the index.")
    def search_cmd(
        query: Annotated[str, typer.Argument(help=QUERY_HELP, show_default=False)],
        workspace: WorkspaceOpt,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000,
                                           help="Maximum number of persons.")] = 10,
        fmt: Annotated[str, typer.Option("--format", "-f",
                                         help="Output: table or json.")] = "table",
        nationality: Annotated[list[str] | None, typer.Option(
            "--nationality", help="Only persons of this nationality (ISO code; repeatable).")
        ] = None,
        eligible: Annotated[bool | None, typer.Option(
            "--eligible/--no-eligible", help="Only eligible / only not-eligible persons "
                                             "(latest scoring run).", show_default=False)] = None,
        open_case: Annotated[bool | None, typer.Option(
            "--open-case/--no-open-case", help="Only persons with / without an open case.",
            show_default=False)] = None,
        purpose: PurposeOpt = None,
    ) -> None:
        with fail_cleanly():
            _run(query, workspace, limit, fmt, nationality, eligible, open_case, purpose)

    def _run(query, workspace, limit, fmt, nationality, eligible, open_case, purpose) -> None:
        from casegraph.search.service import search

        if fmt not in ("table", "json"):
            raise UserError(f"--format must be table or json, not {fmt!r}")
        ws_path = workspace
        if query.strip() == "reindex":
            ws = open_workspace(ws_path)
            n = _reindex(ws)
            audit_cli(ws, "search.reindex", purpose=purpose, detail={"documents": n})
            if fmt == "json":
                print(json.dumps({"indexed": n}))
            else:
                console.print(f"indexed {n} persons into {ws.index_dir}")
            return
        if not (ws_path / "warehouse.duckdb").exists():
            # nothing ingested yet: nothing to find (and no workspace created by a typo)
            if fmt == "json":
                print("[]")
            else:
                console.print("no persons: the workspace has no warehouse yet")
            return
        ws = open_workspace(ws_path)
        role, search_role = _role_for_cli(ws)
        if search_role not in (None, "operator"):
            try:
                from casegraph.governance.purpose import (
                    PurposeRequired,
                    check_purpose,
                    is_identifier_query,
                )
                if is_identifier_query(query):
                    purpose = check_purpose(ws, purpose, "an identifier search")
            except ImportError:  # pragma: no cover
                pass
            except PurposeRequired as e:
                audit_cli(ws, "search", purpose=purpose, result="denied",
                          detail={"query": query, "reason": str(e)})
                raise UserError(str(e)) from e
        from casegraph.search.documents import persons_exist
        from casegraph.search.service import get_index

        if not get_index(ws).exists() and persons_exist(ws):
            err_console.print("building the search index (first search in this workspace)")
            _reindex(ws)
        filters = {"nationality": nationality or None, "eligible": eligible,
                   "has_open_case": open_case}
        try:
            hits = search(ws, query, limit=limit, role=search_role, filters=filters,
                          can_see_sensitive=search_role is None or None)
        except UserError as e:
            audit_cli(ws, "search", purpose=purpose, result="error",
                      detail={"query": query, "error": str(e)})
            raise
        audit_cli(ws, "search", object_ids=[h.person_id for h in hits], purpose=purpose,
                  detail={"query": query, "results": len(hits), "role": role})
        if fmt == "json":
            print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, default=str))
            return
        if not hits:
            console.print("no matching persons")
            return
        from rich.table import Table

        t = Table(show_lines=False)
        for col in ("#", "person", "score", "name", "born", "nat", "records", "matched"):
            t.add_column(col, overflow="fold")
        for i, h in enumerate(hits, 1):
            name = h.matched.get("name") or (h.names[0] if h.names else h.full_name or "")
            other = "; ".join(f"{k}: {_rich_markup(v)}" for k, v in h.matched.items()
                              if k != "name")
            t.add_row(str(i), h.person_id, f"{h.score:.2f}", _rich_markup(name),
                      h.birth_date or "", h.nationality or "", str(h.record_count), other)
        console.print(t)
