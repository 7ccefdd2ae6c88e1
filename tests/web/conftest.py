"""Fixtures of the web UI tests: a small workspace, users of every role, a live server
(uvicorn on a free localhost port, in a thread) and a headless Debian chromium.

Browser tests skip cleanly when no chromium is installed (CASEGRAPH_CHROMIUM or
/usr/bin/chromium or `chromium` on PATH).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from casegraph.workspace import Workspace
from tests.web import sample

ROLES = ("analyst", "supervisor", "officer", "logistics", "auditor", "admin")
ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts" / "web"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for cand in (os.environ.get("CASEGRAPH_CHROMIUM"), "/usr/bin/chromium",
                 shutil.which("chromium"), shutil.which("chromium-browser")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def _install_review_stub() -> None:
    """Until the resolution room ships ``resolve.review.record_decision``, stand in for it
    (writes ``identity_decisions`` and closes the review item, as architecture.md says)."""
    try:
        import casegraph.resolve.review  # noqa: F401
        return
    except ImportError:
        pass
    mod = types.ModuleType("casegraph.resolve.review")

    def record_decision(ws: Any, review_id: Any, decision: str, user: str, reason: str) -> None:
        ws.con.execute("create table if not exists identity_decisions (record_key_l varchar, "
                       "record_key_r varchar, decision varchar, decided_by varchar, "
                       "reason varchar, decided_at timestamp)")
        ws.con.execute("insert into identity_decisions select record_key_l, record_key_r, ?, ?,"
                       " ?, now() from identity_review where review_id = ?",
                       [decision, user, reason, str(review_id)])
        ws.con.execute("update identity_review set status = 'decided' where review_id = ?",
                       [str(review_id)])

    mod.record_decision = record_decision  # type: ignore[attr-defined]
    sys.modules["casegraph.resolve.review"] = mod


@pytest.fixture(scope="session")
def web_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, dict]]:
    from casegraph.governance.users import add_user

    ws = Workspace(tmp_path_factory.mktemp("web") / "ws")
    sample.build(ws)
    try:
        from casegraph.search.service import reindex

        reindex(ws)
    except Exception:  # noqa: BLE001,S110 - the search index is optional for these tests
        pass
    try:  # a draft transport plan for the logistics board, when the planner is installed
        import datetime as dt

        from casegraph.logistics.planner import plan

        plan(ws, dt.date(2026, 1, 1), dt.date(2026, 1, 20), "seats", user="logistics")
    except ImportError:
        pass
    creds = {}
    for role in ROLES:
        pw = secrets.token_urlsafe(16)
        add_user(ws, role, role, pw)
        creds[role] = pw
    creds["lockme"] = secrets.token_urlsafe(16)
    add_user(ws, "lockme", "analyst", creds["lockme"])
    yield ws, creds
    ws.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(web_ws: tuple[Workspace, dict]) -> Iterator[str]:
    import uvicorn

    from casegraph.api.app import create_app

    _install_review_stub()
    ws, _ = web_ws
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port,
                                       log_level="warning", lifespan="off"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not t.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        pytest.skip("no chromium installed (apt-get install chromium, or set CASEGRAPH_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


class UI:
    """A browser page plus the helpers the tests share."""

    def __init__(self, page: Any, base: str, creds: dict[str, str]) -> None:
        self.page = page
        self.base = base
        self.creds = creds
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, path: str) -> Any:
        resp = self.page.goto(self.base + path)
        self.page.wait_for_load_state("load")
        return resp

    def login(self, user: str, password: str | None = None) -> None:
        self.go("/ui/login")
        self.page.fill("#username", user)
        self.page.fill("#password", password if password is not None else self.creds[user])
        self.page.click("form[action='/ui/login'] button[type=submit]")
        self.page.wait_for_load_state("load")

    def unlabelled(self) -> list[str]:
        """Visible form controls without an accessible name (label, aria-label)."""
        return self.page.evaluate("""() => Array.from(document.querySelectorAll(
              'input:not([type=hidden]), select, textarea, button'))
            .filter(el => el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map(el => el.outerHTML.slice(0, 120))""")

    def shot(self, name: str) -> Path:
        """Screenshot into tests/artefacts/web/ (and check the page's form controls are
        labelled: every screenshot is also a small accessibility check)."""
        assert self.unlabelled() == [], f"{name}: unlabelled controls {self.unlabelled()}"
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def external_requests(self) -> list[str]:
        bad = []
        for u in self.requests:
            p = urlparse(u)
            if p.scheme in ("data", "blob", "about"):
                continue
            if p.hostname not in ("127.0.0.1", "localhost", "::1"):
                bad.append(u)
        return bad


@pytest.fixture()
def ui(browser: Any, server: str, web_ws: tuple[Workspace, dict]) -> Iterator[UI]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    u = UI(page, server, web_ws[1])
    yield u
    ctx.close()
    assert u.external_requests() == [], "a page requested a non-localhost URL"
    assert u.errors == [], f"JavaScript errors: {u.errors}"
