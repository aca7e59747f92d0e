"""Invoice lines: each line's share of the document allowances

`allowance_share`: the part of the invoice's document allowances (discounts) a line carries, as
allocated when the invoice was written, so a credit note gives back a line's net after its
discounts. Nullable: lines written before have none recorded, and credit notes assume the default
allocation for them (each rate's allowances over its lines in proportion to their nets). Adding a
nullable column rewrites no row, so the immutability triggers are not involved.

Revision ID: a2150c333a9d
Revises: a933cb9e0c19
Create Date: 2026-11-26 00:43:23.284133
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import telbill.db.base

revision: str = "a2150c333a9d"
down_revision: str | None = "a933cb9e0c19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allowance_share", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=True)
        )


def downgrade() -> None:
    # on SQLite the batch drop recreates the table: re-run `immutability_ddl` afterwards
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_column("allowance_share")
