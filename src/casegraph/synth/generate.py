"""``generate``: the synthetic agency — source files, their ingest specs, and the truth.

Output layout (``out_dir``)::

    <source>.yaml            one ingest spec per source (the issue-2 spec format)
    data/<file>              the source files (CSV, pipe/semicolon CSV, Latin-1, JSONL, Parquet)
    truth/records.csv        source, record_id, person_id for every person-kind record
    truth/persons.csv        each true person: identity, true current address, eligibility
                             at as-of with the first failing gate, custody, departure, twins
    truth/defects.csv        the deliberately malformed rows and what ingest should do
    truth/airports.csv       transport-leg origin codes with their location
    truth/meta.json          seed, as-of, gate order, counts, noise counts
"""

from __future__ import annotations

import datetime as dt
import json
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from casegraph.synth import geo
from casegraph.synth import sources as S_
from casegraph.synth.noise import to_latin1
from casegraph.synth.sources import Source
from casegraph.synth.story import (
    CULTURE_NAMES,
    GATES,
    SCENARIO_NAMES,
    Population,
    evaluate_gates,
    make_population,
)

DATA_DIR = "data"
TRUTH_DIR = "truth"

Progress = Callable[[str], None]


@dataclass
class SynthSummary:
    """What was generated (flat numbers first: the demo prints them as a table)."""

    people: int
    seed: int
    as_of: str
    out_dir: str
    sources: int
    records: int
    person_records: int
    eligible: int
    in_custody: int
    verified_departed: int
    claimed_departed: int
    twins: int
    namesakes: int
    deliberate_defects: int
    seconds: float
    per_source: dict[str, int] = field(default_factory=dict)
    blocked_by_gate: dict[str, int] = field(default_factory=dict)
    noise: dict[str, int] = field(default_factory=dict)
    defects: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [(f"synthetic agency: {self.people:,} people, {self.records:,} records in "
                 f"{self.sources} sources -> {self.out_dir} (seed {self.seed}, as of {self.as_of}, "
                 f"{self.seconds:.1f} s)")]
        lines += [f"  {k:<24} {v:>10,}" for k, v in self.per_source.items()]
        lines.append(f"  eligible {self.eligible:,}; blocked by first failing gate: "
                     + ", ".join(f"{k} {v:,}" for k, v in self.blocked_by_gate.items()))
        lines.append(f"  in custody {self.in_custody:,}; departed verified "
                     f"{self.verified_departed:,}, claimed only {self.claimed_departed:,}; "
                     f"twins {self.twins}, namesakes {self.namesakes}")
        lines.append(f"  deliberate defects: {self.deliberate_defects} (truth/defects.csv)")
        return "\n".join(lines)


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def generate(people: int, out_dir: str | Path, *, seed: int = 7,
             as_of: dt.date | str | None = None, progress: Progress | None = None
             ) -> SynthSummary:
    """Write a synthetic agency of ``people`` persons to ``out_dir``; same seed, same bytes."""
    t0 = time.perf_counter()
    if people < 8:
        raise ValueError("people must be at least 8")
    if as_of is None:
        as_of = dt.date.today()
    elif isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    out = Path(out_dir)
    (out / DATA_DIR).mkdir(parents=True, exist_ok=True)
    (out / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    step = progress or (lambda _msg: None)

    step("population and stories")
    pop = make_population(people, as_of, seed)
    gates = evaluate_gates(pop)

    step("person sources")
    built: list[Source] = []
    defects: list[dict[str, str]] = []
    pool = ThreadPoolExecutor(max_workers=2)
    futs: list[Future] = []

    def emit(src: Source) -> None:
        """Finish one source and hand it to a writer thread (memory stays ~one source)."""
        _finalise(src, _rng(seed, "finalise:" + src.name))
        _inject_defects(src, _rng(seed, "defects:" + src.name), defects)
        src.rows = src.table.num_rows
        src.ids = src.table.column(src.record_id).combine_chunks()
        built.append(src)
        if src.rows == 0:  # a tiny agency may have nobody in a system: no file, no spec
            for stale in (out / f"{src.name}.yaml", out / DATA_DIR / src.file):
                stale.unlink(missing_ok=True)
            src.table = None
            return
        _write_spec(src, out)
        futs.append(pool.submit(_write_and_release, src, out))

    try:
        bk = S_._bookings_frame(pop, _rng(seed, "bookings_frame"))
        for name, fn in (
            ("enforcement_subjects", S_.enforcement_subjects), ("eoir_orders", S_.court_orders),
            ("eoir_case_events", S_.case_events), ("utility_accounts", S_.utility_accounts),
            ("dmv_licences", S_.dmv_licences), ("employer_reports", S_.employer_reports),
            ("mail_forwarding", S_.mail_forwarding), ("exit_manifests", S_.exit_manifests),
            ("partner_land_exits", S_.partner_land_exits),
            ("consular_verifications", S_.consular_verifications),
            ("self_departure_app", S_.self_departure_app), ("uscis_status", S_.status_evidence),
            ("border_apprehensions", S_.border_apprehensions),
        ):
            emit(fn(pop, _rng(seed, name)))
        emit(S_.county_bookings(pop, _rng(seed, "county_bookings"), bk))
        emit(S_.state_convictions(pop, _rng(seed, "state_convictions"), bk))
        del bk

        step("detention, facilities, transport, sensitive sites")
        custody = gates["_in_custody"]
        fac = S_.facilities(pop, _rng(seed, "facilities"), int(custody.sum()))
        fac_ids = np.asarray(fac.columns["facility_id"].to_pylist(), dtype=object)
        det = S_.detention_roster(pop, _rng(seed, "detention_roster"), len(fac_ids),
                                  fac.columns.pop("_weight"), fac_ids)
        facility_of = np.full(pop.n, "", dtype=object)
        det_fac = det.columns.pop("_facility")
        ncur = int((~np.isnat(pop.facts["book_in"])).sum())
        facility_of[det.person[:ncur]] = fac_ids[det_fac[:ncur]]
        removable = np.logical_and.reduce([gates[g] for g in GATES[:5]])
        f_ = pop.facts
        flyable = (custody & removable & (f_["travel_document"] == "ready")
                   & ~f_["medical_hold"] & ~f_["legal_hold"])
        legs = S_.transport_legs(pop, _rng(seed, "transport_legs"), pop.nationality[flyable], fac)
        sites, near = S_.sensitive_sites(pop, _rng(seed, "sensitive_sites"))
        for src in (det, fac, legs, sites):
            emit(src)

        step("write truth")
        truth_rows = _write_truth(pop, gates, built, facility_of, near, out, defects)
        step("finish writing source files")
        for f in futs:
            f.result()
    finally:
        pool.shutdown(wait=True)

    per_source = {s.name: s.rows for s in built}
    noise: dict[str, int] = {}
    for s in built:
        for k, v in s.noise.items():
            noise[k] = noise.get(k, 0) + v
    noise["twins"] = int((pop.twin_of >= 0).sum())
    noise["namesakes"] = int((pop.namesake_of >= 0).sum())
    noise["shared_address"] = int(pop.shared_address.sum())
    noise["movers"] = int((pop.n_addr > 1).sum())
    eligible = np.logical_and.reduce([gates[g] for g in GATES])
    first = _first_failing(gates)
    blocked = {g: int((first == g).sum()) for g in GATES}
    summary = SynthSummary(
        people=people, seed=seed, as_of=as_of.isoformat(), out_dir=str(out),
        sources=sum(1 for s in built if s.rows), records=sum(per_source.values()),
        person_records=truth_rows,
        eligible=int(eligible.sum()), in_custody=int(custody.sum()),
        verified_departed=int(gates["_departed"].sum()),
        claimed_departed=int((gates["_claimed"] & ~gates["_departed"]).sum()),
        twins=noise["twins"], namesakes=noise["namesakes"], deliberate_defects=len(defects),
        seconds=round(time.perf_counter() - t0, 2), per_source=per_source,
        blocked_by_gate=blocked, noise=noise, defects=defects)
    meta = asdict(summary)
    # how many records one person may have in each source (resolution must allow it)
    per_person = {}
    for src in built:
        ppl = src.person[src.person >= 0]
        if len(ppl):
            c = np.bincount(ppl)
            c = c[c > 0]
            per_person[src.name] = {"persons": len(c), "max": int(c.max()),
                                    "mean": round(float(c.mean()), 3),
                                    "share_with_several": round(float((c > 1).mean()), 3)}
    meta["records_per_person"] = per_person
    meta["gates"] = list(GATES)
    meta["gate_rules"] = evaluate_gates.__doc__
    meta["cultures"] = list(CULTURE_NAMES)
    (out / TRUTH_DIR / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False),
                                               encoding="utf-8")
    return summary


