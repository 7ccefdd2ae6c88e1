"""Leads on Spark: address observations loaded and normalised on the executors.

The leads room's observation query (:func:`casegraph.leads.build.observations_sql`) is
transpiled and run on Spark; each partition (sorted like the DuckDB query) goes through
:func:`casegraph.leads.build.observations_from_rows` -- the same normalisation and
geocoding -- and the normalised observations come back to the driver, where
:func:`casegraph.leads.build.build_leads` groups, scores and stores them as it always does.

Driver limit: every person's usable observations come back (shared-address counts need
all of them). Fine to tens of millions of observations; beyond that the shared counts and
per-person candidate scoring move to the executors too (not built).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from casegraph.leads.address import Address
from casegraph.leads.build import (
    LeadsReport,
    Observation,
    build_leads,
    family_names,
    observations_from_rows,
    observations_sql,
)
from casegraph.scaleout.dialect import duckdb_to_spark
from casegraph.scaleout.facts import person_partitions, views_for
from casegraph.scaleout.session import get_spark
from casegraph.workspace import Workspace

if TYPE_CHECKING:
    import pyarrow as pa

_ADDRESS_FIELDS = tuple(f.name for f in dataclasses.fields(Address))
OUT_SCHEMA = ("person_id string, record_key string, source string, kind string, "
              "observed_on date, link_probability double, "
              "number string, street string, unit string, city string, state string, "
              "zip5 string, latitude double, longitude double, precision string")


class _Normalise:
    """Picklable per-partition function: rows of the observation query -> observations."""

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        from casegraph.scaleout.facts import _arrow_schema

        schema = _arrow_schema(OUT_SCHEMA)

        def rows() -> Iterator[tuple]:
            for b in batches:
                yield from zip(*(b.column(i).to_pylist() for i in range(b.num_columns)),
                               strict=True)

        out = []
        for pid, olist in observations_from_rows(rows(), self.as_of).items():
            for o in olist:
                a = o.address
                out.append((pid, o.record_key, o.source, o.kind, o.observed_on,
                            o.link_probability, *(getattr(a, f) for f in _ADDRESS_FIELDS)))
        names = schema.names
        for i in range(0, len(out), 5000):
            yield pa.RecordBatch.from_pylist(
                [dict(zip(names, r, strict=True)) for r in out[i:i + 5000]], schema=schema)


def observations_on_spark(ws: Workspace, as_of: dt.date
                          ) -> tuple[dict[str, list[Observation]], dict[str, str | None]]:
    """Every person's normalised address observations, computed on Spark (plug into
    ``build_leads(observations=...)``); same order as the in-process loader."""
    spark = get_spark()
    sql = observations_sql()
    views_for(ws, sql)
    rows = (spark.sql(duckdb_to_spark(sql, drop_order=True))
            .repartition(person_partitions(), "person_id")
            .sortWithinPartitions("person_id", "record_key"))
    tbl = rows.mapInArrow(_Normalise(as_of), OUT_SCHEMA).toArrow()
    cols = [tbl.column(i).to_pylist() for i in range(tbl.num_columns)]
    ordered = sorted(zip(*cols, strict=True), key=lambda r: (r[0], r[1]))
    out: dict[str, list[Observation]] = {}
    for r in ordered:
        out.setdefault(r[0], []).append(
            Observation(r[1], r[2], r[3], r[4], r[5], Address(*r[6:])))
    return out, family_names(ws)


def build_leads_on_spark(ws: Workspace, run_id: str | None = None, **kw) -> LeadsReport:  # type: ignore[no-untyped-def]
    """``casegraph leads --engine spark``: the leads room's build, observations on Spark."""
    return build_leads(ws, run_id, observations=observations_on_spark, **kw)
