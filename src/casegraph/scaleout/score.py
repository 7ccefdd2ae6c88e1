"""Scoring on Spark: the same facts query and the same gate functions, distributed.

The facts query is the policy room's DuckDB SQL, transpiled; each person's gates and
priority are computed by the policy room's :func:`casegraph.policy.score.decide_person`
inside ``applyInPandas`` (one call per person, on the executors). The decisions come back
through the lake and are stored exactly as the embedded engine stores them, so every
later step (leads, API, UI) reads the same tables whichever engine produced them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from typing import Any

import pandas as pd

from casegraph.ontology import FACT_FIELDS, FieldType
from casegraph.policy.config import LoadedPolicy
from casegraph.policy.facts import FACT_COLUMNS, GATE_KINDS, PersonFacts, _fact, _facts_sql
from casegraph.policy.gates import GATE_NAMES, GateResult
from casegraph.policy.score import PersonDecision, ScoreReport, run_scoring
from casegraph.scaleout.dialect import duckdb_to_spark, referenced_tables
from casegraph.scaleout.lake import export_to_lake, import_from_lake, read_lake, write_lake
from casegraph.scaleout.session import get_spark
from casegraph.workspace import Workspace

#: One output row per gate, plus one 'person' row carrying eligibility and priority.
OUT_SCHEMA = ("person_id string, row_kind string, gate string, verdict string, reason string, "
              "evidence string, flags string, eligible boolean, blocking string, score double, "
              "contributions string")

#: Integer facts: pandas turns a nullable integer column into floats; turn them back.
_INT_POSITIONS = frozenset(
    3 + i for i, c in enumerate(FACT_COLUMNS)
    if c in FACT_FIELDS and FACT_FIELDS[c].type == FieldType.INT)


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalar
        return v.item()
    return v


def _decide_group(as_of: dt.date, policy_text: str, origin: str):  # type: ignore[no-untyped-def]
    """The per-person function shipped to the executors (policy parsed once per task)."""

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        from casegraph.policy.config import parse_policy
        from casegraph.policy.score import decide_person

        lp = parse_policy(policy_text, origin=origin)
        pdf = pdf.sort_values("record_key", na_position="first")
        pid = pdf["person_id"].iloc[0]
        conf = _clean(pdf["confidence"].iloc[0])
        facts = [_fact(tuple(int(c) if i in _INT_POSITIONS and c is not None else c
                             for i, c in enumerate(_clean(v) for v in row)))
                 for row in pdf[["person_id", "p", "via", *FACT_COLUMNS]].itertuples(
                     index=False, name=None)
                 if _clean(row[3]) is not None]
        d = decide_person(PersonFacts(pid, None if conf is None else float(conf), facts),
                          as_of, lp)
        rows = [{"person_id": pid, "row_kind": "gate", "gate": r.gate, "verdict": r.verdict,
                 "reason": r.reason, "evidence": json.dumps(list(r.evidence)),
                 "flags": json.dumps(list(r.flags))} for r in d.results]
        rows.append({"person_id": pid, "row_kind": "person", "eligible": d.eligible,
                     "blocking": json.dumps(d.blocking), "flags": json.dumps(d.flags),
                     "score": d.score, "contributions": json.dumps(d.contributions)})
        return pd.DataFrame(rows, columns=[c.split()[0] for c in OUT_SCHEMA.split(", ")])

    return run


def decide_on_spark(ws: Workspace, as_of: dt.date, lp: LoadedPolicy) -> Iterator[PersonDecision]:
    """Every person's decision, computed on Spark (plug into ``run_scoring(decide_all=...)``)."""
    facts_sql = _facts_sql("", GATE_KINDS, ws.has_table("identity_decisions"))
    spark = get_spark()
    for name in sorted(referenced_tables(facts_sql) | {"persons"}):
        export_to_lake(ws, name)
        read_lake(spark, ws, name).createOrReplaceTempView(name)
    facts = spark.sql(duckdb_to_spark(facts_sql))
    facts.createOrReplaceTempView("_facts")
    joined = spark.sql("select p.person_id, p.confidence, f.p, f.via, "
                       + ", ".join(f"f.`{c}`" for c in FACT_COLUMNS)
                       + " from persons p left join _facts f on f.person_id = p.person_id")
    out = joined.groupBy("person_id").applyInPandas(
        _decide_group(as_of, lp.text, lp.origin), schema=OUT_SCHEMA)
    write_lake(out, ws, "score_decisions")
    table = "_spark_score_decisions"
    import_from_lake(ws, "score_decisions", table)
    rows = ws.query(f"select * from {table} order by person_id, row_kind, gate")
    ws.con.execute(f"drop table {table}")
    order = {g: i for i, g in enumerate(GATE_NAMES)}
    gates: list[GateResult] = []
    for r in rows:  # per person: 'gate' rows sort before the 'person' row
        if r["row_kind"] == "gate":
            gates.append(GateResult(r["gate"], r["verdict"], r["reason"],
                                    tuple(json.loads(r["evidence"])), tuple(json.loads(r["flags"]))))
            continue
        gates.sort(key=lambda g: order[g.gate])
        yield PersonDecision(r["person_id"], gates, bool(r["eligible"]), json.loads(r["blocking"]),
                             json.loads(r["flags"]), float(r["score"]),
                             json.loads(r["contributions"]))
        gates = []


def run_scoring_on_spark(ws: Workspace, as_of: dt.date | None = None,
                         policy_path: str | None = None) -> ScoreReport:
    """``casegraph score --engine spark``: the policy room's run, decided on Spark."""
    return run_scoring(ws, as_of, policy_path, decide_all=decide_on_spark)
