"""Transport plans in the warehouse: versioned, stored, published.

Tables (owned by the logistics room):

- ``transport_plans``: one row per plan version (``TP-000001``, ``TP-000002`` ...): horizon,
  objective, solver status, headline figures, config used; ``status`` is ``draft`` until a
  logistics officer publishes it, then ``published``; the previously published plan becomes
  ``superseded``.
- ``transport_plan_assignments``: ``plan_id, person_id, leg_id`` (+ facility, nationality,
  departure, days waited).
- ``transport_plan_unassigned``: every detainee not on a leg with the binding reason.
- ``transport_plan_legs``: seat use per leg and the recommendation (ok / cancel / merge into
  X / under-filled).
- ``logistics_detainee_status``: the current logistics status of each person
  (``scheduled`` on a leg of the published plan); ``logistics_status_events`` keeps history.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from casegraph.workspace import Workspace

DDL = [
    """create table if not exists transport_plans (
        plan_id varchar primary key, version integer, created_at timestamp, created_by varchar,
        date_from date, date_to date, objective varchar, status varchar, solver_status varchar,
        eligibility_source varchar, eligibility_run_id varchar, policy_version varchar,
        detainees integer, schedulable integer, moved integer, unassigned integer,
        seats_total integer, seat_utilisation double, flown_utilisation double,
        legs_total integer, legs_flown integer, legs_to_cancel integer, legs_to_merge integer,
        wait_days bigint, cost double, seat_cost bigint, max_flow_bound integer,
        greedy_moved integer, greedy_wait_days bigint, solve_seconds double, groups integer,
        edges integer, components integer, stages json, config json,
        published_at timestamp, published_by varchar)""",
    """create table if not exists transport_plan_assignments (
        plan_id varchar, person_id varchar, record_key varchar, leg_id varchar,
        facility_id varchar, nationality varchar, departs_at timestamp, wait_days integer)""",
    """create table if not exists transport_plan_unassigned (
        plan_id varchar, person_id varchar, reason varchar, detail varchar, all_reasons json)""",
    """create table if not exists transport_plan_legs (
        plan_id varchar, leg_id varchar, mode varchar, origin varchar,
        destination_country varchar, departs_at timestamp, seats integer, assigned integer,
        utilisation double, cost double, recommendation varchar)""",
    """create table if not exists logistics_detainee_status (
        person_id varchar primary key, status varchar, plan_id varchar, leg_id varchar,
        departs_at timestamp, updated_at timestamp, updated_by varchar)""",
    """create table if not exists logistics_status_events (
        person_id varchar, status varchar, plan_id varchar, leg_id varchar, event_at timestamp,
        by_user varchar)""",
]


class PlanError(Exception):
    """A plan operation a user can correct (unknown plan, already published ...)."""


def ensure_tables(ws: Workspace) -> None:
    for stmt in DDL:
        ws.con.execute(stmt)


def next_plan_id(ws: Workspace) -> tuple[str, int]:
    ensure_tables(ws)
    v = ws.query("select coalesce(max(version), 0) + 1 as v from transport_plans")[0]["v"]
    return f"TP-{v:06d}", int(v)


def store_plan(ws: Workspace, header: dict[str, Any], assignments: list[tuple],
               unassigned: list[tuple], legs: list[tuple]) -> None:
    """Write one plan version atomically (header + its rows)."""
    import pandas as pd

    ensure_tables(ws)
    con = ws.con
    cols = list(header)
    con.execute("begin")
    try:
        con.execute(f"insert into transport_plans ({', '.join(cols)}) values "
                    f"({', '.join('?' * len(cols))})", [header[c] for c in cols])
        for table, rows, names in (
            ("transport_plan_assignments", assignments,
             ["plan_id", "person_id", "record_key", "leg_id", "facility_id", "nationality",
              "departs_at", "wait_days"]),
            ("transport_plan_unassigned", unassigned,
             ["plan_id", "person_id", "reason", "detail", "all_reasons"]),
            ("transport_plan_legs", legs,
             ["plan_id", "leg_id", "mode", "origin", "destination_country", "departs_at",
              "seats", "assigned", "utilisation", "cost", "recommendation"]),
        ):
            if not rows:
                continue
            df = pd.DataFrame(rows, columns=names)
            con.register("_lg_rows", df)
            con.execute(f"insert into {table} ({', '.join(names)}) "
                        f"select {', '.join(names)} from _lg_rows")
            con.unregister("_lg_rows")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def get_plan(ws: Workspace, plan_id: str | None = None) -> dict[str, Any]:
    """A plan's header (default: the latest version)."""
    if not ws.has_table("transport_plans"):
        raise PlanError("no transport plan yet: run `casegraph logistics plan` first")
    if plan_id is None:
        rows = ws.query("select * from transport_plans order by version desc limit 1")
        if not rows:
            raise PlanError("no transport plan yet: run `casegraph logistics plan` first")
    else:
        rows = ws.query("select * from transport_plans where plan_id = ?", [plan_id])
        if not rows:
            raise PlanError(f"no transport plan {plan_id!r}")
    return rows[0]


