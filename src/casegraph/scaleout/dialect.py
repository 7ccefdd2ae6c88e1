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


# ---- ingest: the sources room's per-spec SQL on Spark ------------------------------------
# (kept in one block: the parsing rules are DuckDB SQL generated per spec by
# ``casegraph.sources.transform``; these are the rewrites and UDFs that SQL needs on Spark.)

#: Spark UDF: DuckDB's ``try_strptime(x, [formats])`` as epoch microseconds, computed by
#: DuckDB itself on the executors (strptime's leniency -- one-digit days, ``%y`` pivot,
#: ``%z`` -- is not Java's DateTimeFormatter's, and a date that parses on one engine must
#: parse on the other).
STRPTIME_UDF = "cg_try_strptime_us"


def _ingest_rewrites(node: exp.Expression) -> exp.Expression:
    name = node.name.lower() if isinstance(node, (exp.Anonymous, exp.Func)) else ""
    if isinstance(node, exp.Anonymous) and name == "try_strptime":
        return exp.Anonymous(this="timestamp_micros", expressions=[
            exp.Anonymous(this=STRPTIME_UDF, expressions=list(node.expressions))])
    if isinstance(node, exp.Anonymous) and name == "isfinite":
        x = node.expressions[0]
        return exp.paren(exp.and_(
            exp.Not(this=exp.Anonymous(this="isnan", expressions=[x.copy()])),
            exp.LT(this=exp.Anonymous(this="abs", expressions=[x.copy()]),
                   expression=exp.Anonymous(this="double", expressions=[
                       exp.Literal.string("inf")]))))
    if (isinstance(node, exp.Anonymous) and name == "timezone" and len(node.expressions) == 2
            and node.expressions[0].name.upper() == "UTC"):
        # The session time zone is UTC (session.py): an instant's wall clock is UTC already.
        return node.expressions[1]
    if name == "to_json" and isinstance(node, exp.Anonymous) and len(node.expressions) == 1:
        # DuckDB's to_json writes null members; Spark's drops them unless told not to.
        return exp.Anonymous(this="to_json", expressions=[node.expressions[0], exp.Anonymous(
            this="map", expressions=[exp.Literal.string("ignoreNullFields"),
                                     exp.Literal.string("false")])])
    return node


def ingest_sql_to_spark(sql: str) -> str:
    """Transpile the sources room's ingest SQL (``canonical_sql`` and friends) to Spark."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(_ingest_rewrites)
    tree = tree.transform(_spark_functions)
    out = tree.sql(dialect="spark")
    for pattern, repl in _FUNCTION_FIXUPS:
        out = pattern.sub(repl, out)
    return out


def register_ingest_udfs(spark: Any) -> None:
    """Register the UDFs :func:`ingest_sql_to_spark` output calls (idempotent)."""
    import pandas as pd
    from pyspark.sql.functions import PandasUDFType, pandas_udf

    def cg_try_strptime_us(values, formats):  # type: ignore[no-untyped-def]
        import duckdb
        import pyarrow as pa

        con = duckdb.connect()
        # one format (a string) or a list of them: either way a list for DuckDB
        keys = [None if f is None else f if isinstance(f, str) else "\x00".join(f)
                for f in formats]
        vals = values.tolist()
        out: list[int | None] = [None] * len(vals)
        for key in {k for k in keys if k is not None}:
            idx = [i for i, k in enumerate(keys) if k == key]
            con.register("__cg_t", pa.table({"x": pa.array([vals[i] for i in idx],
                                                            pa.string())}))
            res = con.execute("select epoch_us(try_strptime(x, $f)) from __cg_t",
                              {"f": key.split("\x00")}).fetchall()
            con.unregister("__cg_t")
            for i, (r,) in zip(idx, res):
                out[i] = r
        con.close()
        return pd.Series(pd.array(out, dtype="Int64"))

    with warnings.catch_warnings():  # "prefer type hints": as in register_udfs
        warnings.simplefilter("ignore", UserWarning)
        udf = pandas_udf(cg_try_strptime_us, "bigint", PandasUDFType.SCALAR)
    spark.udf.register(STRPTIME_UDF, udf)
