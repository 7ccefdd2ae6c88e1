"""The Spark session the batch pipeline runs on.

``local[*]`` by default; a cluster through ``CASEGRAPH_SPARK_MASTER``; Spark Connect through
``SPARK_REMOTE``. Splink's similarity UDF jar and a checkpoint directory are always set,
because Splink's Spark backend needs both.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_lock = threading.Lock()
_session: SparkSession | None = None


def get_spark(app_name: str = "casegraph") -> SparkSession:
    """The process's Spark session (created once)."""
    global _session
    with _lock:
        if _session is not None:
            return _session
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
        # executors run the rooms' Python (gate functions): same interpreter as the driver
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        builder = SparkSession.builder.appName(app_name)
        remote = os.environ.get("SPARK_REMOTE")
        if remote:
            builder = builder.remote(remote)
        else:
            master = os.environ.get("CASEGRAPH_SPARK_MASTER", "local[*]")
            builder = (builder.master(master)
                       .config("spark.jars", similarity_jar_location())
                       .config("spark.driver.memory", os.environ.get(
                           "CASEGRAPH_SPARK_DRIVER_MEMORY", "4g"))
                       .config("spark.ui.enabled", "false")
                       .config("spark.ui.showConsoleProgress", "false")
                       .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                       .config("spark.sql.session.timeZone", "UTC"))
            parts = shuffle_partitions(master)
            if parts is not None:
                builder = builder.config("spark.sql.shuffle.partitions", str(parts))
        spark = builder.getOrCreate()
        if not remote:  # Spark Connect has no SparkContext: the server configures these
            spark.sparkContext.setLogLevel("ERROR")
            ckpt = os.environ.get("CASEGRAPH_SPARK_CHECKPOINT_DIR") or tempfile.mkdtemp(
                prefix="casegraph-spark-ckpt-")
            spark.sparkContext.setCheckpointDir(ckpt)
        _session = spark
        return spark


def shuffle_partitions(master: str) -> int | None:
    """``spark.sql.shuffle.partitions`` for a master: ``CASEGRAPH_SPARK_SHUFFLE_PARTITIONS``
    if set; else 2 per core in local mode (Spark's default of 200 makes every shuffle of
    small data 200 tasks: most of the time of a local run went to task start-up); else
    None (the cluster's own setting; size it to ~3 x total cores, see docs/scaleout.md)."""
    env = os.environ.get("CASEGRAPH_SPARK_SHUFFLE_PARTITIONS")
    if env:
        return int(env)
    m = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if m is None:
        return None
    n = m.group(1)
    cores = 1 if n is None else (os.cpu_count() or 1) if n == "*" else int(n)
    return max(2, 2 * cores)


def stop_spark() -> None:
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None
