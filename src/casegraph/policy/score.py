"""Scoring runs: every person through the gates and the priority score, stored per run.

- :func:`run_scoring` evaluates the whole population (facts loaded with one query, gates
  evaluated in one tight loop) and writes ``score_runs``, ``gate_results``, ``eligibility``
  and ``priority``.
- :func:`evaluate_person` re-evaluates one person on current data with the same gate
  functions (used before a lead is approved and before a detainee is scheduled).

Both paths call :func:`casegraph.policy.gates.evaluate`; tests check that they agree.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.table import Table

from casegraph.policy.config import LoadedPolicy, load_policy, parse_policy
from casegraph.policy.facts import (
    PersonFacts,
    iter_person_facts,
    load_person_facts,
    require_resolution,
)
from casegraph.policy.gates import (
    GATE_NAMES,
    GATES,
    PASS,
    GateResult,
    blocking_gates,
    case_view,
    is_eligible,
    result_flags,
)
from casegraph.policy.gates import evaluate as evaluate_gates
from casegraph.policy.priority import score_priority
from casegraph.workspace import Workspace

Progress = Callable[[int, int], None]

DDL = [
    """create table if not exists score_runs (
        run_id varchar primary key, as_of date, policy_version varchar, created_at timestamp,
        policy_origin varchar, policy_text varchar, persons bigint, eligible bigint)""",
    """create table if not exists gate_results (
        run_id varchar, person_id varchar, gate varchar, verdict varchar, reason varchar,
        evidence json, as_of date, policy_version varchar, flags json)""",
    """create table if not exists eligibility (
        run_id varchar, person_id varchar, eligible boolean, blocking json, flags json)""",
    """create table if not exists priority (
        run_id varchar, person_id varchar, score double, contributions json)""",
]


def ensure_tables(ws: Workspace) -> None:
    for stmt in DDL:
        ws.con.execute(stmt)


@dataclass
class ScoreReport:
    """What a scoring run decided, in counts."""

    run_id: str
    as_of: dt.date
    policy_version: str
    persons: int = 0
    eligible: int = 0
    blocked: dict[str, Counter] = field(default_factory=dict)   # gate -> verdict counts
    flags: Counter = field(default_factory=Counter)
    review_queued: int = 0      # identity doubts added to the review queue by this run

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(),
                "policy_version": self.policy_version, "persons": self.persons,
                "eligible": self.eligible,
                "blocked": {g: dict(c) for g, c in self.blocked.items()},
                "flags": dict(self.flags), "review_queued": self.review_queued}

    def __rich__(self) -> Table:
        t = Table(title=f"Eligibility as of {self.as_of} — run {self.run_id}, "
                        f"policy {self.policy_version}")
        t.add_column("gate")
        t.add_column("fail", justify="right")
        t.add_column("needs review", justify="right")
        for g in GATE_NAMES:
            c = self.blocked.get(g, Counter())
            t.add_row(g, f"{c.get('fail', 0):,}", f"{c.get('needs_review', 0):,}")
        t.add_section()
        t.add_row("[bold]eligible[/]", f"[bold]{self.eligible:,}[/] of {self.persons:,}", "")
        for f, n in sorted(self.flags.items()):
            t.add_row(f"flag: {f}", f"{n:,}", "")
        return t


@dataclass(frozen=True)
class PersonEligibility:
    """One person's gates on one date (the single-person path)."""

    person_id: str
    as_of: dt.date
    eligible: bool
    results: list[GateResult]
    flags: list[str]
    policy_version: str
    found: bool = True

    @property
    def blocking(self) -> list[str]:
        return blocking_gates(self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "as_of": self.as_of.isoformat(),
                "eligible": self.eligible, "blocking": self.blocking, "flags": self.flags,
                "policy_version": self.policy_version, "found": self.found,
                "gates": [{"gate": r.gate, "verdict": r.verdict, "reason": r.reason,
                           "evidence": list(r.evidence), "flags": list(r.flags)}
                          for r in self.results]}


