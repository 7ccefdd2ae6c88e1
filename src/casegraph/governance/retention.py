"""Retention: purge warehouse records older than their source's retention period.

Periods come from the ``retention:`` section of workspace.yaml (days since a record
version was loaded). Purging deletes the expired record versions from ``records``
(and their rows in ``person_records`` and ``quarantine`` when those tables exist) and
appends one audit event listing what was purged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from casegraph.governance.audit import record_event
from casegraph.governance.config import retention_config


@dataclass
class RetentionReport:
    as_of: dt.datetime
    dry_run: bool
    purged: dict[str, int] = field(default_factory=dict)  # source -> record versions
    quarantine_purged: dict[str, int] = field(default_factory=dict)
    record_keys: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.purged.values())


def _sources(ws: Any) -> list[str]:
    if not ws.has_table("records"):
        return []
    return [r[0] for r in ws.con.execute("select distinct source from records order by 1")
            .fetchall()]


def plan(ws: Any) -> dict[str, int | None]:
    """Retention days per source present in the warehouse (None = keep for ever)."""
    cfg = retention_config(ws)
    out: dict[str, int | None] = {}
    for src in sorted(set(_sources(ws)) | set(cfg.sources)):
        out[src] = cfg.sources.get(src, cfg.default_days)
    return out


def apply_retention(ws: Any, *, actor: str, role: str, as_of: dt.datetime | None = None,
                    dry_run: bool = False) -> RetentionReport:
    """Purge expired records (or only count them with ``dry_run``) and audit it."""
    as_of = as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(dt.UTC).replace(tzinfo=None)
    report = RetentionReport(as_of=as_of, dry_run=dry_run)
    con = ws.con
    has_q = ws.has_table("quarantine")
    q_cols = set()
    if has_q:
        q_cols = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_name='quarantine'"
        ).fetchall()}
    for src, days in plan(ws).items():
        if days is None:
            continue
        cutoff = as_of - dt.timedelta(days=days)
        keys = [r[0] for r in con.execute(
            "select distinct record_key from records where source = ? and loaded_at < ?",
            [src, cutoff]).fetchall()]
        n = con.execute("select count(*) from records where source = ? and loaded_at < ?",
                        [src, cutoff]).fetchall()[0][0]
        if n:
            report.purged[src] = int(n)
            report.record_keys.extend(keys)
        qn = 0
        qcol = next((c for c in ("loaded_at", "quarantined_at") if c in q_cols), None)
        if has_q and qcol and "source" in q_cols:
            qn = con.execute(f"select count(*) from quarantine where source = ? and {qcol} < ?",
                             [src, cutoff]).fetchall()[0][0]
            if qn:
                report.quarantine_purged[src] = int(qn)
        if dry_run or not (n or qn):
            continue
        con.execute("begin transaction")
        try:
            con.execute("delete from records where source = ? and loaded_at < ?", [src, cutoff])
            if qn:
                con.execute(f"delete from quarantine where source = ? and {qcol} < ?",
                            [src, cutoff])
            if keys and ws.has_table("person_records"):
                # keys whose every version is gone leave the person links too
                con.execute(
                    "delete from person_records where source = ? and record_key not in "
                    "(select record_key from records where source = ?)", [src, src])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    digest = hashlib.sha256(json.dumps(sorted(report.record_keys)).encode()).hexdigest()
    record_event(ws, actor=actor, role=role,
                 action="retention.dry_run" if dry_run else "retention.purge",
                 object_ids=report.record_keys[:1000], purpose=None, result="ok",
                 detail={"as_of": as_of.isoformat(), "purged": report.purged,
                         "quarantine_purged": report.quarantine_purged,
                         "record_keys": len(report.record_keys),
                         "record_keys_sha256": digest,
                         "listed": min(1000, len(report.record_keys))})
    return report
