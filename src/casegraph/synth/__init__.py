"""synth room."""
