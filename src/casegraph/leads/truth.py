"""Check the pipeline's eligibility and leads against the synthetic generator's truth.

The generator writes ``truth/persons.csv`` (each true person: eligibility at the as-of date,
first failing gate, true current address) and ``truth/records.csv`` (source, record_id,
true person_id). A resolved person maps to the true person owning most of its records.

Reported:
- eligibility agreement over resolved persons (resolved verdict vs the true person's);
- leads truly eligible: the share of leads whose true person is eligible (target 100%:
  a lead for an ineligible person is a defect), and the defects by true failing gate;
- eligible recall: the share of truly eligible persons that got a lead;
- address accuracy: for leads of truly eligible persons, the share whose true current
  address (same building: number, street, ZIP) is the top candidate, and in the top 3.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from casegraph.leads.address import normalise_address
from casegraph.policy.score import latest_run
from casegraph.workspace import Workspace


@dataclass
class TruthReport:
    run_id: str
    resolved_persons: int = 0
    mapped_persons: int = 0
    eligibility_agree: int = 0
    true_eligible: int = 0
    leads: int = 0
    leads_truly_eligible: int = 0
    false_leads_by_gate: Counter = field(default_factory=Counter)
    false_lead_examples: list[dict[str, Any]] = field(default_factory=list)
    eligible_with_lead: int = 0
    address_checked: int = 0
    top1: int = 0
    top3: int = 0
    observed: int = 0     # the true address is on at least one linked record (the ceiling)
    no_candidate: int = 0
    # safeguard flags on correct top candidates: (flagged, truly) counts
    flag_agreement: dict[str, Counter] = field(default_factory=dict)
    # candidates of truly eligible leads whose evidence records are all another true person's
    # (an address that is not this person's): how many, how many flagged `uncertain_identity`,
    # how many still proposed above 50; and right candidates flagged anyway (the flag's cost)
    identity: Counter = field(default_factory=Counter)

    @staticmethod
    def _pct(a: int, b: int) -> float | None:
        return round(100.0 * a / b, 2) if b else None

    def as_dict(self) -> dict[str, Any]:
        p = self._pct
        return {
            "run_id": self.run_id, "resolved_persons": self.resolved_persons,
            "mapped_persons": self.mapped_persons,
            "eligibility_agreement_pct": p(self.eligibility_agree, self.mapped_persons),
            "leads": self.leads, "leads_truly_eligible_pct": p(self.leads_truly_eligible,
                                                                 self.leads),
            "false_leads_by_true_gate": dict(self.false_leads_by_gate),
            "true_eligible": self.true_eligible,
            "eligible_recall_pct": p(self.eligible_with_lead, self.true_eligible),
            "address_checked": self.address_checked,
            "address_top1_pct": p(self.top1, self.address_checked),
            "address_top3_pct": p(self.top3, self.address_checked),
            "address_observed_pct": p(self.observed, self.address_checked),
            "no_candidate": self.no_candidate,
            "flags_on_correct_top1": {k: {"flagged_and_true": c["tp"], "flagged_not_true": c["fp"],
                                          "missed": c["fn"]}
                                      for k, c in self.flag_agreement.items()},
            "other_persons_address": {
                "candidates": self.identity["cands"],
                "other_persons": self.identity["wrong"],
                "other_persons_flagged": self.identity["wrong_flagged"],
                "other_persons_above_50": self.identity["wrong_high"],
                "other_persons_top1_above_50": self.identity["wrong_top1_high"],
                "own_flagged": self.identity["right_flagged"]},
        }

    def __rich__(self) -> Table:
        d = self.as_dict()
        t = Table(title=f"Check against the generator's truth (run {self.run_id})",
                  show_header=False)
        t.add_column("measure")
        t.add_column("value", justify="right")

        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}%"
        t.add_row("eligibility agreement (resolved persons)",
                  f"{pct(d['eligibility_agreement_pct'])} of {self.mapped_persons:,}")
        t.add_row("leads truly eligible (target 100%)",
                  f"{pct(d['leads_truly_eligible_pct'])} of {self.leads:,}")
        if self.false_leads_by_gate:
            t.add_row("  false leads by true failing gate",
                      ", ".join(f"{k} {v}" for k, v in self.false_leads_by_gate.most_common()))
        t.add_row("truly eligible persons with a lead",
                  f"{pct(d['eligible_recall_pct'])} of {self.true_eligible:,}")
        t.add_row("true current address is the top candidate",
                  f"{pct(d['address_top1_pct'])} of {self.address_checked:,}")
        t.add_row("true current address in the top 3", pct(d["address_top3_pct"]))
        t.add_row("  ceiling: true address on any linked record", pct(d["address_observed_pct"]))
        for k, c in self.flag_agreement.items():
            t.add_row(f"flag {k} on correct top candidates",
                      f"{c['tp']} right, {c['fp']} extra, {c['fn']} missed")
        i = self.identity
        t.add_row("candidates from another person's records only",
                  f"{i['wrong']} of {i['cands']}: {i['wrong_flagged']} flagged "
                  f"uncertain_identity, {i['wrong_high']} above 50 "
                  f"({i['wrong_top1_high']} top); own flagged {i['right_flagged']}")
        return t


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def check_against_truth(ws: Workspace, truth: str | Path, run_id: str | None = None
                        ) -> TruthReport:
    """Compare the latest (or given) run's eligibility and leads with ``truth/persons.csv``."""
    truth = Path(truth)
    tdir = truth.parent if truth.is_file() or truth.suffix else truth
    persons_csv = truth if truth.suffix == ".csv" else tdir / "persons.csv"
    records_csv = tdir / "records.csv"
    run = latest_run(ws) if run_id is None else {"run_id": run_id}
    if run is None:
        raise RuntimeError("no scoring run to check: run scoring first")
    rid = run["run_id"]
    rep = TruthReport(rid)

    true_p = {r["person_id"]: r for r in _read_csv(persons_csv)}
    # truly shared: another true person (other family name) has the same current home
    homes: dict[str, set[str]] = {}
    for r in true_p.values():
        a = normalise_address(r)
        if a is not None:
            r["_unit_key"] = a.unit_key
            homes.setdefault(a.unit_key, set()).add((r.get("family_name") or r["person_id"]).lower())
    for r in true_p.values():
        r["_shared"] = "true" if len(homes.get(r.get("_unit_key", ""), ())) > 1 else "false"
    owner = {f"{r['source']}:{r['record_id']}": r["person_id"] for r in _read_csv(records_csv)}
    votes: dict[str, Counter] = {}
    for key, pid in ws.con.execute("select record_key, person_id from person_records").fetchall():
        t = owner.get(key)
        if t is not None:
            votes.setdefault(pid, Counter())[t] += 1
    mapping = {pid: c.most_common(1)[0][0] for pid, c in votes.items()}

    elig = dict(ws.con.execute("select person_id, eligible from eligibility where run_id = ?",
                               [rid]).fetchall())
    rep.resolved_persons = len(elig)
    for pid, ok in elig.items():
        t = mapping.get(pid)
        if t is None or t not in true_p:
            continue
        rep.mapped_persons += 1
        rep.eligibility_agree += bool(ok) == (true_p[t]["eligible"].lower() == "true")
    rep.true_eligible = sum(1 for r in true_p.values() if r["eligible"].lower() == "true")

    leads = ws.query("select person_id, candidates from leads where run_id = ?", [rid])
    from casegraph.leads.build import _load_observations

    as_of = ws.con.execute("select as_of from score_runs where run_id = ?", [rid]).fetchall()
    seen: dict[str, set[str]] = {}
    if leads and as_of:
        obs, _ = _load_observations(ws, as_of[0][0])
        seen = {pid: {o.address.building_key for o in olist} for pid, olist in obs.items()}
    rep.leads = len(leads)
    covered = set()
    for ld in leads:
        t = mapping.get(ld["person_id"])
        tp = true_p.get(t) if t else None
        if tp is None or tp["eligible"].lower() != "true":
            gate = (tp or {}).get("reason") or "unmapped"
            rep.false_leads_by_gate[gate] += 1
            if len(rep.false_lead_examples) < 20:
                rep.false_lead_examples.append({"person_id": ld["person_id"], "true_person": t,
                                                "true_reason": gate,
                                                "scenario": (tp or {}).get("scenario")})
            continue
        rep.leads_truly_eligible += 1
        if t in covered:
            continue
        covered.add(t)
        a = normalise_address({"street_address": tp["street_address"],
                               "locality": tp["locality"], "region": tp["region"],
                               "postcode": tp["postcode"]})
        cands = json.loads(ld["candidates"] or "[]")
        rep.address_checked += 1
        rep.observed += a is not None and a.building_key in seen.get(ld["person_id"], ())
        if not cands:
            rep.no_candidate += 1
            continue
        for rank, c in enumerate(cands):
            ev = [owner.get(e["record_key"]) for e in c.get("evidence", [])]
            wrong = bool(ev) and all(o is not None and o != t for o in ev)
            flagged = "uncertain_identity" in c["flags"]
            rep.identity["cands"] += 1
            rep.identity["wrong"] += wrong
            rep.identity["wrong_flagged"] += wrong and flagged
            rep.identity["wrong_high"] += wrong and c["confidence"] > 50
            rep.identity["wrong_top1_high"] += wrong and rank == 0 and c["confidence"] > 50
            rep.identity["right_flagged"] += not wrong and flagged
        keys = [c["place_key"] for c in cands]
        hit = a is not None and keys[0] == a.building_key
        rep.top1 += hit
        rep.top3 += a is not None and a.building_key in keys[:3]
        if hit:
            for flag, col in (("sensitive_site", "sensitive_site_near"),
                              ("shared_address", "_shared")):
                if col not in tp:
                    continue
                truly = tp[col].lower() == "true"
                got = flag in cands[0]["flags"]
                c = rep.flag_agreement.setdefault(flag, Counter())
                c["tp" if got and truly else "fp" if got else "fn" if truly else "tn"] += 1
    rep.eligible_with_lead = len(covered)
    return rep
