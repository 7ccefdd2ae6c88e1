"""Ingest source files described by specs into the workspace's ``records`` table.

    reports = ingest_specs(ws, ["bookings.yaml", "orders.yaml"])

- Every spec is validated first (ontology, file present, columns present, formats): a bad
  spec raises :class:`~casegraph.sources.spec.SpecError` before anything is written.
- One batch per spec, in one DuckDB transaction: a process that dies mid-load leaves no
  trace of the batch.
- A batch whose content hash (file bytes + mapping) equals the source's latest batch is
  skipped. Otherwise its records become current and earlier versions of the same
  ``(source, record_id)`` are kept with ``is_current = false``.
- read = accepted + quarantined, always (checked before commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from casegraph.sources.readers import ReadError, ReadResult, read_file, read_header
from casegraph.sources.schema import ensure_tables
from casegraph.sources.spec import SourceSpec, SpecError, check_columns, load_spec
from casegraph.sources.transform import (
    canonical_sql,
    ident,
    raw_json_columns,
    record_ids,
    stage,
)
from casegraph.workspace import Workspace

#: Rows transformed and inserted per step (one transaction for the whole batch).
CHUNK_ROWS = int(os.environ.get("CASEGRAPH_INGEST_CHUNK_ROWS", "250000"))
#: Test hook: the process kills itself (SIGKILL) once this many rows of a batch are written.
KILL_ENV = "CASEGRAPH_INGEST_KILL_AFTER_ROWS"


class IngestError(ValueError):
    """A source that could not be loaded (unreadable file, inconsistent files)."""


@dataclass
class IngestReport:
    source: str
    batch_id: str | None
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    skipped_identical: bool = False
    superseded: int = 0
    kind: str = ""
    with_issues: int = 0          # accepted records carrying at least one dq issue
    files: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.accepted + self.quarantined


def file_digest(paths: Sequence[Path], spec: SourceSpec) -> str:
    h = hashlib.sha256(spec.fingerprint().encode())
    for p in paths:
        with p.open("rb") as fh:
            while chunk := fh.read(8 << 20):
                h.update(chunk)
        h.update(b"\x00--file--\x00")
    return h.hexdigest()


def expand_spec_paths(spec_paths: Sequence[str | Path]) -> list[Path]:
    """Spec files; a directory stands for the ``*.yaml`` / ``*.yml`` files directly in it."""
    out: list[Path] = []
    for p in map(Path, spec_paths):
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found:
                raise SpecError(p, None, "directory holds no *.yaml spec files")
            out += found
        else:
            out.append(p)
    return out


def validate_specs(spec_paths: Sequence[str | Path]) -> list[tuple[SourceSpec, dict[str, str]]]:
    """Load and check every spec against the ontology and its files' headers (no writes)."""
    out = []
    seen: dict[str, Path] = {}
    for p in expand_spec_paths(spec_paths):
        spec = load_spec(p)
        if spec.source in seen:
            raise SpecError(p, "source", f"{spec.source!r} is also the source of {seen[spec.source]}"
                                         f"; each source needs its own name")
        seen[spec.source] = Path(p)
        colmap: dict[str, str] = {}
        for f in spec.files:
            try:
                header = read_header(f, spec)
            except ReadError as e:
                raise SpecError(p, "path", str(e)) from e
            cm = check_columns(spec, header, f)
            if colmap and cm != colmap:
                raise SpecError(p, "path", f"{f.name} names its columns differently from "
                                           f"{spec.files[0].name}")
            colmap = cm
        out.append((spec, colmap))
    return out


def _read_all(spec: SourceSpec) -> ReadResult:
    results = []
    for f in spec.files:
        try:
            results.append(read_file(f, spec))
        except ReadError as e:
            raise IngestError(f"{spec.source}: {e}") from e
    if len(results) == 1:
        return results[0]
    tables = [r.table for r in results]
    try:
        table = pa.concat_tables(tables, promote_options="default")
    except pa.ArrowInvalid as e:
        raise IngestError(f"{spec.source}: files do not share columns: {e}") from e
    base = results[0]
    return ReadResult(table, table.column_names, base.encoding,
                      [n for r in results for n in r.notices],
                      [m for r in results for m in r.malformed],
                      set().union(*(r.typed_temporal for r in results)))


def _latest_batch(ws: Workspace, source: str, batches: str = "batches") -> dict | None:
    """The source's latest committed batch in relation ``batches`` (the Spark engine passes
    its lake's batch list)."""
    rows = ws.query(f"select batch_id, content_hash from {batches} where source = ? and "
                    "status = 'committed' order by loaded_at desc, batch_id desc limit 1",
                    [source])
    return rows[0] if rows else None


