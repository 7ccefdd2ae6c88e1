"""DuckDB SQL -> Spark SQL: sqlglot plus the few function names it does not map.

Every dialect difference lives here, so the rooms keep writing one SQL dialect.
"""

from __future__ import annotations

import copy
import re
import warnings
from typing import Any

import sqlglot
from sqlglot import exp

#: Spark UDF computing Jaro-Winkler exactly as DuckDB's ``jaro_winkler_similarity`` (see
#: :func:`register_udfs`).
JARO_WINKLER_UDF = "cg_jaro_winkler"

#: Functions sqlglot leaves under their DuckDB names, and their Spark equivalents (the
#: similarity functions are the Scala UDFs in Splink's jar).
_FUNCTION_FIXUPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bJARO_SIMILARITY\(", re.IGNORECASE), "jaro_sim("),
    (re.compile(r"\bLENGTH\(LIST_INTERSECT\(", re.IGNORECASE), "SIZE(ARRAY_INTERSECT("),
    (re.compile(r"\bLIST_INTERSECT\(", re.IGNORECASE), "ARRAY_INTERSECT("),
    (re.compile(r"\bLEN\(LIST_INTERSECT\(", re.IGNORECASE), "SIZE(ARRAY_INTERSECT("),
)


#: Expressions that certainly produce a list (DuckDB ``len``/``length`` of one is Spark's
#: ``size``; of a string it stays ``length``). A bare list *column* cannot be told apart
#: without types: write ``array_length(col)`` for those.
_ARRAY_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, n) for n in ("ArrayFilter", "Array", "ArrayDistinct", "ArrayIntersect",
                              "ArrayConcat", "ArrayUnique", "Flatten", "Split",
                              "StringToArray", "ArrayAgg", "Transform")
    if hasattr(exp, n))


def _is_array(node: exp.Expression) -> bool:
    if isinstance(node, _ARRAY_NODES):
        return True
    return isinstance(node, exp.Anonymous) and str(node.this).lower().startswith(("list_",
                                                                                  "array_"))


def _spark_functions(node: exp.Expression) -> exp.Expression:
    """AST rewrites for constructs sqlglot parses but Spark spells differently."""
    if isinstance(node, exp.Length) and _is_array(node.this):
        return exp.ArraySize(this=node.this)
    if isinstance(node, exp.ArrayOverlaps):  # duckdb `a && b`
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.JarowinklerSimilarity):
        # not the jar's jaro_winkler: it differs from DuckDB's on long strings (addresses)
        return exp.Anonymous(this=JARO_WINKLER_UDF, expressions=[node.this, node.expression])
    return node


def duckdb_to_spark(sql: str, *, drop_order: bool = False) -> str:
    """Transpile one DuckDB expression or statement to Spark SQL.

    ``drop_order`` removes the outermost ORDER BY: a query whose rows Spark repartitions
    next would otherwise pay for a global sort it then throws away.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    if drop_order:
        tree.set("order", None)
    tree = tree.transform(_spark_functions)
    out = tree.sql(dialect="spark")
    for pattern, repl in _FUNCTION_FIXUPS:
        out = pattern.sub(repl, out)
    return out


def referenced_tables(sql: str) -> set[str]:
    """The warehouse tables a DuckDB query reads (CTE names excluded): what to put in the lake."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}


def splink_settings_for_spark(model: dict[str, Any]) -> dict[str, Any]:
    """A Splink settings/model dict written for DuckDB, with every SQL fragment in Spark SQL.

    Splink re-labels the dialect of a settings dict but does not translate hand-written
    conditions, so the trained model (m/u, TF tables' columns, blocking rules) is kept and
    only the SQL text changes.
    """
    m = copy.deepcopy(model)
    m["sql_dialect"] = "spark"
    for comp in m.get("comparisons", []):
        for level in comp.get("comparison_levels", []):
            cond = level.get("sql_condition")
            if cond and cond.strip().upper() != "ELSE":
                level["sql_condition"] = duckdb_to_spark(cond)
    rules = []
    for rule in m.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict):
            rule = dict(rule)
            rule["blocking_rule"] = duckdb_to_spark(rule["blocking_rule"])
            rule["sql_dialect"] = "spark"
            rules.append(rule)
        else:
            rules.append(duckdb_to_spark(rule))
    m["blocking_rules_to_generate_predictions"] = rules
    return m


def register_udfs(spark: Any) -> None:
    """Register the Spark UDFs the transpiled SQL calls (idempotent).

    Jaro-Winkler is computed with jellyfish, which agrees with DuckDB's implementation to
    the last bit (the Scala UDF in Splink's jar does not on strings over ~20 characters),
    so a comparison level at a similarity threshold decides a pair the same on both engines.
    """
    import jellyfish
    import pandas as pd
    from pyspark.sql.functions import PandasUDFType, pandas_udf
    from splink.internals.spark.jar_location import get_scala_udfs

    # the similarity functions of Splink's jar (damerau_levenshtein, jaro_sim, ...), which
    # Splink registers only when a SparkAPI is made: the rooms' SQL may call them too
    for name, cls, ret in get_scala_udfs():
        spark.udf.registerJavaFunction(name, cls, ret)

    def cg_jaro_winkler(a, b):  # type: ignore[no-untyped-def]  # no hints: see below
        return pd.Series([None if pd.isna(x) or pd.isna(y)
                          else jellyfish.jaro_winkler_similarity(x, y)
                          for x, y in zip(a, b)], dtype="float64")

    # a scalar pandas UDF; declared by type rather than by (postponed, string) type hints
    with warnings.catch_warnings():  # "prefer type hints": deliberate, see above
        warnings.simplefilter("ignore", UserWarning)
        udf = pandas_udf(cg_jaro_winkler, "double", PandasUDFType.SCALAR)
    spark.udf.register(JARO_WINKLER_UDF, udf)


# ---- clustering on Spark (scaleout/cluster.py) ----------------------------------------------

#: Spark UDF rounding a double exactly as DuckDB's ``round(double, n)`` (see
#: :func:`register_exact_round`).
EXACT_ROUND_UDF = "cg_round"


def duckdb_to_spark_exact_round(sql: str, *, drop_order: bool = False) -> str:
    """:func:`duckdb_to_spark`, with every ``round(x, n)`` computed as DuckDB does for a
    double ``x`` (only for queries whose rounded values are all doubles).

    DuckDB rounds the exact binary value of a double (correctly rounded, as Python's
    ``round``); Spark rounds the shortest decimal string of it half-up, so 0.7638592015
    (stored just below ...015) is ...01 on DuckDB and ...02 on Spark: measured, 1 in 400,000
    random probabilities at 9 digits. The pairs' rounding is there so that both engines tie
    the same links; it must round alike.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
            return exp.Anonymous(this=EXACT_ROUND_UDF,
                                 expressions=[node.this, node.args["decimals"]])
        return node

    return duckdb_to_spark(tree.transform(swap).sql(dialect="duckdb"), drop_order=drop_order)


def register_exact_round(spark: Any) -> None:
    """Register :data:`EXACT_ROUND_UDF` (Python's ``round``, a vectorised pandas UDF)."""
    import pandas as pd
    from pyspark.sql.functions import PandasUDFType, pandas_udf

    def cg_round(x, n):  # type: ignore[no-untyped-def]  # no hints: see register_udfs
        return pd.Series([None if pd.isna(v) else round(float(v), int(d))
                          for v, d in zip(x, n)], dtype="float64")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        udf = pandas_udf(cg_round, "double", PandasUDFType.SCALAR)
    spark.udf.register(EXACT_ROUND_UDF, udf)
