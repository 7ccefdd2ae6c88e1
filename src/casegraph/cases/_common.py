"""Helpers shared by the case-work services: permission checks with audit, warehouse reads."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from typing import Any

import duckdb

from casegraph.governance.audit import record_event
from casegraph.governance.errors import Forbidden, Unavailable
from casegraph.governance.permissions import PERMISSIONS, allowed
from casegraph.governance.users import Principal

#: Other rooms' functions use the workspace's shared DuckDB connection (``ws.con``), which
#: must not be used from two threads at once: API threads call them under this lock.
shared_connection_lock = threading.RLock()


def require(ws: Any, actor: Principal, permission: str, action: str,
            object_ids: Sequence[str] = ()) -> None:
    """Raise :class:`Forbidden` (and audit the refusal) unless ``actor`` holds ``permission``."""
    if not allowed(actor.role, permission):
        record_event(ws, actor=actor.username, role=actor.role, action=action,
                     object_ids=list(object_ids), purpose=None, result="denied",
                     detail={"permission": permission})
        raise Forbidden(f"role {actor.role!r} may not "
                        f"{PERMISSIONS.get(permission, permission)}")


def audit(ws: Any, actor: Principal, action: str, object_ids: Sequence[str] = (), *,
          purpose: str | None = None, result: str = "ok", **detail: Any) -> None:
    record_event(ws, actor=actor.username, role=actor.role, action=action,
                 object_ids=[str(o) for o in object_ids], purpose=purpose, result=result,
                 detail=detail)


def clean_text(value: str | None, what: str, *, collapse: bool = True,
               max_len: int = 5000) -> str:
    """User-entered text: NUL refused (no store accepts it), whitespace tidied, length capped."""
    from casegraph.governance.errors import Invalid

    v = value or ""
    if "\x00" in v:
        raise Invalid(f"{what} contains a NUL character")
    v = " ".join(v.split()) if collapse else v.strip()
    if len(v) > max_len:
        raise Invalid(f"{what} too long (at most {max_len} characters)")
    return v


def _cursor(ws: Any) -> duckdb.DuckDBPyConnection:
    return ws.cursor()


def has_table(ws: Any, name: str) -> bool:
    try:
        rows = _cursor(ws).execute(
            "select 1 from information_schema.tables where table_name = ? "
            "and table_schema = 'main'", [name]).fetchall()
    except duckdb.Error:
        return False
    return bool(rows)


def columns(ws: Any, table: str) -> set[str]:
    rows = _cursor(ws).execute(
        "select column_name from information_schema.columns where table_name = ? "
        "and table_schema = 'main'", [table]).fetchall()
    return {r[0] for r in rows}


def query(ws: Any, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts, fully fetched on a fresh cursor (thread-safe)."""
    cur = _cursor(ws)
    try:
        res = cur.execute(sql, list(params))
        cols = [d[0] for d in res.description] if res.description else []
        return [{c: jsonable(v) for c, v in zip(cols, r)} for r in res.fetchall()]
    except duckdb.CatalogException as e:  # a table another room has not produced yet
        raise Unavailable(f"warehouse table missing: {e}") from e
    finally:
        cur.close()


def jsonable(v: Any) -> Any:
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        try:
            return v.item()
        except (TypeError, ValueError):
            return v
    if type(v).__name__ == "Decimal":
        return float(v)
    return v


def parse_json(v: Any, default: Any) -> Any:
    if v is None:
        return default
    if isinstance(v, (list, dict)):
        return v
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        return default


def latest_run_id(ws: Any, table: str) -> str | None:
    """The run of ``table`` to show: latest ``score_runs`` run present in it, else any."""
    if not has_table(ws, table):
        return None
    if "run_id" not in columns(ws, table):
        return None
    if has_table(ws, "score_runs"):
        rows = query(ws, f'select r.run_id from score_runs r where r.run_id in '
                         f'(select distinct run_id from "{table}") '
                         f'order by r.created_at desc limit 1')
        if rows:
            return rows[0]["run_id"]
    if "created_at" in columns(ws, table):
        rows = query(ws, f'select run_id from "{table}" order by created_at desc limit 1')
    else:
        rows = query(ws, f'select max(run_id) as run_id from "{table}"')
    return rows[0]["run_id"] if rows else None


def clamp_page(limit: int, offset: int, max_limit: int = 1000) -> tuple[int, int]:
    """Limit/offset within what the stores accept (callers other than the API included)."""
    return max(1, min(int(limit), max_limit)), max(0, min(int(offset), 1_000_000_000))


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    return {"total": len(items), "limit": limit, "offset": offset,
            "items": items[offset:offset + limit]}