def skip_if_unchanged(report: IngestReport, latest: dict | None, digest: str) -> bool:
    """True (and ``report`` says so) when the files are byte-for-byte the source's latest
    committed batch: loading them again would only add a batch that supersedes nothing."""
    if not latest or latest["content_hash"] != digest:
        return False
    report.batch_id = latest["batch_id"]
    report.skipped_identical = True
    report.notices.append(f"{report.source}: unchanged since batch {latest['batch_id']}; "
                          f"nothing loaded")
    return True


def _new_batch_id(ws: Workspace, source: str, batches: str = "batches") -> str:
    """``<source>-b<n>``: the source's n-th committed batch (unique in the workspace)."""
    n = ws.query(f"select count(*) as n from {batches} where source = ?", [source])[0]["n"] + 1
    while ws.query(f"select 1 from {batches} where batch_id = ?", [f"{source}-b{n}"]):
        n += 1
    return f"{source}-b{n}"


def dup_of_sql(rel: str) -> str:
    """``__row, __dup_of`` of the rows of ``rel`` (``__row``, ``__rid``) whose record id
    repeats an earlier row's: ``__dup_of`` is the first such row. One definition for both
    engines (the Spark engine runs it transpiled)."""
    return ("select __row, case when rn > 1 then first_row end as __dup_of from ("
            " select __row, row_number() over (partition by __rid order by __row) as rn,"
            f" min(__row) over (partition by __rid) as first_row from {rel}"
            " where __rid is not null)")


def raw_json_sql(columns: Sequence[tuple[str, str]]) -> str:
    """The ``raw`` JSON of a file row: ``(key, column)`` pairs -> a JSON object expression."""
    return ("to_json(struct_pack(" + ", ".join(f"{ident(k)} := {ident(c)}" for k, c in columns)
            + "))")


def summary_notices(n: int, filled: dict[str, int],
                    issue_counts: dict[str, tuple[int, str, str]]) -> list[str]:
    """Notices about a whole batch: unmapped-looking fields and values that did not parse."""
    out = []
    empty = [f for f, c in filled.items() if c == 0]
    if n and empty:
        out.append(f"no row has a value for {', '.join(empty)}: check the column mapping")
    for fname, (cnt, value, problem) in sorted(issue_counts.items()):
        out.append(f"{fname}: {cnt:,} value(s) did not parse (kept raw, null in the record), "
                   f"e.g. {value!r}: {problem}")
    return out


def _dup_of(con, rid: pa.Array, rows: pa.Array) -> pa.Array:
    """For each row: the row number of the first earlier row with the same id, else null."""
    t = pa.table({"__row": rows, "__rid": rid})
    con.register("__cg_ids", t)
    try:
        out = con.sql(f"select __dup_of from ({dup_of_sql('__cg_ids')}) "
                      "right join __cg_ids using (__row) order by __row").to_arrow_table()
    finally:
        con.unregister("__cg_ids")
    return out.column("__dup_of").combine_chunks()


def _maybe_die(written: int) -> None:
    limit = os.environ.get(KILL_ENV)
    if limit and written >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


