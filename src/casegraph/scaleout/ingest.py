"""Ingest with the Spark engine: the sources room's load, then the canonical tables in the lake.

Parsing, validation, quarantine and the atomic batch are the sources room's one
implementation (:func:`casegraph.sources.ingest.ingest_specs`); what the Spark engine adds
is publishing the canonical tables to the Parquet lake, where the Spark steps (resolve,
score, leads, departures) and any other Spark job read them. Reading the source files
themselves with Spark is not built: the per-row parsing rules (date formats, country
codes, quarantine reasons) are DuckDB SQL generated per spec plus Python, and a second copy
would drift -- see docs/scaleout.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from casegraph.scaleout.lake import export_to_lake
from casegraph.sources.ingest import IngestReport, ingest_specs
from casegraph.workspace import Workspace

#: The canonical tables the sources room owns, as they go to the lake.
LAKE_TABLES: tuple[str, ...] = ("records", "current_records", "batches", "quarantine")


def publish_to_lake(ws: Workspace, tables: Sequence[str] = LAKE_TABLES) -> dict[str, str]:
    """Write the canonical tables to the lake as Parquet; table -> URI."""
    return {t: export_to_lake(ws, t) for t in tables if ws.has_table(t)}


def ingest_on_spark(ws: Workspace, spec_paths: Sequence[str | Path], **kw: Any
                    ) -> tuple[list[IngestReport], dict[str, str]]:
    """``casegraph ingest --engine spark``: load as usual, then publish to the lake."""
    reports = ingest_specs(ws, spec_paths, **kw)
    return reports, publish_to_lake(ws)
