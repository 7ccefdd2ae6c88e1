"""Facility capacity and occupancy: on a date, over time, and projected under a plan.

Occupancy counts distinct persons (a stay reported by two systems counts once) whose
detention is open on the date: booked in on or before it and not booked out by it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from casegraph.logistics.config import LogisticsConfig, load_config
from casegraph.workspace import Workspace

_OPEN = """
    select r.facility_id, coalesce(pr.person_id, r.record_key) as who, r.book_in_date,
           r.book_out_date
    from current_records r left join person_records pr on pr.record_key = r.record_key
    where r.kind = 'detention' and r.facility_id is not null and r.book_in_date is not null
"""


def _detentions_sql(ws: Workspace) -> str:
    if ws.has_table("person_records"):
        return _OPEN
    return _OPEN.replace("coalesce(pr.person_id, r.record_key)", "r.record_key").replace(
        "left join person_records pr on pr.record_key = r.record_key", "")


def facility_occupancy(ws: Workspace, as_of: dt.date | None = None,
                       config: LogisticsConfig | None = None) -> list[dict[str, Any]]:
    """Every facility on ``as_of``: capacity, occupancy, rate and whether it is over threshold.

    Returns:
        Rows ``facility_id, name, capacity, occupancy, rate (None without capacity),
        alert (rate > occupancy_alert_threshold), locality, region``, fullest first.
    """
    cfg = config or load_config(ws)
    as_of = as_of or dt.date.today()
    if not ws.has_table("current_records"):
        return []
    rows = ws.query(f"""
        with det as ({_detentions_sql(ws)}),
        occ as (select facility_id, count(distinct who) as occupancy from det
                where book_in_date <= ? and (book_out_date is null or book_out_date > ?)
                group by facility_id),
        fac as (select facility_id, arg_max(name, loaded_at) as name,
                       arg_max(capacity, loaded_at) as capacity,
                       arg_max(locality, loaded_at) as locality,
                       arg_max(region, loaded_at) as region
                from current_records where kind = 'facility' and facility_id is not null
                group by facility_id)
        select coalesce(fac.facility_id, occ.facility_id) as facility_id,
               coalesce(fac.name, coalesce(fac.facility_id, occ.facility_id)) as name,
               fac.capacity, coalesce(occ.occupancy, 0) as occupancy, fac.locality, fac.region
        from fac full outer join occ on occ.facility_id = fac.facility_id""", [as_of, as_of])
    for r in rows:
        cap = r["capacity"]
        r["rate"] = (r["occupancy"] / cap) if cap else None
        r["alert"] = bool(r["rate"] is not None and r["rate"] > cfg.occupancy_alert_threshold)
        r["unknown_facility"] = cap is None and r["name"] == r["facility_id"]
    rows.sort(key=lambda r: (-(r["rate"] if r["rate"] is not None else -1), r["facility_id"]))
    return rows


def occupancy_alerts(ws: Workspace, as_of: dt.date | None = None,
                     config: LogisticsConfig | None = None) -> list[dict[str, Any]]:
    """Facilities above the configured occupancy threshold on ``as_of``."""
    return [r for r in facility_occupancy(ws, as_of, config) if r["alert"]]


def occupancy_series(ws: Workspace, date_from: dt.date, date_to: dt.date
                     ) -> dict[str, list[tuple[dt.date, int]]]:
    """Daily occupancy per facility over [date_from, date_to] from book-in/book-out dates."""
    if not ws.has_table("current_records") or date_to < date_from:
        return {}
    rows = ws.query(f"""
        with det as ({_detentions_sql(ws)}),
        days as (select cast(d as date) as day
                 from generate_series(cast(? as date), cast(? as date), interval 1 day) t(d))
        select det.facility_id, days.day, count(distinct det.who) as n
        from days join det on det.book_in_date <= days.day
             and (det.book_out_date is null or det.book_out_date > days.day)
        group by det.facility_id, days.day order by det.facility_id, days.day""",
                    [date_from, date_to])
    out: dict[str, dict[dt.date, int]] = {}
    for r in rows:
        out.setdefault(r["facility_id"], {})[r["day"]] = r["n"]
    n_days = (date_to - date_from).days + 1
    days = [date_from + dt.timedelta(days=i) for i in range(n_days)]
    return {f: [(d, v.get(d, 0)) for d in days] for f, v in sorted(out.items())}


def projected_occupancy(ws: Workspace, plan_id: str) -> dict[str, list[tuple[dt.date, int]]]:
    """Daily occupancy per facility over a plan's horizon if it is carried out.

    Occupancy on the plan's first day, minus the plan's passengers once their leg has left
    and the book-outs already on record (new book-ins cannot be known in advance).
    """
    from casegraph.logistics.plans import get_plan, plan_assignments

    p = get_plan(ws, plan_id)
    base = occupancy_series(ws, p["date_from"], p["date_to"])
    leaving: dict[str, dict[dt.date, int]] = {}
    for a in plan_assignments(ws, plan_id):
        day = a["departs_at"].date() + dt.timedelta(days=1)
        leaving.setdefault(a["facility_id"], {}).setdefault(day, 0)
        leaving[a["facility_id"]][day] += 1
    out = {}
    for f, series in base.items():
        gone = 0
        proj = []
        for day, n in series:
            gone += leaving.get(f, {}).get(day, 0)
            proj.append((day, max(n - gone, 0)))
        out[f] = proj
    return out
