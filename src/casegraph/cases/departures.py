"""Departures: who left (verified) or says they left (claimed), by channel and nationality."""

from __future__ import annotations

from typing import Any

from casegraph.cases._common import audit, clamp_page, has_table, parse_json, query, require
from casegraph.governance.users import Principal


def list_departures(ws: Any, actor: Principal, *, status: str | None = None,
                    channel: str | None = None, nationality: str | None = None,
                    limit: int = 50, offset: int = 0) -> dict[str, Any]:
    limit, offset = clamp_page(limit, offset)
    require(ws, actor, "departures.read", "departure.list")
    if not has_table(ws, "departure_status"):
        audit(ws, actor, "departure.list", [], returned=0)
        return {"total": 0, "limit": limit, "offset": offset, "items": []}
    persons = has_table(ws, "persons")
    sel = "d.*" + (", p.full_name, p.nationality" if persons else "")
    join = " left join persons p on p.person_id = d.person_id" if persons else ""
    where, params = [], []
    if status:
        where.append("d.status = ?")
        params.append(status)
    if channel:
        where.append("d.channel = ?")
        params.append(channel)
    if nationality and persons:
        where.append("p.nationality = ?")
        params.append(nationality)
    w = (" where " + " and ".join(where)) if where else ""
    total = query(ws, f"select count(*) as n from departure_status d{join}{w}", params)[0]["n"]
    items = query(ws, f"select {sel} from departure_status d{join}{w} "
                      f"order by d.departure_date desc nulls last, d.person_id "
                      f"limit ? offset ?", [*params, limit, offset])
    for i in items:
        i["evidence"] = parse_json(i.get("evidence"), [])
    audit(ws, actor, "departure.list", [i["person_id"] for i in items], returned=len(items))
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}


def departure_summary(ws: Any, actor: Principal) -> dict[str, Any]:
    """Counts by month × channel × status and by nationality × status."""
    require(ws, actor, "departures.read", "departure.summary")
    out: dict[str, Any] = {"by_month": [], "by_nationality": [], "totals": {}}
    if has_table(ws, "departure_status"):
        out["by_month"] = query(
            ws, "select strftime(cast(departure_date as date), '%Y-%m') as month, channel, "
                "status, count(*) as n from departure_status group by all order by 1, 2, 3")
        if has_table(ws, "persons"):
            out["by_nationality"] = query(
                ws, "select p.nationality, d.status, count(*) as n from departure_status d "
                    "left join persons p using (person_id) group by all order by 3 desc, 1")
        out["totals"] = {r["status"]: r["n"] for r in query(
            ws, "select status, count(*) as n from departure_status group by 1")}
    audit(ws, actor, "departure.summary", [])
    return out
