"""A person's facts: every current record linked to them, with the link's probability.

The gates are pure functions of a :class:`PersonFacts` and an as-of date. This module is the
only place that reads them out of the warehouse, in two ways that must agree: one person at a
time (:func:`load_person_facts`, for re-checking a lead before approval) and every person in
one query (:func:`iter_person_facts`, for scoring the whole population).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from casegraph.workspace import Workspace

#: Record kinds the gates and the priority score read.
GATE_KINDS: tuple[str, ...] = ("removal_order", "case_event", "status", "detention", "departure",
                               "encounter", "conviction", "location")

#: Columns of a fact (a record as the gates see it). ``status_detail`` is deliberately absent:
#: the gates need to know that a protected-status application exists, never what it says.
FACT_COLUMNS: tuple[str, ...] = (
    "record_key", "source", "kind",
    "order_date", "order_type", "in_absentia", "appeal_waived", "case_number",
    "event_type", "event_date", "outcome", "stay_end_date", "stay_authority",
    "status_type", "status_date",
    "facility_id", "book_in_date", "book_out_date",
    "departure_date", "channel", "destination_country", "port",
    "encounter_date", "encounter_type", "agency", "charges", "charge_status",
    "offense_code", "offense_category", "severity", "conviction_date", "sentence_days",
    "location_kind", "observed_on",
)

Fact = dict[str, Any]


@dataclass(slots=True)
class PersonFacts:
    """Everything the gates may read about one person.

    ``facts`` are plain dicts with the :data:`FACT_COLUMNS` keys plus ``link_probability``
    (the probability that the record belongs to this person, from resolution).
    """

    person_id: str
    confidence: float | None
    facts: list[Fact] = field(default_factory=list)


def make_fact(kind: str, record_key: str, link_probability: float = 1.0, **values: Any) -> Fact:
    """A fact dict with every column present (for tests and callers outside the warehouse)."""
    f: Fact = dict.fromkeys(FACT_COLUMNS)
    f.update(kind=kind, record_key=record_key, source=record_key.split(":", 1)[0],
             link_probability=link_probability)
    unknown = set(values) - set(FACT_COLUMNS)
    if unknown:
        raise KeyError(f"unknown fact columns: {sorted(unknown)}")
    f.update(values)
    return f


class MissingResolution(RuntimeError):
    """The workspace has no resolved persons yet."""


def require_resolution(ws: Workspace) -> None:
    for t in ("persons", "person_records", "current_records"):
        if not ws.has_table(t):
            raise MissingResolution(
                f"the workspace has no `{t}` table yet: run `casegraph ingest` and "
                "`casegraph resolve` first")


def _facts_sql(where: str, kinds: Sequence[str]) -> str:
    cols = ", ".join(f'r."{c}"' for c in FACT_COLUMNS)
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    return (f"select pr.person_id, pr.match_probability, {cols} "
            f"from person_records pr join current_records r on r.record_key = pr.record_key "
            f"where r.kind in ({kinds_sql}) {where} "
            f"order by pr.person_id, r.record_key")


def _rows(ws: Workspace, sql: str, params: list[Any] | None = None) -> Iterator[tuple[Any, ...]]:
    """Rows of a query, column-wise through Arrow (much faster than fetchall on wide rows)."""
    tbl = ws.con.sql(sql, params=params or None).to_arrow_table()
    cols = [tbl.column(i).to_pylist() for i in range(tbl.num_columns)]
    return zip(*cols, strict=True) if cols else iter(())


def _fact(row: tuple[Any, ...]) -> Fact:
    f = dict(zip(FACT_COLUMNS, row[2:], strict=True))
    f["link_probability"] = 1.0 if row[1] is None else float(row[1])
    return f


def load_person_facts(ws: Workspace, person_id: str, kinds: Sequence[str] = GATE_KINDS
                      ) -> PersonFacts | None:
    """One person's facts on current data (None when the person does not exist)."""
    require_resolution(ws)
    p = ws.con.execute("select person_id, confidence from persons where person_id = ?",
                       [person_id]).fetchall()
    if not p:
        return None
    facts = [_fact(r) for r in _rows(ws, _facts_sql("and pr.person_id = ?", kinds), [person_id])]
    return PersonFacts(person_id, None if p[0][1] is None else float(p[0][1]), facts)


def iter_person_facts(ws: Workspace, kinds: Sequence[str] = GATE_KINDS,
                      person_ids: Sequence[str] | None = None) -> Iterator[PersonFacts]:
    """Every person (sorted by id) with their facts: two queries, merged in one pass."""
    require_resolution(ws)
    where, params = "", []
    if person_ids is not None:
        ws.con.execute("create or replace temp table _cg_pids as select unnest(?) as person_id",
                       [list(person_ids)])
        where = "and pr.person_id in (select person_id from _cg_pids)"
    persons = list(_rows(ws, "select person_id, confidence from persons "
                             + ("where person_id in (select person_id from _cg_pids) "
                                if person_ids is not None else "")
                             + "order by person_id"))
    facts = _rows(ws, _facts_sql(where, kinds), params)
    pending = next(facts, None)
    for pid, conf in persons:
        pf = PersonFacts(pid, None if conf is None else float(conf))
        while pending is not None and pending[0] < pid:   # a link to a person that is gone
            pending = next(facts, None)
        while pending is not None and pending[0] == pid:
            pf.facts.append(_fact(pending))
            pending = next(facts, None)
        yield pf


def fact_date(f: Fact) -> dt.date | None:
    """The date a fact happened (its kind's own date field)."""
    k = f["kind"]
    if k == "removal_order":
        return f["order_date"]
    if k == "case_event":
        return f["event_date"]
    if k == "status":
        return f["status_date"]
    if k == "detention":
        return f["book_in_date"]
    if k == "departure":
        return f["departure_date"]
    if k == "encounter":
        return f["encounter_date"]
    if k == "conviction":
        return f["conviction_date"]
    if k == "location":
        return f["observed_on"]
    return None
