"""cases room."""
