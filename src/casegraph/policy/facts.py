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

from casegraph.resolve.outputs import anum_conflict_sql as _anum_conflict  # one rule for both
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
    (the probability that the record belongs to this person) and ``linked_via``
    (``resolution``, ``case_number``, ``case_number_conflict``, ``a_number`` or ``name_dob``:
    see :func:`_facts_sql`; only the first two can be certain, see ``gates.is_certain``).
    """

    person_id: str
    confidence: float | None
    facts: list[Fact] = field(default_factory=list)


def make_fact(kind: str, record_key: str, link_probability: float = 1.0, **values: Any) -> Fact:
    """A fact dict with every column present (for tests and callers outside the warehouse)."""
    f: Fact = dict.fromkeys(FACT_COLUMNS)
    f.update(kind=kind, record_key=record_key, source=record_key.split(":", 1)[0],
             link_probability=link_probability, linked_via="resolution")
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


#: Kinds whose records can block a person, pulled in by A-number even when resolution did not
#: link them (a split cluster must not hide a stay, a citizenship record or a departure).
BLOCKING_KINDS: tuple[str, ...] = ("status", "detention", "departure", "case_event")

#: Probability given to a record reached only through a shared A-number: below any sensible
#: ``fact_link_threshold``, so such evidence can only ever give ``needs_review``.
A_NUMBER_LINK_PROBABILITY = 0.5

#: Kinds pulled in by same birth date + a shared name word (records without an A-number
#: are common in exit manifests, rosters and status systems).
NAME_DOB_KINDS: tuple[str, ...] = ("status", "detention", "departure")
NAME_DOB_LINK_PROBABILITY = 0.5


def _name_tokens(alias: str) -> str:
    """SQL: the distinct words (2+ letters) of a record's normalised names."""
    parts = ", ".join(f"string_split(coalesce({alias}.{c}, ''), ' ')"
                      for c in ("full_name_norm", "given_name_norm", "family_name_norm"))
    return f"list_filter(list_distinct(flatten(list_value({parts}))), lambda x: length(x) > 1)"


def _dob_key(alias: str, *names: str) -> str:
    """SQL: a birth date's year and the set {month, day} (optionally named), so that an exact
    birth date and one with day and month swapped (03/04 read as 4 March or 3 April) share
    one join key."""
    d = f"{alias}.birth_date"
    exprs = [f"year({d})", f"least(month({d}), day({d}))", f"greatest(month({d}), day({d}))"]
    if names:
        exprs = [f"{e} as {n}" for e, n in zip(exprs, names, strict=True)]
    return ", ".join(exprs)


#: Record kinds pulled in through ``identity_links`` (an uncertain scored link from another
#: person's record to one of this person's): the kinds that carry blocking facts. An encounter
#: counts only when it records a removal.
IDENTITY_LINK_KINDS: tuple[str, ...] = ("status", "detention", "departure", "case_event",
                                        "encounter")
REMOVAL_ENCOUNTER_TYPES: tuple[str, ...] = ("removal", "removed")

#: Kind given to another person's record that matches one of this person's identity records
#: (an *identity rival*: a twin, a namesake, or the same person split off): no gate but
#: identity confidence reads it.
RIVAL_KIND = "identity_rival"
#: This person's records whose rivals count: those that say who the order is about (the
#: order itself and the subject's registration). Same list in ``resolve.outputs``.
RIVAL_OWN_KINDS: tuple[str, ...] = ("removal_order", "person")
#: Probability given to an ``identity_link`` fact: below any sensible fact threshold, like
#: the other fallbacks (the departure rules read probabilities, not the way a record came).
IDENTITY_LINK_PROBABILITY = 0.5

#: A scored link at least this strong keeps a record in doubt even when its A-number is
#: more than one edit from every A-number of the person (a twin, or a clerical error): a
#: human decides. Below it, a band link (or a name + birth date match) to a record whose
#: valid A-number conflicts with all of the person's is two signals of a different person
#: (issue 3's identifier rule) and the record is not pulled in.
IDENTITY_LINK_STRONG = 0.9


