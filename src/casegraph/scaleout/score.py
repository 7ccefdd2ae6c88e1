"""Scoring on Spark: the same facts query and the same gate functions, distributed.

The facts query is the policy room's DuckDB SQL, transpiled; each person's gates and
priority are computed by the policy room's :func:`casegraph.policy.score.decide_person`
inside ``mapInArrow`` (one Python call per partition, on the executors). The decisions come back
through the lake and are stored exactly as the embedded engine stores them, so every
later step (leads, API, UI) reads the same tables whichever engine produced them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from casegraph.policy.config import LoadedPolicy
from casegraph.policy.facts import GATE_KINDS, PersonFacts
from casegraph.policy.gates import GATE_NAMES, GateResult
from casegraph.policy.score import PersonDecision, ScoreReport, run_scoring
from casegraph.scaleout.facts import map_persons, person_facts_frame
from casegraph.scaleout.lake import read_lake, write_lake
from casegraph.scaleout.session import get_spark
from casegraph.workspace import Workspace

#: One output row per gate, plus one 'person' row carrying eligibility and priority.
OUT_SCHEMA = ("person_id string, row_kind string, gate string, verdict string, reason string, "
              "evidence string, flags string, eligible boolean, blocking string, score double, "
              "contributions string")


class _Decide:
    """The per-person function shipped to the executors: policy parsed once per task."""

    def __init__(self, as_of: dt.date, policy_text: str, origin: str) -> None:
        self.as_of, self.policy_text, self.origin = as_of, policy_text, origin
        self._lp: LoadedPolicy | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "policy_text": self.policy_text, "origin": self.origin}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lp=None)

    def __call__(self, pf: PersonFacts) -> list[tuple[Any, ...]]:
        from casegraph.policy.config import parse_policy
        from casegraph.policy.score import decide_person

        if self._lp is None:
            self._lp = parse_policy(self.policy_text, origin=self.origin)
        d = decide_person(pf, self.as_of, self._lp)
        rows: list[tuple[Any, ...]] = [
            (d.person_id, "gate", r.gate, r.verdict, r.reason, json.dumps(list(r.evidence)),
             json.dumps(list(r.flags)), None, None, None, None) for r in d.results]
        rows.append((d.person_id, "person", None, None, None, None, json.dumps(d.flags),
                     d.eligible, json.dumps(d.blocking), d.score, json.dumps(d.contributions)))
        return rows


def decide_on_spark(ws: Workspace, as_of: dt.date, lp: LoadedPolicy) -> Iterator[PersonDecision]:
    """Every person's decision, computed on Spark (plug into ``run_scoring(decide_all=...)``).

    Decisions come back to the driver as one Arrow table (a few rows per person); the
    policy room stores them exactly as it stores its own.
    """
    frame = person_facts_frame(ws, GATE_KINDS)
    out = map_persons(frame, OUT_SCHEMA, _Decide(as_of, lp.text, lp.origin))
    write_lake(out, ws, "score_decisions")
    tbl = read_lake(get_spark(), ws, "score_decisions").toArrow()
    cols = {n: tbl.column(n).to_pylist() for n in tbl.column_names}
    order = {g: i for i, g in enumerate(GATE_NAMES)}
    gates: dict[str, list[GateResult]] = {}
    persons: list[int] = []
    for i, kind in enumerate(cols["row_kind"]):
        if kind == "gate":
            gates.setdefault(cols["person_id"][i], []).append(GateResult(
                cols["gate"][i], cols["verdict"][i], cols["reason"][i],
                tuple(json.loads(cols["evidence"][i])), tuple(json.loads(cols["flags"][i]))))
        else:
            persons.append(i)
    persons.sort(key=lambda i: cols["person_id"][i])
    for i in persons:
        pid = cols["person_id"][i]
        rs = sorted(gates.pop(pid, []), key=lambda g: order[g.gate])
        yield PersonDecision(pid, rs, bool(cols["eligible"][i]), json.loads(cols["blocking"][i]),
                             json.loads(cols["flags"][i]), float(cols["score"][i]),
                             json.loads(cols["contributions"][i]))


def run_scoring_on_spark(ws: Workspace, as_of: dt.date | None = None,
                         policy_path: str | None = None) -> ScoreReport:
    """``casegraph score --engine spark``: the policy room's run, decided on Spark."""
    return run_scoring(ws, as_of, policy_path, decide_all=decide_on_spark)
