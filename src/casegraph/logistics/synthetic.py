"""A synthetic detention-and-transport scenario, for the benchmark and scale tests.

``synthetic_problem`` builds the planner's input directly (no warehouse);
``write_workspace`` stores the same scenario as canonical records plus minimal
``persons`` / ``person_records`` / ``score_runs`` / ``eligibility`` / ``gate_results``
tables (only those the resolution and policy rooms have not created), so the whole
path ``plan(ws, ...)`` can be timed too.
"""

from __future__ import annotations

import datetime as dt
import json
import random

from casegraph.logistics.config import LogisticsConfig
from casegraph.logistics.model import Detainee, Facility, Leg
from casegraph.logistics.solver import Problem

COUNTRIES = ("MX", "GT", "HN", "SV", "NI", "CO", "EC", "VE", "DO", "HT", "CU", "BR", "PE",
             "IN", "CN", "VN", "PH", "NG", "GH", "SN", "RO", "UA", "JM", "BZ", "CR")
REGIONS = (("TX", ("Houston", "El Paso", "San Antonio", "Laredo")),
           ("AZ", ("Phoenix", "Tucson", "Eloy")), ("CA", ("San Diego", "Adelanto", "Los Angeles")),
           ("LA", ("Alexandria", "Jena")), ("GA", ("Atlanta", "Lumpkin")),
           ("FL", ("Miami", "Krome")), ("NY", ("Batavia", "New York")), ("NM", ("Otero",)))
ORIGINS = (("IAH", "Houston", "TX"), ("ELP", "El Paso", "TX"), ("SAT", "San Antonio", "TX"),
           ("PHX", "Phoenix", "AZ"), ("SAN", "San Diego", "CA"), ("AEX", "Alexandria", "LA"),
           ("ATL", "Atlanta", "GA"), ("MIA", "Miami", "FL"), ("BUF", "Batavia", "NY"),
           ("LRD", "Laredo", "TX"))


def synthetic_problem(detainees: int = 10_000, facilities: int = 40, legs: int = 300,
                      countries: int = 25, days: int = 14, seed: int = 1,
                      date_from: dt.date = dt.date(2026, 3, 2)) -> Problem:
    """A reproducible scenario of the given size (nationalities and legs Zipf-skewed)."""
    rng = random.Random(seed)
    cc = list(COUNTRIES[:countries])
    weights = [1 / (i + 1) ** 0.9 for i in range(len(cc))]
    facs: dict[str, Facility] = {}
    for i in range(facilities):
        region, localities = REGIONS[i % len(REGIONS)]
        fid = f"FAC-{i + 1:03d}"
        facs[fid] = Facility(fid, f"Processing Center {i + 1}", rng.randint(150, 450),
                             rng.choice(localities), region)
    fac_ids = list(facs)
    date_to = date_from + dt.timedelta(days=days - 1)
    people: list[Detainee] = []
    for i in range(detainees):
        nat = rng.choices(cc, weights)[0]
        book_in = date_from - dt.timedelta(days=rng.randint(0, 120))
        if rng.random() < 0.15:
            book_in = date_from + dt.timedelta(days=rng.randint(0, days - 1))
        book_out = None
        if rng.random() < 0.03:
            book_out = date_from + dt.timedelta(days=rng.randint(1, days))
        r = rng.random()
        doc = "ready" if r < 0.85 else ("requested" if r < 0.95 else "none")
        blocking: tuple[str, ...] = ()
        if rng.random() < 0.03:
            blocking = (rng.choice(("no_granted_stay", "no_automatic_stay", "no_lawful_status")),)
        people.append(Detainee(
            person_id=f"P-{i + 1:06d}", facility_id=rng.choice(fac_ids), book_in_date=book_in,
            nationality=nat, record_key=f"detention:D{i + 1:06d}", book_out_date=book_out,
            travel_document=doc, medical_hold=rng.random() < 0.02,
            legal_hold=rng.random() < 0.02, blocking_gates=blocking))
    out_legs: list[Leg] = []
    for i in range(legs):
        dest = rng.choices(cc, weights)[0]
        code, loc, reg = rng.choice(ORIGINS)
        r = rng.random()
        if r < 0.2:
            mode, seats, cost = "charter_air", rng.choice((135, 100, 70)), rng.uniform(9e4, 2.6e5)
        elif r < 0.5:
            mode, seats, cost = "bus", rng.choice((45, 50)), rng.uniform(3.5e3, 8e3)
        else:
            mode, seats = "commercial_air", rng.randint(2, 12)
            cost = seats * rng.uniform(450, 1100)
        if dest in ("MX", "GT") and mode == "commercial_air":
            mode, seats, cost = "bus", 50, rng.uniform(3e3, 9e3)
        departs = dt.datetime.combine(date_from + dt.timedelta(days=rng.randint(0, days - 1)),
                                      dt.time(rng.choice((6, 9, 12, 15, 18))))
        out_legs.append(Leg(f"L-{i + 1:04d}", dest, departs, seats, code, mode, round(cost, 2),
                            loc, reg))
    cfg = LogisticsConfig(third_country={"MX": ["GT", "HN", "SV"]})
    return Problem(people, out_legs, facs, cfg, date_from, date_to)


