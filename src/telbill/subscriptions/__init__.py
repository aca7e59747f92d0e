"""subscriptions context."""
