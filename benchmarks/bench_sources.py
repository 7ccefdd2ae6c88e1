"""Ingest throughput: N rows of a county-bookings-like CSV through a spec, timed.

usage: python benchmarks/bench_sources.py [ROWS] [WORKDIR]

Writes the CSV with numpy/pyarrow (not timed), then times ``ingest_specs`` (read, parse,
quarantine, insert, commit) and a re-ingest of the same file (hash check, no-op).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from casegraph.sources.ingest import ingest_specs
from casegraph.workspace import Workspace

GIVEN = np.array(["MARIA", "JOSE", "VAN AN", "YOUSSEF", "ANA", "LUIS", "FATIMA", "JUAN",
                  "MOHAMMED", "CARMEN", "WEI", "OLGA", "PEDRO", "AMINA", "JORGE", "LIN"])
FAMILY = np.array(["GARCIA LOPEZ", "NGUYEN", "HADDAD", "HERNANDEZ", "SMITH", "DE LA CRUZ",
                   "RODRIGUEZ", "KIM", "MARTINEZ", "ALI", "CHEN", "IVANOVA", "PEREZ"])
STREETS = np.array(["Main St", "Elm St", "Oak Ave", "Pine Rd", "Maple Blvd", "Cedar Ln"])
UNITS = np.array(["", "", "", " Apt 4", " #12", " Unit 3B"])
CITIES = np.array(["Houston", "Dallas", "El Paso", "San Antonio", "Austin"])


def make_csv(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    g = GIVEN[rng.integers(0, len(GIVEN), n)]
    f = FAMILY[rng.integers(0, len(FAMILY), n)]
    name = np.char.add(np.char.add(f, ", "), g)
    dob_days = rng.integers(-20000, 10000, n).astype("datetime64[D]")
    iso = np.datetime_as_string(dob_days)
    y, m, d = iso.astype("U4"), np.char.partition(iso, "-")[:, 2].astype("U2"), \
        np.char.rpartition(iso, "-")[:, 2]
    mdy = np.char.add(np.char.add(np.char.add(np.char.add(m, "/"), d), "/"), y)
    anum = np.char.zfill(rng.integers(1_000_000, 999_999_999, n).astype(str), 9)
    anum[rng.random(n) < 0.2] = ""
    addr = np.char.add(np.char.add(np.char.add(rng.integers(1, 9999, n).astype(str), " "),
                                   STREETS[rng.integers(0, len(STREETS), n)]),
                       UNITS[rng.integers(0, len(UNITS), n)])
    booked = np.datetime_as_string(rng.integers(18000, 20700, n).astype("datetime64[D]"))
    table = pa.table({
        "booking_no": np.char.add("B", np.arange(n).astype(str)),
        "NAME": name, "DOB": mdy, "ANUM": anum, "ADDRESS": addr,
        "CITY": CITIES[rng.integers(0, len(CITIES), n)], "STATE": np.full(n, "TX"),
        "ZIP": rng.integers(75000, 79999, n).astype(str), "BOOKED": booked,
        "SEX": np.where(rng.random(n) < 0.5, "M", "F"),
        "CHARGES": np.where(rng.random(n) < 0.5, "DWI", "THEFT"),
    })
    pcsv.write_csv(table, path)


SPEC = """source: county_bookings
kind: encounter
path: bookings.csv
record_id: booking_no
fields:
  full_name: NAME
  birth_date: {column: DOB, format: "%m/%d/%Y"}
  a_number: ANUM
  street_address: ADDRESS
  locality: CITY
  region: STATE
  postcode: ZIP
  sex: SEX
  encounter_date: BOOKED
  charges: CHARGES
  agency: {value: "County Sheriff"}
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / "bookings.csv"
    t0 = time.perf_counter()
    make_csv(csv_path, n)
    (work / "bookings.yaml").write_text(SPEC)
    print(f"wrote {n:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - t0:.1f}s")
    ws = Workspace(work / "ws")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    t0, c0 = time.perf_counter(), time.process_time()
    [r] = ingest_specs(ws, [work / "bookings.yaml"], progress=False)
    t1, c1 = time.perf_counter() - t0, time.process_time() - c0
    print(f"ingest: {r.read:,} read, {r.accepted:,} accepted, {r.quarantined:,} quarantined, "
          f"{r.with_issues:,} with dq issues in {t1:.1f}s wall, {c1:.1f}s CPU (all threads) "
          f"({r.read / t1:,.0f} rows/s); load average before: {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    [r2] = ingest_specs(ws, [work / "bookings.yaml"], progress=False)
    print(f"re-ingest identical: skipped={r2.skipped_identical} in {time.perf_counter() - t0:.1f}s")
    ws.close()
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
