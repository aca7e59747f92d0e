"""synth context."""
