"""leads room."""