@dataclass(frozen=True, slots=True)
class PersonDecision:
    """Everything a scoring run stores for one person (gates, eligibility, priority)."""

    person_id: str
    results: list[GateResult]
    eligible: bool
    blocking: list[str]
    flags: list[str]
    score: float
    contributions: list[dict[str, Any]]


def decide_person(facts: PersonFacts, as_of: dt.date, policy: LoadedPolicy) -> PersonDecision:
    """Gates, eligibility and priority of one person's facts (pure; used by every engine)."""
    cv = case_view(facts, as_of, policy.policy.gates)
    results = [fn(cv) for _, fn in GATES]
    score, contribs = score_priority(cv, policy.policy.priority)
    return PersonDecision(facts.person_id, results, is_eligible(results),
                          blocking_gates(results), result_flags(results), score,
                          [c.as_dict() for c in contribs])


DecideAll = Callable[[Workspace, dt.date, LoadedPolicy], Iterable[PersonDecision]]


def decide_in_process(ws: Workspace, as_of: dt.date, policy: LoadedPolicy
                      ) -> Iterator[PersonDecision]:
    """Every person's decision, in this process (the embedded engine)."""
    for pf in iter_person_facts(ws):
        yield decide_person(pf, as_of, policy)


def latest_run(ws: Workspace) -> dict[str, Any] | None:
    """The latest scoring run (max ``created_at``), or None."""
    if not ws.has_table("score_runs"):
        return None
    rows = ws.query("select * from score_runs order by created_at desc, run_id desc limit 1")
    return rows[0] if rows else None


def run_policy(ws: Workspace, run: dict[str, Any] | None) -> LoadedPolicy:
    """The policy a run used (its stored text), else the packaged default."""
    if run and run.get("policy_text"):
        return parse_policy(run["policy_text"], origin=run.get("policy_origin") or run["run_id"])
    return load_policy(None)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def run_scoring(ws: Workspace, as_of: dt.date | None = None,
                policy_path: str | Path | None = None, *,
                policy: LoadedPolicy | None = None, progress: Progress | None = None,
                decide_all: DecideAll | None = None) -> ScoreReport:
    """Evaluate every person on ``as_of`` (default today) and store the run.

    Args:
        ws: the workspace (needs ``persons``, ``person_records``, ``current_records``).
        as_of: decision date; every date comparison uses it.
        policy_path: a policy YAML replacing the packaged default.
        policy: an already loaded policy (wins over ``policy_path``).
        progress: called as ``progress(done, total)`` while persons are evaluated.
        decide_all: the engine that decides every person (default: in process, facts from
            the warehouse). The Spark engine passes one that runs :func:`decide_person` on
            the executors; storing the run is the same whichever engine decided.

    Returns:
        A :class:`ScoreReport` (counts per gate and verdict).
    """
    require_resolution(ws)
    ensure_tables(ws)
    as_of = as_of or _today()
    lp = policy or load_policy(policy_path)
    run_id = f"S-{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    report = ScoreReport(run_id, as_of, lp.version, blocked={g: Counter() for g in GATE_NAMES})
    total = ws.con.execute("select count(*) from persons").fetchall()[0][0]

    def dumps(items: tuple[str, ...] | list[str], _d: Any = json.dumps) -> str:
        return _d(list(items)) if items else "[]"

    people: list[tuple[str, list[GateResult]]] = []
    e_cols: dict[str, list[Any]] = {k: [] for k in ("person_id", "eligible", "blocking", "flags")}
    p_cols: dict[str, list[Any]] = {k: [] for k in ("person_id", "score", "contributions")}
    n = 0
    for d in (decide_all or decide_in_process)(ws, as_of, lp):
        pid, ok, flags = d.person_id, d.eligible, d.flags
        people.append((pid, d.results))
        e_cols["person_id"].append(pid)
        e_cols["eligible"].append(ok)
        e_cols["blocking"].append(dumps(d.blocking))
        e_cols["flags"].append(dumps(flags))
        p_cols["person_id"].append(pid)
        p_cols["score"].append(d.score)
        p_cols["contributions"].append(json.dumps(d.contributions) if d.contributions else "[]")
        report.eligible += ok
        if ok:
            report.flags.update(flags)
        n += 1
        if progress is not None and n % 2000 == 0:
            progress(n, total)
    if progress is not None:
        progress(n, total)
    report.persons = n
    every = [r for _, rs in people for r in rs]
    for r in every:
        if r.verdict != PASS:
            report.blocked[r.gate][r.verdict] += 1
    g_cols = {
        "person_id": [pid for pid, rs in people for _ in rs],
        "gate": [r.gate for r in every],
        "verdict": [r.verdict for r in every],
        "reason": [r.reason for r in every],
        "evidence": [dumps(r.evidence) for r in every],
        "flags": [dumps(r.flags) for r in every],
    }
    del people, every

    created = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con = ws.con
    con.execute("begin transaction")
    try:
        con.execute("insert into score_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, as_of, lp.version, created, lp.origin, lp.text, report.persons,
                     report.eligible])
        gt = pa.table(g_cols)
        con.register("_cg_gates", gt)
        con.execute("insert into gate_results select ?, person_id, gate, verdict, reason, "
                    "evidence::json, ?, ?, flags::json from _cg_gates",
                    [run_id, as_of, lp.version])
        con.unregister("_cg_gates")
        et = pa.table(e_cols)
        con.register("_cg_elig", et)
        con.execute("insert into eligibility select ?, person_id, eligible, blocking::json, "
                    "flags::json from _cg_elig", [run_id])
        con.unregister("_cg_elig")
        pt = pa.table(p_cols)
        con.register("_cg_prio", pt)
        con.execute("insert into priority select ?, person_id, score, contributions::json "
                    "from _cg_prio", [run_id])
        con.unregister("_cg_prio")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    report.review_queued = queue_identity_doubts(ws, run_id)
    rank_review_queue(ws, run_id)
    return report


