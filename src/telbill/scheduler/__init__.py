"""scheduler context."""
