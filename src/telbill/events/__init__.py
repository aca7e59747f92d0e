"""Transactional outbox: state changes append events in the same transaction as the change."""

from telbill.events.service import append_event, pending_events

__all__ = ["append_event", "pending_events"]
