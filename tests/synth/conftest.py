"""Fixtures of the synth room: small generated agencies shared by the module's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from casegraph.synth import generate

AS_OF = "2026-11-15"


@pytest.fixture(scope="session")
def agency(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A 3,000-person agency (big enough that every scenario and noise kind occurs)."""
    out = tmp_path_factory.mktemp("synth") / "agency"
    summary = generate(3000, out, seed=11, as_of=AS_OF)
    return out, summary
