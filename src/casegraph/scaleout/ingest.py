"""Ingest with the Spark engine: source files -> canonical records in the Parquet lake.

The lake is the system of record on this engine (``<lake>/sources``, see
:mod:`casegraph.scaleout.lake`); the DuckDB file gets a serving copy afterwards, so the
API, UI and later steps read the same tables whichever engine loaded them.

One implementation of the parsing rules, run by both engines:

- the files are read by Spark (:mod:`casegraph.scaleout.sparkread`; CSV with Spark's
  reader, the dialect decided by the sources room's reader);
- the Arrow staging (:func:`casegraph.sources.transform.stage`: cleaning, null markers,
  name and address splitting, matching forms, country codes) runs per partition in
  ``mapInArrow``, the same Python the embedded engine runs;
- the duplicate-id window, the raw-row JSON and the typed parsing + quarantine reasons
  (:func:`~casegraph.sources.transform.canonical_sql`) are the sources room's DuckDB SQL,
  transpiled by :func:`casegraph.scaleout.dialect.ingest_sql_to_spark`.

A batch is written to a staging directory and made visible by one rename; the counts
reconcile (read = accepted + quarantined, duplicates included in quarantined) before it is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from casegraph.ontology import RECORDS_COLUMNS
from casegraph.scaleout.dialect import ingest_sql_to_spark, register_ingest_udfs
from casegraph.scaleout.lake import (
    batch_uri,
    commit_batch,
    committed_batches,
    import_sources_from_lake,
    lake_parquet_sql,
    publish_batches_to_lake,
    remove_uri,
    sources_uri,
    staging_uri,
)
from casegraph.scaleout.session import get_spark
from casegraph.scaleout.sparkread import SparkRead, cell_columns, read_source
from casegraph.sources.ingest import (
    IngestError,
    IngestReport,
    _latest_batch,
    _new_batch_id,
    dup_of_sql,
    file_digest,
    make_progress,
    raw_json_sql,
    skip_if_unchanged,
    summary_notices,
    validate_specs,
)
from casegraph.sources.schema import ensure_tables
from casegraph.sources.spec import SourceSpec
from casegraph.sources.transform import (
    MAX_RAW_CHARS,
    Staged,
    canonical_sql,
    raw_cut_notice,
    raw_json_columns,
    stage,
)
from casegraph.workspace import Workspace

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

#: Test hook: the process kills itself (SIGKILL) after writing a batch's records to the
#: staging directory, before its quarantine, batch row and commit.
KILL_STAGED_ENV = "CASEGRAPH_SPARK_INGEST_KILL_STAGED"
ISSUE_SCHEMA = "array<struct<field:string,value:string,problem:string>>"
#: Specs loaded at once. A spec is a chain of small Spark jobs; on a cluster with idle
#: executors a few side by side overlap them. On this 2-core machine, loaded, 3 at once
#: was no faster than 1 (docs/scaleout.md), so the default is one at a time.
THREADS_ENV = "CASEGRAPH_SPARK_INGEST_THREADS"
#: The workspace's DuckDB connection is not for concurrent use: lookups take turns.
_DUCK = threading.Lock()


class _Stage:
    """The per-partition staging shipped to the executors: the sources room's Arrow code."""

    def __init__(self, spec: SourceSpec, colmap: dict[str, str], names: list[str]) -> None:
        self.spec, self.colmap, self.names = spec, colmap, names

    def table(self, data: pa.Table, rows: pa.Array) -> pa.Table:
        import pyarrow as pa

        st = stage(data, self.spec, self.colmap, rows).table
        raw, _ = raw_json_columns(data)  # over-long cells cut (notices: on the driver)
        for i, col in enumerate(raw.columns):
            st = st.append_column(f"__raw_{i}", col.cast(pa.string()))
        return st

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        for b in batches:
            t = pa.Table.from_batches([b])
            data = t.select(cell_columns(len(self.names))).rename_columns(self.names)
            yield from self.table(data, t.column("__row").combine_chunks()).to_batches()


