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
