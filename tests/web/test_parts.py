"""Fast checks of the UI's building blocks (no browser): projection, charts, highlighting,
assets, and the pages' HTTP behaviour for anonymous users."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from casegraph.web import charts, geo
from casegraph.web.routes import highlight, shape_explanation

STATIC = Path(geo.__file__).parent / "static"


def test_projection_places_cities_inside_their_states() -> None:
    assert len(geo.state_paths()) == 51
    for lon, lat, state in ((-98.49, 29.42, "TX"), (-118.24, 34.05, "CA"), (-87.63, 41.88, "IL"),
                            (-149.9, 61.2, "AK"), (-157.8, 21.3, "HI"), (-80.19, 25.76, "FL")):
        x, y = geo.project(lon, lat)
        assert 0 <= x <= geo.WIDTH and 0 <= y <= geo.HEIGHT
        assert geo.region_of(None, lon, lat) == state
    # west is left, north is up
    assert geo.project(-118, 34)[0] < geo.project(-74, 40.7)[0]
    assert geo.project(-93, 47)[1] < geo.project(-93, 30)[1]
    assert geo.project(None, 1) is None and geo.project(0.0, 0.0) is None
    assert geo.region_of("12 Elm St, Springfield, IL 62701") == "IL"


def test_charts_are_accessible_svg() -> None:
    svg = str(charts.hbar([("conviction", 20), ("recent contact", -5)], label="Priority"))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-label="Priority"' in svg
    assert "+20" in svg and "-5" in svg
    wf = str(charts.waterfall(("prior", -13.0), [("name", 8.0), ("dob", 11.5)], "match weight",
                              label="<x>"))
    assert "&lt;x&gt;" in wf and "6.5" in wf  # escaped label, final total
    cols = str(charts.stacked_columns(["2025-08", "2025-09"], {"air exit": [1, 0],
                                                               "self report": [0, 2]},
                                      label="Departures"))
    assert cols.count("<rect") >= 4 and "self report" in cols
    assert "50%" in str(charts.meter(5, 10, label="occupancy"))


def test_highlight_marks_words_and_escapes() -> None:
    assert str(highlight("María López", "lopez")) == "María <mark>López</mark>"
    assert str(highlight("<script>", "script")) == "&lt;<mark>script</mark>&gt;"
    assert str(highlight("Ana", "")) == "Ana"


def test_explanation_shaping_includes_frequency_adjustments() -> None:
    ex = shape_explanation({"prior_weight": -10, "match_weight": 4.0, "match_probability": 0.9,
                            "comparisons": [{"comparison": "name", "level": "exact",
                                             "match_weight": 9, "tf_adjustment_weight": -1,
                                             "value_l": "ana, None", "value_r": "ana"},
                                            {"comparison": "dob", "match_weight": 6}]})
    assert [s["weight"] for s in ex["steps"]] == [8.0, 6.0]
    assert ex["prior"] + sum(s["weight"] for s in ex["steps"]) == pytest.approx(ex["total"])
    assert ex["steps"][0]["left"] == "ana"


def test_assets_are_bundled_and_reference_nothing_remote() -> None:
    for name in ("casegraph.css", "casegraph.js", "geo/us-states-10m.json"):
        assert (STATIC / name).is_file()
    templates = Path(geo.__file__).parent / "templates"
    for f in [*templates.glob("*.html"), STATIC / "casegraph.css", STATIC / "casegraph.js"]:
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), f
        assert "@import" not in text and "url(http" not in text, f


def test_anonymous_requests(server: str) -> None:
    import httpx

    with httpx.Client(base_url=server, follow_redirects=False) as c:
        r = c.get("/ui/leads")
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")
        assert c.get("/").headers["location"] == "/ui/"
        assert c.get("/ui/static/casegraph.css").status_code == 200
        assert c.get("/ui/static/../routes.py").status_code == 404
        assert c.get("/ui/static/%2e%2e/routes.py").status_code == 404
        r = c.get("/ui/login")
        assert r.status_code == 200 and "Log in to casegraph" in r.text
        r = c.post("/ui/login", data={"username": "nobody", "password": "x"})
        assert r.status_code == 401 and "Wrong user name or password" in r.text
        r = c.post("/ui/leads/L-0001/decision", data={"decision": "approve", "reason": "x"})
        assert r.status_code == 303  # not logged in: nothing decided, sent to log in
        frag = c.get("/ui/search/results?q=lopez")
        assert frag.status_code == 401


def test_csrf_is_required_for_form_posts(server: str, web_ws) -> None:
    import httpx

    _, creds = web_ws
    with httpx.Client(base_url=server, follow_redirects=False) as c:
        r = c.post("/ui/login", data={"username": "supervisor", "password": creds["supervisor"]})
        assert r.status_code == 303
        r = c.post("/ui/leads/L-0003/decision", data={"decision": "reject", "reason": "no csrf"})
        assert r.status_code == 403 and "CSRF" in r.text
        page = c.get("/ui/leads").text
        assert "L-0003" in page


PAGES = {  # page -> (a role allowed to read it, the audit action its read writes)
    "/ui/search?q=lopez": ("analyst", "person.search"),
    "/ui/search/results?q=garcia": ("analyst", "person.search"),
    "/ui/persons/P-000003?purpose=CASE-2026-0007": ("analyst", "person.read"),
    "/ui/explain?a=eoir:O3&b=courts:C3": ("analyst", "identity.explain"),
    "/ui/leads": ("analyst", "lead.list"),
    "/ui/cases": ("supervisor", "case.list"),
    "/ui/review": ("analyst", "review.list"),
    "/ui/departures": ("officer", "departure.summary"),
    "/ui/logistics": ("logistics", "logistics.board"),
    "/ui/audit": ("auditor", "audit.read"),
}
DENIED = {"/ui/audit": "analyst", "/ui/leads": "officer", "/ui/logistics": "analyst",
          "/ui/search": "logistics", "/ui/cases": "auditor", "/ui/review": "admin"}


@pytest.fixture(scope="module")
def clients(server: str, web_ws):
    """One logged-in HTTP client per role (cookie session)."""
    import httpx

    _, creds = web_ws
    out = {}
    for role in ("analyst", "supervisor", "officer", "logistics", "auditor", "admin"):
        c = httpx.Client(base_url=server, follow_redirects=False, timeout=60)
        assert c.post("/ui/login", data={"username": role, "password": creds[role]}
                      ).status_code == 303
        out[role] = c
    yield out
    for c in out.values():
        c.close()


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_read_is_audited(clients, web_ws, path: str) -> None:
    from casegraph.governance.audit import list_events

    ws, _ = web_ws
    role, action = PAGES[path]
    before = list_events(ws, user=role, action=action, limit=1)[1]
    r = clients[role].get(path)
    assert r.status_code == 200, r.text[:300]
    assert list_events(ws, user=role, action=action, limit=1)[1] == before + 1


@pytest.mark.parametrize("path", sorted(DENIED))
def test_pages_refuse_roles_without_the_permission(clients, web_ws, path: str) -> None:
    from casegraph.governance.audit import list_events

    ws, _ = web_ws
    role = DENIED[path]
    before = list_events(ws, user=role, action="web.denied", limit=1)[1]
    r = clients[role].get(path)
    assert r.status_code == 403 and "may not" in r.text
    assert list_events(ws, user=role, action="web.denied", limit=1)[1] == before + 1


def test_pages_on_an_empty_workspace_explain_what_is_missing(tmp_path) -> None:
    """Before any pipeline step ran, every page renders and says which step produces its data."""
    import threading
    import time

    import httpx
    import uvicorn

    from casegraph.api.app import create_app
    from casegraph.governance.users import add_user
    from casegraph.workspace import Workspace
    from tests.web.conftest import _free_port

    ws = Workspace(tmp_path / "empty")
    add_user(ws, "sup", "supervisor", "supervisor-password")
    add_user(ws, "aud", "auditor", "auditor-password1")
    srv = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=_free_port(),
                                        log_level="warning", lifespan="off"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    while not srv.started:
        time.sleep(0.05)
    try:
        base = f"http://127.0.0.1:{srv.config.port}"
        with httpx.Client(base_url=base, timeout=60) as c:
            c.post("/ui/login", data={"username": "sup", "password": "supervisor-password"})
            expected = {"/ui/leads": "casegraph leads", "/ui/review": "casegraph resolve",
                        "/ui/departures": "casegraph departures",
                        "/ui/logistics": "casegraph ingest", "/ui/cases": "No cases yet",
                        "/ui/search?q=maria": "casegraph resolve"}
            for path, text in expected.items():
                r = c.get(path)
                assert r.status_code == 200, (path, r.text[:300])
                assert text in r.text, path
            r = c.get("/ui/persons/P-000001?purpose=CASE-2026-0001")
            assert r.status_code == 404 and "No person" in r.text.replace("no person", "No person")
        with httpx.Client(base_url=base, timeout=60) as c:
            c.post("/ui/login", data={"username": "aud", "password": "auditor-password1"})
            assert "not been verified yet" in c.get("/ui/audit").text
    finally:
        srv.should_exit = True
        t.join(timeout=10)
        ws.close()


def test_hostile_values_are_escaped(clients) -> None:
    from tests.web.sample import XSS

    page = clients["analyst"].get("/ui/persons/P-000003?purpose=CASE-2026-0009").text
    assert XSS not in page and "&lt;img src=x onerror=" in page
    frag = clients["analyst"].get("/ui/search/results?q=<img onerror>").text
    assert "<img onerror>" not in frag


def test_an_expired_session_sends_the_browser_to_log_in_again(server: str, web_ws) -> None:
    import httpx

    from casegraph.api.deps import SESSION_COOKIE
    from casegraph.governance.users import expire_session_now

    ws, creds = web_ws
    with httpx.Client(base_url=server, follow_redirects=False, timeout=60) as c:
        c.post("/ui/login", data={"username": "analyst", "password": creds["analyst"]})
        assert c.get("/ui/leads").status_code == 200
        expire_session_now(ws, c.cookies[SESSION_COOKIE])
        r = c.get("/ui/leads")
        assert r.status_code == 303
        login = c.get(r.headers["location"]).text
        assert "Your session has ended" in login


def test_approval_refused_when_the_person_is_no_longer_eligible(clients, web_ws) -> None:
    """A stay granted after the lead was built: the re-check refuses approval and says why."""
    from casegraph.api.deps import CSRF_COOKIE
    from casegraph.web.data import SHARED_CONNECTION
    from tests.factories import insert_records

    ws, _ = web_ws
    with SHARED_CONNECTION:
        insert_records(ws, [{"source": "eoir", "record_id": "STAY3", "kind": "case_event",
                             "event_type": "stay_granted", "event_date": dt.date(2025, 12, 1),
                             "stay_authority": "court_of_appeals", "given_name": "Ana",
                             "family_name": "Ivanova", "full_name": "Ana Ivanova",
                             "birth_date": dt.date(1990, 6, 30), "nationality": "UA"}])
        ws.con.execute("insert into person_records values ('eoir:STAY3', 'eoir', 'STAY3', "
                       "'case_event', 'P-000003', 0.99)")
    c = clients["supervisor"]
    r = c.post("/ui/leads/L-0003/decision",
               data={"decision": "approve", "reason": "looks fine",
                     "csrf_token": c.cookies[CSRF_COOKIE]})
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "cannot be approved" in page and "no longer eligible" in page
    assert "no_granted_stay" in page or "stay" in page
