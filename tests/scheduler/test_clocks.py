from datetime import UTC, datetime, timedelta

import pytest

from telbill.core.clock import TestClock
from telbill.core.errors import Conflict, NotFound, ValidationFailed
from telbill.scheduler import advance, clock_for, create_clock, list_clocks

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_persisted_clock_round_trips_and_moves_forward(session):
    create_clock(session, TestClock(T0), "qa", T0)
    clock = clock_for(session, "qa")
    assert clock.now() == T0
    advance(session, clock, T0 + timedelta(days=31), sources=[])
    session.expire_all()
    assert clock_for(session, "qa").now() == T0 + timedelta(days=31)
    assert [c.name for c in list_clocks(session)] == ["qa"]


def test_persisted_clock_refuses_to_go_back(session):
    clock = create_clock(session, TestClock(T0), "qa")
    with pytest.raises(ValidationFailed, match="cannot go back"):
        clock.advance_to(T0 - timedelta(days=1))


def test_duplicate_and_unknown_names_are_clear_errors(session):
    create_clock(session, TestClock(T0), "qa")
    with pytest.raises(Conflict, match="already exists"):
        create_clock(session, TestClock(T0), "qa")
    with pytest.raises(NotFound, match="no test clock named 'nope'"):
        clock_for(session, "nope")


def test_naive_start_is_refused(session):
    with pytest.raises(ValidationFailed, match="no timezone"):
        create_clock(session, TestClock(T0), "qa", datetime(2026, 1, 1))
