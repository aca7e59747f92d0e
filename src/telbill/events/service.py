"""Appending events. The caller's transaction carries them: if the change rolls back, so do they."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.events import repository
from telbill.events.model import OutboxEvent

_AS_IS = frozenset({str, int, bool, float, type(None)})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_RAND_B = (1 << 62) - 1


def event_ids(at: datetime, count: int) -> list[str]:
    """`count` UUIDv7 (RFC 9562) for events that occurred at `at`: its milliseconds since the
    epoch, then 74 random bits. Ids of one instant share their prefix, so the unique index takes
    them at its right edge; random version-4 ids landed on random pages of a large index (a bill
    run appends thousands per batch: a page read, dirtied and logged for each)."""
    ms = max(0, (at - _EPOCH) // _MS)
    noise = os.urandom(10 * count)
    out = []
    for i in range(count):
        r = int.from_bytes(noise[10 * i : 10 * i + 10], "big")  # 80 bits: 12 for rand_a, 62 for rand_b
        value = (ms << 80) | (0x7 << 76) | ((r >> 68) << 64) | (0b10 << 62) | (r & _RAND_B)
        h = f"{value:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _jsonable(value: Any) -> Any:
    """Decimals as strings (exact), instants as ISO 8601."""
    kind = type(value)
    if kind in _AS_IS:  # most values of a payload: looked up once, not through the checks below
        return value
    if kind is Decimal:
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def append_event(
    session: Session,
    clock: Clock,
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: object,
    payload: Mapping[str, Any],
) -> OutboxEvent:
    body = _jsonable(dict(payload))
    json.dumps(body)  # fail here, not in the dispatcher, if something is not serialisable
    event = OutboxEvent(
        event_id=event_ids(clock.now(), 1)[0],
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        occurred_at=clock.now(),
        payload=body,
        dispatched_at=None,
        attempts=0,
    )
    return repository.add(session, event)


def pending_events(session: Session, limit: int = 100) -> Sequence[OutboxEvent]:
    session.flush()
    return repository.pending(session, limit)


def events_for(session: Session, aggregate_type: str, aggregate_id: object) -> Sequence[OutboxEvent]:
    session.flush()
    return repository.for_aggregate(session, aggregate_type, str(aggregate_id))


def append_events(session: Session, clock: Clock, events: Sequence[Mapping[str, Any]]) -> int:
    """Many events in one COPY on PostgreSQL, one executemany elsewhere (bulk loads); each mapping
    has the keyword arguments of append_event."""
    from sqlalchemy import insert

    now = clock.now()
    rows = []
    for event, event_id in zip(events, event_ids(now, len(events)), strict=True):
        body = _jsonable(dict(event["payload"]))
        rows.append(
            {
                "event_id": event_id,
                "event_type": event["event_type"],
                "aggregate_type": event["aggregate_type"],
                "aggregate_id": str(event["aggregate_id"]),
                "occurred_at": now,
                "payload": body,
                "dispatched_at": None,
                "attempts": 0,
            }
        )
    if rows:
        if session.get_bind().dialect.name == "postgresql":
            repository.copy_many(session, rows)
        else:
            session.execute(insert(OutboxEvent), rows)
    return len(rows)
