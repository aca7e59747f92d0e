"""The exchange rates the operator maintains: one row per currency pair and effective date."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, ExactDecimal, UTCDateTime, id_column


class ExchangeRate(Base):
    """`1 base_currency = rate quote_currency` from `effective_date` on, as `source` quoted it.

    The unique key (base, quote, date) is also the index of the look-up "latest date ≤ D"."""

    __tablename__ = "fx_rates"
    __table_args__ = (
        UniqueConstraint("base_currency", "quote_currency", "effective_date"),
        CheckConstraint("base_currency <> quote_currency", name="distinct_currencies"),
    )

    id: Mapped[int] = id_column()
    base_currency: Mapped[str] = mapped_column(String(3))
    quote_currency: Mapped[str] = mapped_column(String(3))
    effective_date: Mapped[date] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    source: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
