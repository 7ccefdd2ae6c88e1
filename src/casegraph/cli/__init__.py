"""The `casegraph` command line.

Each room registers its commands from its own module (``cli/<room>_cmds.py``), so the
entry point stays a list and no module edits another's commands.
"""

from __future__ import annotations

import importlib
import sys

import typer

from casegraph.cli.common import export_app, fail_cleanly

app = typer.Typer(
    name="casegraph",
    help="Fuse agency records into resolved persons, decide eligibility gate by gate, "
         "rank leads, recognise departures and plan removal logistics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(export_app, name="export", help="Write CSV exports (formula-safe, audited).")

#: Command modules, in the order of the data flow. Each exposes ``register(app)``.
COMMAND_MODULES = (
    "casegraph.cli.ingest_cmds",
    "casegraph.cli.synth_cmds",
    "casegraph.cli.resolve_cmds",
    "casegraph.cli.score_cmds",
    "casegraph.cli.search_cmds",
    "casegraph.cli.logistics_cmds",
    "casegraph.cli.governance_cmds",
    "casegraph.cli.demo_cmds",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Console-script entry: readable one-line errors instead of tracebacks."""
    with fail_cleanly():
        app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
