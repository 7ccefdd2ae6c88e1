"""Location leads: one lead per eligible person, with up to N ranked place candidates.

For each eligible person of a scoring run, every address on a record linked to them
(location observations, bookings, orders, any kind that carries an address) is normalised
and geocoded (:mod:`casegraph.leads.address`), grouped by place, and scored:

    observation weight  w = reliability(source, kind) * 0.5 ** (age_days / half_life) * link_p
    per system          s = 1 - (1 - max w) * prod(1 - repeat_weight * w_other)
    place confidence    100 * (1 - prod over systems (1 - s))

so that independent systems agreeing raise confidence much more than one system
repeating itself. ``link_p`` is the record's link probability to the person, so a record
linked at 0.92 counts less than one at 0.999. Candidates carry their evidence, the age of the
newest evidence and the flags ``stale``, ``shared_address``, ``sensitive_site`` and
``uncertain_identity``: every evidence record is only uncertainly this person's (linked below
``uncertain_identity.min_link_probability``, or with an open link to another person's record,
:mod:`casegraph.leads.identity`); such a candidate's confidence is capped at
``uncertain_identity.max_confidence``, so an address that may be someone else's is never
proposed with high confidence. Leads are stored with status
``proposed``; a supervisor approves them through case management.

Only people whose stored eligibility is true for the run get a lead: this module never
re-decides eligibility and has no path around the gates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from rich.table import Table

from casegraph.leads.address import Address, SiteIndex, normalise_address
from casegraph.leads.identity import load_rivals
from casegraph.policy.config import LeadsPolicy
from casegraph.policy.facts import require_resolution
from casegraph.policy.score import latest_run, run_policy
from casegraph.workspace import Workspace

Progress = Callable[[int, int], None]

DDL = """create table if not exists leads (
    lead_id varchar, run_id varchar, person_id varchar, status varchar, priority_score double,
    confidence double, address varchar, candidates json, flags json, created_at timestamp,
    latitude double, longitude double, rank integer)"""

ADDRESS_COLUMNS = ("street_number", "street", "street_address", "unit", "locality", "region",
                   "postcode", "latitude", "longitude")
#: Kinds whose address is not where the person lives or can be found.
NO_ADDRESS_KINDS = ("departure", "facility", "transport_leg", "sensitive_site")


class NoScoreRun(RuntimeError):
    """No scoring run exists yet."""


def ensure_tables(ws: Workspace) -> None:
    ws.con.execute(DDL)


@dataclass(slots=True)
class Observation:
    record_key: str
    source: str
    kind: str              # location_kind for location records, else the record kind
    observed_on: dt.date | None
    link_probability: float
    address: Address


@dataclass
class LeadsReport:
    run_id: str
    as_of: dt.date
    policy_version: str
    eligible: int = 0
    leads: int = 0
    with_location: int = 0
    flags: Counter = field(default_factory=Counter)
    top: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(),
                "policy_version": self.policy_version, "eligible": self.eligible,
                "leads": self.leads, "with_location": self.with_location,
                "flags": dict(self.flags), "top": self.top, "message": self.message}

    def __rich__(self) -> Table:
        t = Table(title=f"Leads as of {self.as_of} (run {self.run_id}): {self.leads:,} proposed, "
                        f"{self.with_location:,} with a location"
                        + (f" — {self.message}" if self.message else ""))
        for c in ("#", "person", "priority", "conf", "address", "why", "flags"):
            t.add_column(c, overflow="fold")
        for i, ld in enumerate(self.top, 1):
            why = ", ".join(f"{c['factor']} {c['points']:g}" for c in ld.get("contributions", [])
                            [:3])
            t.add_row(str(i), ld["person_id"], f"{ld['priority_score']:g}",
                      f"{ld['confidence']:.0f}", ld.get("address") or "-", why or "-",
                      ", ".join(ld.get("flags", [])) or "")
        if self.flags:
            t.caption = "flags: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.flags.items()))
        return t


def lead_id(run_id: str, person_id: str) -> str:
    return "L-" + hashlib.sha1(f"{run_id}|{person_id}".encode()).hexdigest()[:12]


def observations_sql() -> str:
    """SQL (DuckDB dialect): every linked record that carries an address, by person."""
    cols = ", ".join(f'r."{c}"' for c in ADDRESS_COLUMNS)
    no = ", ".join(f"'{k}'" for k in NO_ADDRESS_KINDS)
    return f"""
        select pr.person_id, pr.match_probability, r.record_key, r.source, r.kind,
               r.location_kind,
               coalesce(r.observed_on, r.encounter_date, r.book_in_date, r.conviction_date,
                        r.order_date, r.event_date, r.status_date) as obs_date, {cols}
        from person_records pr join current_records r on r.record_key = pr.record_key
        where r.kind not in ({no}) and (r.street_address is not null or r.street is not null
              or r.postcode is not null)
        order by pr.person_id, r.record_key"""


def observations_from_rows(rows: Iterable[tuple[Any, ...]], as_of: dt.date
                           ) -> dict[str, list[Observation]]:
    """Usable, normalised observations from :func:`observations_sql` rows (in row order)."""
    out: dict[str, list[Observation]] = defaultdict(list)
    cache: dict[tuple[Any, ...], Address | None] = {}
    for row in rows:
        pid, p, key, source, kind, lkind, when = row[:7]
        if when is not None and when > as_of:
            continue
        addr_vals = row[7:]
        a = cache.get(addr_vals)
        if a is None and addr_vals not in cache:
            a = normalise_address(dict(zip(ADDRESS_COLUMNS, addr_vals, strict=True)))
            cache[addr_vals] = a
        if a is None or not a.usable:
            continue
        label = (lkind or "residence") if kind == "location" else kind
        out[pid].append(Observation(key, source, label, when,
                                    1.0 if p is None else float(p), a))
    return out


def family_names(ws: Workspace) -> dict[str, str | None]:
    return {r[0]: r[1] for r in ws.con.execute(
        "select person_id, family_name from persons").fetchall()}


LoadObservations = Callable[[Workspace, dt.date],
                            tuple[dict[str, list[Observation]], dict[str, str | None]]]


def _load_observations(ws: Workspace, as_of: dt.date) -> tuple[dict[str, list[Observation]],
                                                             dict[str, str | None]]:
    """Address observations of every person (for the eligible and for shared counts)."""
    tbl = ws.con.sql(observations_sql()).to_arrow_table()
    data = [tbl.column(i).to_pylist() for i in range(tbl.num_columns)]
    return observations_from_rows(zip(*data, strict=True), as_of), family_names(ws)


def _merge_zipless(obs: list[Observation]) -> dict[str, list[Observation]]:
    """Group one person's observations by building; a ZIP-less address joins a ZIP'd group
    with the same number, street (and city, when both have one)."""
    groups: dict[str, list[Observation]] = defaultdict(list)
    by_street: dict[str, list[tuple[str, Address]]] = defaultdict(list)
    for o in obs:
        if o.address.zip5:
            groups[o.address.building_key].append(o)
            by_street[f"{o.address.number}|{o.address.street}"].append(
                (o.address.building_key, o.address))
    for o in obs:
        if o.address.zip5:
            continue
        cands = by_street.get(f"{o.address.number}|{o.address.street}", [])
        match = next((k for k, a in cands if not o.address.city or a.city == o.address.city),
                     None)
        groups[match or o.address.building_key].append(o)
    return groups


def _decay(age_days: int | None, cfg: LeadsPolicy) -> float:
    if age_days is None:     # undated: as old as the staleness horizon
        age_days = cfg.stale_after_days
    return 0.5 ** (max(age_days, 0) / cfg.half_life_days)


def score_candidates(obs: list[Observation], as_of: dt.date, cfg: LeadsPolicy,
                     shared_counts: dict[str, int] | None = None,
                     sites: SiteIndex | None = None,
                     rivals: dict[str, tuple[float, str]] | None = None) -> list[dict[str, Any]]:
    """Ranked place candidates (best first, at most ``cfg.max_candidates``) for one person.

    ``rivals``: this person's records with an open uncertain link to another person's record
    (record_key -> (probability, that person), :func:`casegraph.leads.identity.load_rivals`).
    """
    cands = []
    ui = cfg.uncertain_identity
    rivals = rivals or {}
    for group in _merge_zipless(obs).values():
        by_source: dict[str, list[float]] = defaultdict(list)
        ev = []
        uncertain = 0
        for o in group:
            age = (as_of - o.observed_on).days if o.observed_on else None
            rel = cfg.reliability(o.source, o.kind)
            w = rel * _decay(age, cfg) * o.link_probability
            by_source[o.source].append(w)
            rival = rivals.get(o.record_key)
            unsure = o.link_probability < ui.min_link_probability or rival is not None
            uncertain += unsure
            e = {"record_key": o.record_key, "source": o.source, "kind": o.kind,
                 "observed_on": o.observed_on.isoformat() if o.observed_on else None,
                 "reliability": rel, "link_probability": round(o.link_probability, 4),
                 "weight": round(w, 4), "uncertain_identity": unsure}
            if rival is not None:
                e["rival"] = {"person_id": rival[1], "probability": round(rival[0], 4)}
            ev.append(e)
        miss = 1.0
        for ws_ in by_source.values():
            ws_.sort(reverse=True)
            m = 1.0 - ws_[0]
            for w in ws_[1:]:
                m *= 1.0 - cfg.repeat_weight * w
            miss *= m      # independent systems: noisy-OR
        conf = round(100.0 * (1.0 - miss), 1)
        unsure_identity = uncertain == len(group)
        if unsure_identity:
            conf = min(conf, float(ui.max_confidence))
        dated = [o for o in group if o.observed_on]
        newest = max((o.observed_on for o in dated), default=None)
        best = max(group, key=lambda o: (o.observed_on or dt.date.min, bool(o.address.zip5),
                                         bool(o.address.unit), o.record_key))
        a = best.address
        age = (as_of - newest).days if newest else None
        flags = []
        if age is None or age > cfg.stale_after_days:
            flags.append("stale")
        shared = (shared_counts or {}).get(a.unit_key, 0)
        if shared >= cfg.shared_address_min_persons:
            flags.append("shared_address")
        near = []
        if sites is not None and a.latitude is not None:
            for d, s in sites.near(a.latitude, a.longitude)[:3]:
                near.append({"record_key": s["record_key"], "name": s.get("name"),
                             "site_kind": s.get("site_kind"), "distance_m": round(d),
                             "approximate": a.precision != "point"})
            if near:
                flags.append("sensitive_site")
        ev.sort(key=lambda e: (e["observed_on"] or "", e["record_key"]), reverse=True)
        workplace = all(o.kind in cfg.workplace_kinds for o in group)
        if workplace:
            flags.append("workplace")
        if unsure_identity:
            flags.append("uncertain_identity")
        cands.append({
            "address": a.display, "place_key": a.building_key, "place_type":
                "workplace" if workplace else "residence",
            "locality": a.city.title() or None, "region": a.state.upper() or None,
            "postcode": a.zip5 or None,
            "latitude": a.latitude, "longitude": a.longitude, "geocode_precision": a.precision,
            "confidence": conf, "newest_evidence": newest.isoformat() if newest else None,
            "age_days": age, "sources": sorted(by_source), "observations": len(group),
            "persons_at_address": shared, "uncertain_evidence": uncertain, "flags": flags, "sensitive_sites": near,
            "evidence": ev[:10]})
    # where the person lives first (a workplace is where they can be found by day, and is
    # listed after the homes unless the policy says otherwise), then by confidence
    cands.sort(key=lambda c: (cfg.workplace_last and c["place_type"] == "workplace",
                              -c["confidence"], -(c["age_days"] is not None),
                              c["age_days"] or 0, c["place_key"]))
    for i, c in enumerate(cands, 1):
        c["rank"] = i
    return cands[: cfg.max_candidates]


def _load_sites(ws: Workspace) -> list[dict[str, Any]]:
    rows = ws.query("""select record_key, name, site_kind, latitude, longitude, street_number,
                              street, street_address, unit, locality, region, postcode
                       from current_records where kind = 'sensitive_site'""")
    for r in rows:
        if r["latitude"] is None or r["longitude"] is None:
            a = normalise_address(r)
            if a is not None and a.latitude is not None:
                r["latitude"], r["longitude"] = a.latitude, a.longitude
    return rows


def build_leads(ws: Workspace, run_id: str | None = None, *, progress: Progress | None = None,
                top: int = 10, observations: LoadObservations | None = None) -> LeadsReport:
    """Build (or rebuild) the leads of a scoring run (default: the latest run).

    ``observations`` is the engine that loads and normalises every person's address
    observations (default: in process; the Spark engine runs it on the executors).

    Raises:
        NoScoreRun: when no scoring run exists (score first).
    """
    require_resolution(ws)
    ensure_tables(ws)
    run = latest_run(ws) if run_id is None else next(iter(ws.query(
        "select * from score_runs where run_id = ?", [run_id])), None)
    if run is None:
        raise NoScoreRun("no scoring run yet: run `casegraph score` first"
                         if run_id is None else f"no scoring run {run_id}")
    lp = run_policy(ws, run)
    cfg = lp.policy.leads
    as_of: dt.date = run["as_of"]
    rid = run["run_id"]
    report = LeadsReport(rid, as_of, run["policy_version"])

    elig = ws.query("""select e.person_id, e.flags, coalesce(p.score, 0) as score,
                              p.contributions
                       from eligibility e left join priority p
                         on p.run_id = e.run_id and p.person_id = e.person_id
                       where e.run_id = ? and e.eligible order by e.person_id""", [rid])
    report.eligible = len(elig)
    obs, family = (observations or _load_observations)(ws, as_of) if elig else ({}, {})

    # persons at each address (unit level) now: the address is their latest home, or they were
    # seen there within the staleness window. Unrelated people = distinct family names.
    shared: dict[str, set[str]] = defaultdict(set)
    for pid, olist in obs.items():
        who = (family.get(pid) or pid).lower()
        homes = [o for o in olist if o.kind not in cfg.workplace_kinds and o.observed_on]
        if homes:
            shared[max(homes, key=lambda o: o.observed_on).address.unit_key].add(who)
        for o in olist:
            age = (as_of - o.observed_on).days if o.observed_on else None
            if age is not None and age <= cfg.stale_after_days:
                shared[o.address.unit_key].add(who)
    shared_counts = {k: len(v) for k, v in shared.items() if len(v) > 1}
    rivals = (load_rivals(ws, rid, cfg.uncertain_identity.rival_min_probability)
              if elig else {})
    sites = None
    if cfg.sensitive_sites.enabled and elig:
        site_rows = _load_sites(ws)
        if site_rows:
            sites = SiteIndex(site_rows, cfg.sensitive_sites.distance_m)

    created = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    cols: dict[str, list[Any]] = {k: [] for k in (
        "lead_id", "person_id", "priority_score", "confidence", "address", "candidates",
        "flags", "latitude", "longitude")}
    rows_for_top = []
    for i, e in enumerate(elig, 1):
        pid = e["person_id"]
        cands = score_candidates(obs.get(pid, []), as_of, cfg, shared_counts, sites,
                                 rivals.get(pid))
        flags = list(json.loads(e["flags"] or "[]"))
        if cands:
            flags += [f for f in cands[0]["flags"] if f not in flags]
            report.with_location += 1
        else:
            flags.append("no_location")
        report.flags.update(flags)
        best = cands[0] if cands else None
        cols["lead_id"].append(lead_id(rid, pid))
        cols["person_id"].append(pid)
        cols["priority_score"].append(float(e["score"]))
        cols["confidence"].append(best["confidence"] if best else 0.0)
        cols["address"].append(best["address"] if best else None)
        cols["candidates"].append(json.dumps(cands))
        cols["flags"].append(json.dumps(flags))
        cols["latitude"].append(best["latitude"] if best else None)
        cols["longitude"].append(best["longitude"] if best else None)
        rows_for_top.append((float(e["score"]), best["confidence"] if best else 0.0, pid,
                             e["contributions"], flags, best["address"] if best else None))
        if progress is not None and i % 2000 == 0:
            progress(i, len(elig))
    if progress is not None:
        progress(len(elig), len(elig))

    con = ws.con
    con.execute("begin transaction")
    try:
        con.execute("delete from leads where run_id = ?", [rid])
        if elig:
            con.register("_cg_leads", pa.table(cols))
            con.execute("""insert into leads select lead_id, ?, person_id, 'proposed',
                               priority_score, confidence, address, candidates::json,
                               flags::json, ?, latitude, longitude,
                               row_number() over (order by priority_score desc,
                                                  confidence desc, person_id)::integer
                           from _cg_leads""", [rid, created])
            con.unregister("_cg_leads")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    report.leads = len(elig)
    rows_for_top.sort(key=lambda r: (-r[0], -r[1], r[2]))
    report.top = [{"person_id": pid, "priority_score": s, "confidence": c, "address": a,
                   "flags": f, "contributions": json.loads(ct or "[]")}
                  for s, c, pid, ct, f, a in rows_for_top[:top]]
    if not elig:
        report.message = "no eligible persons in this run"
    return report


def leads_for_run(ws: Workspace, run_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    """A run's stored leads, best first (priority, then location confidence)."""
    ensure_tables(ws)
    sql = ("select l.*, p.contributions from leads l left join priority p "
           "on p.run_id = l.run_id and p.person_id = l.person_id where l.run_id = ? "
           "order by l.priority_score desc, l.confidence desc, l.person_id")
    if limit is not None:
        sql += f" limit {int(limit)}"
    return ws.query(sql, [run_id])
