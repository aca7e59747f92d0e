"""Every SQL statement of the outbox."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

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
