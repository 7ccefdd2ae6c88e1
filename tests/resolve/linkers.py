"""A linker with the prior model over a one-record workspace, for tests of training rules.

The training rules (``_sanitise``, ``_decontaminate_u``) act on a linker's comparison
levels; these tests set the levels' m/u by hand, so one record is all the data they need.
"""

from __future__ import annotations

from typing import Any

from splink import DuckDBAPI, Linker

from casegraph.resolve import model as rmodel
from casegraph.resolve.prepare import INPUT_TABLE, build_input
from casegraph.workspace import Workspace
from tests.factories import insert_records


def prior_linker(ws: Workspace) -> Linker:
    insert_records(ws, [{"source": "s", "record_id": "1", "kind": "person",
                         "given_name": "X", "family_name": "Y"}])
    build_input(ws)
    return Linker(DuckDBAPI(connection=ws.con).register(INPUT_TABLE), rmodel.settings(1e-3),
                  log_level=None)


def levels_of(linker: Linker, comparison: str) -> dict[str, Any]:
    """The comparison's levels by their chart label."""
    comp = next(c for c in linker._settings_obj.comparisons
                if c.output_column_name == comparison)
    return {cl.label_for_charts: cl for cl in comp.comparison_levels}
