"""casegraph: fuse agency records into resolved persons, decide lawful eligibility gate by gate,
rank, locate, recognise departures and plan removal logistics -- every step explained and audited."""

__version__ = "0.1.0"
