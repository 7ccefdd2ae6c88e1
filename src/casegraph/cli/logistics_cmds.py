"""CLI commands of the logistics room: ``casegraph logistics plan|publish|report|detainees|plans``
and the ``export plan`` / ``export unassigned`` exports."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from casegraph.cli.common import (
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
    user_errors,
    write_csv,
)
from casegraph.workspace import Workspace

logistics_app = typer.Typer(no_args_is_help=True, help=(
    "Detention capacity, the detained population and optimal transport plans "
    "(OR-Tools CP-SAT)."))

FromOpt = Annotated[str | None, typer.Option(
    "--from", help="First departure day YYYY-MM-DD (default today).", show_default=False)]
ToOpt = Annotated[str | None, typer.Option(
    "--to", help="Last departure day YYYY-MM-DD (default --from + 13 days).", show_default=False)]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Date YYYY-MM-DD (default today).", show_default=False)]
ExportOutOpt = Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")]
ExportPlanOpt = Annotated[str | None, typer.Option(
    "--plan", help="Plan to export (default the latest).", show_default=False)]


_date = parse_date


def _user_errors() -> contextlib.AbstractContextManager[None]:
    """The room's fixable errors become one-line CLI errors."""
    from casegraph.logistics.data import LogisticsDataError
    from casegraph.logistics.plans import PlanError

    return user_errors(LogisticsDataError, PlanError, ValueError)


def _open(workspace: Path):  # type: ignore[no-untyped-def]
    return open_workspace(workspace, must_exist=True)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _unassigned_text(r: dict[str, Any]) -> str:
    from casegraph.logistics.model import REASON_LABELS

    return f"{REASON_LABELS.get(r['reason'], r['reason'])}: {r['detail']}"


@logistics_app.command("plan")
def plan_cmd(
    workspace: WorkspaceOpt,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    objective: Annotated[str, typer.Option(
        "--objective", help="seats: fill the most seats; wait: then fewest days waited; "
                            "cost: then cheapest seats. Always moves as many people as possible "
                            "first.")] = "seats",
    legs: Annotated[bool, typer.Option("--legs/--no-legs",
                                       help="Also list every leg's seat use.")] = False,
    keep_published: Annotated[bool, typer.Option(
        "--keep-published/--replan-all",
        help="Keep the seats of people scheduled by the published plan (when still valid) "
             "and plan everyone else around them.")] = False,
    purpose: PurposeOpt = None,
) -> None:
    """Assign detainees to transport legs optimally and store the plan as a new draft version.

    Hard constraints: the destination accepts the nationality (plus third-country rules),
    travel document ready, no medical/legal hold, every policy gate but custody passes,
    seats, the facility reaches the leg's origin before departure, one leg per person.
    """
    with fail_cleanly(), _user_errors():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        from casegraph.governance.permissions import cli_require
        from casegraph.logistics.planner import plan

        if objective not in ("seats", "wait", "cost"):
            raise UserError(f"--objective must be seats, wait or cost, not {objective!r}")
        ws = _open(workspace)
        actor, _ = cli_require(ws, "logistics.plan", "logistics.plan")
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                      transient=True) as prog:
            task = prog.add_task("solving (independent parts)", total=None)
            result = plan(ws, _date(date_from, "--from"), _date(date_to, "--to"), objective,
                          user=actor, keep_published=keep_published,
                          progress=lambda d, t: prog.update(task, completed=d, total=t))
        audit_cli(ws, "logistics.plan", object_ids=[result.plan_id], purpose=purpose,
                  detail={"moved": result.moved, "detainees": result.detainees,
                          "objective": objective, "status": result.status})
        console.print(result)
        if legs:
            _print_legs(ws, result.plan_id)
        from casegraph.logistics.occupancy import occupancy_alerts

        alerts = occupancy_alerts(ws, result.date_from)
        if alerts:
            console.print("[bold red]occupancy alert:[/] " + ", ".join(
                f"{f['facility_id']} {f['rate']:.0%}" for f in alerts[:10])
                + (f" and {len(alerts) - 10} more" if len(alerts) > 10 else ""))
        console.print(f"stored as draft [bold]{result.plan_id}[/]; publish with "
                      f"`casegraph logistics publish {result.plan_id}`")


def _print_legs(ws, plan_id: str) -> None:  # type: ignore[no-untyped-def]
    from casegraph.logistics.plans import plan_legs

    t = Table(title=f"Legs of {plan_id}")
    for c in ("leg", "mode", "from", "to", "departs", "seats", "filled", "use", "recommendation"):
        t.add_column(c, justify="right" if c in ("seats", "filled", "use") else "left")
    for r in plan_legs(ws, plan_id):
        t.add_row(r["leg_id"], r["mode"] or "", r["origin"] or "", r["destination_country"],
                  f"{r['departs_at']:%Y-%m-%d %H:%M}", str(r["seats"]), str(r["assigned"]),
                  _pct(r["utilisation"]), r["recommendation"])
    console.print(t)


