"""Every SQL statement of the subscriptions context."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from telbill.subscriptions.model import (
    Order,
    OrderItem,
    PendingCharge,
    ServiceIdentifier,
    Subscription,
    SubscriptionChange,
)


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def get_subscription(
    session: Session, subscription_id: int, *, for_update: bool = False
) -> Subscription | None:
    stmt = select(Subscription).where(Subscription.id == subscription_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def list_subscriptions(
    session: Session,
    *,
    account_id: int | None = None,
    state: str | None = None,
    offer_code: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Subscription]:
    stmt = select(Subscription).order_by(Subscription.id).limit(limit).offset(offset)
    if account_id is not None:
        stmt = stmt.where(Subscription.account_id == account_id)
    if state is not None:
        stmt = stmt.where(Subscription.state == state)
    if offer_code is not None:
        stmt = stmt.where(Subscription.offer_code == offer_code)
    return session.scalars(stmt).all()


def children_of(session: Session, subscription_id: int) -> Sequence[Subscription]:
    stmt = select(Subscription).where(Subscription.parent_id == subscription_id).order_by(Subscription.id)
    return session.scalars(stmt).all()


def open_identifiers(session: Session, subscription_id: int) -> Sequence[ServiceIdentifier]:
    stmt = (
        select(ServiceIdentifier)
        .where(ServiceIdentifier.subscription_id == subscription_id, ServiceIdentifier.valid_to.is_(None))
        .order_by(ServiceIdentifier.id)
    )
    return session.scalars(stmt).all()


def identifiers_of(session: Session, subscription_id: int) -> Sequence[ServiceIdentifier]:
    stmt = (
        select(ServiceIdentifier)
        .where(ServiceIdentifier.subscription_id == subscription_id)
        .order_by(ServiceIdentifier.valid_from, ServiceIdentifier.id)
    )
    return session.scalars(stmt).all()


HOLDERS_CHUNK = 500  # bound the statement size (SQLite limits parameters and expression depth)


def holders_of(
    session: Session, pairs: Sequence[tuple[str, str]], at: datetime
) -> Sequence[ServiceIdentifier]:
    """Rows holding any of these identifiers at or after `at` (open, or closing after it)."""
    by_type: dict[str, list[str]] = {}
    for t, v in pairs:
        by_type.setdefault(t, []).append(v)
    found: list[ServiceIdentifier] = []
    live = or_(ServiceIdentifier.valid_to.is_(None), ServiceIdentifier.valid_to > at)
    for t, values in by_type.items():
        for start in range(0, len(values), HOLDERS_CHUNK):
            chunk = values[start : start + HOLDERS_CHUNK]
            stmt = select(ServiceIdentifier).where(
                ServiceIdentifier.type == t, ServiceIdentifier.value.in_(chunk), live
            )
            found.extend(session.scalars(stmt).all())
    return found


def last_applied_change(session: Session, subscription_id: int) -> SubscriptionChange | None:
    stmt = (
        select(SubscriptionChange)
        .where(SubscriptionChange.subscription_id == subscription_id, SubscriptionChange.status == "applied")
        .order_by(SubscriptionChange.effective_at.desc(), SubscriptionChange.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()


def changes_of(
    session: Session, subscription_id: int, status: str | None = None
) -> Sequence[SubscriptionChange]:
    stmt = select(SubscriptionChange).where(SubscriptionChange.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(SubscriptionChange.status == status)
    return session.scalars(stmt.order_by(SubscriptionChange.effective_at, SubscriptionChange.id)).all()


def get_change(session: Session, change_id: int) -> SubscriptionChange | None:
    return session.get(SubscriptionChange, change_id)


def due_changes(session: Session, until: datetime) -> Sequence[SubscriptionChange]:
    stmt = (
        select(SubscriptionChange)
        .where(SubscriptionChange.status == "pending", SubscriptionChange.effective_at <= until)
        .order_by(SubscriptionChange.effective_at, SubscriptionChange.id)
    )
    return session.scalars(stmt).all()


def due_trial_ends(session: Session, until: datetime) -> Sequence[tuple[int, datetime]]:
    stmt = select(Subscription.id, Subscription.trial_end).where(
        Subscription.state == "trial", Subscription.trial_end <= until
    )
    return [(row[0], row[1]) for row in session.execute(stmt)]


def due_contract_ends(session: Session, until: datetime) -> Sequence[tuple[int, datetime]]:
    stmt = select(Subscription.id, Subscription.commitment_end).where(
        Subscription.phase == "fixed_term",
        Subscription.state.in_(("active", "suspended")),
        Subscription.commitment_end <= until,
    )
    return [(row[0], row[1]) for row in session.execute(stmt)]


def pending_charges_of(session: Session, subscription_id: int) -> Sequence[PendingCharge]:
    stmt = select(PendingCharge).where(PendingCharge.subscription_id == subscription_id)
    return session.scalars(stmt.order_by(PendingCharge.id)).all()


def get_order(session: Session, order_id: int) -> Order | None:
    return session.get(Order, order_id)


def list_orders(
    session: Session, *, account_id: int | None = None, state: str | None = None, limit: int = 100
) -> Sequence[Order]:
    stmt = select(Order).order_by(Order.id.desc()).limit(limit)
    if account_id is not None:
        stmt = stmt.where(Order.account_id == account_id)
    if state is not None:
        stmt = stmt.where(Order.state == state)
    return session.scalars(stmt).all()


def items_of(session: Session, order_id: int) -> Sequence[OrderItem]:
    stmt = select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.position)
    return session.scalars(stmt).all()


def count_subscriptions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Subscription)) or 0


def insert_many(session: Session, table: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """executemany through Core (no ORM unit-of-work overhead)."""
    if rows:
        session.execute(insert(table), list(rows))


def max_id(session: Session, table: type[Any]) -> int:
    return session.scalar(select(func.max(table.id))) or 0


def close_identifiers(session: Session, subscription_id: int, at: datetime) -> None:
    session.execute(
        update(ServiceIdentifier)
        .where(ServiceIdentifier.subscription_id == subscription_id, ServiceIdentifier.valid_to.is_(None))
        .values(valid_to=at)
        .execution_options(synchronize_session="fetch")
    )


class ServiceIdInterval(NamedTuple):
    identifier_type: str
    value: str
    valid_from: datetime
    valid_to: datetime | None
    subscription_id: int
    account_id: int
    offer_code: str
    offer_version: int


def service_id_intervals(session: Session, identifier_type: str | None = None) -> list[ServiceIdInterval]:
    """Every identifier interval with its subscription, for guiding usage to the subscription valid then."""
    stmt = (
        select(
            ServiceIdentifier.type,
            ServiceIdentifier.value,
            ServiceIdentifier.valid_from,
            ServiceIdentifier.valid_to,
            Subscription.id,
            Subscription.account_id,
            Subscription.offer_code,
            Subscription.offer_version,
        )
        .join(Subscription, Subscription.id == ServiceIdentifier.subscription_id)
        # the id last: an interval closed the instant it opened and the one after it share their
        # start, and come in the order they were made (without it, in the table's physical order)
        .order_by(
            ServiceIdentifier.type,
            ServiceIdentifier.value,
            ServiceIdentifier.valid_from,
            ServiceIdentifier.id,
        )
    )
    if identifier_type is not None:
        stmt = stmt.where(ServiceIdentifier.type == identifier_type)
    return [ServiceIdInterval(*row) for row in session.execute(stmt)]


def service_id_stamp(session: Session) -> tuple[int, int, int]:
    """(identifiers, highest id, closed identifiers): changes whenever the intervals change.

    Identifiers are only ever added (a higher id) or closed once (valid_to set where it was
    NULL); nothing edits or deletes them otherwise. One aggregate over the table, no rows sent."""
    si = ServiceIdentifier
    stmt = select(func.count(), func.max(si.id), func.count(si.valid_to))
    n, top, closed = session.execute(stmt).one()
    return int(n), int(top or 0), int(closed)


def count_by_state(session: Session) -> dict[str, int]:
    stmt = select(Subscription.state, func.count()).group_by(Subscription.state)
    return {state: int(n) for state, n in session.execute(stmt)}
