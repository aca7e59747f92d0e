"""rating context."""
