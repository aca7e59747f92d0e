"""Rating tables: rated usage (one current row per usage record, older generations kept),
rating runs with control totals, allowance balances per bucket and period, re-rating adjustments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, BigId, UTCDateTime, id_column


class RatingRun(Base):
    """One `rate run` or `rerate`. Control totals: records_in = rated + failed."""

    __tablename__ = "rating_runs"

    id: Mapped[int] = id_column()
    kind: Mapped[str] = mapped_column(String(8))  # rate | rerate
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    window_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    window_to: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    accounts: Mapped[list[int] | None] = mapped_column(JSON, default=None)
    records_in: Mapped[int] = mapped_column(BigInteger, default=0)
    rated: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0)
    replaced: Mapped[int] = mapped_column(BigInteger, default=0)  # re-rating: new generations written
    unchanged: Mapped[int] = mapped_column(BigInteger, default=0)  # re-rating: same result, kept
    invoiced: Mapped[int] = mapped_column(BigInteger, default=0)  # re-rating: invoiced, kept
    adjustments: Mapped[int] = mapped_column(BigInteger, default=0)
    amounts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # currency -> micros rated

    __table_args__ = (CheckConstraint("kind IN ('rate', 'rerate')", name="kind"),)


class RatedUsage(Base):
    """The rating of one usage record. The current row has `superseded_by` NULL; re-rating writes
    the next generation and marks the old one with the run that replaced it."""

    __tablename__ = "rated_usage"

    id: Mapped[int] = id_column()
    usage_record_id: Mapped[int] = mapped_column(BigId)
    generation: Mapped[int] = mapped_column(Integer)
    superseded_by: Mapped[int | None] = mapped_column(BigId, default=None)  # rating_runs.id
    rating_run_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(8))  # rated | failed
    reason: Mapped[str | None] = mapped_column(String(40), default=None)
    reason_detail: Mapped[str | None] = mapped_column(String(200), default=None)
    account_id: Mapped[int] = mapped_column(BigId)
    subscription_id: Mapped[int] = mapped_column(BigId)  # the charge's subscription (an add-on's)
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    billing_period_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    usage_type: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str | None] = mapped_column(String(40), default=None)
    destination: Mapped[str | None] = mapped_column(String(80), default=None)  # destination set
    zone: Mapped[str | None] = mapped_column(String(80), default=None)
    bands: Mapped[str | None] = mapped_column(String(120), default=None)
    slots: Mapped[str | None] = mapped_column(String(40), default=None)
    offer_code: Mapped[str | None] = mapped_column(String(80), default=None)
    offer_version: Mapped[int | None] = mapped_column(Integer, default=None)
    charge_code: Mapped[str | None] = mapped_column(String(80), default=None)
    pricing: Mapped[str | None] = mapped_column(String(8), default=None)  # tariff | model | included
    quantity_base: Mapped[int] = mapped_column(BigInteger)  # seconds, events or bytes
    charged_quantity: Mapped[int | None] = mapped_column(BigInteger, default=None)
    free_quantity: Mapped[int | None] = mapped_column(BigInteger, default=None)
    bucket_ids: Mapped[str | None] = mapped_column(String(400), default=None)
    amount_micros: Mapped[int | None] = mapped_column(BigInteger, default=None)  # NULL: model-priced
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    tariff_code: Mapped[str | None] = mapped_column(String(80), default=None)
    tariff_version: Mapped[int | None] = mapped_column(Integer, default=None)
    invoice_id: Mapped[int | None] = mapped_column(BigId, default=None)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("usage_record_id", "generation"),
        CheckConstraint("status IN ('rated', 'failed')", name="status"),
        Index(
            "uq_rated_usage_current",
            "usage_record_id",
            unique=True,
            sqlite_where=text("superseded_by IS NULL"),
            postgresql_where=text("superseded_by IS NULL"),
        ),
        Index("ix_rated_usage_account_period", "account_id", "billing_period_start"),
        Index("ix_rated_usage_account_time", "account_id", "start_time"),
    )


class AllowanceBalance(Base):
    """One bucket's state for one billing period: `opening` as granted, `remaining` after rating."""

    __tablename__ = "balances"

    id: Mapped[int] = id_column()
    bucket_id: Mapped[str] = mapped_column(String(160), unique=True)
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    subscription_id: Mapped[int | None] = mapped_column(BigId, default=None)
    allowance_code: Mapped[str] = mapped_column(String(80))
    usage_type: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    opening: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RatingAdjustment(Base):
    """What re-rating changed in usage already invoiced, owed on the next invoice.

    One pending row per (subscription, charge, period, currency): re-rating again replaces its
    amount, so twice is once. Billed rows are kept and counted as already billed."""

    __tablename__ = "rating_adjustments"

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, index=True)
    subscription_id: Mapped[int] = mapped_column(BigId)
    offer_code: Mapped[str] = mapped_column(String(80))
    charge_code: Mapped[str] = mapped_column(String(80))
    billing_period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))  # pending | billed
    rating_run_id: Mapped[int] = mapped_column(BigId)
    invoice_id: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'billed')", name="status"),
        Index(
            "uq_rating_adjustments_pending",
            "subscription_id",
            "charge_code",
            "billing_period_start",
            "currency",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
