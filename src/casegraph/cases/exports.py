"""Bulk exports through the API/web (the CLI exports live with each room's commands)."""

from __future__ import annotations

from typing import Any

from casegraph.cases._common import audit, has_table, latest_run_id, query, require
from casegraph.cases.persons import _purpose
from casegraph.governance.users import Principal

LEAD_COLUMNS = ("lead_id", "person_id", "status", "priority_score", "confidence", "address",
                "created_at")


def leads_export(ws: Any, actor: Principal, purpose: str | None
                 ) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of the latest leads; needs ``export.bulk`` and a purpose; audited."""
    require(ws, actor, "export.bulk", "export.leads")
    p = _purpose(ws, actor, purpose, "a bulk export", "export.leads", [])
    rows: list[list[Any]] = []
    if has_table(ws, "leads"):
        run = latest_run_id(ws, "leads")
        data = query(ws, "select * from leads where run_id = ? order by priority_score desc",
                     [run]) if run else []
        rows = [[d.get(c) for c in LEAD_COLUMNS] for d in data]
    audit(ws, actor, "export.leads", [str(r[0]) for r in rows][:1000], purpose=p,
          rows=len(rows))
    return list(LEAD_COLUMNS), rows
