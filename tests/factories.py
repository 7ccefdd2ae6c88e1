"""Insert canonical records straight into a workspace, bypassing file parsing.

For tests of the rooms below ingest (resolve, gates, leads, logistics) that need
crafted records. Only fields given are set; provenance is filled in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from casegraph.ontology import RECORD_COLUMN_NAMES
from casegraph.sources.normalise import normalise_text
from casegraph.sources.schema import ensure_tables
from casegraph.workspace import Workspace

NORM_SOURCES = ("full_name", "given_name", "middle_name", "family_name", "name_aliases",
                "street", "street_address", "unit", "locality", "region")


def insert_records(ws: Workspace, rows: list[dict[str, Any]], *, batch_id: str = "test-batch"
                   ) -> list[str]:
    """Insert rows (each needs ``source``, ``record_id``, ``kind``); returns record keys."""
    ensure_tables(ws)
    now = dt.datetime(2026, 1, 1)
    keys = []
    for r in rows:
        row = {c: None for c in RECORD_COLUMN_NAMES}
        row.update(batch_id=batch_id, loaded_at=now, is_current=True, raw=json.dumps({}),
                   dq_issues=json.dumps([]))
        row.update(r)
        row["record_key"] = f"{row['source']}:{row['record_id']}"
        for f in NORM_SOURCES:
            if row.get(f) is not None and row.get(f"{f}_norm") is None:
                row[f"{f}_norm"] = normalise_text(row[f])
        cols = ", ".join(f'"{c}"' for c in RECORD_COLUMN_NAMES)
        ws.con.execute(f"insert into records ({cols}) values ({', '.join('?' * len(RECORD_COLUMN_NAMES))})",
                       [row[c] for c in RECORD_COLUMN_NAMES])
        keys.append(row["record_key"])
    return keys


def resolved_workspace(tmp_path_factory: Any, name: str, rows: list[dict[str, Any]]
                       ) -> Iterator[Workspace]:
    """A module-scoped fixture body: ``rows`` in a fresh workspace, resolved once."""
    from casegraph.resolve.pipeline import resolve_workspace

    w = Workspace(tmp_path_factory.mktemp(name) / "ws")
    insert_records(w, rows)
    resolve_workspace(w, progress=False)
    yield w
    w.close()


def person_of(ws: Workspace) -> dict[str, str]:
    """record key -> person id, as the last resolve left it."""
    return dict(ws.con.execute("select record_key, person_id from person_records").fetchall())