def published_plan(ws: Workspace) -> dict[str, Any] | None:
    if not ws.has_table("transport_plans"):
        return None
    rows = ws.query("select * from transport_plans where status = 'published' "
                    "order by version desc limit 1")
    return rows[0] if rows else None


def list_plans(ws: Workspace, limit: int = 20) -> list[dict[str, Any]]:
    if not ws.has_table("transport_plans"):
        return []
    return ws.query("""select plan_id, version, created_at, created_by, date_from, date_to,
                              objective, status, solver_status, moved, detainees,
                              seat_utilisation, published_at, published_by
                       from transport_plans order by version desc limit ?""", [limit])


def plan_assignments(ws: Workspace, plan_id: str) -> list[dict[str, Any]]:
    return ws.query("""select person_id, leg_id, facility_id, nationality, departs_at, wait_days,
                              record_key
                       from transport_plan_assignments where plan_id = ?
                       order by departs_at, leg_id, person_id""", [plan_id])


def plan_unassigned(ws: Workspace, plan_id: str) -> list[dict[str, Any]]:
    return ws.query("""select person_id, reason, detail, all_reasons
                       from transport_plan_unassigned where plan_id = ? order by person_id""",
                    [plan_id])


def plan_legs(ws: Workspace, plan_id: str) -> list[dict[str, Any]]:
    return ws.query("""select * exclude (plan_id) from transport_plan_legs where plan_id = ?
                       order by departs_at, leg_id""", [plan_id])


@dataclass
class PublishResult:
    plan_id: str
    scheduled: int
    unscheduled: int  # people scheduled by the previous plan and not by this one
    superseded: str | None
    withheld: list[tuple[str, str]] = field(default_factory=list)  # (person, reason)

    def __str__(self) -> str:
        s = (f"published {self.plan_id}: {self.scheduled:,} detainees scheduled"
             + (f", {self.unscheduled:,} no longer scheduled" if self.unscheduled else "")
             + (f"; supersedes {self.superseded}" if self.superseded else ""))
        if self.withheld:
            s += f"; {len(self.withheld):,} withheld (gates no longer pass)"
        return s