_DECIDING = re.compile(r"^(?:decides eligibility of (\S+?): |"
                       r"would decide eligibility of (\S+?) \(now fails [^)]*\): )(.*)$", re.DOTALL)


def rank_review_queue(ws: Workspace, run_id: str) -> int:
    """Re-rank the open review items that decide a person's eligibility by this run.

    An item stays "decides eligibility of P" while P fails no gate; while P fails another
    gate anyway (a stay on P's own records, say) it becomes "would decide eligibility of P
    (now fails ...)" and is listed after the items that decide eligibility now -- and moves
    back when P's blocker goes away. Returns the number of items rewritten.
    """
    if not ws.has_table("identity_review"):
        return 0
    from casegraph.resolve.outputs import DECIDES, WOULD_DECIDE

    fails: dict[str, list[str]] = {}
    for pid, gate in ws.con.execute("select person_id, gate from gate_results where run_id = ? "
                                    "and verdict = 'fail' order by person_id, gate",
                                    [run_id]).fetchall():
        fails.setdefault(pid, []).append(gate)
    changes = []
    for rid, reason in ws.con.execute(
            "select review_id, reason from identity_review where status = 'open' and "
            f"(starts_with(reason, '{DECIDES}') or starts_with(reason, '{WOULD_DECIDE}'))"
            ).fetchall():
        m = _DECIDING.match(reason)
        if m is None:
            continue
        pid, rest = m.group(1) or m.group(2), m.group(3)
        gates = fails.get(pid)
        new = (f"{WOULD_DECIDE} of {pid} (now fails {', '.join(gates)}): {rest}" if gates
               else f"{DECIDES} of {pid}: {rest}")
        if new != reason:
            changes.append((new, rid))
    if changes:
        ws.con.executemany("update identity_review set reason = ? where review_id = ?", changes)
    return len(changes)


