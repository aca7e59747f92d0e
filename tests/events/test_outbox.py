from datetime import UTC, datetime
from decimal import Decimal

from telbill.core.clock import TestClock
from telbill.events import append_event, pending_events
from telbill.events.service import events_for


def test_event_is_pending_until_dispatched_and_payload_is_exact(session):
    clock = TestClock(datetime(2026, 1, 1, tzinfo=UTC))
    ev = append_event(
        session,
        clock,
        event_type="X.created",
        aggregate_type="x",
        aggregate_id=7,
        payload={"price": Decimal("9.99"), "at": clock.now()},
    )
    assert ev in pending_events(session)
    (stored,) = events_for(session, "x", 7)
    assert stored.payload == {"price": "9.99", "at": "2026-01-01T00:00:00+00:00"}
    assert stored.occurred_at == clock.now()


def test_event_rolls_back_with_the_transaction(session):
    clock = TestClock(datetime(2026, 1, 1, tzinfo=UTC))
    nested = session.begin_nested()
    append_event(session, clock, event_type="X.created", aggregate_type="x", aggregate_id=8, payload={})
    session.flush()
    nested.rollback()
    assert list(events_for(session, "x", 8)) == []
