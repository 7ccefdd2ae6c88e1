"""Which address records are only uncertainly the person's (the ``uncertain_identity`` flag).

A lead sends officers to an address; the address is only as much this person's as the record
that carries it. Resolution says how sure it is in two places:

- ``person_records.match_probability``: the record's link to its own person (carried on each
  :class:`~casegraph.leads.build.Observation` as ``link_probability``);
- ``identity_links`` (scored links at or above the review band between records of
  *different* persons) and open ``identity_review`` items: the same record may be another
  person's.

This module reads the second: for the eligible persons of a run, the strongest open link of
each of their records to a record of another person. A reviewer's latest ``different``
decision on the pair settles the doubt (the record is not the other person's). Kept apart
from scoring so that the pure :func:`casegraph.leads.build.score_candidates` takes a plain
mapping and any engine (in process, Spark) can supply it.
"""

from __future__ import annotations

from collections import defaultdict

from casegraph.workspace import Workspace

#: person_id -> record_key -> (strongest rival probability, the rival's person_id)
Rivals = dict[str, dict[str, tuple[float, str]]]


def _links_sql(ws: Workspace) -> str | None:
    """SQL of (own record, other record, probability) for every open uncertain link."""
    parts = []
    if ws.has_table("identity_links"):
        p = "greatest(model_p, coalesce(p, model_p))"
        parts += [f"select record_key_l as k, record_key_r as o, {p} as p from identity_links",
                  f"select record_key_r, record_key_l, {p} from identity_links"]
    if ws.has_table("identity_review"):
        rv = "from identity_review where status = 'open'"
        parts += [f"select record_key_l, record_key_r, match_probability {rv}",
                  f"select record_key_r, record_key_l, match_probability {rv}"]
    return "\nunion all ".join(parts) if parts else None


def load_rivals(ws: Workspace, run_id: str, min_probability: float) -> Rivals:
    """Open links (probability >= ``min_probability``) from the address-bearing records of
    the run's eligible persons to records of *other* persons."""
    links = _links_sql(ws)
    if links is None:
        return {}
    settled = ""
    if ws.has_table("identity_decisions"):
        settled = """
        left join (select least(record_key_l, record_key_r) a,
                          greatest(record_key_l, record_key_r) b,
                          arg_max(decision, decided_at) d
                   from identity_decisions group by 1, 2) dec
               on dec.a = least(l.k, l.o) and dec.b = greatest(l.k, l.o)
        where dec.d is distinct from 'different'"""
    rows = ws.con.execute(f"""
        with l as ({links})
        , ranked as (
            select pr.person_id, pr.record_key, l.p, q.person_id as rival,
                   -- ties between rivals broken on the rival's record key: person ids are
                   -- names given per run (and per engine), record keys are the data's own
                   row_number() over (partition by pr.person_id, pr.record_key
                                      order by l.p desc, l.o) as n
            from (select * from l {settled}) l
            join person_records pr on pr.record_key = l.k
            join person_records q on q.record_key = l.o and q.person_id <> pr.person_id
            join eligibility e on e.person_id = pr.person_id and e.run_id = ? and e.eligible
            where l.p >= ?)
        select person_id, record_key, p, rival from ranked where n = 1""",
        [run_id, min_probability]).fetchall()
    out: Rivals = defaultdict(dict)
    for pid, key, p, rival in rows:
        out[pid][key] = (float(p), rival)
    return dict(out)
