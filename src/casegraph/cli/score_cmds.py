"""CLI commands of the score room: ``score``, ``leads``, ``departures`` (+ ``report``) and the
``export leads`` / ``export eligibility`` exports."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from casegraph.cli.common import (
    EngineOpt,
    PurposeOpt,
    UserError,
    WorkspaceOpt,
    audit_cli,
    console,
    err_console,
    export_app,
    fail_cleanly,
    open_workspace,
    parse_date,
    safe_cell,
    user_errors,
    write_csv,
)

AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Decision date YYYY-MM-DD (default today); every date comparison uses it.",
    show_default=False)]
PolicyOpt = Annotated[Path | None, typer.Option(
    "--policy", help="Policy YAML replacing the packaged default (gates, priority, leads).",
    show_default=False)]

LEAD_COLUMNS = ("rank", "lead_id", "person_id", "priority_score", "confidence", "address",
                "latitude", "longitude", "flags", "status", "contributions", "run_id", "as_of")


_as_of = parse_date


def _user_errors() -> contextlib.AbstractContextManager[None]:
    """Turn the rooms' fixable errors into one-line CLI errors."""
    from casegraph.leads.build import NoScoreRun
    from casegraph.policy.config import PolicyError
    from casegraph.policy.facts import MissingResolution

    return user_errors(PolicyError, MissingResolution, NoScoreRun)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as prog:
        task = prog.add_task(label, total=None)

        def cb(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)
        yield cb


def _open(workspace: Path, permission: str | None = None, action: str = ""):
    """Open the workspace and check the CLI user's permission (governance's matrix)."""
    ws = open_workspace(workspace, must_exist=True)
    if permission is not None:
        from casegraph.governance.permissions import cli_require

        cli_require(ws, permission, action)
    return ws


def _score(ws, as_of: dt.date | None, policy: Path | None, engine: str = "duckdb"):
    from casegraph.policy.score import run_scoring

    if engine == "spark":
        from casegraph.scaleout.score import decide_on_spark

        err_console.print("[dim]deciding every person on Spark (gates and priority on the "
                          "executors)[/]")
        return run_scoring(ws, as_of=as_of, policy_path=policy, decide_all=decide_on_spark)
    with _progress("evaluating legal gates") as cb:
        return run_scoring(ws, as_of=as_of, policy_path=policy, progress=cb)


def _refresh_search(ws, run_id: str) -> None:
    """Eligibility is a search filter: re-index the persons whose eligibility changed."""
    if not ws.index_dir.exists():
        return  # built on first search, from the latest run
    from casegraph.search.service import update_persons

    prev = ws.con.execute("select run_id from score_runs where run_id <> ? "
                          "order by created_at desc limit 1", [run_id]).fetchall()
    changed = [p for (p,) in ws.con.execute(
        "select coalesce(c.person_id, o.person_id) from "
        "(select person_id, eligible from eligibility where run_id = ?) c full join "
        "(select person_id, eligible from eligibility where run_id = ?) o "
        "on c.person_id = o.person_id where c.eligible is distinct from o.eligible",
        [run_id, prev[0][0] if prev else ""]).fetchall()]
    if changed:
        update_persons(ws, changed)


