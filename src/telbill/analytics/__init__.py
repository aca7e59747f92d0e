"""analytics context."""