# ---- finishing sources ---------------------------------------------------------------

def _finalise(src: Source, rng: np.random.Generator) -> None:
    """Shuffle rows (files are not in person order), assign record ids, build the table."""
    cols = {k: v for k, v in src.columns.items() if not k.startswith("_")}
    n = len(src.person)
    perm = rng.permutation(n) if n else np.zeros(0, dtype=np.int64)
    arrays: dict[str, pa.Array] = {}
    for k, v in cols.items():
        if v is None:
            continue
        arr = v if isinstance(v, pa.Array) else pa.array(v)
        arrays[k] = arr.take(pa.array(perm)) if n else arr
    src.person = src.person[perm] if n else src.person
    if src.record_id not in arrays or cols.get(src.record_id) is None:
        base = int(rng.integers(1, 9)) * 10 ** (src.id_width - 1)
        nums = pc.cast(pa.array(base + np.arange(n, dtype=np.int64)), pa.string())
        ids = pc.binary_join_element_wise(pa.scalar(src.id_prefix), nums, "")
        arrays = {src.record_id: ids, **arrays}
    src.table = pa.table(arrays)


def _replace_cell(src: Source, row: int, column: str, value: object) -> None:
    t = src.table
    i = t.schema.get_field_index(column)
    col = t.column(i).combine_chunks()
    at = np.zeros(t.num_rows, dtype=bool)
    at[row] = True
    new = pc.if_else(pa.array(at), pa.scalar(value, col.type), col)
    src.table = t.set_column(i, column, new)