def _lead_rows(ws, limit: int | None = None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    from casegraph.leads.build import leads_for_run
    from casegraph.policy.score import latest_run

    run = latest_run(ws)
    if run is None:
        return None, []
    rows = leads_for_run(ws, run["run_id"], limit)
    for i, r in enumerate(rows, 1):
        r["rank"] = i
        r["as_of"] = run["as_of"]
    return run, rows


def _ensure_leads(ws, rebuild: bool = False, engine: str = "duckdb"
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The latest run's leads; score (today) and build them when missing."""
    from casegraph.leads.build import build_leads, ensure_tables
    from casegraph.policy.score import latest_run

    run = latest_run(ws)
    if run is None:
        err_console.print("no scoring run yet: scoring every person as of today first "
                          "(run `casegraph score --as-of DATE` to choose the date)")
        err_console.print(_score(ws, None, None, engine))  # stdout stays clean for csv/json
        run = latest_run(ws)
    ensure_tables(ws)
    have = ws.con.execute("select count(*) from leads where run_id = ?",
                          [run["run_id"]]).fetchall()[0][0]
    if rebuild or not have:
        observations = None
        if engine == "spark":
            from casegraph.scaleout.leads import observations_on_spark as observations

            err_console.print("[dim]loading and geocoding address observations on Spark[/]")
        with _progress("locating eligible persons") as cb:
            build_leads(ws, run["run_id"], progress=cb, observations=observations)
    run, rows = _lead_rows(ws)
    return run, rows


def _cell(r: dict[str, Any], c: str) -> Any:
    v = r.get(c)
    if c in ("flags", "contributions") and isinstance(v, str):
        items = json.loads(v)
        if c == "contributions":
            return "; ".join(f"{x['factor']}={x['points']:g}" for x in items)
        return ";".join(items)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def register(app: typer.Typer) -> None:
    """Add this room's commands to the main app."""

    @app.command("score", help="Evaluate every person's legal gates and priority on a date "
                               "and print eligible / blocked counts per gate. Stored per run "
                               "with the as-of date and the policy version.")
    def score_cmd(workspace: WorkspaceOpt, as_of: AsOfOpt = None, policy: PolicyOpt = None,
                  purpose: PurposeOpt = None, engine: EngineOpt = "duckdb") -> None:
        with fail_cleanly(), _user_errors():
            day = _as_of(as_of)
            ws = _open(workspace, "leads.read", "score.run")
            rep = _score(ws, day, policy, engine)
            console.print(rep)
            _refresh_search(ws, rep.run_id)
            audit_cli(ws, "score.run", object_ids=[rep.run_id], purpose=purpose,
                      detail={"as_of": rep.as_of.isoformat(), "policy_version": rep.policy_version,
                              "persons": rep.persons, "eligible": rep.eligible})

    @app.command("leads", help="Location leads for the eligible persons of the latest scoring "
                               "run, best first (priority, then location confidence), with "
                               "address, reasons and flags. Builds them if the run has none.")
    def leads_cmd(
        workspace: WorkspaceOpt,
        top: Annotated[int, typer.Option("--top", "-n", min=1,
                                         help="Show the N best leads.")] = 20,
        fmt: Annotated[str, typer.Option("--format", "-f",
                                         help="Output: table, csv or json.")] = "table",
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Write to this file instead of the terminal.",
            show_default=False)] = None,
        rebuild: Annotated[bool, typer.Option(
            "--rebuild", help="Rebuild the latest run's leads even if they exist.")] = False,
        purpose: PurposeOpt = None,
        engine: EngineOpt = "duckdb",
    ) -> None:
        with fail_cleanly(), _user_errors():
            if fmt not in ("table", "csv", "json"):
                raise UserError(f"--format must be table, csv or json, not {fmt!r}")
            ws = _open(workspace, "leads.read", "leads.list")
            run, rows = _ensure_leads(ws, rebuild, engine)
            shown = rows[:top]
            audit_cli(ws, "leads.list", object_ids=[r["lead_id"] for r in shown],
                      purpose=purpose, detail={"run_id": run["run_id"], "format": fmt,
                                               "out": str(out) if out else None})
            if fmt == "csv":
                data = [[_cell(r, c) for c in LEAD_COLUMNS] for r in shown]
                if out:
                    n = write_csv(out, LEAD_COLUMNS, data)
                    err_console.print(f"wrote {n} leads to {out}")
                else:
                    w = csv.writer(sys.stdout)
                    w.writerow(LEAD_COLUMNS)
                    for d in data:
                        w.writerow([safe_cell(v) for v in d])
                return
            if fmt == "json":
                items = []
                for r in shown:
                    d = {c: _cell(r, c) for c in LEAD_COLUMNS if c not in ("flags", "contributions")}
                    d["flags"] = json.loads(r["flags"] or "[]")
                    d["contributions"] = json.loads(r.get("contributions") or "[]")
                    d["candidates"] = json.loads(r["candidates"] or "[]")
                    items.append(d)
                text = json.dumps(items, indent=2, default=str)
                if out:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text(text + "\n", encoding="utf-8")
                    err_console.print(f"wrote {len(items)} leads to {out}")
                else:
                    print(text)
                return
            if not rows:
                console.print(f"no leads: nobody is eligible in run {run['run_id']} "
                              f"(as of {run['as_of']}); see `casegraph score` for the gates")
                return
            from rich.table import Table

            t = Table(title=f"Leads — run {run['run_id']} as of {run['as_of']} "
                            f"({len(rows):,} proposed, showing {len(shown)})")
            for c in ("#", "person", "priority", "conf", "address", "why", "flags"):
                t.add_column(c, overflow="fold")
            for r in shown:
                t.add_row(str(r["rank"]), r["person_id"], f"{r['priority_score']:g}",
                          f"{r['confidence']:.0f}", r["address"] or "-",
                          _cell(r, "contributions") or "-", _cell(r, "flags") or "")
            if out:
                from rich.console import Console

                with out.open("w", encoding="utf-8") as fh:
                    Console(file=fh, width=160).print(t)
                err_console.print(f"wrote {len(shown)} leads to {out}")
            else:
                console.print(t)

    dep_app = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                          help="Classify every person with departure evidence as "
                               "verified_departed (official channel) or claimed_departed "
                               "(self-report only). `departures report` prints counts by "
                               "month, channel and nationality and writes a chart.")

    @dep_app.callback()
    def departures_cmd(ctx: typer.Context, workspace: WorkspaceOpt, as_of: AsOfOpt = None,
                       purpose: PurposeOpt = None, engine: EngineOpt = "duckdb") -> None:
        if ctx.invoked_subcommand is not None:
            return
        with fail_cleanly(), _user_errors():
            from casegraph.departures.classify import classify_departures

            day = _as_of(as_of)
            ws = _open(workspace, "departures.read", "departures.classify")
            decide = None
            if engine == "spark":
                from casegraph.scaleout.departures import decide_departures_on_spark as decide
            rep = classify_departures(ws, as_of=day, decide_all=decide)
            console.print(rep)
            audit_cli(ws, "departures.classify", purpose=purpose, detail=rep.as_dict())

    @dep_app.command("report")
    def departures_report_cmd(
        workspace: WorkspaceOpt, as_of: AsOfOpt = None,
        chart: Annotated[bool, typer.Option("--chart/--no-chart",
                                            help="Write a PNG chart to the artefacts dir.")] = True,
        purpose: PurposeOpt = None,
    ) -> None:
        """Departures by month, channel and nationality, and a PNG chart over time."""
        with fail_cleanly(), _user_errors():
            from casegraph.departures.classify import departure_report

            ws = _open(workspace, "departures.read", "departures.report")
            s = departure_report(ws, as_of=_as_of(as_of), chart=chart)
            for t in s.tables():
                console.print(t)
            if s.chart:
                console.print(f"chart: {s.chart}")
            audit_cli(ws, "departures.report", purpose=purpose,
                      detail={"events": s.events, "chart": str(s.chart) if s.chart else None})

    app.add_typer(dep_app, name="departures")

    @export_app.command("leads")
    def export_leads(
        workspace: WorkspaceOpt,
        out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")],
        purpose: PurposeOpt = None,
    ) -> None:
        """Every lead of the latest run as CSV, best first (priority, then confidence)."""
        with fail_cleanly(), _user_errors():
            ws = _open(workspace, "export.bulk", "export.leads")
            run, rows = _ensure_leads(ws)
            n = write_csv(out, LEAD_COLUMNS, ([_cell(r, c) for c in LEAD_COLUMNS] for r in rows))
            audit_cli(ws, "export.leads", object_ids=[r["lead_id"] for r in rows],
                      purpose=purpose, detail={"run_id": run["run_id"], "rows": n,
                                               "out": str(out)})
            console.print(f"wrote {n} leads (run {run['run_id']}) to {out}")

    @export_app.command("eligibility")
    def export_eligibility(
        workspace: WorkspaceOpt,
        out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")],
        purpose: PurposeOpt = None,
    ) -> None:
        """Every gate verdict of the latest scoring run as CSV (one row per person and gate)."""
        with fail_cleanly(), _user_errors():
            from casegraph.policy.score import latest_run

            ws = _open(workspace, "export.bulk", "export.eligibility")
            run = latest_run(ws)
            if run is None:
                raise UserError("no scoring run yet: run `casegraph score` first")
            rows = ws.con.execute(
                """select g.person_id, e.eligible, g.gate, g.verdict, g.reason,
                          g.evidence::varchar, g.flags::varchar, g.run_id, g.as_of,
                          g.policy_version
                   from gate_results g join eligibility e
                     on e.run_id = g.run_id and e.person_id = g.person_id
                   where g.run_id = ? order by g.person_id""", [run["run_id"]]).fetchall()
            header = ("person_id", "eligible", "gate", "verdict", "reason", "evidence", "flags",
                      "run_id", "as_of", "policy_version")
            n = write_csv(out, header, rows)
            persons = sorted({r[0] for r in rows})
            audit_cli(ws, "export.eligibility", object_ids=persons, purpose=purpose,
                      detail={"run_id": run["run_id"], "rows": n, "out": str(out)})
            console.print(f"wrote {n} gate rows for {len(persons)} persons (run "
                          f"{run['run_id']}) to {out}")
