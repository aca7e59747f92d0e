"""fx rates: exchange rates the operator maintains

`fx_rates`: `1 base_currency = rate quote_currency` from `effective_date` on, as its source quoted
it (exact: NUMERIC without scale on PostgreSQL, text on SQLite). The unique key (base, quote,
date) is the index of the look-up "latest date <= D". Invoices in a currency other than the
seller's VAT accounting currency freeze the rate in force on their issue date (BT-6, BT-111).

Revision ID: a2d50f6e3f69
Revises: a2150c333a9d
Create Date: 2026-11-26 01:11:40.481348
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import telbill.db.base

revision: str = "a2d50f6e3f69"
down_revision: str | None = "a2150c333a9d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("quote_currency", sa.String(length=3), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("rate", telbill.db.base.ExactDecimal(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("base_currency <> quote_currency", name=op.f("ck_fx_rates_distinct_currencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint(
            "base_currency",
            "quote_currency",
            "effective_date",
            name=op.f("uq_fx_rates_base_currency_quote_currency_effective_date"),
        ),
    )


def downgrade() -> None:
    op.drop_table("fx_rates")