def ingest_spec(ws: Workspace, spec: SourceSpec, colmap: dict[str, str], *,
                progress: Progress | None = None) -> IngestReport:
    """Load one validated spec as one atomic batch."""
    ensure_tables(ws)
    con = ws.con
    report = IngestReport(spec.source, None, kind=spec.kind,
                          files=[str(f) for f in spec.files])
    digest = file_digest(spec.files, spec)
    if skip_if_unchanged(report, _latest_batch(ws, spec.source), digest):
        return report

    task = progress.add_task(f"{spec.source}: reading", total=None) if progress else None
    rr = _read_all(spec)
    report.notices += rr.notices
    table = rr.table
    n = table.num_rows
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    batch_id = _new_batch_id(ws, spec.source)
    report.batch_id = batch_id
    report.read = n + len(rr.malformed)
    if progress and task is not None:
        progress.update(task, description=f"{spec.source}: loading", total=max(n, 1),
                        completed=0)

    rows = pa.array(np.arange(1, n + 1, dtype=np.int64))
    rid = record_ids(table, spec, colmap) if n else pa.array([], pa.string())
    dup_of = _dup_of(con, rid, rows) if n else pa.array([], pa.int64())
    raw_table, raw_notices = raw_json_columns(table)
    report.notices += raw_notices
    typed = frozenset(fname for fname, m in spec.fields.items()
                      if m.column is not None and colmap.get(m.column) in rr.typed_temporal)

    raw_expr = raw_json_sql([(c, c) for c in raw_table.column_names])
    accepted = quarantined = with_issues = 0
    issue_counts: dict[str, tuple[int, str, str]] = {}
    filled: dict[str, int] = {}
    # DuckDB's own progress bar would print over ours (and into piped output).
    con.execute("set enable_progress_bar = false")
    con.execute("begin transaction")
    try:
        for start in range(0, max(n, 1), CHUNK_ROWS) if n else []:
            length = min(CHUNK_ROWS, n - start)
            part = table.slice(start, length)
            prow = rows.slice(start, length)
            st = stage(part, spec, colmap, prow)
            st.table = st.table.append_column("__dup_of", dup_of.slice(start, length))
            raw_part = raw_table.slice(start, length).append_column("__row", prow)
            con.register("__cg_stage", st.table)
            con.register("__cg_rawsrc", raw_part)
            try:
                con.execute(f"create or replace temp table __cg_raw as select __row, "
                            f"{raw_expr} as __raw from __cg_rawsrc")
                sql = canonical_sql(spec, st, "__cg_stage", "__cg_raw", typed_temporal=typed)
                con.execute(f"create or replace temp table __cg_out as {sql}")
                con.execute(
                    "insert into records by name select * exclude (__row, __reason), "
                    "? as batch_id, ? as loaded_at from __cg_out where __reason is null",
                    [batch_id, now])
                con.execute(
                    "insert into quarantine select ?, ?, __row, record_id, __reason, raw, ? "
                    "from __cg_out where __reason is not null", [batch_id, spec.source, now])
                a, q, w = con.execute(
                    "select count(*) filter (where __reason is null), "
                    "count(*) filter (where __reason is not null), "
                    "count(*) filter (where __reason is null and dq_issues <> '[]') "
                    "from __cg_out").fetchall()[0]
                mapped_cols = [f for f, m in spec.fields.items() if m.column is not None]
                if mapped_cols:
                    counts = con.execute(
                        "select " + ", ".join(f"count({ident(f)})" for f in mapped_cols)
                        + " from __cg_out").fetchall()[0]
                    for f, c in zip(mapped_cols, counts):
                        filled[f] = filled.get(f, 0) + c
                if w:
                    for fname, cnt, value, problem in con.execute(
                            "select j->>'field', count(*), min(j->>'value'), min(j->>'problem') "
                            "from (select unnest(from_json(dq_issues, '[\"json\"]')) as j "
                            "from __cg_out where __reason is null and dq_issues <> '[]') "
                            "group by 1").fetchall():
                        prev = issue_counts.get(fname, (0, value, problem))
                        issue_counts[fname] = (prev[0] + cnt, prev[1], prev[2])
            finally:
                for view in ("__cg_stage", "__cg_rawsrc"):
                    with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses
                        con.unregister(view)
            accepted += a
            quarantined += q
            with_issues += w
            if progress and task is not None:
                progress.advance(task, length)
            _maybe_die(start + length)
        for m in rr.malformed:
            con.execute("insert into quarantine values (?, ?, ?, null, ?, ?, ?)",
                        [batch_id, spec.source, m.row_number, m.reason,
                         json.dumps({"_line": m.text[:4000]}), now])
            quarantined += 1
        report.notices += summary_notices(n, filled, issue_counts)
        superseded = con.execute(
            "update records set is_current = false where source = ? and is_current "
            "and batch_id <> ? and record_id in (select record_id from records "
            "where batch_id = ?)", [spec.source, batch_id, batch_id]).fetchall()[0][0]
        if report.read != accepted + quarantined:  # pragma: no cover - a bug, not a data issue
            raise IngestError(f"{spec.source}: counts do not reconcile: read {report.read}, "
                              f"accepted {accepted}, quarantined {quarantined}")
        con.execute(
            "insert into batches (batch_id, source, kind, spec_path, file_path, content_hash, "
            "loaded_at, rows_read, rows_accepted, rows_quarantined, rows_superseded, status, "
            "file_format, encoding, rows_with_issues, notices) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'committed', ?, ?, ?, ?)",
            [batch_id, spec.source, spec.kind, str(spec.spec_path),
             ";".join(str(f) for f in spec.files), digest, now, report.read, accepted,
             quarantined, superseded, spec.file_format, rr.encoding, with_issues,
             json.dumps(report.notices)])
        con.execute("drop table if exists __cg_raw")
        con.execute("drop table if exists __cg_out")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        for view in ("__cg_stage", "__cg_rawsrc"):
            with contextlib.suppress(duckdb.Error):
                con.unregister(view)
        raise
    report.accepted, report.quarantined = accepted, quarantined
    report.superseded, report.with_issues = superseded, with_issues
    if progress and task is not None:
        progress.update(task, description=f"{spec.source}: done", completed=max(n, 1))
    return report


def make_progress(console: Console | None = None) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console or Console(stderr=True), transient=False)


def ingest_specs(ws: Workspace, spec_paths: Sequence[str | Path], progress: bool = True,
                 console: Console | None = None) -> list[IngestReport]:
    """Validate every spec, then load each as one atomic batch; one report per spec."""
    checked = validate_specs(spec_paths)
    ensure_tables(ws)
    reports = []
    if progress:
        with make_progress(console) as prog:
            for spec, colmap in checked:
                reports.append(ingest_spec(ws, spec, colmap, progress=prog))
    else:
        for spec, colmap in checked:
            reports.append(ingest_spec(ws, spec, colmap))
    return reports
