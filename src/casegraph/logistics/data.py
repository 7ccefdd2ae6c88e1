"""Reading the planner's inputs out of the warehouse.

- facilities and transport legs: ``current_records`` of kinds ``facility`` / ``transport_leg``;
- detainees: open ``detention`` records, mapped to persons through ``person_records``
  (nationality from the person's canonical value, else the detention record);
- eligibility for scheduling: every policy gate with custody itself set aside (a detainee
  is in custody by definition, so "not already resolved" fails for all of them by design).
  Fresh by default: the detainees' current facts, minus their detention records, go
  through the policy room's own gate functions (``policy.facts.iter_person_facts`` +
  ``policy.gates.evaluate``, the bulk form of ``policy.score.evaluate_person``), so a stay
  granted after the last scoring run still takes the person off the plan, and a detainee
  recorded as removed or verified departed is still blocked. ``eligibility_source:
  latest_run`` reads the latest run's ``gate_results`` instead, ignoring ``custody_gates``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from casegraph.logistics.config import LogisticsConfig
from casegraph.logistics.model import Detainee, Facility, Leg
from casegraph.workspace import Workspace


class LogisticsDataError(Exception):
    """The workspace lacks what the planner needs (the CLI turns it into a UserError)."""


def _require(ws: Workspace, *tables: str) -> None:
    for t in tables:
        if not ws.has_table(t):
            hint = {"current_records": "casegraph ingest", "person_records": "casegraph resolve",
                    "persons": "casegraph resolve"}.get(t, "the pipeline")
            raise LogisticsDataError(f"the workspace has no `{t}` table yet: run `{hint}` first")


def load_facilities(ws: Workspace) -> dict[str, Facility]:
    _require(ws, "current_records")
    out: dict[str, Facility] = {}
    for r in ws.query("""select facility_id, name, capacity, locality, region, latitude, longitude
                         from current_records where kind = 'facility' and facility_id is not null
                         order by facility_id, loaded_at"""):
        out[r["facility_id"]] = Facility(**r)  # a later version of the same facility wins
    return out


def load_legs(ws: Workspace, date_from: dt.date | None = None, date_to: dt.date | None = None
              ) -> list[Leg]:
    _require(ws, "current_records")
    where, params = "", []
    if date_from is not None and date_to is not None:
        where = "and cast(departs_at as date) between ? and ?"
        params = [date_from, date_to]
    rows = ws.query(f"""select leg_id, destination_country, departs_at, seats, origin, mode, cost,
                               locality as origin_locality, region as origin_region
                        from current_records where kind = 'transport_leg' and leg_id is not null
                          and departs_at is not null and seats is not null {where}
                        order by departs_at, leg_id""", params)
    seen: dict[str, Leg] = {}
    for r in rows:
        seen[r["leg_id"]] = Leg(**r)
    return sorted(seen.values(), key=lambda leg: (leg.departs_at, leg.leg_id))


def load_detainees(ws: Workspace, date_from: dt.date, date_to: dt.date | None = None
                   ) -> list[Detainee]:
    """People in custody at some point of [date_from, date_to] (one entry per person).

    A person with several open detention records (two systems reporting the same stay)
    takes the latest book-in as their facility and document status; a hold on any of
    them holds the person.
    """
    _require(ws, "current_records", "person_records", "persons")
    date_to = date_to or date_from
    rows = ws.query("""
        select r.record_key, pr.person_id, r.facility_id, r.book_in_date, r.book_out_date,
               r.travel_document, coalesce(r.medical_hold, false) as medical_hold,
               coalesce(r.legal_hold, false) as legal_hold,
               coalesce(p.nationality, r.nationality) as nationality,
               coalesce(p.full_name, r.full_name) as full_name
        from current_records r
        left join person_records pr on pr.record_key = r.record_key
        left join persons p on p.person_id = pr.person_id
        where r.kind = 'detention' and r.facility_id is not null and r.book_in_date is not null
          and r.book_in_date <= ? and (r.book_out_date is null or r.book_out_date > ?)
        order by coalesce(pr.person_id, r.record_key), r.book_in_date desc, r.record_key""",
        [date_to, date_from])
    out: dict[str, Detainee] = {}
    for r in rows:
        pid = r["person_id"]
        unresolved = pid is None
        if unresolved:
            pid = f"unresolved:{r['record_key']}"
        d = out.get(pid)
        if d is None:
            out[pid] = Detainee(
                person_id=pid, facility_id=r["facility_id"], book_in_date=r["book_in_date"],
                nationality=r["nationality"], record_key=r["record_key"],
                book_out_date=r["book_out_date"] - dt.timedelta(days=1) if r["book_out_date"]
                else None,
                travel_document=r["travel_document"], medical_hold=bool(r["medical_hold"]),
                legal_hold=bool(r["legal_hold"]), full_name=r["full_name"],
                eligibility_known=not unresolved,
                gate_reasons=("record not resolved to a person yet (run resolve)",)
                if unresolved else ())
        else:  # another open record of the same person
            out[pid] = replace(d, medical_hold=d.medical_hold or bool(r["medical_hold"]),
                               legal_hold=d.legal_hold or bool(r["legal_hold"]),
                               nationality=d.nationality or r["nationality"])
    return list(out.values())


# ---- eligibility -----------------------------------------------------------------------

@dataclass
class EligibilityInfo:
    source: str  # 'evaluate' | 'latest_run' | 'none'
    run_id: str | None
    policy_version: str | None
    blocking: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]  # person -> (gates, reasons)


def detainee_eligibility(ws: Workspace, person_ids: Sequence[str], as_of: dt.date,
                         cfg: LogisticsConfig) -> EligibilityInfo:
    """Per person: the gates that do not pass once custody itself is set aside, with reasons.

    ``evaluate`` (default when the policy package is present): the gates on current facts
    without the detention records. ``latest_run``: the stored verdicts of the latest run,
    ignoring ``custody_gates`` wholesale (a stored verdict cannot be split into its custody
    and removed/departed parts). Persons absent from the result have no eligibility
    decision (never silently eligible).
    """
    ignore = set(cfg.custody_gates)
    source = cfg.eligibility_source
    if source in ("auto", "evaluate"):
        try:
            from casegraph.policy.facts import iter_person_facts
            from casegraph.policy.gates import PASS
            from casegraph.policy.gates import evaluate as evaluate_gates
            from casegraph.policy.score import latest_run, run_policy
        except ImportError:
            if source == "evaluate":
                raise LogisticsDataError("eligibility_source is `evaluate` but the policy "
                                         "package is not available") from None
        else:
            run = latest_run(ws)
            lp = run_policy(ws, run)
            out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
            ids = [p for p in person_ids if not p.startswith("unresolved:")]
            if ids:
                for pf in iter_person_facts(ws, person_ids=sorted(ids)):
                    # Being in custody is the premise here, not a blocker: evaluate without
                    # the detention records, so the custody part of "not already resolved"
                    # is neutral while its other parts (removed, verified departed) and
                    # every other gate still count. (Detention records feed no other gate.)
                    pf.facts = [f for f in pf.facts if f["kind"] != "detention"]
                    res = evaluate_gates(pf, as_of, lp.policy.gates)
                    bad = [r for r in res if r.verdict != PASS]
                    out[pf.person_id] = (tuple(r.gate for r in bad),
                                         tuple(f"{r.gate}: {r.verdict}: {r.reason}" for r in bad))
            return EligibilityInfo("evaluate", run["run_id"] if run else None, lp.version, out)
    # latest stored run
    if not (ws.has_table("score_runs") and ws.has_table("gate_results")):
        return EligibilityInfo("none", None, None, {})
    runs = ws.query("select run_id, policy_version from score_runs "
                    "order by created_at desc, run_id desc limit 1")
    if not runs:
        return EligibilityInfo("none", None, None, {})
    run_id = runs[0]["run_id"]
    ws.con.execute("create or replace temp table _lg_pids as select unnest(?) as person_id",
                   [list(person_ids)])
    rows = ws.query("""select g.person_id, g.gate, g.verdict, g.reason from gate_results g
                       join _lg_pids p using (person_id) where g.run_id = ?
                       order by g.person_id, g.gate""", [run_id])
    out = {}
    for r in rows:
        gates, reasons = out.setdefault(r["person_id"], ((), ()))
        if r["verdict"] != "pass" and r["gate"] not in ignore:
            out[r["person_id"]] = (gates + (r["gate"],),
                                   reasons + (f"{r['gate']}: {r['verdict']}: {r['reason']}",))
    return EligibilityInfo("latest_run", run_id, runs[0]["policy_version"], out)


def apply_eligibility(detainees: list[Detainee], info: EligibilityInfo) -> list[Detainee]:
    out = []
    for d in detainees:
        if not d.eligibility_known:
            out.append(d)
            continue
        b = info.blocking.get(d.person_id)
        if b is None:
            out.append(replace(d, eligibility_known=False))
        else:
            out.append(replace(d, blocking_gates=b[0], gate_reasons=b[1]))
    return out


def load_problem_inputs(ws: Workspace, date_from: dt.date, date_to: dt.date,
                        cfg: LogisticsConfig) -> tuple[list[Detainee], list[Leg],
                                                       dict[str, Facility], EligibilityInfo]:
    detainees = load_detainees(ws, date_from, date_to)
    info = detainee_eligibility(ws, [d.person_id for d in detainees], date_from, cfg)
    return (apply_eligibility(detainees, info), load_legs(ws, date_from, date_to),
            load_facilities(ws), info)


def as_rows(objs: Sequence[Any]) -> list[dict[str, Any]]:
    from dataclasses import asdict

    return [asdict(o) for o in objs]