def queue_identity_doubts(ws: Workspace, run_id: str) -> int:
    """Put the identity doubts that decide someone's eligibility in the review queue.

    For every person whose only obstacle is review (no gate fails) and whose identity gate
    needs review with evidence -- a record that may be theirs and carries a blocking fact,
    or another person's strongly matching record -- pair each evidence record with the
    person's removal order and queue it (unless queued or decided already). Resolve queues
    the scored links itself; this adds the ones only the gates find (shared or near
    A-number, namesake with a compatible birth date). A reviewer's ``different`` on such a
    pair keeps the record away from the person in every later run.

    Returns the number of items added (0 when the workspace has no review queue).
    """
    if not ws.has_table("identity_review") or not ws.has_table("identity_decisions"):
        return 0
    from casegraph.resolve.outputs import DECIDES, pair_key, review_id_for

    rows = ws.con.execute("""
        with g as (select person_id, reason, evidence from gate_results
                   where run_id = ? and gate = 'identity_confidence' and verdict = 'needs_review'),
        ok as (select person_id from gate_results where run_id = ? group by 1
               having count(*) filter (where verdict = 'fail') = 0),
        anchor as (select person_id, min(record_key) k from person_records
                   where kind = 'removal_order' group by 1),
        ev as (select g.person_id, g.reason,
                      unnest(cast(json_extract_string(g.evidence, '$[*]') as varchar[])) other
               from g join ok on ok.person_id = g.person_id),
        covered as (   -- an item already pairs the record with one of the person's records
            select p.person_id, v.record_key_r as other from identity_review v
            join person_records p on p.record_key = v.record_key_l
            union all
            select p.person_id, v.record_key_l from identity_review v
            join person_records p on p.record_key = v.record_key_r)
        select ev.person_id, a.k, ev.other, ev.reason
        from ev join anchor a on a.person_id = ev.person_id
        left join person_records own on own.record_key = ev.other
             and own.person_id = ev.person_id
        left join covered c on c.person_id = ev.person_id and c.other = ev.other
        where own.record_key is null and c.person_id is null
        order by ev.person_id, ev.other""", [run_id, run_id]).fetchall()
    if not rows:
        return 0
    seen = {pair_key(l, r) for l, r in ws.con.execute(
        "select record_key_l, record_key_r from identity_review union all "
        "select record_key_l, record_key_r from identity_decisions").fetchall()}
    out = []
    for pid, anchor, other, reason in rows:
        key = pair_key(anchor, other)
        if key in seen:
            continue
        seen.add(key)
        out.append((review_id_for(*key), key[0], key[1], 0.5, None, "open", run_id,
                    f"{DECIDES} of {pid}: {reason}", None))
    if out:
        ws.con.executemany("insert into identity_review values (?, ?, ?, ?, ?, ?, ?, ?, ?)", out)
    return len(out)


def evaluate_person(ws: Workspace, person_id: str, as_of: dt.date | None = None, *,
                    policy: LoadedPolicy | None = None) -> PersonEligibility:
    """Re-evaluate one person on current data (default: today, the latest run's policy).

    A person who no longer exists (merged or split by a later resolve run) is returned
    not eligible with ``found=False`` -- never silently eligible.
    """
    as_of = as_of or _today()
    lp = policy or run_policy(ws, latest_run(ws))
    pf = load_person_facts(ws, person_id)
    if pf is None:
        return PersonEligibility(person_id, as_of, False, [], [], lp.version, found=False)
    results = evaluate_gates(pf, as_of, lp.policy.gates)
    return PersonEligibility(person_id, as_of, is_eligible(results), results,
                             result_flags(results), lp.version)


def stored_results(ws: Workspace, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """A run's gate results by person (for comparisons and explanations)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in ws.query("select person_id, gate, verdict, reason, evidence, flags from gate_results"
                      " where run_id = ? order by person_id", [run_id]):
        out.setdefault(r["person_id"], []).append(r)
    order = {g: i for i, g in enumerate(GATE_NAMES)}
    for rows in out.values():
        rows.sort(key=lambda r: order.get(r["gate"], len(order)))
    return out
