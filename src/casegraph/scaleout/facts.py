"""Persons' facts on Spark, grouped per person inside the executors.

The policy room's facts query (:func:`casegraph.policy.facts._facts_sql`) is transpiled
and run on Spark; its rows are repartitioned by person and sorted, then handed to a
per-partition Python function through ``mapInArrow``. Rows are turned into Python values
with Arrow's ``to_pylist`` -- the same conversion the embedded engine uses -- so a fact
reads the same (dates as ``datetime.date``, integers as ``int``) whichever engine loaded it.

Why ``mapInArrow`` and not ``groupBy().applyInPandas``: the latter calls Python once per
person with a pandas frame, which cost ~3 ms per person here (126 s for 12.8k persons);
one call per partition with plain tuples costs microseconds per person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from casegraph.policy.facts import FACT_COLUMNS, PersonFacts, _fact, _facts_sql
from casegraph.scaleout.dialect import duckdb_to_spark, referenced_tables, register_udfs
from casegraph.scaleout.lake import export_to_lake, read_lake
from casegraph.scaleout.session import get_spark
from casegraph.workspace import Workspace

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

#: Columns of the per-person input: the person, its confidence, then a facts row
#: (person_id, p, via, *FACT_COLUMNS) -- null ``record_key`` when the person has no facts.
INPUT_COLUMNS: tuple[str, ...] = ("person_id", "confidence", "p", "via", *FACT_COLUMNS)

def views_for(ws: Workspace, sql: str, extra: Iterable[str] = ()) -> None:
    """Put every warehouse table ``sql`` reads (plus ``extra``) in the lake as Spark views."""
    spark = get_spark()
    register_udfs(spark)
    for name in sorted(referenced_tables(sql) | set(extra)):
        if name.startswith("_cg_"):  # a view this module made on Spark
            continue
        export_to_lake(ws, name)
        read_lake(spark, ws, name).createOrReplaceTempView(name)


def facts_sql_for(ws: Workspace, person_filter: str, kinds: Sequence[str]) -> str:
    """The facts query exactly as :func:`casegraph.policy.facts.iter_person_facts` builds
    it for this workspace (``tests/scaleout/test_facts_sql.py`` holds the two together)."""
    return _facts_sql(person_filter, kinds, ws.has_table("identity_decisions"),
                      ws.has_table("identity_links"))


def person_facts_frame(ws: Workspace, kinds: Sequence[str],
                       person_ids: Sequence[str] | None = None) -> DataFrame:
    """One row per (person, fact), persons without facts kept with null facts; partitioned
    by person and sorted by (person, record) so each person's rows are contiguous."""
    spark = get_spark()
    where = ""
    if person_ids is not None:
        spark.createDataFrame([(p,) for p in person_ids], "person_id string") \
            .createOrReplaceTempView("_cg_pids")
        where = "and pr.person_id in (select person_id from _cg_pids)"
    facts_sql = facts_sql_for(ws, where, kinds)
    views_for(ws, facts_sql, extra=("persons",))
    # columns by position, as the embedded engine reads them (the SQL need not alias them)
    spark.sql(duckdb_to_spark(facts_sql, drop_order=True)) \
        .toDF("person_id", "p", "via", *FACT_COLUMNS).createOrReplaceTempView("_cg_facts")
    only = ("where p.person_id in (select person_id from _cg_pids)"
            if person_ids is not None else "")
    joined = spark.sql(
        "select p.person_id, p.confidence, f.p, f.via, "
        + ", ".join(f"f.`{c}`" for c in FACT_COLUMNS)
        + f" from persons p left join _cg_facts f on f.person_id = p.person_id {only}")
    return joined.repartition(person_partitions(), "person_id") \
        .sortWithinPartitions("person_id", "record_key")


def person_partitions() -> int:
    """Partitions for per-person Python work: one per core (each starts a Python worker
    and parses the policy once; more only add start-up cost), at least the shuffle
    partitions on a cluster where those are set for the data size."""
    spark = get_spark()
    shuffle = int(spark.conf.get("spark.sql.shuffle.partitions", "200"))
    try:
        sc = spark.sparkContext
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext
        return max(1, shuffle)
    if sc.master.startswith("local"):
        return max(1, sc.defaultParallelism)
    return max(sc.defaultParallelism, shuffle)


def iter_partition_facts(batches: Iterable[pa.RecordBatch]) -> Iterator[PersonFacts]:
    """The persons of one sorted partition (a person may span Arrow batches)."""
    current: PersonFacts | None = None
    for batch in batches:
        cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for row in zip(*cols, strict=True):
            pid, conf = row[0], row[1]
            if current is None or current.person_id != pid:
                if current is not None:
                    yield current
                current = PersonFacts(pid, None if conf is None else float(conf))
            if row[4] is not None:  # record_key: null for a person with no facts
                current.facts.append(_fact((pid, *row[2:])))
    if current is not None:
        yield current


def map_persons(frame: DataFrame, schema: str,
                per_person: Callable[[PersonFacts], Iterable[tuple[Any, ...]]],
                batch_rows: int = 5000) -> DataFrame:
    """Run ``per_person`` on each person's facts on the executors; rows out as ``schema``.

    ``per_person`` must be picklable (module-level function or a closure over plain data)."""
    names = [c.strip().split()[0] for c in schema.split(",")]

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        arrow_schema = _arrow_schema(schema)
        out: list[tuple[Any, ...]] = []
        for pf in iter_partition_facts(batches):
            out.extend(per_person(pf))
            if len(out) >= batch_rows:
                yield pa.RecordBatch.from_pylist([dict(zip(names, r, strict=True)) for r in out],
                                                 schema=arrow_schema)
                out = []
        if out:
            yield pa.RecordBatch.from_pylist([dict(zip(names, r, strict=True)) for r in out],
                                             schema=arrow_schema)

    return frame.mapInArrow(run, schema)


def _arrow_schema(schema: str) -> pa.Schema:
    """A Spark DDL schema of simple types as an Arrow schema."""
    import pyarrow as pa

    types = {"string": pa.string(), "double": pa.float64(), "boolean": pa.bool_(),
             "date": pa.date32(), "bigint": pa.int64(), "int": pa.int32()}
    fields = []
    for col in schema.split(","):
        name, typ = col.strip().split()
        fields.append(pa.field(name, types[typ.lower()]))
    return pa.schema(fields)
