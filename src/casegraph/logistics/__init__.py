"""logistics room."""
