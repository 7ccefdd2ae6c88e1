"""Shared fixtures. Room-specific fixtures live in tests/<room>/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from casegraph.workspace import Workspace


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    """A fresh, empty workspace in a temporary directory."""
    w = Workspace(tmp_path / "ws")
    yield w
    w.close()
