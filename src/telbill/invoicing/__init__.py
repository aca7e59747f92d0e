"""invoicing context."""
