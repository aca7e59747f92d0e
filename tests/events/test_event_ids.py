"""Event ids are UUIDv7: the event's instant in their first 48 bits, version 7, RFC variant,
random bits after, so ids of later events sort after and ids of one instant stay unique."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from telbill.events.service import event_ids

instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@given(instants, st.integers(1, 50))
def test_ids_are_version_7_with_the_instant_in_front(at, count):
    ids = event_ids(at, count)
    assert len(set(ids)) == count
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 7 and parsed.variant == uuid.RFC_4122
        ms = parsed.int >> 80
        assert ms == (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


@given(instants, st.integers(1, 10**9))
def test_later_events_sort_after(at, gap_ms):
    later = at + timedelta(milliseconds=gap_ms)
    assert max(event_ids(at, 5)) < min(event_ids(later, 5))
