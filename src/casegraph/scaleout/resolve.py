"""Identity resolution's scoring step on Spark, with the DuckDB run's settings and model.

Training samples pairs (u by random sampling, m by EM on blocked pairs), so it runs on a
sample wherever it is cheapest; scoring every blocked pair is the step that grows with the
data, so that is what moves to Spark. The model JSON is the one the DuckDB engine saved;
only its SQL text is transpiled, so both engines score every pair identically.
"""

from __future__ import annotations

import logging
from typing import Any

from casegraph.scaleout.dialect import register_udfs, splink_settings_for_spark
from casegraph.scaleout.lake import export_to_lake, import_from_lake, read_lake, write_lake
from casegraph.scaleout.session import get_spark
from casegraph.workspace import Workspace

log = logging.getLogger(__name__)


def predict_on_spark(ws: Workspace, input_table: str, model: dict[str, Any], target: str,
                     threshold_match_probability: float | None = None) -> int:
    """Score all blocked pairs of ``input_table`` on Spark into warehouse table ``target``.

    Returns the number of scored pairs. The input goes to the lake as Parquet, Splink's
    Spark backend predicts, and the predictions come back through the lake.
    """
    predict_to_lake(ws, input_table, model, f"{input_table}_predictions",
                    threshold_match_probability)
    return import_from_lake(ws, f"{input_table}_predictions", target)


def predict_to_lake(ws: Workspace, input_table: str, model: dict[str, Any], target: str,
                    threshold_match_probability: float | None = None) -> int:
    """Score all blocked pairs of ``input_table`` on Spark into lake table ``target``
    (they stay there: :func:`casegraph.scaleout.cluster.cluster_on_spark` reads them).
    Returns the number of scored pairs; ``input_table`` is in the lake afterwards too."""
    from splink import Linker
    from splink.backends.spark import SparkAPI

    for name in ("splink", "py4j"):
        logging.getLogger(name).setLevel(logging.ERROR)
    export_to_lake(ws, input_table, f"select * from {input_table}")
    spark = get_spark()
    api = SparkAPI(spark_session=spark)
    register_udfs(spark)
    sdf = api.register(read_lake(spark, ws, input_table))
    linker = Linker(sdf, splink_settings_for_spark(model))
    preds = linker.inference.predict(threshold_match_probability=threshold_match_probability,
                                     warning_mode="never")
    write_lake(preds.as_spark_dataframe(), ws, target)
    return read_lake(spark, ws, target).count()