#: Probability of a case-number link that resolution contradicts (the event is resolved to
#: another person, carries another A-number or birth date, or a reviewer said 'different'):
#: uncertain, so it can only block or route to review.
CASE_NUMBER_CONFLICT_PROBABILITY = 0.5


def _facts_sql(person_filter: str, kinds: Sequence[str], decisions: bool = False,
               links: bool = False) -> str:
    """Facts of persons: records linked by resolution, plus identity-independent links.

    - ``case_number``: a case event belongs to the removal order with its case number, so
      it applies to whoever that order is linked to (with the order's link probability) --
      unless resolution contradicts it: the event is resolved to another person (one with
      other records), carries another A-number or birth date than the order, or a reviewer
      decided it is a different person from one of this person's records. Then the link is
      ``case_number_conflict`` (:data:`CASE_NUMBER_CONFLICT_PROBABILITY`, *uncertain*): two
      court systems numbering different cases alike must not settle each other's appeals.
    - ``a_number``: a blocking record (status, detention, departure, case event) carrying an
      A-number found on the person's own records is included as *uncertain*
      (:data:`A_NUMBER_LINK_PROBABILITY`): it can block or route to review, never enable.
      So is one whose A-number is one edit or transposition away (``a_number_near``: a
      clerical typo is likelier than a different person).
    - ``name_dob``: a status, detention or departure record with a name word in common and
      the birth date of one of the person's records -- exactly, with day and month swapped,
      or with the year off by one -- likewise *uncertain*.
    - ``identity_link`` (``links`` says ``identity_links`` exists): a record of another
      person carrying a legal fact (:data:`IDENTITY_LINK_KINDS`) whose scored link to one of
      this person's records reached the review band; probability = that link's. *Uncertain*.
      A link below :data:`IDENTITY_LINK_STRONG` to a record whose A-number is more than one
      edit from every A-number of the person is left out (so is such a ``name_dob`` match):
      a weak match plus a conflicting identifier is a different person.
    - ``rival``: another person's record (not a mere address observation) whose scored link
      reached the review band from one of this person's removal orders or registrations
      (:data:`RIVAL_OWN_KINDS`), with kind :data:`RIVAL_KIND` and the link's model
      probability: read by the identity gate only.

    A record a reviewer decided is a different person from one of this person's records
    (latest ``identity_decisions`` row for the pair is ``different``; ``decisions`` says the
    table exists) is never pulled in by the ``a_number`` / ``name_dob`` fallbacks.
    A record reached several ways is kept once, by the strongest way.
    """
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    blocking = ", ".join(f"'{k}'" for k in BLOCKING_KINDS if k in kinds)
    if decisions:
        pdiff = """
        dec as (
            select l, r from (
                select least(record_key_l, record_key_r) l,
                       greatest(record_key_l, record_key_r) r,
                       arg_max(decision, decided_at) d
                from identity_decisions group by 1, 2)
            where d = 'different'),
        pdiff as (
            select distinct q.person_id, d.other as record_key
            from (select l as own, r as other from dec union all select r, l from dec) d
            join person_records q on q.record_key = d.own),"""
    else:
        pdiff = """
        pdiff as (select null::varchar as person_id, null::varchar as record_key limit 0),"""
    parts = [f"""
        select pr.person_id, pr.match_probability as p, 1 as via_rank, 'resolution' as via,
               pr.record_key
        from person_records pr where pr.person_id is not null {person_filter}"""]
    if "case_event" in kinds:
        conflict = """(
                (ep.person_id is not null and ep.person_id <> pr.person_id
                 and coalesce(epp.record_count, 2) > 1)
                or (e.a_number is not null and o.a_number is not null
                    and e.a_number <> o.a_number)
                or (e.birth_date is not null and o.birth_date is not null
                    and e.birth_date <> o.birth_date)
                or xd.person_id is not null)"""
        parts.append(f"""
        select pr.person_id,
               case when {conflict} then {CASE_NUMBER_CONFLICT_PROBABILITY}
                    else pr.match_probability end,
               2, case when {conflict} then 'case_number_conflict' else 'case_number' end,
               e.record_key
        from person_records pr
        join current_records o on o.record_key = pr.record_key
        join current_records e on e.kind = 'case_event' and e.case_number = o.case_number
        left join person_records ep on ep.record_key = e.record_key
        left join (select person_id, count(*) as record_count from person_records
                   group by person_id) epp on epp.person_id = ep.person_id
        left join pdiff xd on xd.person_id = pr.person_id and xd.record_key = e.record_key
        where o.kind = 'removal_order' and o.case_number is not null {person_filter}""")
    if blocking:
        parts.append(f"""
        select a.person_id, {A_NUMBER_LINK_PROBABILITY}, 3, 'a_number', r.record_key
        from (select distinct pr.person_id, o.a_number from person_records pr
              join current_records o on o.record_key = pr.record_key
              where o.a_number is not null {person_filter}) a
        join current_records r on r.a_number = a.a_number
        left join pdiff xd on xd.person_id = a.person_id and xd.record_key = r.record_key
        where r.kind in ({blocking}) and xd.person_id is null""")
    if blocking:
        # one edit or transposition apart: such A-numbers share their first or last 4 chars
        near = []
        for part in ("left", "right"):
            near.append(f"""
        select a.person_id, {A_NUMBER_LINK_PROBABILITY}, 5, 'a_number_near', r.record_key
        from (select distinct pr.person_id, o.a_number from person_records pr
              join current_records o on o.record_key = pr.record_key
              where o.a_number is not null and length(o.a_number) >= 8 {person_filter}) a
        join current_records r on r.kind in ({blocking}) and r.a_number is not null
             and {part}(r.a_number, 4) = {part}(a.a_number, 4)
        left join pdiff xd on xd.person_id = a.person_id and xd.record_key = r.record_key
        where xd.person_id is null and r.a_number <> a.a_number
          and damerau_levenshtein(r.a_number, a.a_number) <= 1""")
        parts.extend(near)
    nd = ", ".join(f"'{k}'" for k in NAME_DOB_KINDS if k in kinds)
    if nd or links:
        pdiff += f"""
        pan as (select pr.person_id, list(distinct o.a_number) as an
                from person_records pr join current_records o on o.record_key = pr.record_key
                where o.a_number is not null {person_filter} group by pr.person_id),"""
    if nd:
        parts.append(f"""
        select a.person_id, {NAME_DOB_LINK_PROBABILITY}, 4, 'name_dob', r.record_key
        from (select person_id, unnest([y0 - 1, y0, y0 + 1]) as y, m1, m2, toks
              from (select pr.person_id, {_dob_key("o", "y0", "m1", "m2")},
                           {_name_tokens("o")} as toks
                    from person_records pr join current_records o
                         on o.record_key = pr.record_key
                    where o.birth_date is not null {person_filter})) a
        join current_records r on r.kind in ({nd}) and r.birth_date is not null
             and year(r.birth_date) = a.y
             and least(month(r.birth_date), day(r.birth_date)) = a.m1
             and greatest(month(r.birth_date), day(r.birth_date)) = a.m2
        left join pdiff xd on xd.person_id = a.person_id and xd.record_key = r.record_key
        left join pan on pan.person_id = a.person_id
        where xd.person_id is null and list_has_any(a.toks, {_name_tokens("r")})
          and not {_anum_conflict("r", "pan")}""")
    if links:
        ik = ", ".join(f"'{k}'" for k in IDENTITY_LINK_KINDS if k in kinds)
        removal = ", ".join(f"'{t}'" for t in REMOVAL_ENCOUNTER_TYPES)
        il = """
        il as (
            select record_key_l as own, record_key_r as other, greatest(model_p, p) as p,
                   model_p
            from identity_links
            union all select record_key_r, record_key_l, greatest(model_p, p), model_p
            from identity_links),"""
        pdiff += il
        if ik:
            parts.append(f"""
        select pr.person_id, least(max(il.p), {IDENTITY_LINK_PROBABILITY}), 6,
               'identity_link', r.record_key
        from person_records pr
        join il on il.own = pr.record_key
        join person_records q on q.record_key = il.other and q.person_id <> pr.person_id
        join current_records r on r.record_key = il.other and r.kind in ({ik})
             and (r.kind <> 'encounter'
                  or lower(coalesce(r.encounter_type, '')) in ({removal}))
        left join pdiff xd on xd.person_id = pr.person_id and xd.record_key = r.record_key
        left join pan on pan.person_id = pr.person_id
        where xd.person_id is null {person_filter}
          and not (il.p < {IDENTITY_LINK_STRONG} and {_anum_conflict("r", "pan")})
        group by pr.person_id, r.record_key""")
        own = ", ".join(f"'{k}'" for k in RIVAL_OWN_KINDS)
        parts.append(f"""
        select pr.person_id, max(il.model_p), 7, 'rival', r.record_key
        from person_records pr
        join il on il.own = pr.record_key
        join person_records q on q.record_key = il.other and q.person_id <> pr.person_id
        join current_records r on r.record_key = il.other and r.kind <> 'location'
        left join pdiff xd on xd.person_id = pr.person_id and xd.record_key = r.record_key
        where pr.kind in ({own}) and xd.person_id is null {person_filter}
        group by pr.person_id, r.record_key""")
    links_sql = " union all ".join(parts)
    fcols = ", ".join(f"case when b.via = 'rival' then '{RIVAL_KIND}' else r.kind end"
                      if c == "kind" else f'r."{c}"' for c in FACT_COLUMNS)
    return f"""
        with {pdiff}
        links as ({links_sql}),
        best as (select distinct on (person_id, record_key) person_id, p, via, record_key
                 from links order by person_id, record_key, via_rank, p desc)
        select b.person_id, b.p, b.via, {fcols}
        from best b join current_records r on r.record_key = b.record_key
        where r.kind in ({kinds_sql}) or b.via = 'rival'
        order by b.person_id, r.record_key"""


