"""Operational-suite fixtures (SQLite always, PostgreSQL with CASEGRAPH_TEST_POSTGRES_URL)."""

from casegraph.store.testing import fast_hashing, gws  # noqa: F401
