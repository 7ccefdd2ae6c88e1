"""Departures on Spark: the departures room's rules, applied on the executors.

Facts of the persons with departure evidence come from the policy room's facts query
(transpiled, see :mod:`casegraph.scaleout.facts`); each person's state is
:func:`casegraph.departures.rules.departure_state` -- the function gate 7 also uses -- so
the engines cannot disagree. Storing and reporting stay in
:func:`casegraph.departures.classify.classify_departures`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

from casegraph.departures.classify import _DEP_KINDS, DepartureReport, classify_departures
from casegraph.departures.rules import DepartureState, departure_state
from casegraph.policy.facts import PersonFacts
from casegraph.scaleout.facts import map_persons, person_facts_frame
from casegraph.workspace import Workspace

OUT_SCHEMA = ("person_id string, status string, channel string, departure_date date, "
              "evidence string, certain boolean, returned boolean, return_evidence string, "
              "claims string")


class _State:
    """Picklable per-person function: the departure state as one output row."""

    def __init__(self, as_of: dt.date, thr: float) -> None:
        self.as_of, self.thr = as_of, thr

    def __call__(self, pf: PersonFacts) -> list[tuple[Any, ...]]:
        st = departure_state(pf.facts, self.as_of, self.thr)
        return [(pf.person_id, st.status, st.channel, st.departure_date,
                 json.dumps(list(st.evidence)), st.certain, st.returned,
                 json.dumps(list(st.return_evidence)), json.dumps(list(st.claims)))]


def decide_departures_on_spark(ws: Workspace, person_ids: Sequence[str], as_of: dt.date,
                               thr: float) -> Iterator[tuple[str, DepartureState]]:
    """``(person_id, state)`` for ``person_ids``, sorted by person (plug into
    ``classify_departures(decide_all=...)``)."""
    frame = person_facts_frame(ws, _DEP_KINDS, person_ids)
    tbl = map_persons(frame, OUT_SCHEMA, _State(as_of, thr)).toArrow()
    cols = {n: tbl.column(n).to_pylist() for n in tbl.column_names}
    for i in sorted(range(tbl.num_rows), key=lambda i: cols["person_id"][i]):
        yield cols["person_id"][i], DepartureState(
            cols["status"][i], cols["channel"][i], cols["departure_date"][i],
            tuple(json.loads(cols["evidence"][i])), bool(cols["certain"][i]),
            bool(cols["returned"][i]), tuple(json.loads(cols["return_evidence"][i])),
            tuple(json.loads(cols["claims"][i])))


def classify_departures_on_spark(ws: Workspace, as_of: dt.date | None = None
                                 ) -> DepartureReport:
    """``casegraph departures --engine spark``."""
    return classify_departures(ws, as_of, decide_all=decide_departures_on_spark)
