"""Every page on a workspace built by the real pipeline (synth → ingest → resolve → index →
departures → score → leads → logistics plan), read by each role over HTTP.

Slow (the pipeline trains an identity model): excluded from `make test`; run with
``pytest -m slow tests/web/test_real_pipeline.py``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest

from casegraph.workspace import Workspace

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 11, 1)
PURPOSE = "CASE-2026-0001"


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict, Any]]:
    import threading
    import time

    import uvicorn

    from casegraph.api.app import create_app
    from casegraph.departures.classify import classify_departures
    from casegraph.governance.users import add_user
    from casegraph.leads.build import build_leads
    from casegraph.logistics.planner import plan
    from casegraph.policy.score import run_scoring
    from casegraph.resolve.pipeline import resolve_workspace
    from casegraph.search.service import reindex
    from casegraph.sources.ingest import ingest_specs
    from casegraph.synth import generate
    from tests.web.conftest import _free_port

    root = tmp_path_factory.mktemp("real")
    ws = Workspace(root / "ws")
    generate(1500, root / "sources", seed=7, as_of=AS_OF)
    ingest_specs(ws, sorted((root / "sources").glob("*.yaml")), progress=False)
    resolve_workspace(ws, full=True)
    reindex(ws)
    classify_departures(ws, as_of=AS_OF)
    run_scoring(ws, as_of=AS_OF)
    build_leads(ws)
    plan(ws, AS_OF, AS_OF + dt.timedelta(days=14), "seats", user="logistics")
    creds = {}
    for role in ("analyst", "supervisor", "officer", "logistics", "auditor"):
        creds[role] = secrets.token_urlsafe(16)
        add_user(ws, role, role, creds[role])
    srv = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=_free_port(),
                                        log_level="warning", lifespan="off"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{srv.config.port}", creds, ws
    srv.should_exit = True
    t.join(timeout=10)
    ws.close()


def _client(base: str, creds: dict, role: str) -> Any:
    import httpx

    c = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
    assert c.post("/ui/login", data={"username": role, "password": creds[role]}
                  ).status_code == 303
    return c


def test_every_page_renders_real_data(real_server) -> None:
    base, creds, ws = real_server
    person = ws.query("select person_id from leads order by priority_score desc limit 1"
                      )[0]["person_id"]
    review = ws.query("select review_id from identity_review where status = 'open' limit 1")
    pair = [r["record_key"] for r in ws.query(
        "select record_key from person_records where person_id = ? order by record_key limit 2",
        [person])]
    pages = {
        "analyst": ["/ui/search?q=garcia", f"/ui/persons/{person}?purpose={PURPOSE}",
                    "/ui/leads", "/ui/review", "/ui/departures"]
        + ([f"/ui/review?item={review[0]['review_id']}"] if review else [])
        + ([f"/ui/explain?a={pair[0]}&b={pair[1]}"] if len(pair) == 2 else []),
        "supervisor": ["/ui/leads", "/ui/cases", "/ui/logistics"],
        "officer": ["/ui/cases", "/ui/departures"],
        "logistics": ["/ui/logistics"],
        "auditor": ["/ui/audit", "/ui/audit?verify=1"],
    }
    for role, paths in pages.items():
        with closing(_client(base, creds, role)) as c:
            for path in paths:
                r = c.get(path)
                assert r.status_code == 200, (role, path, r.text[:500])
                assert ("<main" in r.text or "/ui/explain" in path) and "Traceback" not in r.text
                if "/ui/explain" in path:
                    assert "svg" in r.text and "could not be computed" not in r.text
    with closing(_client(base, creds, "analyst")) as c:
        page = c.get(f"/ui/persons/{person}?purpose={PURPOSE}").text
        assert "Legal gates" in page and 'class="gate"' in page
        assert 'class="pt"' in page  # a location candidate on the map
        leads = c.get("/ui/leads").text
        assert leads.count('class="pt"') > 10
    with closing(_client(base, creds, "logistics")) as c:
        assert "seat utilisation" in c.get("/ui/logistics").text
