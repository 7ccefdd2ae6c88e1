"""Departure verification: :mod:`casegraph.departures.rules` (pure, shared with gate 7),
:func:`casegraph.departures.classify.classify_departures` and
:func:`casegraph.departures.classify.departure_report`. See docs/policy.md."""
