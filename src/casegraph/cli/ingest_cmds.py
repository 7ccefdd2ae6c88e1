"""CLI commands of the ingest room: ``ingest``, ``sources``, ``quarantine``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from casegraph.cli.common import (
    EngineOpt,
    UserError,
    WorkspaceOpt,
    audit_cli,
    console,
    err_console,
    fail_cleanly,
    open_workspace,
)


def _reports_table(reports: list) -> Table:
    t = Table(title="Ingest", show_lines=False)
    t.add_column("source", overflow="fold")
    for col in ("read", "accepted", "quarantined", "dq issues", "superseded"):
        t.add_column(col, justify="right")
    # never cut the status ("unchang…" on an 80-column terminal reads as nothing)
    t.add_column("status", no_wrap=True, min_width=len("unchanged"))
    for r in reports:
        status = "unchanged" if r.skipped_identical else "loaded"
        if not r.skipped_identical and not r.reconciles:  # pragma: no cover - guarded in ingest
            status = "[red]does not reconcile[/]"
        t.add_row(escape(r.source), f"{r.read:,}", f"{r.accepted:,}",
                  f"{r.quarantined:,}", f"{r.with_issues:,}", f"{r.superseded:,}", status)
    return t


def ingest(
    specs: Annotated[list[Path], typer.Argument(
        help="Source spec YAML file(s), or directories of them.", show_default=False)],
    workspace: WorkspaceOpt,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Only validate the specs against the ontology and the files' "
                        "headers; load nothing.")] = False,
    engine: EngineOpt = "duckdb",
) -> None:
    """Load source files described by spec YAML files into the workspace.

    Every spec is validated first (kind, fields, columns, date formats): a bad spec stops the command before anything is written. Each source then loads as one atomic batch; re-loading an unchanged file does nothing.

    Rows that cannot be records go to quarantine (see `casegraph quarantine`); read = accepted + quarantined. Spec format: examples/README.md.

    With `--engine spark` Spark reads the files and the batches land in the Parquet lake (CASEGRAPH_LAKE, default WORKSPACE/lake), the system of record; the workspace gets a serving copy.
    """
    from casegraph.sources.ingest import IngestError, ingest_specs, validate_specs
    from casegraph.sources.spec import SpecError

    if check:
        with fail_cleanly():
            try:
                checked = validate_specs(specs)
            except SpecError as e:
                raise UserError(escape(str(e))) from e  # printed as Rich markup
            t = Table(title="Specs (not loaded)")
            for c in ("spec", "source", "kind", "files", "fields"):
                t.add_column(c, overflow="fold")
            for spec, _ in checked:
                t.add_row(escape(spec.spec_path.name) if spec.spec_path else "-",
                          escape(spec.source), spec.kind,
                          escape(", ".join(f.name for f in spec.files)), ", ".join(spec.fields))
            console.print(t)
            console.print(f"{len(checked)} spec(s) valid.")
        return
    with fail_cleanly():
        ws = open_workspace(workspace)
        try:
            lake = None
            try:
                if engine == "spark":
                    from casegraph.scaleout.ingest import ingest_on_spark

                    reports, lake = ingest_on_spark(ws, specs, progress=not quiet,
                                                    console=err_console)
                else:
                    reports = ingest_specs(ws, specs, progress=not quiet, console=err_console)
            except (SpecError, IngestError) as e:
                raise UserError(escape(str(e))) from e  # printed as Rich markup
            console.print(_reports_table(reports))
            if lake:
                console.print(f"[dim]system of record (Parquet lake): {escape(lake)}; "
                              f"served from the workspace[/]")
            for r in reports:
                for n in r.notices:
                    if not r.skipped_identical:
                        # notices quote source values: never read them as Rich markup
                        console.print(f"[yellow]note[/] ({escape(r.source)}): {escape(n)}")
            loaded = [r for r in reports if not r.skipped_identical]
            if any(r.quarantined for r in loaded):
                console.print("Quarantined rows: `casegraph quarantine --workspace "
                              f"{workspace}`")
            audit_cli(ws, "ingest", object_ids=[r.batch_id for r in loaded if r.batch_id],
                      detail={"sources": {r.source: {"batch": r.batch_id, "read": r.read,
                                                     "accepted": r.accepted,
                                                     "quarantined": r.quarantined,
                                                     "skipped": r.skipped_identical}
                                          for r in reports}})
        finally:
            ws.close()


def sources(workspace: WorkspaceOpt,
            batches: Annotated[bool, typer.Option("--batches/--no-batches",
                                                  help="Also list every batch.")] = True,
            ) -> None:
    """List loaded sources (current records) and their batches with counts."""
    from casegraph.sources.schema import ensure_tables

    with fail_cleanly():
        ws = open_workspace(workspace, must_exist=True)
        try:
            ensure_tables(ws)
            rows = ws.query(
                "select b.source, any_value(b.kind) as kind, count(*) as batches, "
                "max(b.loaded_at) as last_loaded, "
                "(select count(*) from records r where r.source = b.source and r.is_current) "
                "as current_records, "
                "(select count(*) from quarantine q where q.source = b.source) as quarantined "
                "from batches b where b.status = 'committed' group by b.source order by 1")
            if not rows:
                console.print("No sources loaded yet: `casegraph ingest SPEC.yaml`.")
                return
            t = Table(title="Sources")
            t.add_column("source", no_wrap=True)
            t.add_column("kind")
            for c in ("batches", "current records", "quarantined"):
                t.add_column(c, justify="right")
            t.add_column("last loaded (UTC)")
            for r in rows:
                t.add_row(escape(r["source"]), r["kind"], str(r["batches"]),
                          f"{r['current_records']:,}", f"{r['quarantined']:,}", f"{r['last_loaded']:%Y-%m-%d %H:%M}")
            console.print(t)
            if batches:
                bt = Table(title="Batches")
                bt.add_column("batch", no_wrap=True)
                bt.add_column("loaded (UTC)")
                bt.add_column("file")
                for c in ("read", "accepted", "quarantined", "superseded"):
                    bt.add_column(c, justify="right")
                for b in ws.query("select * from batches where status = 'committed' "
                                  "order by loaded_at, batch_id"):
                    files = ", ".join(Path(p).name for p in (b["file_path"] or "").split(";"))
                    bt.add_row(escape(b["batch_id"]), f"{b['loaded_at']:%Y-%m-%d %H:%M}",
                               escape(files),
                               f"{b['rows_read']:,}", f"{b['rows_accepted']:,}",
                               f"{b['rows_quarantined']:,}", f"{b['rows_superseded']:,}")
                console.print(bt)
        finally:
            ws.close()


def quarantine(workspace: WorkspaceOpt,
               source: Annotated[str | None, typer.Option("--source", "-s",
                                                          help="Only this source.")] = None,
               limit: Annotated[int, typer.Option("--limit", "-n", min=1,
                                                  help="Rows to show.")] = 50,
               full: Annotated[bool, typer.Option("--full",
                                                  help="Show whole raw rows.")] = False,
               ) -> None:
    """Show quarantined rows (rows that could not be records) with their reasons."""
    from casegraph.sources.schema import ensure_tables

    with fail_cleanly():
        ws = open_workspace(workspace, must_exist=True)
        try:
            ensure_tables(ws)
            where, params = "", []
            if source:
                where, params = "where source = ?", [source]
            total = ws.query(f"select count(*) as n from quarantine {where}", params)[0]["n"]
            rows = ws.query(f"select * from quarantine {where} order by quarantined_at, "
                            f"source, row_number limit ?", [*params, limit])
            if not total:
                console.print("No quarantined rows" + (f" for source {source!r}." if source
                                                       else "."))
            else:
                t = Table(title=f"Quarantine ({min(limit, total):,} of {total:,})")
                t.add_column("batch", overflow="fold")
                t.add_column("row", justify="right")
                t.add_column("record id", overflow="fold")
                t.add_column("reason", ratio=3)
                t.add_column("raw row" if full else "raw row (--full)", overflow="fold", ratio=2)
                for r in rows:
                    raw = r["raw"]
                    try:
                        raw = json.dumps(json.loads(raw), ensure_ascii=False)
                    except (TypeError, ValueError):
                        pass
                    if raw and not full and len(raw) > 40:
                        raw = raw[:39] + "…"
                    # rows and reasons quote source data: never read them as Rich markup
                    t.add_row(escape(r["batch_id"]), str(r["row_number"] or "-"),
                              escape(r["record_id"] or "-"), escape(r["reason"] or ""),
                              escape(raw or ""))
                console.print(t)
            audit_cli(ws, "quarantine.read", object_ids=[f"{r['source']}:{r['record_id']}"
                                                        for r in rows if r["record_id"]],
                      detail={"source": source, "shown": len(rows), "total": total})
        finally:
            ws.close()


def register(app: typer.Typer) -> None:
    """Add this room's commands to the main app."""
    app.command("ingest")(ingest)
    app.command("sources")(sources)
    app.command("quarantine")(quarantine)
