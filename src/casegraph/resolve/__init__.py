"""resolve room."""