@logistics_app.command("publish")
def publish_cmd(
    plan_id: Annotated[str, typer.Argument(help="The draft plan to publish, e.g. TP-000003.")],
    workspace: WorkspaceOpt,
    recheck: Annotated[bool, typer.Option(
        "--recheck/--no-recheck",
        help="Re-evaluate the passengers' gates on current data first and withhold anyone "
             "who no longer passes.")] = True,
    purpose: PurposeOpt = None,
) -> None:
    """Publish a plan: its detainees become `scheduled` on their legs (audited)."""
    with fail_cleanly(), _user_errors():
        from casegraph.governance.permissions import cli_require
        from casegraph.logistics.plans import publish

        ws = _open(workspace)
        actor, role = cli_require(ws, "logistics.plan", "logistics.publish", [plan_id])
        res = publish(ws, plan_id, actor, role=role, recheck=recheck, audit=False)
        audit_cli(ws, "logistics.publish", object_ids=[plan_id], purpose=purpose,
                  detail={"scheduled": res.scheduled, "unscheduled": res.unscheduled,
                          "superseded": res.superseded,
                          "withheld": [p for p, _ in res.withheld][:100]})
        console.print(str(res))
        for pid, why in res.withheld[:20]:
            console.print(f"  withheld {pid}: {why}")


@logistics_app.command("plans")
def plans_cmd(workspace: WorkspaceOpt,
              limit: Annotated[int, typer.Option(help="How many versions.")] = 20) -> None:
    """List plan versions, newest first."""
    with fail_cleanly(), _user_errors():
        from casegraph.logistics.plans import list_plans

        ws = _open(workspace)
        t = Table(title="Transport plans")
        t.add_column("plan", no_wrap=True)
        for c in ("horizon", "objective", "status", "solver", "moved", "seats used",
                  "published by"):
            t.add_column(c)
        for p in list_plans(ws, limit):
            t.add_row(p["plan_id"], f"{p['date_from']}..{p['date_to']:%m-%d}", p["objective"],
                      p["status"], p["solver_status"], f"{p['moved']:,}/{p['detainees']:,}",
                      _pct(p["seat_utilisation"]), p["published_by"] or "")
        console.print(t)


@logistics_app.command("report")
def report_cmd(
    workspace: WorkspaceOpt,
    as_of: AsOfOpt = None,
    plan_id: Annotated[str | None, typer.Option(
        "--plan", help="Plan to report (default the latest).", show_default=False)] = None,
    chart: Annotated[bool, typer.Option("--chart/--no-chart",
                                        help="Write a PNG chart into the artefacts.")] = True,
) -> None:
    """Facility occupancy (with alerts), the plan's summary, and a PNG chart."""
    with fail_cleanly(), _user_errors():
        from casegraph.governance.permissions import cli_require
        from casegraph.logistics.config import load_config
        from casegraph.logistics.report import build_report

        ws = _open(workspace)
        cli_require(ws, "logistics.read", "logistics.report")
        cfg = load_config(ws)
        rep = build_report(ws, _date(as_of, "--as-of"), plan_id, chart=chart, config=cfg)
        t = Table(title=f"Facility occupancy on {rep.as_of} "
                        f"(alert above {cfg.occupancy_alert_threshold:.0%})")
        for c in ("facility", "name", "region", "occupancy", "capacity", "rate", "alert"):
            t.add_column(c, justify="right" if c in ("occupancy", "capacity", "rate") else "left")
        for f in rep.facilities:
            t.add_row(f["facility_id"], f["name"] or "", f["region"] or "",
                      f"{f['occupancy']:,}", "—" if f["capacity"] is None else f"{f['capacity']:,}",
                      _pct(f["rate"]), "[bold red]ALERT[/]" if f["alert"] else "")
        console.print(t)
        p = rep.plan
        if p:
            s = Table(title=f"Plan {p['plan_id']} ({p['status']}, objective {p['objective']}, "
                            f"{p['date_from']} .. {p['date_to']})", show_header=False)
            s.add_column()
            s.add_column(justify="right")
            s.add_row("moved / detainees", f"{p['moved']:,} / {p['detainees']:,}")
            s.add_row("max-flow bound / FCFS baseline",
                      f"{p['max_flow_bound']:,} / {p['greedy_moved']:,}")
            s.add_row("seat utilisation (all legs / legs flown)",
                      f"{_pct(p['seat_utilisation'])} / {_pct(p['flown_utilisation'])}")
            s.add_row("legs flown / to cancel / to merge",
                      f"{p['legs_flown']} / {p['legs_to_cancel']} / {p['legs_to_merge']}")
            s.add_row("solver", f"{p['solver_status']} in {p['solve_seconds']:.2f} s")
            console.print(s)
            reasons = ws.query("""select reason, count(*) as n from transport_plan_unassigned
                                  where plan_id = ? group by reason order by n desc""",
                               [p["plan_id"]])
            if reasons:
                from casegraph.logistics.model import REASON_LABELS

                console.print("unassigned: " + ", ".join(
                    f"{REASON_LABELS.get(r['reason'], r['reason'])} {r['n']:,}" for r in reasons))
        else:
            console.print("no transport plan yet (`casegraph logistics plan`)")
        audit_cli(ws, "logistics.report", object_ids=[p["plan_id"]] if p else [],
                  detail={"as_of": str(rep.as_of), "alerts": len(rep.alerts),
                          "chart": str(rep.chart) if rep.chart else None})
        if rep.chart:
            console.print(f"chart: {rep.chart}")


