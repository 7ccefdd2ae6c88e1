"""departures room."""