def _spark_schema(schema: pa.Schema) -> str:
    import pyarrow as pa

    return ", ".join(f"`{f.name}` {'bigint' if pa.types.is_integer(f.type) else 'string'}"
                     for f in schema)


def _spark_type(duck_type: str) -> str:
    from sqlglot import exp

    t = exp.DataType.build(duck_type, dialect="duckdb").sql("spark")
    return "STRING" if t == "JSON" else t


def _maybe_die() -> None:
    if os.environ.get(KILL_STAGED_ENV):
        os.kill(os.getpid(), signal.SIGKILL)


def _count_and_raw_notices(frame: DataFrame, src: SparkRead) -> tuple[int, list[str]]:
    """Rows read, and raw_json_columns' notices over the whole batch (one pass; the cut
    itself runs per partition)."""
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1))]
    for c in cell_columns(len(src.names)):
        n = F.length(F.col(c))
        aggs += [F.max(n), F.sum((n > MAX_RAW_CHARS).cast("bigint"))]
    row = frame.agg(*aggs).first()
    out = []
    for i, name in enumerate(src.names):
        mx, over = row[1 + 2 * i], row[2 + 2 * i]
        if mx is not None and mx > MAX_RAW_CHARS:
            out.append(raw_cut_notice(name, int(over), int(mx)))
    return int(row[0]), out


def _records_frame(out: DataFrame, batch_id: str, now: dt.datetime) -> DataFrame:
    """Accepted rows with every ``records`` column, typed as DuckDB types them."""
    from pyspark.sql import functions as F

    have = set(out.columns)
    sel = []
    for name, typ in RECORDS_COLUMNS:
        t = _spark_type(typ)
        if name == "batch_id":
            sel.append(F.lit(batch_id).alias(name))
        elif name == "loaded_at":
            sel.append(F.lit(now.isoformat(sep=" ")).cast("timestamp_ntz").alias(name))
        elif name in have:
            sel.append(F.col(f"`{name}`").cast(t).alias(name))
        else:
            sel.append(F.lit(None).cast(t).alias(name))
    return out.where("__reason is null").select(*sel)


