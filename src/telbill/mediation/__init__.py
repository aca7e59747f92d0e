"""mediation context."""