@logistics_app.command("detainees")
def detainees_cmd(
    workspace: WorkspaceOpt,
    as_of: AsOfOpt = None,
    facility: Annotated[str | None, typer.Option(
        "--facility", help="Only this facility.", show_default=False)] = None,
    blocked: Annotated[bool, typer.Option(
        "--blocked", help="Only detainees who cannot be scheduled.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to show (0 = all).")] = 50,
    purpose: PurposeOpt = None,
) -> None:
    """The detained population: who is where since when, documents, holds, eligibility.

    `why not schedulable` lists every reason (gates other than custody, holds, document);
    `casegraph export unassigned` gives the full explanation per person for a plan.
    """
    with fail_cleanly(), _user_errors():
        from casegraph.governance.permissions import cli_require
        from casegraph.logistics.population import detained_population

        ws = _open(workspace)
        cli_require(ws, "logistics.read", "logistics.detainees")
        rows = detained_population(ws, _date(as_of, "--as-of"), facility_id=facility)
        total = len(rows)
        n_sched = sum(1 for r in rows if r["schedulable"])
        if blocked:
            rows = [r for r in rows if not r["schedulable"]]
        shown = rows[:limit] if limit else rows
        t = Table(title=f"In custody: {total:,} ({n_sched:,} can be scheduled; hold M = medical, "
                        "L = legal)")
        t.add_column("person", no_wrap=True)
        t.add_column("nat")
        t.add_column("facility", no_wrap=True)
        t.add_column("booked in", no_wrap=True)
        t.add_column("doc", no_wrap=True)
        t.add_column("hold", no_wrap=True)
        t.add_column("status", no_wrap=True)
        t.add_column("why not schedulable", ratio=1)
        for r in shown:
            holds = "/".join(h for h, on in (("M", r["medical_hold"]), ("L", r["legal_hold"]))
                             if on)
            status = f"on {r['leg_id']}" if r["status"] == "scheduled" else "held"
            t.add_row(r["person_id"], r["nationality"] or "", r["facility_id"],
                      str(r["book_in_date"]), r["travel_document"], holds, status,
                      r["reason_short"])
        console.print(t)
        if len(rows) > len(shown):
            console.print(f"... {len(rows) - len(shown):,} more (use --limit 0)")
        audit_cli(ws, "logistics.detainees", object_ids=[r["person_id"] for r in shown],
                  purpose=purpose, detail={"as_of": as_of, "facility": facility,
                                           "rows": len(shown), "total": total})


def _export_plan_rows(workspace: Path, out: Path, plan_id: str | None, purpose: str | None,
                      action: str, what: str, header: tuple[str, str],
                      fetch: Callable[[Workspace, str], list[dict[str, Any]]],
                      cells: Callable[[dict[str, Any]], tuple[Any, ...]]) -> None:
    """Write one table of a plan (default the latest) as formula-safe CSV, audited."""
    with fail_cleanly(), _user_errors():
        from casegraph.logistics.plans import get_plan

        ws = _open(workspace)
        p = get_plan(ws, plan_id)
        rows = fetch(ws, p["plan_id"])
        n = write_csv(out, header, (cells(r) for r in rows))
        audit_cli(ws, action, object_ids=[p["plan_id"], *(r["person_id"] for r in rows)],
                  purpose=purpose, detail={"plan_id": p["plan_id"], "rows": n, "out": str(out)})
        console.print(f"wrote {n:,} {what} of {p['plan_id']} to {out}")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the main app."""
    app.add_typer(logistics_app, name="logistics",
                  help="Detention capacity, detainees and optimal transport plans.")

    @export_app.command("plan")
    def export_plan(
        workspace: WorkspaceOpt,
        out: ExportOutOpt,
        plan_id: ExportPlanOpt = None,
        purpose: PurposeOpt = None,
    ) -> None:
        """The plan as CSV: person_id,leg_id (one row per assigned detainee)."""
        from casegraph.logistics.plans import plan_assignments

        _export_plan_rows(workspace, out, plan_id, purpose, "export.plan", "assignments",
                          ("person_id", "leg_id"), plan_assignments,
                          lambda r: (r["person_id"], r["leg_id"]))

    @export_app.command("unassigned")
    def export_unassigned(
        workspace: WorkspaceOpt,
        out: ExportOutOpt,
        plan_id: ExportPlanOpt = None,
        purpose: PurposeOpt = None,
    ) -> None:
        """Detainees the plan leaves in custody as CSV: person_id,reason (binding reason)."""
        from casegraph.logistics.plans import plan_unassigned

        _export_plan_rows(workspace, out, plan_id, purpose, "export.unassigned",
                          "unassigned detainees", ("person_id", "reason"), plan_unassigned,
                          lambda r: (r["person_id"], _unassigned_text(r)))