def write_workspace(ws, p: Problem) -> None:  # type: ignore[no-untyped-def]
    """Store ``p`` in ``ws`` as records (+ stand-in resolution and policy tables)."""
    import pandas as pd

    from casegraph.ontology import RECORD_COLUMN_NAMES
    from casegraph.sources.schema import ensure_tables

    ensure_tables(ws)
    now = dt.datetime(2026, 1, 1)
    rows = []

    def base(source: str, rid: str, kind: str) -> dict:
        r = dict.fromkeys(RECORD_COLUMN_NAMES)
        r.update(source=source, record_id=rid, kind=kind, batch_id="synthetic", loaded_at=now,
                 record_key=f"{source}:{rid}", is_current=True, raw="{}", dq_issues="[]")
        return r

    for f in p.facilities.values():
        r = base("facilities", f.facility_id, "facility")
        r.update(facility_id=f.facility_id, name=f.name, capacity=f.capacity,
                 locality=f.locality, region=f.region)
        rows.append(r)
    for leg in p.legs:
        r = base("legs", leg.leg_id, "transport_leg")
        r.update(leg_id=leg.leg_id, mode=leg.mode, origin=leg.origin,
                 destination_country=leg.destination_country, departs_at=leg.departs_at,
                 seats=leg.seats, cost=leg.cost, locality=leg.origin_locality,
                 region=leg.origin_region)
        rows.append(r)
    for d in p.detainees:
        src, rid = (d.record_key or f"detention:{d.person_id}").split(":", 1)
        r = base(src, rid, "detention")
        # Detainee.book_out_date is the last day in custody; the record holds the book-out day.
        r.update(facility_id=d.facility_id, book_in_date=d.book_in_date,
                 book_out_date=d.book_out_date + dt.timedelta(days=1) if d.book_out_date else None, travel_document=d.travel_document,
                 medical_hold=d.medical_hold, legal_hold=d.legal_hold,
                 nationality=d.nationality, full_name=f"Detainee {d.person_id}")
        rows.append(r)
    df = pd.DataFrame(rows, columns=RECORD_COLUMN_NAMES)
    for c in ("raw", "dq_issues"):
        df[c] = df[c].astype(str)
    ws.con.register("_synthetic_rows", df)
    cols = ", ".join(f'"{c}"' for c in RECORD_COLUMN_NAMES)
    ws.con.execute(f"insert into records ({cols}) select {cols} from _synthetic_rows")
    ws.con.unregister("_synthetic_rows")

    ensure_standin_tables(ws)
    persons = pd.DataFrame({
        "person_id": [d.person_id for d in p.detainees],
        "nationality": [d.nationality for d in p.detainees],
        "full_name": [f"Detainee {d.person_id}" for d in p.detainees]})
    links = pd.DataFrame({
        "record_key": [d.record_key or f"detention:{d.person_id}" for d in p.detainees],
        "person_id": [d.person_id for d in p.detainees]})
    run_id = "synthetic-run"
    gates = []
    for d in p.detainees:
        gates.append((run_id, d.person_id, "not_already_resolved", "fail", "in custody"))
        for g in d.blocking_gates:
            gates.append((run_id, d.person_id, g, "fail", "synthetic"))
    elig = pd.DataFrame({
        "run_id": run_id, "person_id": [d.person_id for d in p.detainees], "eligible": False,
        "blocking": [json.dumps(["not_already_resolved", *d.blocking_gates]) for d in p.detainees]})
    gr = pd.DataFrame(gates, columns=["run_id", "person_id", "gate", "verdict", "reason"])
    con = ws.con
    con.register("_p", persons)
    con.register("_l", links)
    con.register("_e", elig)
    con.register("_g", gr)
    con.execute("insert into persons (person_id, nationality, full_name) select * from _p")
    con.execute("insert into person_records (record_key, source, record_id, kind, person_id, "
                "match_probability) select record_key, split_part(record_key, ':', 1), "
                "split_part(record_key, ':', 2), 'detention', person_id, 1.0 from _l")
    con.execute("insert into score_runs values (?, ?, 'synthetic', ?)",
                [run_id, p.date_from, dt.datetime(2026, 1, 2)])
    con.execute("insert into eligibility select run_id, person_id, eligible, blocking from _e")
    con.execute("insert into gate_results (run_id, person_id, gate, verdict, reason, evidence, "
                "as_of, policy_version) select run_id, person_id, gate, verdict, reason, '[]', "
                f"DATE '{p.date_from}', 'synthetic' from _g")
    for n in ("_p", "_l", "_e", "_g"):
        con.unregister(n)


STANDIN_DDL = {
    "persons": "create table persons (person_id varchar, record_count bigint, confidence double, "
               "full_name varchar, given_name varchar, family_name varchar, birth_date date, "
               "nationality varchar, provenance json, run_id varchar)",
    "person_records": "create table person_records (record_key varchar, source varchar, "
                      "record_id varchar, kind varchar, person_id varchar, "
                      "match_probability double)",
    "score_runs": "create table score_runs (run_id varchar, as_of date, policy_version varchar, "
                  "created_at timestamp)",
    "eligibility": "create table eligibility (run_id varchar, person_id varchar, "
                   "eligible boolean, blocking json)",
    "gate_results": "create table gate_results (run_id varchar, person_id varchar, gate varchar, "
                    "verdict varchar, reason varchar, evidence json, as_of date, "
                    "policy_version varchar)",
}


def ensure_standin_tables(ws) -> None:  # type: ignore[no-untyped-def]
    """Create the other rooms' tables (architecture.md columns) where they do not exist yet."""
    for name, ddl in STANDIN_DDL.items():
        if not ws.has_table(name):
            ws.con.execute(ddl)
