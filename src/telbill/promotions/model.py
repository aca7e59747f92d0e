"""Tables of the promotions context: coupons, promo codes, redemptions, applications, account discounts.

Limits are carried by the database as well as by the service: each redemption takes the next
sequence number of its coupon, of its (coupon, account) pair and of its promo code, and those
numbers are unique. Two transactions racing for the last redemption both compute the same
number, so one of them fails even if the coupon row lock were bypassed; "one per account" is
simply "account sequence 1 is unique".
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, BigId, MoneyAmount, UTCDateTime, id_column

KINDS = "'percentage', 'amount'"
DURATIONS = "'once', 'cycles', 'forever'"
SCOPES = "'invoice', 'product', 'charge_kind'"
STACKINGS = "'stackable', 'exclusive'"


class CouponRow(Base):
    """A coupon: what it takes off (`percent` or `amounts` per currency), for how long, on what, for whom."""

    __tablename__ = "coupons"

    id: Mapped[int] = id_column()
    code: Mapped[str] = mapped_column(String(40))  # as written by the operator
    code_key: Mapped[str] = mapped_column(String(40), unique=True)  # upper-cased: codes ignore case
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    percent: Mapped[Decimal | None] = mapped_column(MoneyAmount(), default=None)
    amounts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # {"EUR": "5.00"}, exact strings
    duration: Mapped[str] = mapped_column(String(10))
    cycles: Mapped[int | None] = mapped_column(Integer, default=None)
    scope: Mapped[str] = mapped_column(String(12))
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    new_customers_only: Mapped[bool] = mapped_column(Boolean, default=False)
    segments: Mapped[list[str] | None] = mapped_column(JSON, default=None)  # None: any
    countries: Mapped[list[str] | None] = mapped_column(JSON, default=None)  # None: any
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)  # exclusive
    max_redemptions: Mapped[int | None] = mapped_column(Integer, default=None)
    max_per_account: Mapped[int | None] = mapped_column(Integer)
    stacking: Mapped[str] = mapped_column(String(10), default="stackable")
    priority: Mapped[int] = mapped_column(Integer, default=100)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        CheckConstraint(f"kind IN ({KINDS})", name="kind"),
        CheckConstraint(f"duration IN ({DURATIONS})", name="duration"),
        CheckConstraint(f"scope IN ({SCOPES})", name="scope"),
        CheckConstraint(f"stacking IN ({STACKINGS})", name="stacking"),
        CheckConstraint("status IN ('active', 'archived')", name="status"),
        CheckConstraint("(duration = 'cycles') = (cycles IS NOT NULL)", name="cycles"),
        CheckConstraint("cycles IS NULL OR cycles >= 1", name="cycles_positive"),
        CheckConstraint("max_redemptions IS NULL OR max_redemptions >= 1", name="max_redemptions"),
        CheckConstraint("max_per_account IS NULL OR max_per_account >= 1", name="max_per_account"),
        CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_until > valid_from", name="validity"
        ),
    )


class PromoCodeRow(Base):
    """A public code that redeems a coupon; several may point at one coupon, each with its own limit."""

    __tablename__ = "promo_codes"

    id: Mapped[int] = id_column()
    coupon_id: Mapped[int] = mapped_column(BigId, ForeignKey("coupons.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    code_key: Mapped[str] = mapped_column(String(40), unique=True)
    max_uses: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("status IN ('active', 'archived')", name="status"),
        CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="max_uses"),
    )


class RedemptionRow(Base):
    """An account's redemption of a coupon; `first_cycle` is set by the first invoice that billed it."""

    __tablename__ = "coupon_redemptions"

    id: Mapped[int] = id_column()
    coupon_id: Mapped[int] = mapped_column(BigId, ForeignKey("coupons.id"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    promo_code_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("promo_codes.id"), default=None)
    currency: Mapped[str] = mapped_column(String(3))  # the account's, fixed at redemption
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_cycle: Mapped[int | None] = mapped_column(Integer, default=None)
    cycles_applied: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")
    coupon_seq: Mapped[int] = mapped_column(Integer)
    account_seq: Mapped[int] = mapped_column(Integer)
    promo_seq: Mapped[int | None] = mapped_column(Integer, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoke_reason: Mapped[str | None] = mapped_column(String(300), default=None)

    __table_args__ = (
        CheckConstraint("status IN ('active', 'exhausted', 'revoked')", name="status"),
        CheckConstraint("cycles_applied >= 0", name="cycles_applied"),
        UniqueConstraint("coupon_id", "coupon_seq"),
        UniqueConstraint("coupon_id", "account_id", "account_seq"),
        UniqueConstraint("promo_code_id", "promo_seq"),
        Index("ix_coupon_redemptions_coupon_time", "coupon_id", "redeemed_at"),
        Index("ix_coupon_redemptions_account_status", "account_id", "status"),
    )


class DiscountApplicationRow(Base):
    """What one discount did on one invoice (written by the bill run); unique per invoice and discount."""

    __tablename__ = "discount_applications"

    id: Mapped[int] = id_column()
    invoice_id: Mapped[int] = mapped_column(BigId)  # the invoice store owns invoices; no FK across contexts
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    discount_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(10))
    redemption_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("coupon_redemptions.id"), index=True, default=None
    )
    account_discount_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("account_discounts.id"), default=None
    )
    cycle_number: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    currency: Mapped[str] = mapped_column(String(3))
    line_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    skipped: Mapped[str | None] = mapped_column(String(30), default=None)
    explanation: Mapped[str] = mapped_column(String(500))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("invoice_id", "discount_id"),
        CheckConstraint("source IN ('coupon', 'account', 'bundle')", name="source"),
        CheckConstraint("amount >= 0", name="amount"),
    )


class AccountDiscountRow(Base):
    """A personalised discount granted to one account by an operator, for a reason, over a window."""

    __tablename__ = "account_discounts"

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[Decimal] = mapped_column(MoneyAmount())  # percent, or an amount in `currency`
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    scope: Mapped[str] = mapped_column(String(12))
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    stacking: Mapped[str] = mapped_column(String(10), default="stackable")
    priority: Mapped[int] = mapped_column(Integer, default=100)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)  # exclusive
    reason: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(f"kind IN ({KINDS})", name="kind"),
        CheckConstraint(f"scope IN ({SCOPES})", name="scope"),
        CheckConstraint(f"stacking IN ({STACKINGS})", name="stacking"),
        CheckConstraint("value > 0", name="value"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
    )
