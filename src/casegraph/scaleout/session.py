"""The Spark session the batch pipeline runs on.

``local[*]`` by default; a cluster through ``CASEGRAPH_SPARK_MASTER``; Spark Connect through
``SPARK_REMOTE``. Splink's similarity UDF jar and a checkpoint directory are always set,
because Splink's Spark backend needs both.
"""

from __future__ import annotations

import os
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
            builder = (builder.master(os.environ.get("CASEGRAPH_SPARK_MASTER", "local[*]"))
                       .config("spark.jars", similarity_jar_location())
                       .config("spark.driver.memory", os.environ.get(
                           "CASEGRAPH_SPARK_DRIVER_MEMORY", "4g"))
                       .config("spark.ui.enabled", "false")
                       .config("spark.ui.showConsoleProgress", "false")
                       .config("spark.sql.shuffle.partitions", os.environ.get(
                           "CASEGRAPH_SPARK_SHUFFLE_PARTITIONS", "8"))
                       .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                       .config("spark.sql.session.timeZone", "UTC"))
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        ckpt = os.environ.get("CASEGRAPH_SPARK_CHECKPOINT_DIR") or tempfile.mkdtemp(
            prefix="casegraph-spark-ckpt-")
        spark.sparkContext.setCheckpointDir(ckpt)
        _session = spark
        return spark


def stop_spark() -> None:
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None
