"""Top-level orchestration of the demo pipeline."""
