"""synth room: a synthetic agency — source files in many layouts, their ingest specs, and
the ground truth (which record is which person, who is eligible at the as-of date)."""

from casegraph.synth.generate import SynthSummary, generate

__all__ = ["SynthSummary", "generate"]
