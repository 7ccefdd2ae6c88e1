"""Operational-suite fixtures (SQLite always, PostgreSQL with CASEGRAPH_TEST_POSTGRES_URL)."""

from __future__ import annotations

import warnings

import pytest

from casegraph.store.testing import PASSWORD, ROLE_USERS, fast_hashing, gws, seeded  # noqa: F401

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture()
def app(gws):  # noqa: F811
    from casegraph.api.app import create_app

    return create_app(seeded(gws))


@pytest.fixture()
def client(app):
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture()
def tokens(client) -> dict[str, str]:
    """A bearer token per role (plus ``olga``, a second officer)."""
    out = {}
    for role, name in [*ROLE_USERS.items(), ("olga", "olga")]:
        r = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        out[role] = r.json()["token"]
    return out
