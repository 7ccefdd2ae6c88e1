"""Scale-out: the batch pipeline on Apache Spark.

The rooms write their set-based steps once, in DuckDB's SQL dialect, and their
per-person decisions once, as pure Python functions. This package runs those same
pieces on Spark: SQL is transpiled with sqlglot (``dialect``); per-person functions run
on the executors over person-partitioned facts (``facts``, used by ``score`` and
``departures``; ``leads`` normalises address observations the same way); identity
resolution uses Splink's Spark backend with the settings and trained model of the DuckDB
run (``resolve``) and clusters the scored pairs where they are (``cluster``: the embedded
engine's clustering SQL transpiled, the same constrained merge for what SQL cannot
settle); ``ingest`` publishes the canonical tables to the Parquet lake
(``lake``). Each room exposes an engine hook (``decide_all=``, ``observations=``,
``predictor=``, ``clusterer=``) so storing results stays one implementation.
"""
