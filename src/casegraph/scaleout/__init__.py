"""Scale-out: the batch pipeline on Apache Spark.

The rooms write their set-based steps once, in DuckDB's SQL dialect, and their
per-person decisions once, as pure Python functions. This package runs those same
pieces on Spark: SQL is transpiled with sqlglot (``dialect``), per-person functions
run inside ``applyInPandas`` (``score``), and identity resolution uses Splink's Spark
backend with the settings and trained model of the DuckDB run (``resolve``).
"""
