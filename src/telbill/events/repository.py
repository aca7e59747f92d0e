"""Every SQL statement of the outbox."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from telbill.db.copy_text import copy_text
from telbill.events.model import OutboxEvent


def add(session: Session, event: OutboxEvent) -> OutboxEvent:
    session.add(event)
    return event


def pending(session: Session, limit: int = 100) -> Sequence[OutboxEvent]:
    stmt = (
        select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)).order_by(OutboxEvent.id).limit(limit)
    )
    return session.scalars(stmt).all()


def for_aggregate(session: Session, aggregate_type: str, aggregate_id: str) -> Sequence[OutboxEvent]:
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.aggregate_type == aggregate_type, OutboxEvent.aggregate_id == aggregate_id)
        .order_by(OutboxEvent.id)
    )
    return session.scalars(stmt).all()


def pending_of(
    session: Session,
    aggregate_type: str,
    event_types: Sequence[str],
    limit: int = 100,
    *,
    skip_locked: bool = False,
) -> Sequence[OutboxEvent]:
    """Undispatched events of one aggregate type, oldest first; claimed with SKIP LOCKED when asked."""
    stmt = (
        select(OutboxEvent)
        .where(
            OutboxEvent.dispatched_at.is_(None),
            OutboxEvent.aggregate_type == aggregate_type,
            OutboxEvent.event_type.in_(list(event_types)),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    return session.scalars(stmt).all()


_COLUMNS = ("event_id", "event_type", "aggregate_type", "aggregate_id", "occurred_at", "payload", "attempts")


def copy_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Undispatched events by COPY (PostgreSQL): the payload travels as its JSON text, the same
    text the JSON column type would send. Events added earlier in the session are flushed first,
    so ids keep the order of appending."""
    session.flush()
    copy_text(
        session,
        OutboxEvent.__tablename__,
        _COLUMNS,
        [
            (r["event_id"], r["event_type"], r["aggregate_type"], r["aggregate_id"], r["occurred_at"],
             json.dumps(r["payload"]), r["attempts"])
            for r in rows
        ],
    )  # fmt: skip
