"""Source files -> a Spark DataFrame of string cells, numbered as the sources room numbers them.

- **csv** (any delimiter: comma, semicolon, tab, pipe): Spark's CSV reader. The dialect
  (encoding, delimiter, Excel's ``sep=`` line, skipped lines, header names) is decided on
  the driver by the sources room's own reader from the file's first MiB, so both engines
  read a file the same way. ``multiLine`` is on (quoted cells may hold line breaks), which
  makes each file one task: the steps after the read run in parallel.
- **jsonl** and **parquet**: read on the driver by the sources room's reader (its result
  depends on pyarrow's JSON type inference and on how typed Parquet columns become text;
  Spark's readers infer and print differently, so "the same records on both engines"
  would not hold), then handed to Spark. Said in a notice; see docs/scaleout.md.

Every good row gets ``__row`` (1, 2, ... over the spec's files in order, as the embedded
engine numbers them); rows with the wrong number of cells come back separately as
:class:`~casegraph.sources.readers.Malformed` (they go to quarantine).
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from casegraph.sources.readers import Malformed, _clean_header, _csv_head
from casegraph.sources.spec import SourceSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Formats Spark reads itself; the others are read on the driver (see the module doc).
SPARK_FORMATS: tuple[str, ...] = ("csv",)


@dataclass
class SparkRead:
    frame: DataFrame                  # _c0.._cN (strings, '' for empty cells), __row
    names: list[str]                  # the file's column names, for _c0.._cN
    encoding: str
    notices: list[str] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    typed_temporal: set[str] = field(default_factory=set)
    fallback: str | None = None       # why the files were read on the driver, if they were
    cached: list[DataFrame] = field(default_factory=list)  # to unpersist when done

    def release(self) -> None:
        """Drop the cached reads: a later read of a changed file at the same path would
        otherwise be answered from the cache (Spark matches cached plans by path)."""
        for df in self.cached:
            df.unpersist()
        self.cached.clear()


def cell_columns(n: int) -> list[str]:
    """Spark-side names of the file's columns (file names may hold dots and spaces)."""
    return [f"_c{i}" for i in range(n)]


_SPARK_CHARSETS = ("ISO-8859-1", "US-ASCII", "UTF-16", "UTF-16BE", "UTF-16LE", "UTF-32", "UTF-8")


def _java_charset(enc: str) -> str:
    name = codecs.lookup(enc).name
    return {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf-16": "UTF-16", "cp1252": "windows-1252",
            "latin-1": "ISO-8859-1", "iso8859-1": "ISO-8859-1"}.get(name, name)


def _read_csv(spark: SparkSession, spec: SourceSpec) -> SparkRead:
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    frames = []
    names: list[str] = []
    notices: list[str] = []
    enc = "utf-8"
    malformed: list[Malformed] = []
    cached = []
    for i, path in enumerate(spec.files):
        enc, delim, header, notice, extra = _csv_head(path, spec)
        if notice:
            notices.append(notice)
        file_names = _clean_header(header, notices, path.name)
        if names and len(file_names) != len(names):  # validate_specs checked the names
            raise ValueError(f"{path.name}: {len(file_names)} columns, {len(names)} expected")
        names = names or file_names
        charset = _java_charset(enc)
        if charset not in _SPARK_CHARSETS:
            # Spark 4 accepts only a few charsets unless told to use Java's full list
            spark.conf.set("spark.sql.legacy.javaCharsets", "true")
        cols = cell_columns(len(file_names))
        schema = ", ".join(f"{c} string" for c in cols) + ", __corrupt string"
        df = (spark.read.schema(schema)
              .option("header", False).option("sep", delim).option("encoding", charset)
              .option("multiLine", True).option("quote", '"').option("escape", '"')
              .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "__corrupt")
              .csv(str(path)))
        # one partition per file (multiLine): the id is the record's index in the file
        df = (df.withColumn("__idx", F.monotonically_increasing_id())
              .where(F.col("__idx") >= 1 + spec.skip_rows + extra)
              .withColumn("__file", F.lit(i))
              .persist())  # Spark answers no query on the corrupt-record column alone
        cached.append(df)
        bad = df.where(F.col("__corrupt").isNotNull()).select("__corrupt").collect()
        for r in bad:
            text = r["__corrupt"].rstrip("\r\n")
            cells = len(next(csv.reader([text], delimiter=delim), []))
            malformed.append(Malformed(None, f"malformed row: expected {len(file_names)} "
                                             f"cells, found {cells}", text))
        good = df.where(F.col("__corrupt").isNull()).select(
            # pyarrow reads an empty cell as '' (never null): so must Spark
            *[F.coalesce(F.col(c), F.lit("")).alias(c) for c in cols], "__file", "__idx")
        frames.append(good)
        n_bad = len(bad)
        if n_bad:
            notices.append(f"{path.name}: {n_bad} malformed row(s) (wrong number of cells) "
                           f"sent to quarantine")
    frame = frames[0]
    for f in frames[1:]:
        frame = frame.unionByName(f)
    # file order, then record order: the embedded engine's row numbers
    frame = frame.withColumn("__row", F.row_number().over(
        Window.orderBy("__file", "__idx")).cast("bigint")).drop("__file", "__idx")
    return SparkRead(frame, names, enc, notices, malformed, cached=cached)


def _read_on_driver(spark: SparkSession, spec: SourceSpec) -> SparkRead:
    import numpy as np
    import pyarrow as pa

    from casegraph.sources.ingest import _read_all

    rr = _read_all(spec)
    t = rr.table
    cols = cell_columns(t.num_columns)
    t = t.rename_columns(cols).append_column(
        "__row", pa.array(np.arange(1, t.num_rows + 1, dtype=np.int64)))
    if t.num_rows == 0:
        frame = spark.createDataFrame([], ", ".join(f"{c} string" for c in cols)
                                      + (", " if cols else "") + "__row bigint")
    else:
        frame = spark.createDataFrame(t)
    why = (f"{spec.source}: {spec.file_format} files are read on the driver (Spark's "
           f"{spec.file_format} reader types and prints values differently from the embedded "
           f"engine's); parsing, validation and the batch run on Spark")
    return SparkRead(frame, list(rr.table.column_names), rr.encoding, list(rr.notices),
                     rr.malformed, rr.typed_temporal, why)


def read_source(spark: SparkSession, spec: SourceSpec) -> SparkRead:
    """The spec's files as one DataFrame of string cells plus ``__row``."""
    if spec.file_format in SPARK_FORMATS:
        return _read_csv(spark, spec)
    return _read_on_driver(spark, spec)
