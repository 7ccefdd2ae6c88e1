"""The Parquet lake: where tables live when the pipeline runs on Spark.

A directory or object-store URI (``CASEGRAPH_LAKE``; default ``<workspace>/lake``), one
Parquet dataset per table. The embedded engine keeps its tables in the DuckDB file; the
lake is how the two meet: a table written by one engine is read by the other.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from casegraph.workspace import Workspace

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def lake_uri(ws: Workspace) -> str:
    return os.environ.get("CASEGRAPH_LAKE") or str(ws.path / "lake")


def table_uri(ws: Workspace, name: str) -> str:
    return f"{lake_uri(ws).rstrip('/')}/{name}"


def _local(uri: str) -> Path | None:
    return None if "://" in uri and not uri.startswith("file://") else Path(uri.removeprefix("file://"))


def export_to_lake(ws: Workspace, name: str, sql: str | None = None) -> str:
    """Write a warehouse table (or query) to the lake as Parquet; returns its URI."""
    uri = table_uri(ws, name)
    local = _local(uri)
    if local is not None:
        if local.exists():
            shutil.rmtree(local)
        local.mkdir(parents=True)
        target = str(local / "part-0.parquet")
    else:  # object store: DuckDB writes through its httpfs when configured
        target = f"{uri}/part-0.parquet"
    ws.con.execute(f"copy ({sql or f'select * from {name}'}) to '{target}' (format parquet)")
    return uri


def read_lake(spark: SparkSession, ws: Workspace, name: str) -> DataFrame:
    return spark.read.parquet(table_uri(ws, name))


def write_lake(df: DataFrame, ws: Workspace, name: str) -> str:
    uri = table_uri(ws, name)
    df.write.mode("overwrite").parquet(uri)
    return uri


def import_from_lake(ws: Workspace, name: str, target: str | None = None) -> int:
    """Replace warehouse table ``target`` (default ``name``) with the lake's Parquet data."""
    uri = table_uri(ws, name)
    ws.con.execute(f"create or replace table {target or name} as "
                   f"select * from read_parquet('{uri}/*.parquet')")
    return int(ws.con.execute(f"select count(*) from {target or name}").fetchall()[0][0])


# ---- the sources room's tables: the system of record on the Spark engine ------------------
# Layout (under ``<lake>/sources``):
#   batches/<batch_id>/records/*.parquet     the batch's accepted records (is_current = true
#                                             at load; the current version of a record is
#                                             the one in its source's latest batch)
#   batches/<batch_id>/quarantine/*.parquet  rejected rows with their reasons
#   batches/<batch_id>/batch/*.parquet       the batch row (counts, hash, notices)
#   _staging/<batch_id>/...                  a batch being written; never read
# A batch becomes visible with one directory rename (staging -> batches/<batch_id>), so a
# crash mid-load leaves at most a staging directory, which the next load deletes.

SOURCE_PARTS: tuple[str, ...] = ("records", "quarantine", "batch")


def sources_uri(ws: Workspace) -> str:
    return table_uri(ws, "sources")


def batch_uri(ws: Workspace, batch_id: str, part: str | None = None) -> str:
    base = f"{sources_uri(ws)}/batches/{batch_id}"
    return f"{base}/{part}" if part else base


def staging_uri(ws: Workspace, batch_id: str) -> str:
    return f"{sources_uri(ws)}/_staging/{batch_id}"


def _hadoop_fs(uri: str):  # type: ignore[no-untyped-def]  # py4j objects
    from casegraph.scaleout.session import get_spark

    spark = get_spark()
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path  # type: ignore[attr-defined]


def remove_uri(uri: str) -> None:
    local = _local(uri)
    if local is not None:
        shutil.rmtree(local, ignore_errors=True)
        return
    fs, path = _hadoop_fs(uri)
    fs.delete(path, True)


