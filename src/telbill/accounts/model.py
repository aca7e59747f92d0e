"""Tables of the accounts context: customers, billing accounts (a tree), contacts, cycle history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from telbill.billing.periods import BillingCycle, describe_length
from telbill.core.clock import zone
from telbill.core.money import Money, currency
from telbill.db.base import Base, BigId, MoneyAmount, UTCDateTime, id_column


class Customer(Base):
    """A person or a company that the operator serves; it owns one or more billing accounts."""

    __tablename__ = "customers"

    id: Mapped[int] = id_column()
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str | None] = mapped_column(String(200), default=None)
    given_name: Mapped[str | None] = mapped_column(String(100), default=None)
    family_name: Mapped[str | None] = mapped_column(String(100), default=None)
    registration_number: Mapped[str | None] = mapped_column(String(40), default=None)
    vat_number: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    country: Mapped[str] = mapped_column(String(2))
    segment: Mapped[str] = mapped_column(String(20))
    address_line1: Mapped[str | None] = mapped_column(String(200), default=None)
    address_line2: Mapped[str | None] = mapped_column(String(200), default=None)
    postcode: Mapped[str | None] = mapped_column(String(20), default=None)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    region: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("kind IN ('person', 'company')", name="kind"),)


class BillingAccount(Base):
    """What gets invoiced: preferences, bill cycle and place in the account tree.

    A child whose payment_responsibility is 'parent' is invoiced on its parent's (consolidated)
    invoice, so it shares the parent's currency and bill cycle.
    """

    __tablename__ = "billing_accounts"

    id: Mapped[int] = id_column()
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    payment_responsibility: Mapped[str] = mapped_column(String(10), default="self")
    pays_for_children: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    bill_cycle_day: Mapped[int] = mapped_column(Integer)
    cycle_unit: Mapped[str] = mapped_column(String(5))
    cycle_count: Mapped[int] = mapped_column(Integer)
    cycle_anchor: Mapped[date] = mapped_column(Date)
    # Go-live: the local date from which telbill bills this account (None: since its subscriptions
    # started). Service before it was billed by the system the operator migrated from.
    billing_start: Mapped[date | None] = mapped_column(Date, default=None)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    invoice_delivery: Mapped[str] = mapped_column(String(10))
    communication: Mapped[dict[str, Any]] = mapped_column(JSON)
    tax_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    tax_exemption_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    tax_exemption_certificate: Mapped[str | None] = mapped_column(String(100), default=None)
    tax_exempt_until: Mapped[date | None] = mapped_column(Date, default=None)
    credit_limit: Mapped[Decimal | None] = mapped_column(MoneyAmount(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        CheckConstraint("bill_cycle_day BETWEEN 1 AND 31", name="bill_cycle_day"),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 120", name="payment_terms_days"),
        CheckConstraint("payment_responsibility IN ('self', 'parent')", name="payment_responsibility"),
        CheckConstraint("parent_id IS NOT NULL OR payment_responsibility = 'self'", name="root_pays_itself"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    @property
    def credit_limit_money(self) -> Money | None:
        """In the account currency, at its minor unit (PostgreSQL hands back 6 decimals)."""
        if self.credit_limit is None:
            return None
        return Money(self.credit_limit.quantize(currency(self.currency).quantum), self.currency)

    @property
    def cycle_name(self) -> str:
        return describe_length(self.cycle_unit, self.cycle_count)

    @property
    def billing_cycle(self) -> BillingCycle:
        """The cycle configured now (see accounts.cycle_in_force for the one at a past instant)."""
        return BillingCycle(self.cycle_unit, self.cycle_count, self.bill_cycle_day, self.cycle_anchor)  # type: ignore[arg-type]

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def tax_exempt_on(self, day: date) -> bool:
        """Exempt on that day: the flag is set and the certificate has not expired."""
        return self.tax_exempt and (self.tax_exempt_until is None or day <= self.tax_exempt_until)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = id_column()
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    billing_account_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("billing_accounts.id"), index=True, default=None
    )
    roles: Mapped[list[str]] = mapped_column(JSON)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    address_line1: Mapped[str | None] = mapped_column(String(200), default=None)
    address_line2: Mapped[str | None] = mapped_column(String(200), default=None)
    postcode: Mapped[str | None] = mapped_column(String(20), default=None)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    region: Mapped[str | None] = mapped_column(String(100), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillingAccountCycleChange(Base):
    """Each change of bill cycle day or length, so billing can prorate across it."""

    __tablename__ = "billing_account_cycle_changes"

    id: Mapped[int] = id_column()
    billing_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"))
    old_bill_cycle_day: Mapped[int] = mapped_column(Integer)
    new_bill_cycle_day: Mapped[int] = mapped_column(Integer)
    old_cycle_unit: Mapped[str] = mapped_column(String(5))
    new_cycle_unit: Mapped[str] = mapped_column(String(5))
    old_cycle_count: Mapped[int] = mapped_column(Integer)
    new_cycle_count: Mapped[int] = mapped_column(Integer)
    old_cycle_anchor: Mapped[date] = mapped_column(Date)
    new_cycle_anchor: Mapped[date] = mapped_column(Date)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_billing_account_cycle_changes_account", "billing_account_id", "effective_at"),
    )


class NumberCounter(Base):
    """The next free number of each series (customer, account): one row locked per allocation."""

    __tablename__ = "account_number_counters"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)