def _append_row(src: Source, row: dict) -> None:
    one = pa.table({k: pa.array([row.get(k)], type=src.table.schema.field(k).type)
                    for k in src.table.column_names})
    pos = src.table.num_rows // 2
    src.table = pa.concat_tables([src.table.slice(0, pos), one, src.table.slice(pos)]).combine_chunks()
    src.person = np.concatenate([src.person[:pos], [-2], src.person[pos:]])  # -2: not a record


def _inject_defects(src: Source, rng: np.random.Generator, out: list[dict[str, str]]) -> None:
    """A handful of rows real exports contain: impossible dates, bad ids, missing keys."""
    ok = np.flatnonzero(src.person >= 0)
    if not len(ok):
        return
    r = int(ok[rng.integers(0, len(ok))])

    def note(rid: object, field_: str, problem: str, expected: str) -> None:
        out.append({"source": src.name, "record_id": "" if rid is None else str(rid),
                    "field": field_, "problem": problem, "expected": expected})

    def rid_at(row: int) -> object:
        return src.table.column(src.record_id)[row].as_py()

    def row_at(row: int) -> dict:
        return src.table.slice(row, 1).to_pylist()[0]

    if src.name == "county_bookings":
        _replace_cell(src, r, "DOB", "02/31/1967")
        note(rid_at(r), "birth_date", "impossible date 02/31/1967", "dq_issue")
        row = row_at(r)
        row["BOOKING_NO"] = None
        _append_row(src, row)
        note(None, "record_id", "row without a booking number", "quarantine")
    elif src.name == "dmv_licences":
        _replace_cell(src, r, "dob", "19670231")
        note(rid_at(r), "birth_date", "impossible date 19670231", "dq_issue")
    elif src.name == "detention_roster":
        _replace_cell(src, r, "a_number", "A12345")
        note(rid_at(r), "a_number", "malformed A-number A12345 (5 digits)", "dq_issue")
    elif src.name == "state_convictions":
        row = row_at(r)
        row["DOCKET"] = "CR-MISSING-DATE-1"
        row["DISPOSITION_DATE"] = None
        _append_row(src, row)
        note("CR-MISSING-DATE-1", "conviction_date", "required conviction date missing",
             "quarantine")
    elif src.name == "utility_accounts":
        row = row_at(r)
        _append_row(src, row)
        note(row["ACCOUNT_NO"], "record_id", "the same account exported twice (duplicate id)",
             "quarantine")
    elif src.name == "eoir_orders":
        row = row_at(r)
        row["order_id"] = "ORD-UNDATED-1"
        row["order_date"] = "unknown"
        _append_row(src, row)
        note("ORD-UNDATED-1", "order_date", "required order date not a date ('unknown')",
             "quarantine")


