"""DuckDB -> Spark SQL rewrites that sqlglot does not do by itself (no Spark needed)."""

from __future__ import annotations

from casegraph.scaleout.dialect import duckdb_to_spark


def test_length_of_a_list_is_size() -> None:
    out = duckdb_to_spark("select len(list_filter(an, lambda x: damerau_levenshtein(x, a) <= 1))"
                          " > 0 as hit, length(s) as n from t")
    assert "SIZE(FILTER(an" in out
    assert "LENGTH(s)" in out          # a string keeps LENGTH


def test_drop_order() -> None:
    sql = "with c as (select 1 as x) select x from c order by x"
    assert "ORDER BY" in duckdb_to_spark(sql)
    assert "ORDER BY" not in duckdb_to_spark(sql, drop_order=True)
