"""Governance benchmarks: audit append and verify throughput, API request latency.

Run: .venv/bin/python benchmarks/bench_governance.py [events]
Prints figures; record them in docs/bench-governance.md with machine and date.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from casegraph.governance.audit import record_event, verify
from casegraph.store.db import get_engine
from casegraph.store.testing import PASSWORD, bearer, seeded
from casegraph.workspace import Workspace


def main(n: int = 2000) -> None:
    ws = Workspace(Path(tempfile.mkdtemp()) / "ws")
    print(f"operational store: {ws.database_url.split('://')[0]}")
    get_engine(ws)
    t = time.perf_counter()
    for i in range(n):
        record_event(ws, "bench", "analyst", "person.read", [f"P-{i:06d}"], "C-000001", "ok",
                     {"i": i})
    dt = time.perf_counter() - t
    print(f"audit append: {n} events in {dt:.2f} s = {n / dt:,.0f} events/s "
          f"(one transaction each, synchronous=FULL)")
    t = time.perf_counter()
    res = verify(ws)
    dt = time.perf_counter() - t
    print(f"audit verify: {res.events} events in {dt:.2f} s = {res.events / dt:,.0f} events/s "
          f"({'ok' if res.ok else res.message})")

    ws2 = seeded(Workspace(Path(tempfile.mkdtemp()) / "ws"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        from casegraph.api.app import create_app

        c = TestClient(create_app(ws2), base_url="https://testserver")
    tok = c.post("/api/auth/login", json={"username": "sue", "password": PASSWORD}).json()
    h = bearer(tok["token"])
    for path, params in (("/api/leads", {}), ("/api/persons/P-000001", {"purpose": "C-000001"}),
                         ("/api/search", {"q": "maria garcia"})):
        lat = []
        for _ in range(50):
            t = time.perf_counter()
            r = c.get(path, params=params, headers=h)
            lat.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
        lat.sort()
        print(f"GET {path}: median {statistics.median(lat):.1f} ms, "
              f"p95 {lat[int(len(lat) * 0.95) - 1]:.1f} ms (tiny warehouse, incl. audit write)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
