"""Scoring every blocked pair straight into the pairs table, in one DuckDB pipeline.

``linker.inference.predict()`` with the model's settings materialises every blocked pair
with both records' matching columns (73 columns: 5M rows of names, addresses and dates at
1M records) only for the run to keep eight of them. Here the same Splink SQL (blocking,
comparison vectors, match weights: Splink's own functions, so the probabilities are the
ones ``predict()`` gives) is run with the matching columns left out (the comparison
levels are kept, as Splink does when training) and the identifier/name rules of
:func:`casegraph.resolve.pipeline.pairs_select_sql` applied as the last step of the same
pipeline, so only the pairs table is ever written.

Uses Splink internals (pinned Splink 5.0): ``tests/resolve`` compares it against
``predict()`` on a small workspace.
"""

from __future__ import annotations

from collections.abc import Callable

from splink import Linker
from splink.internals.comparison_vector_values import (
    compute_comparison_vector_values_from_id_pairs_sqls,
)
from splink.internals.dialects import SplinkDialect
from splink.internals.pipeline import CTEPipeline
from splink.internals.predict import predict_from_comparison_vectors_sqls
from splink.internals.settings import Settings
from splink.internals.vertically_concatenate import enqueue_df_concat_with_tf

from casegraph.workspace import Workspace


def score_pairs_into(ws: Workspace, linker: Linker, target: str,
                     select_sql: Callable[[str], str]) -> int:
    """Score every blocked pair of ``linker``'s input into ``target``.

    Args:
        linker: a dedupe linker whose settings have ``retain_matching_columns`` off.
        select_sql: given the name of the predictions CTE (Splink's columns:
            unique_id_l/r, match_weight, match_probability, gamma_*), the query that turns
            it into the pairs table.

    Returns:
        the number of pairs written.
    """
    s = linker._settings_obj
    inference = linker.inference
    blocked, cached = inference._get_or_compute_blocked_pairs_for_predict_chunk()
    try:
        pipeline = CTEPipeline([blocked])
        enqueue_df_concat_with_tf(linker, pipeline)
        pipeline.enqueue_list_of_sqls(compute_comparison_vector_values_from_id_pairs_sqls(
            s._columns_to_select_for_blocking,
            Settings.columns_to_select_for_comparison_vector_values(
                unique_id_input_columns=s.column_info_settings.unique_id_input_columns,
                comparisons=s.core_model_settings.comparisons,
                retain_matching_columns=False, additional_columns_to_retain=[]),
            input_tablename_l="__splink__df_concat_with_tf",
            input_tablename_r="__splink__df_concat_with_tf",
            source_dataset_input_column=s.column_info_settings.source_dataset_input_column,
            unique_id_input_column=s.column_info_settings.unique_id_input_column,
            link_type=s._link_type, sql_dialect_str=linker._sql_dialect_str))
        pipeline.enqueue_list_of_sqls(predict_from_comparison_vectors_sqls(
            unique_id_input_columns=s.column_info_settings.unique_id_input_columns,
            core_model_settings=s.core_model_settings,
            sql_dialect=SplinkDialect.from_string(s._sql_dialect_str),
            retain_matching_columns=False, retain_intermediate_calculation_columns=False,
            training_mode=True))  # training mode: the comparison levels (gamma_*) are kept
        pipeline.enqueue_sql(select_sql("__splink__df_predict"), "__casegraph_pairs")
        out = linker._db_api.sql_pipeline_to_splink_dataframe(pipeline)
    finally:
        if not cached:
            blocked.drop_table_from_database_and_remove_from_cache()
    try:
        ws.con.execute(f"create or replace table {target} as select * from {out.physical_name}")
    finally:
        out.drop_table_from_database_and_remove_from_cache()
    return int(ws.con.execute(f"select count(*) from {target}").fetchall()[0][0])