def commit_batch(ws: Workspace, batch_id: str) -> str:
    """Make a staged batch visible: one rename (atomic on a local or HDFS file system; on an
    object store rename is a copy, so use a table format there -- see docs/scaleout.md)."""
    src, dst = staging_uri(ws, batch_id), batch_uri(ws, batch_id)
    local, target = _local(src), _local(dst)
    if local is not None and target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise FileExistsError(f"batch {batch_id} is already in the lake ({dst})")
        os.rename(local, target)
        return dst
    fs, path = _hadoop_fs(src)
    _, dpath = _hadoop_fs(dst)
    fs.mkdirs(dpath.getParent())
    if not fs.rename(path, dpath):
        raise OSError(f"could not commit batch {batch_id}: rename {src} -> {dst} failed")
    return dst


def committed_batches(ws: Workspace) -> list[str]:
    """Ids of the batches committed to the lake (staging directories are not batches)."""
    uri = f"{sources_uri(ws)}/batches"
    local = _local(uri)
    if local is not None:
        return sorted(p.name for p in local.iterdir() if p.is_dir()) if local.exists() else []
    fs, path = _hadoop_fs(uri)
    if not fs.exists(path):
        return []
    return sorted(s.getPath().getName() for s in fs.listStatus(path) if s.isDirectory())


def lake_parquet_sql(ws: Workspace, part: str, batch_ids: list[str] | None = None) -> str | None:
    """A DuckDB ``read_parquet`` over one part of committed batches (None: no batch)."""
    ids = committed_batches(ws) if batch_ids is None else batch_ids
    if not ids:
        return None
    files = ", ".join(f"'{batch_uri(ws, b, part)}/*.parquet'" for b in ids)
    return f"read_parquet([{files}], union_by_name = true)"


def import_sources_from_lake(ws: Workspace) -> dict[str, int]:
    """Rebuild the DuckDB serving copy of ``records``, ``quarantine`` and ``batches`` from the
    lake (one transaction): the API, UI and later steps read them there, unchanged. A
    record version is current when its batch is the latest of its source holding that id."""
    from casegraph.sources.schema import ensure_tables

    ensure_tables(ws)
    con = ws.con
    rec, quar, bat = (lake_parquet_sql(ws, p) for p in SOURCE_PARTS)
    con.execute("begin transaction")
    try:
        for t in ("records", "quarantine", "batches"):
            con.execute(f"delete from {t}")
        if rec and bat:
            con.execute(
                "insert into records by name select * replace (row_number() over ("
                "partition by source, record_id order by loaded_at desc, batch_id desc) = 1 "
                f"as is_current) from {rec}")
            con.execute("insert into quarantine by name select batch_id, source, row_number, "
                        f"record_id, reason, raw, quarantined_at from {quar}")
            con.execute(f"insert into batches by name select * from {bat}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return {t: int(con.execute(f"select count(*) from {t}").fetchall()[0][0])
            for t in ("records", "quarantine", "batches")}


def publish_batches_to_lake(ws: Workspace) -> list[str]:
    """Copy committed batches that only the DuckDB file holds (a workspace loaded with the
    embedded engine before) into the lake, so that the lake stays the system of record."""
    if not ws.has_table("batches"):
        return []
    have = set(committed_batches(ws))
    todo = [r["batch_id"] for r in ws.query(
        "select batch_id from batches where status = 'committed' order by loaded_at")
        if r["batch_id"] not in have]
    for b in todo:
        stage = staging_uri(ws, b)
        local = _local(stage)
        if local is None:  # pragma: no cover - DuckDB writes object stores through httpfs
            raise OSError("publishing DuckDB batches to an object-store lake is not supported")
        remove_uri(stage)
        for part, sql in (("records", "select * from records where batch_id = ?"),
                          ("quarantine", "select * from quarantine where batch_id = ?"),
                          ("batch", "select * from batches where batch_id = ?")):
            (local / part).mkdir(parents=True)
            ws.con.execute(f"copy ({sql}) to '{local / part / 'part-0.parquet'}' "
                           "(format parquet)", [b])
        commit_batch(ws, b)
    return todo