def _rows(ws: Workspace, sql: str, params: Any = None) -> Iterator[tuple[Any, ...]]:
    """Rows of a query, column-wise through Arrow (much faster than fetchall on wide rows)."""
    tbl = ws.con.sql(sql, params=params or None).to_arrow_table()
    cols = [tbl.column(i).to_pylist() for i in range(tbl.num_columns)]
    return zip(*cols, strict=True) if cols else iter(())


def _fact(row: tuple[Any, ...]) -> Fact:
    f = dict(zip(FACT_COLUMNS, row[3:], strict=True))
    f["link_probability"] = 1.0 if row[1] is None else float(row[1])
    f["linked_via"] = row[2]
    return f


def load_person_facts(ws: Workspace, person_id: str, kinds: Sequence[str] = GATE_KINDS
                      ) -> PersonFacts | None:
    """One person's facts on current data (None when the person does not exist)."""
    require_resolution(ws)
    p = ws.con.execute("select person_id, confidence from persons where person_id = ?",
                       [person_id]).fetchall()
    if not p:
        return None
    sql = _facts_sql("and pr.person_id = $pid", kinds, ws.has_table("identity_decisions"),
                     ws.has_table("identity_links"))
    facts = [_fact(r) for r in _rows(ws, sql, {"pid": person_id})]
    return PersonFacts(person_id, None if p[0][1] is None else float(p[0][1]), facts)


def iter_person_facts(ws: Workspace, kinds: Sequence[str] = GATE_KINDS,
                      person_ids: Sequence[str] | None = None) -> Iterator[PersonFacts]:
    """Every person (sorted by id) with their facts: two queries, merged in one pass."""
    require_resolution(ws)
    where = ""
    if person_ids is not None:
        ws.con.execute("create or replace temp table _cg_pids as select unnest(?) as person_id",
                       [list(person_ids)])
        where = "and pr.person_id in (select person_id from _cg_pids)"
    persons = list(_rows(ws, "select person_id, confidence from persons "
                             + ("where person_id in (select person_id from _cg_pids) "
                                if person_ids is not None else "")
                             + "order by person_id"))
    facts = _rows(ws, _facts_sql(where, kinds, ws.has_table("identity_decisions"),
                                 ws.has_table("identity_links")))
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
