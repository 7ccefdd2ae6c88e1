"""CLI commands of the resolve room: resolve, review, explain, export links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from casegraph.cli.common import (
    EngineOpt,
    PurposeOpt,
    UserError,
    WorkspaceOpt,
    audit_cli,
    cli_actor,
    console,
    export_app,
    fail_cleanly,
    open_workspace,
    write_csv,
)
from casegraph.workspace import Workspace

review_app = typer.Typer(help="The identity review queue: list uncertain links, decide them.",
                         invoke_without_command=True)


def _require(ws, permission: str, action: str, object_ids: list[str] | None = None) -> str:
    """Permission check through governance (when present); returns the acting user."""
    try:
        from casegraph.governance.permissions import cli_require
    except ImportError:  # governance not built: the local operator may do everything
        return cli_actor()
    actor, _role = cli_require(ws, permission, action, object_ids)
    return actor


def _update_search(ws: Workspace, person_ids: list[str]) -> None:
    """Keep the search index current: changed persons only (rebuilt if it does not exist)."""
    from casegraph.search.service import reindex, update_persons

    if not person_ids:
        return
    if ws.index_dir.exists():
        update_persons(ws, person_ids)
    else:
        reindex(ws)


def _resolve(workspace: WorkspaceOpt,
             full: Annotated[bool, typer.Option("--full", help="Retrain the model and re-cluster "
                                                "every record (default: incremental once a "
                                                "model exists).")] = False,
             quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
             model: Annotated[Path | None, typer.Option(
                 "--model", help="Score with this saved model (Splink JSON) instead of "
                                 "training; implies --full.", show_default=False)] = None,
             engine: EngineOpt = "duckdb",
             purpose: PurposeOpt = None) -> None:
    """Resolve records into persons (Splink; explained, reviewable, incremental).

    With --engine spark, a full run scores and clusters every candidate pair on Spark
    (Splink's Spark backend, the same model); training samples pairs and runs here, and
    only the components that need the constrained merge come here. The search
    index is updated for the persons the run changed.
    """
    from casegraph.resolve.pipeline import resolve_workspace

    with fail_cleanly():
        ws = open_workspace(workspace, must_exist=True)
        if not ws.has_table("records"):
            raise UserError(f"no records in {workspace}; run `casegraph ingest` first")
        if model is not None and not model.is_file():
            raise UserError(f"--model {model}: no such file")
        predictor = clusterer = None
        if engine == "spark":
            from casegraph.scaleout.cluster import cluster_on_spark
            from casegraph.scaleout.resolve import predict_to_lake

            predictor, clusterer = predict_to_lake, cluster_on_spark
            full = True
        rep = resolve_workspace(ws, full=full, progress=not quiet, predictor=predictor,
                                model=model, clusterer=clusterer)
        _update_search(ws, rep.changed_person_ids)
        audit_cli(ws, "resolve.run", object_ids=rep.changed_person_ids[:1000], purpose=purpose,
                  detail={"run_id": rep.run_id, "mode": rep.mode, "records": rep.records,
                          "persons": rep.persons, "changed": len(rep.changed_person_ids)})
        console.print(f"[bold]{rep.persons:,}[/] persons from [bold]{rep.records:,}[/] records "
                      f"({rep.mode} run {rep.run_id})")
        t = Table(show_header=False, box=None)
        t.add_row("new or changed records", f"{rep.new_records:,}")
        t.add_row("persons changed", f"{len(rep.changed_person_ids):,}")
        for ev, n in sorted(rep.events.items()):
            t.add_row(f"  {ev}", f"{n:,}")
        t.add_row("pairs scored", f"{rep.pairs_scored:,}")
        t.add_row("open review items", f"{rep.review_open:,}")
        t.add_row("model", ("trained on this workspace" if rep.trained else
                            "saved model" if rep.mode != "full" else "prior weights (too little data)"))
        t.add_row("time", ", ".join(f"{k} {v:.1f}s" for k, v in rep.timings.items()))
        console.print(t)
        for note in rep.notes[:5]:
            console.print(f"[dim]note: {note}[/]")


@review_app.callback()
def _review(ctx: typer.Context, workspace: WorkspaceOpt,
            status: Annotated[str, typer.Option(help="open, decided or all")] = "open",
            limit: Annotated[int, typer.Option(help="Most items to list.")] = 50,
            as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False) -> None:
    """List the identity review queue (uncertain links); `review decide` settles one."""
    if ctx.invoked_subcommand is not None:
        return
    from casegraph.resolve.review import list_queue

    with fail_cleanly():
        ws = open_workspace(workspace, must_exist=True)
        _require(ws, "review.read", "review.list")
        items = list_queue(ws, status=None if status == "all" else status, limit=limit)
        audit_cli(ws, "review.list", object_ids=[i["review_id"] for i in items],
                  detail={"status": status, "count": len(items)})
        if as_json:
            console.print_json(json.dumps(items, default=str))
            return
        if not items:
            console.print(f"no {status} review items")
            return
        t = Table(title=f"identity review ({status})")
        for c in ("review id", "p", "record A", "record B", "A", "B", "why"):
            t.add_column(c)
        for i in items:
            a = " ".join(str(x) for x in (i.get("given_l"), i.get("family_l"), i.get("dob_l"),
                                          i.get("a_number_l")) if x)
            b = " ".join(str(x) for x in (i.get("given_r"), i.get("family_r"), i.get("dob_r"),
                                          i.get("a_number_r")) if x)
            t.add_row(i["review_id"], f"{i['match_probability']:.3f}",
                      *(escape(str(v)) for v in (i["record_key_l"], i["record_key_r"], a, b,
                                                 i.get("reason") or "")))
        console.print(t)


@review_app.command("decide")
def _decide(review_id: Annotated[str, typer.Argument(help="Review id (from `casegraph review`).")],
            decision: Annotated[str, typer.Argument(help="same or different")],
            reason: Annotated[str, typer.Option("--reason", help="Why (stored, audited).")],
            workspace: WorkspaceOpt,
            apply: Annotated[bool, typer.Option("--apply", help="Re-resolve the affected persons "
                                                 "now instead of at the next run.")] = False
            ) -> None:
    """Decide a review item: the two records are the same person, or different people."""
    from casegraph.resolve.review import ReviewError, record_decision

    with fail_cleanly():
        ws = open_workspace(workspace, must_exist=True)
        actor = _require(ws, "review.decide", "review.decide", [review_id])
        if not reason.strip():
            raise UserError("--reason must say why")
        try:
            out = record_decision(ws, review_id, decision, actor, reason, apply=apply)
        except ReviewError as e:
            raise UserError(str(e)) from e
        audit_cli(ws, "review.decide", object_ids=[review_id, out["record_key_l"],
                                                   out["record_key_r"]],
                  detail={"decision": decision, "reason": reason})
        console.print(f"{review_id}: {out['record_key_l']} and {out['record_key_r']} are "
                      f"[bold]{'the same person' if decision == 'same' else 'different people'}"
                      f"[/] ({'applied' if apply else 'applied at the next `casegraph resolve`'})")


def _explain(key_a: Annotated[str, typer.Argument(help="First record key (source:record_id).")],
             key_b: Annotated[str, typer.Argument(help="Second record key.")],
             workspace: WorkspaceOpt,
             chart: Annotated[Path | None, typer.Option("--chart", help="Write Splink's waterfall "
                                                        "chart to this .html file.")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
             purpose: PurposeOpt = None) -> None:
    """Explain why two records do or do not match: each comparison's level and weight."""
    from casegraph.resolve.explain import ExplainError, explain_pair

    with fail_cleanly():
        ws = open_workspace(workspace, must_exist=True)
        _require(ws, "review.read", "identity.explain", [key_a, key_b])
        if chart is not None and chart.suffix.lower() not in (".html", ".htm"):
            raise UserError("--chart writes an offline HTML file: give a .html path")
        try:
            e = explain_pair(ws, key_a, key_b, chart=chart)
        except ExplainError as err:
            raise UserError(str(err)) from err
        audit_cli(ws, "identity.explain", object_ids=[key_a, key_b], purpose=purpose,
                  detail={"match_probability": e["match_probability"]})
        if as_json:
            console.print_json(json.dumps(e, default=str))
            return
        console.print(f"{e['record_key_l']} vs {e['record_key_r']}: match probability "
                      f"[bold]{e['match_probability']:.4f}[/] (weight {e['match_weight']:+.2f}); "
                      + ("same person " + str(e["person_id_l"]) if e["same_person"] else
                         f"persons {e['person_id_l']} / {e['person_id_r']}"))
        t = Table()
        for c in ("comparison", "level", "weight", "values"):
            t.add_column(c)
        t.add_row("prior", "", f"{e['prior_weight']:+.2f}", "")
        for c in e["comparisons"]:
            w = c["match_weight"]
            tf = c.get("tf_adjustment_weight")
            wtxt = f"{w:+.2f}" + (f" (tf {tf:+.2f})" if tf else "")
            t.add_row(escape(str(c["comparison"])), escape(str(c["level"])), wtxt,
                      escape(f"{c['value_l']} | {c['value_r']}"))
        console.print(t)
        for r in e["rules"]:
            console.print(f"rule: {r}")
        if chart is not None:
            console.print(f"waterfall chart written to {chart}")


@export_app.command("links")
def _export_links(workspace: WorkspaceOpt,
                  out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
                  purpose: PurposeOpt = None) -> None:
    """Export record -> person links: source,record_id,person_id,match_probability."""
    with fail_cleanly():
        ws = open_workspace(workspace, must_exist=True)
        _require(ws, "export.bulk", "export.links")
        if not ws.has_table("person_records"):
            raise UserError("no persons yet; run `casegraph resolve` first")
        rows = ws.con.execute("select source, record_id, person_id, match_probability "
                              "from person_records order by source, record_id").fetchall()
        n = write_csv(out, ["source", "record_id", "person_id", "match_probability"], rows)
        audit_cli(ws, "export.links", object_ids=sorted({r[2] for r in rows})[:1000],
                  purpose=purpose, detail={"rows": n, "file": str(out)})
        console.print(f"{n:,} links written to {out}")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the main app."""
    app.command("resolve")(_resolve)
    app.command("explain")(_explain)
    app.add_typer(review_app, name="review")