def _superseded(spark: SparkSession, ws: Workspace, source: str, new: DataFrame) -> int:
    """Current records of earlier batches of ``source`` whose id the new batch loads."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    bat = lake_parquet_sql(ws, "batch")
    if bat is None:
        return 0
    with _DUCK:
        ids = [r["batch_id"] for r in ws.query(
            f"select batch_id from {bat} where source = ?", [source])]
    if not ids:
        return 0
    prior = spark.read.parquet(*[batch_uri(ws, b, "records") for b in ids]) \
        .select("record_id", "batch_id", "loaded_at")
    w = Window.partitionBy("record_id").orderBy(F.col("loaded_at").desc(),
                                                F.col("batch_id").desc())
    current = prior.withColumn("__rn", F.row_number().over(w)).where("__rn = 1")
    return current.join(new.select("record_id"), "record_id").count()


def ingest_spec_on_spark(ws: Workspace, spec: SourceSpec, colmap: dict[str, str],
                         notify: Any = None) -> IngestReport:
    """Load one validated spec as one batch in the lake (staged, then committed)."""

    spark = get_spark()
    report = IngestReport(spec.source, None, kind=spec.kind,
                          files=[str(f) for f in spec.files])
    digest = file_digest(spec.files, spec)
    bat = lake_parquet_sql(ws, "batch")
    batches = f"(select * from {bat})" if bat else "(select * from batches where false)"
    with _DUCK:
        latest = _latest_batch(ws, spec.source, batches)
    if skip_if_unchanged(report, latest, digest):
        return report
    with _DUCK:
        batch_id = _new_batch_id(ws, spec.source, batches)
    report.batch_id = batch_id
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    src = read_source(spark, spec)
    if src.fallback and notify:
        notify(src.fallback)
    held: list[DataFrame] = []
    try:
        return _load(spark, ws, spec, colmap, src, report, digest, now, held)
    finally:
        for df in held:
            df.unpersist()
        src.release()


def _load(spark: SparkSession, ws: Workspace, spec: SourceSpec, colmap: dict[str, str],
          src: SparkRead, report: IngestReport, digest: str, now: dt.datetime,
          held: list[DataFrame]) -> IngestReport:
    import pyarrow as pa

    batch_id = report.batch_id
    assert batch_id is not None
    tag = "_" + re.sub(r"\W", "_", batch_id)  # this spec's view names (specs run concurrently)
    report.notices += src.notices
    typed = frozenset(fname for fname, m in spec.fields.items()
                      if m.column is not None and colmap.get(m.column) in src.typed_temporal)
    # the staged columns (and the SQL over them) depend on the spec, not on the data
    fn = _Stage(spec, colmap, src.names)
    empty = pa.table({n: pa.array([], pa.string()) for n in src.names})
    meta: Staged = stage(empty, spec, colmap, pa.array([], pa.int64()))
    out_schema = fn.table(empty, pa.array([], pa.int64())).schema

    parts = max(2, spark.sparkContext.defaultParallelism)
    frame = src.frame.repartition(parts).persist()
    held.append(frame)
    n, raw_notices = _count_and_raw_notices(frame, src)
    report.read = n + len(src.malformed)
    if n == 0 and not src.malformed:
        report.notices += [f"{f.name}: header only, no data rows" for f in spec.files
                           if spec.file_format == "csv"]
    report.notices += raw_notices

    staged = frame.mapInArrow(fn, _spark_schema(out_schema)).persist()
    held.append(staged)
    staged.createOrReplaceTempView(f"__cg_staged{tag}")
    spark.sql(ingest_sql_to_spark(dup_of_sql(f"__cg_staged{tag}"))).createOrReplaceTempView(
        f"__cg_dups{tag}")
    spark.sql(f"select s.*, d.__dup_of from __cg_staged{tag} s left join __cg_dups{tag} d "
              "using (__row)").createOrReplaceTempView(f"__cg_stage{tag}")
    raw = raw_json_sql([(name, f"__raw_{i}") for i, name in enumerate(src.names)])
    spark.sql(ingest_sql_to_spark(f"select __row, {raw} as __raw from __cg_staged{tag}")
              ).createOrReplaceTempView(f"__cg_raw{tag}")
    sql = canonical_sql(spec, meta, f"__cg_stage{tag}", f"__cg_raw{tag}",
                        typed_temporal=typed)
    out = spark.sql(ingest_sql_to_spark(sql)).persist()
    held.append(out)
    out.createOrReplaceTempView(f"__cg_out{tag}")

    mapped = [f for f, m in spec.fields.items() if m.column is not None]
    counts = spark.sql(
        "select count_if(__reason is null), count_if(__reason is not null), "
        "count_if(__reason is null and dq_issues <> '[]')"
        + "".join(f", count(`{f}`)" for f in mapped) + f" from __cg_out{tag}").first()
    accepted, quarantined, with_issues = (int(counts[i]) for i in range(3))
    filled = {f: int(counts[3 + i]) for i, f in enumerate(mapped)}
    issue_counts: dict[str, tuple[int, str, str]] = {}
    if with_issues:
        for fname, cnt, value, problem in spark.sql(
                f"select i.field, count(*), min(i.value), min(i.problem) from (select "
                f"explode(from_json(dq_issues, '{ISSUE_SCHEMA}')) as i from __cg_out{tag} where "
                f"__reason is null and dq_issues <> '[]') group by 1").collect():
            issue_counts[fname] = (int(cnt), value, problem)
    report.notices += summary_notices(n, filled, issue_counts)
    quarantined += len(src.malformed)
    if report.read != accepted + quarantined:  # pragma: no cover - a bug, not a data issue
        raise IngestError(f"{spec.source}: counts do not reconcile: read {report.read}, "
                          f"accepted {accepted}, quarantined {quarantined}")

    records = _records_frame(out, batch_id, now)
    superseded = _superseded(spark, ws, spec.source, records)
    stage_dir = staging_uri(ws, batch_id)
    remove_uri(stage_dir)
    records.write.parquet(f"{stage_dir}/records")
    _maybe_die()
    stamp = f"cast('{now.isoformat(sep=' ')}' as timestamp_ntz)"
    quarantine = spark.sql(
        f"select '{batch_id}' as batch_id, source, __row as row_number, record_id, "
        f"__reason as reason, raw, {stamp} as quarantined_at from __cg_out{tag} "
        "where __reason is not null")
    if src.malformed:
        bad = spark.createDataFrame(
            [(batch_id, spec.source, m.row_number, None, m.reason,
              json.dumps({"_line": m.text[:4000]}), now) for m in src.malformed],
            "batch_id string, source string, row_number bigint, record_id string, "
            "reason string, raw string, quarantined_at timestamp_ntz")
        quarantine = quarantine.unionByName(bad)
    quarantine.write.parquet(f"{stage_dir}/quarantine")
    spark.createDataFrame(
        [(batch_id, spec.source, spec.kind, str(spec.spec_path),
          ";".join(str(f) for f in spec.files), digest, now, report.read, accepted,
          quarantined, superseded, "committed", spec.file_format, src.encoding, with_issues,
          json.dumps(report.notices))],
        "batch_id string, source string, kind string, spec_path string, file_path string, "
        "content_hash string, loaded_at timestamp_ntz, rows_read bigint, rows_accepted bigint, "
        "rows_quarantined bigint, rows_superseded bigint, status string, file_format string, "
        "encoding string, rows_with_issues bigint, notices string"
    ).coalesce(1).write.parquet(f"{stage_dir}/batch")
    commit_batch(ws, batch_id)
    report.accepted, report.quarantined = accepted, quarantined
    report.superseded, report.with_issues = superseded, with_issues
    return report


def ingest_on_spark(ws: Workspace, spec_paths: Sequence[str | Path], progress: bool = True,
                    console: Console | None = None) -> tuple[list[IngestReport], str]:
    """``casegraph ingest --engine spark``: each spec one batch in the lake, then the
    DuckDB serving copy; returns the reports and the lake location of the sources."""
    checked = validate_specs(spec_paths)
    ensure_tables(ws)
    spark = get_spark()
    register_ingest_udfs(spark)
    publish_batches_to_lake(ws)           # batches only the DuckDB file holds (engine switch)
    remove_uri(f"{sources_uri(ws)}/_staging")   # what a crashed load left behind
    threads = max(1, int(os.environ.get(THREADS_ENV, "1")))
    with contextlib.ExitStack() as stack:
        prog = stack.enter_context(make_progress(console)) if progress else None

        def one(item: tuple[SourceSpec, dict[str, str]]) -> IngestReport:
            spec, colmap = item
            task = prog.add_task(f"{spec.source}: loading on Spark", total=None) if prog else None
            r = ingest_spec_on_spark(ws, spec, colmap,
                                     notify=prog.console.print if prog else None)
            if prog and task is not None:
                prog.update(task, description=f"{spec.source}: done", total=1, completed=1)
            return r

        pool = stack.enter_context(ThreadPoolExecutor(max_workers=threads))
        reports = list(pool.map(one, checked))
    served = ws.query("select count(*) as n from batches")[0]["n"]
    if any(not r.skipped_identical for r in reports) or served != len(committed_batches(ws)):
        import_sources_from_lake(ws)
    return reports, sources_uri(ws)


