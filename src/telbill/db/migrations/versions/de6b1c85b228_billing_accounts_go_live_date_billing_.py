"""Billing accounts: go-live date (billing_start)

The local date from which the bill run bills an account; service before it was billed by the
system the operator migrated from. Nullable: existing accounts bill from their subscriptions' start.

Revision ID: de6b1c85b228
Revises: 106b1f2bc162
Create Date: 2026-11-25 21:58:46.344688
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "de6b1c85b228"
down_revision: str | None = "106b1f2bc162"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("billing_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("billing_start", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("billing_accounts", schema=None) as batch_op:
        batch_op.drop_column("billing_start")
