"""DuckDB SQL -> Spark SQL: sqlglot plus the few function names it does not map.

Every dialect difference lives here, so the rooms keep writing one SQL dialect.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import sqlglot
from sqlglot import exp

#: Functions sqlglot leaves under their DuckDB names, and their Spark equivalents (the
#: similarity functions are the Scala UDFs in Splink's jar).
_FUNCTION_FIXUPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bJAROWINKLER_SIMILARITY\(", re.IGNORECASE), "jaro_winkler("),
    (re.compile(r"\bJARO_WINKLER_SIMILARITY\(", re.IGNORECASE), "jaro_winkler("),
    (re.compile(r"\bJARO_SIMILARITY\(", re.IGNORECASE), "jaro_sim("),
    (re.compile(r"\bLENGTH\(LIST_INTERSECT\(", re.IGNORECASE), "SIZE(ARRAY_INTERSECT("),
    (re.compile(r"\bLIST_INTERSECT\(", re.IGNORECASE), "ARRAY_INTERSECT("),
    (re.compile(r"\bLEN\(LIST_INTERSECT\(", re.IGNORECASE), "SIZE(ARRAY_INTERSECT("),
)


def _spark_functions(node: exp.Expression) -> exp.Expression:
    """AST rewrites for constructs sqlglot parses but Spark spells differently."""
    if isinstance(node, exp.ArrayOverlaps):  # duckdb `a && b`
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.JarowinklerSimilarity):  # Splink jar UDF
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    return node


def duckdb_to_spark(sql: str) -> str:
    """Transpile one DuckDB expression or statement to Spark SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_spark_functions)
    out = tree.sql(dialect="spark")
    for pattern, repl in _FUNCTION_FIXUPS:
        out = pattern.sub(repl, out)
    return out


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
