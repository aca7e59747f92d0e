"""Tables of the subscriptions context: subscriptions, their service identifiers and changes, orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, BigId, MoneyAmount, UTCDateTime, id_column

STATES = "'pending', 'trial', 'active', 'suspended', 'cancelled'"
IDENTIFIER_TYPES = ("msisdn", "imsi", "iccid", "line_id")


class Subscription(Base):
    """One offer sold to one billing account; `parent_id` ties add-ons and bundle components."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), default=None)
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("subscriptions.id"), index=True, default=None
    )
    offer_code: Mapped[str] = mapped_column(String(80), index=True)
    offer_version: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(10), index=True)
    phase: Mapped[str | None] = mapped_column(String(12), default=None)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    trial_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    commitment_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(f"state IN ({STATES})", name="state"),
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("phase IS NULL OR phase IN ('trial', 'fixed_term', 'evergreen')", name="phase"),
        Index("ix_subscriptions_trial_due", "state", "trial_end"),
        Index("ix_subscriptions_contract_due", "phase", "commitment_end"),
    )


class ServiceIdentifier(Base):
    """A network identifier held by a subscription over `[valid_from, valid_to)`.

    At most one open row (valid_to IS NULL) per identifier: a partial unique index, on both
    SQLite and PostgreSQL, guarantees it whatever the application checks.
    """

    __tablename__ = "subscription_service_ids"

    id: Mapped[int] = id_column()
    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("subscriptions.id"), index=True)
    type: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        CheckConstraint("type IN ('msisdn', 'imsi', 'iccid', 'line_id')", name="type"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="interval"),
        Index(
            "uq_subscription_service_ids_open",
            "type",
            "value",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index("ix_subscription_service_ids_lookup", "type", "value", "valid_from"),
    )


class SubscriptionChange(Base):
    """A change to a subscription at `effective_at`: pending until applied (or cancelled).

    Applied rows are the subscription's history (plan, quantity, state over time) that billing
    prorates on; pending rows are what the scheduler applies when the clock reaches them.
    """

    __tablename__ = "subscription_changes"

    id: Mapped[int] = id_column()
    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("subscriptions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    note: Mapped[str | None] = mapped_column(String(200), default=None)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'applied', 'cancelled')", name="status"),
        Index("ix_subscription_changes_due", "status", "effective_at"),
    )


class PendingCharge(Base):
    """A one-time charge a subscription owes (early termination fee), waiting for the next bill run."""

    __tablename__ = "subscription_pending_charges"

    id: Mapped[int] = id_column()
    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("subscriptions.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    currency: Mapped[str] = mapped_column(String(3))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("status IN ('pending', 'billed', 'void')", name="status"),)


class Order(Base):
    """A product order (TMF622 style): acknowledged → inProgress → completed | failed | cancelled."""

    __tablename__ = "orders"

    id: Mapped[int] = id_column()
    external_id: Mapped[str | None] = mapped_column(String(80), default=None, index=True)
    account_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    account_ref: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), index=True)
    requested_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    failure_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        CheckConstraint(
            "state IN ('acknowledged', 'inProgress', 'completed', 'failed', 'cancelled')", name="state"
        ),
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = id_column()
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    offer_code: Mapped[str | None] = mapped_column(String(80), default=None)
    quantity: Mapped[int | None] = mapped_column(Integer, default=None)
    service_ids: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    subscription_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("subscriptions.id"), index=True, default=None
    )

    __table_args__ = (CheckConstraint("action IN ('add', 'modify', 'delete')", name="action"),)