# ---- writing -------------------------------------------------------------------------

def _write_and_release(src: Source, out: Path) -> None:
    _write(src, out)
    src.table = None
    src.columns = {}


def _write(src: Source, out: Path) -> None:
    path = out / DATA_DIR / src.file
    t = src.table
    if src.format == "parquet":
        pq.write_table(t, path, compression="zstd")
    elif src.format == "jsonl":
        import duckdb

        con = duckdb.connect()
        try:
            con.execute("set enable_progress_bar = false")
            con.register("t", t)
            con.execute(f"COPY t TO '{path.as_posix()}' (FORMAT JSON)")
        finally:
            con.close()
    else:
        opts = pacsv.WriteOptions(include_header=True, delimiter=src.delimiter or ",",
                                  quoting_style="needed")
        if src.encoding and src.encoding.lower().replace("-", "") in ("latin1", "iso88591"):
            buf = pa.BufferOutputStream()
            pacsv.write_csv(t, buf, opts)
            path.write_bytes(to_latin1(buf.getvalue().to_pybytes().decode("utf-8")))
        else:
            pacsv.write_csv(t, path, opts)


def _write_spec(src: Source, out: Path) -> None:
    spec: dict[str, object] = {
        "source": src.name, "kind": src.kind, "path": f"{DATA_DIR}/{src.file}",
        "format": src.format, "record_id": src.record_id,
    }
    if src.encoding:
        spec["encoding"] = src.encoding
    if src.delimiter:
        spec["delimiter"] = src.delimiter
    spec["description"] = src.description
    spec["fields"] = src.fields
    text = "# generated by `casegraph synth`\n" + yaml.safe_dump(
        spec, sort_keys=False, allow_unicode=True, width=100)
    (out / f"{src.name}.yaml").write_text(text, encoding="utf-8")


def _first_failing(gates: dict[str, np.ndarray]) -> np.ndarray:
    n = len(gates[GATES[0]])
    first = np.full(n, "", dtype=object)
    for g in reversed(GATES):
        first = np.where(~gates[g], g, first)
    return first