def publish(ws: Workspace, plan_id: str, user: str, *, role: str = "logistics",
            purpose: str | None = None, recheck: bool = True, audit: bool = True
            ) -> PublishResult:
    """Publish a draft plan: its detainees become ``scheduled`` on their legs (audited).

    With ``recheck`` the assigned detainees' gates are re-evaluated on current data first;
    anyone whose gates other than custody no longer pass is withheld (not scheduled) and
    listed. The previously published plan is superseded and its people unscheduled unless
    this plan schedules them again. ``role`` must hold ``logistics.plan`` (a logistics
    officer, or the CLI operator); otherwise ``PermissionDenied`` and nothing changes.
    """
    from casegraph.governance.permissions import require

    require(role, "logistics.plan")
    plan = get_plan(ws, plan_id)
    if plan["status"] != "draft":
        raise PlanError(f"plan {plan_id} is {plan['status']}; only a draft can be published")
    current = published_plan(ws)
    if current is not None and current["version"] > plan["version"]:
        raise PlanError(f"plan {plan_id} is older than the published {current['plan_id']}; "
                        "build a new plan instead")
    rows = plan_assignments(ws, plan_id)
    withheld: list[tuple[str, str]] = []
    if recheck and rows:
        from casegraph.logistics.config import load_config
        from casegraph.logistics.data import detainee_eligibility

        cfg = load_config(ws)
        by_day: dict[dt.date, list[str]] = {}
        for r in rows:  # the gates must pass on the day each person departs
            by_day.setdefault(r["departs_at"].date(), []).append(r["person_id"])
        blocking: dict[str, tuple] = {}
        for day, pids in sorted(by_day.items()):
            info = detainee_eligibility(ws, pids, day, cfg)
            if info.source != "none":
                blocking.update(info.blocking)
        keep = []
        for r in rows:
            b = blocking.get(r["person_id"])
            if b is None:
                withheld.append((r["person_id"], "no eligibility decision"))
            elif b[0]:
                withheld.append((r["person_id"], "; ".join(b[1]) or ", ".join(b[0])))
            else:
                keep.append(r)
        rows = keep
    now = dt.datetime.now().replace(microsecond=0)
    prev = published_plan(ws)
    con = ws.con
    con.execute("begin")
    try:
        unscheduled = 0
        new_ids = {r["person_id"] for r in rows}
        if prev is not None:
            con.execute("update transport_plans set status = 'superseded' where plan_id = ?",
                        [prev["plan_id"]])
            old = ws.query("select person_id from logistics_detainee_status "
                           "where plan_id = ? and status = 'scheduled'", [prev["plan_id"]])
            gone = [r["person_id"] for r in old if r["person_id"] not in new_ids]
            unscheduled = len(gone)
            if gone:
                con.execute("create or replace temp table _lg_gone as "
                            "select unnest(?) as person_id", [gone])
                con.execute("""insert into logistics_status_events
                               select person_id, 'unscheduled', ?, null, ?, ? from _lg_gone""",
                            [plan_id, now, user])
                con.execute("delete from logistics_detainee_status "
                            "where person_id in (select person_id from _lg_gone)")
        if rows:
            import pandas as pd

            df = pd.DataFrame([(r["person_id"], r["leg_id"], r["departs_at"]) for r in rows],
                              columns=["person_id", "leg_id", "departs_at"])
            con.register("_lg_pub", df)
            con.execute("delete from logistics_detainee_status "
                        "where person_id in (select person_id from _lg_pub)")
            con.execute("""insert into logistics_detainee_status
                           select person_id, 'scheduled', ?, leg_id, departs_at, ?, ?
                           from _lg_pub""", [plan_id, now, user])
            con.execute("""insert into logistics_status_events
                           select person_id, 'scheduled', ?, leg_id, ?, ? from _lg_pub""",
                        [plan_id, now, user])
            con.unregister("_lg_pub")
        con.execute("update transport_plans set status = 'published', published_at = ?, "
                    "published_by = ? where plan_id = ?", [now, user, plan_id])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    result = PublishResult(plan_id, len(rows), unscheduled,
                           prev["plan_id"] if prev else None, withheld)
    if audit:
        from casegraph.governance.audit import record_event

        record_event(ws, actor=user, role=role, action="logistics.publish",
                     object_ids=[plan_id], purpose=purpose,
                     detail={"scheduled": result.scheduled, "unscheduled": unscheduled,
                             "superseded": result.superseded,
                             "withheld": [p for p, _ in withheld][:100]})
    return result


def detainee_status(ws: Workspace) -> dict[str, dict[str, Any]]:
    if not ws.has_table("logistics_detainee_status"):
        return {}
    return {r["person_id"]: r for r in ws.query("select * from logistics_detainee_status")}


def dumps(x: Any) -> str:
    return json.dumps(x, default=str)
