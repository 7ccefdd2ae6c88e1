"""Tables owned by the sources room, generated from the ontology.

``records`` holds one row per source-record *version*: a changed file makes a new
batch whose rows supersede earlier versions with the same ``(source, record_id)``
(``is_current`` flips) while the history stays queryable.
"""

from __future__ import annotations

from casegraph.ontology import RECORDS_COLUMNS
from casegraph.workspace import Workspace

DDL = [
    "create table if not exists records ({cols})".format(
        cols=", ".join(f'"{c}" {t}' for c, t in RECORDS_COLUMNS)),
    """create table if not exists batches (
        batch_id varchar primary key, source varchar, kind varchar, spec_path varchar,
        file_path varchar, content_hash varchar, loaded_at timestamp,
        rows_read bigint, rows_accepted bigint, rows_quarantined bigint,
        rows_superseded bigint, status varchar, file_format varchar, encoding varchar,
        rows_with_issues bigint, notices json)""",
    """create table if not exists quarantine (
        batch_id varchar, source varchar, row_number bigint, record_id varchar,
        reason varchar, raw json, quarantined_at timestamp)""",
    "create or replace view current_records as select * from records where is_current",
]


#: Columns added after the first release of ``batches`` (older workspaces get them on open).
BATCH_EXTRA_COLUMNS = (("file_format", "varchar"), ("encoding", "varchar"),
                       ("rows_with_issues", "bigint"), ("notices", "json"))


def ensure_tables(ws: Workspace) -> None:
    """Create the sources room's tables if they are missing (idempotent)."""
    for stmt in DDL:
        ws.con.execute(stmt)
    for col, typ in BATCH_EXTRA_COLUMNS:
        ws.con.execute(f"alter table batches add column if not exists {col} {typ}")