def _write_truth(pop: Population, gates: dict[str, np.ndarray], built: list[Source],
                 facility_of: np.ndarray, near: np.ndarray, out: Path,
                 defects: list[dict[str, str]]) -> int:
    tdir = out / TRUTH_DIR
    # records.csv
    parts = []
    for s in built:
        keep = s.person >= 0
        if not keep.any():
            continue
        rid = s.ids.filter(pa.array(keep))
        parts.append(pa.table({
            "source": pa.array(np.full(int(keep.sum()), s.name, dtype=object), pa.string()),
            "record_id": rid,
            "person_id": pa.array(pop.person_id[s.person[keep]], pa.string())}))
    records = pa.concat_tables(parts)
    for d in defects:  # the account exported twice is one record
        if "duplicate" not in d["problem"]:
            continue
        hit = pc.and_(pc.equal(records.column("source"), d["source"]),
                      pc.equal(records.column("record_id"), d["record_id"]))
        idx = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
        mask = np.ones(records.num_rows, dtype=bool)
        mask[idx[1:]] = False
        records = records.filter(pa.array(mask))
    pacsv.write_csv(records, tdir / "records.csv",
                    pacsv.WriteOptions(quoting_style="needed"))

    # persons.csv
    n = pop.n
    cur = pop.n_addr - 1
    ar = np.arange(n)
    addr = S_.join(pc.cast(pa.array(pop.addr_num[ar, cur]), pa.string()),
                   S_.STREETS[pop.addr_street[ar, cur]], S_.SUFFIXES[pop.addr_suffix[ar, cur]],
                   pop.addr_unit[ar, cur])
    pool = geo.zip_pool()
    zi = pop.addr_zip[ar, cur]
    eligible = np.logical_and.reduce([gates[g] for g in GATES])
    removable = np.logical_and.reduce([gates[g] for g in GATES[:5]])
    failing = [";".join(g for g in GATES if not gates[g][i]) for i in range(n)] \
        if n <= 20_000 else _failing_vec(gates)
    flags = np.full(n, "", dtype=object)
    for name, mask in (("petition_for_review_pending", gates["_flag_petition_for_review_pending"]),
                       ("motion_to_reopen_pending", gates["_flag_motion_to_reopen_pending"]),
                       ("claimed_departure", gates["_claimed"] & ~gates["_departed"])):
        flags = np.where(mask, np.where(flags == "", name, flags + ";" + name), flags)
    departed = np.where(gates["_departed"], "verified",
                        np.where(gates["_claimed"], "claimed", "none"))
    near_mask = np.zeros(n, dtype=bool)
    near_mask[near] = True
    pid = pop.person_id

    def ref(ix: np.ndarray) -> np.ndarray:
        return np.where(ix >= 0, pid[np.clip(ix, 0, None)], "")

    twin_of = ref(pop.twin_of)
    twin_back = np.full(n, "", dtype=object)
    tb = np.flatnonzero(pop.twin_of >= 0)
    twin_back[pop.twin_of[tb]] = pid[tb]
    twin_of = np.where(twin_of != "", twin_of, twin_back)
    ns_of = ref(pop.namesake_of)
    nb = np.flatnonzero(pop.namesake_of >= 0)
    ns_back = np.full(n, "", dtype=object)
    ns_back[pop.namesake_of[nb]] = pid[nb]
    ns_of = np.where(ns_of != "", ns_of, ns_back)
    # unrelated persons whose current home is this address (a twin pair counts once)
    key = pc.binary_join_element_wise(S_.S(pool.zip[zi]), addr, "|").to_numpy(
        zero_copy_only=False).astype(object)
    _, inv = np.unique(key, return_inverse=True)
    unit = (pop.twin_of < 0).astype(np.int64)
    unrelated_here = np.bincount(inv, weights=unit).astype(np.int64)[inv]
    persons = pa.table({
        "person_id": S_.S(pid), "given_name": S_.S(pop.given), "middle_name": S_.S(pop.middle),
        "family_name": S_.S(pop.family), "sex": S_.S(pop.sex),
        "birth_date": pa.array(pop.birth_date, pa.date32()),
        "nationality": S_.S(pop.nationality),
        "a_number": pc.utf8_lpad(pc.cast(pa.array(pop.a_number), pa.string()), 9, "0"),
        "culture": S_.S(np.array(CULTURE_NAMES, dtype=object)[pop.culture]),
        "scenario": S_.S(np.array(SCENARIO_NAMES, dtype=object)[pop.scenario]),
        "eligible": pa.array(eligible),
        "reason": S_.S(_first_failing(gates)),
        "failing_gates": S_.S(np.asarray(failing, dtype=object)),
        "flags": S_.S(flags),
        "removable": pa.array(removable),
        "in_custody": pa.array(gates["_in_custody"]),
        "facility_id": S_.S(facility_of),
        "departed": S_.S(departed),
        "departure_channel": S_.S(pop.facts["departure_channel"]),
        "departure_date": pa.array(pop.facts["departure_date"], pa.date32()),
        "street_address": addr, "locality": S_.S(pool.city[zi]), "region": S_.S(pool.state[zi]),
        "postcode": S_.S(pool.zip[zi]),
        "n_addresses": pa.array(pop.n_addr),
        "address_persons": pa.array(unrelated_here),
        "shared_address": pa.array(unrelated_here >= 2),
        "sensitive_site_near": pa.array(near_mask),
        "twin_of": S_.S(twin_of), "namesake_of": S_.S(ns_of),
    })
    pacsv.write_csv(persons, tdir / "persons.csv", pacsv.WriteOptions(quoting_style="needed"))
    with (tdir / "defects.csv").open("w", encoding="utf-8", newline="") as fh:
        import csv

        w = csv.DictWriter(fh, ["source", "record_id", "field", "problem", "expected"])
        w.writeheader()
        w.writerows(defects)
    with (tdir / "airports.csv").open("w", encoding="utf-8", newline="") as fh:
        import csv

        w = csv.writer(fh)
        w.writerow(["code", "locality", "region", "latitude", "longitude"])
        w.writerows(geo.AIRPORTS)
    return records.num_rows


def _failing_vec(gates: dict[str, np.ndarray]) -> np.ndarray:
    """';'-joined failing gates per person without a per-person loop over gate names."""
    bits = np.zeros(len(gates[GATES[0]]), dtype=np.int64)
    for i, g in enumerate(GATES):
        bits |= (~gates[g]).astype(np.int64) << i
    table = np.array([";".join(g for i, g in enumerate(GATES) if b >> i & 1)
                      for b in range(1 << len(GATES))], dtype=object)
    return table[bits]
