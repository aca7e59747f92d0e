"""Partials keyed by (source, record_id) without a surrogate id; session indexes leave merged partials out

A partial costs one heap row and, before, four index entries (id, (source, record_id), session,
start BRIN). Nothing refers to a partial by id, and a merged partial is never looked up by session
again: the session is closed by its event, found through a partial index on usage_records' events.

Revision ID: 106b1f2bc162
Revises: 5e26d62e9dd7
Create Date: 2026-11-25 22:09:03.422865
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "106b1f2bc162"
down_revision: str | None = "5e26d62e9dd7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_MERGED = sa.text("status <> 'merged'")
EVENTS = sa.text("partial")


def upgrade() -> None:
    with op.batch_alter_table("partial_records", schema=None) as batch_op:
        batch_op.drop_index("ix_partial_records_session")
        batch_op.drop_constraint("uq_partial_records_source_record_id", type_="unique")
        batch_op.drop_constraint("pk_partial_records", type_="primary")
        batch_op.drop_column("id")
        batch_op.create_primary_key("pk_partial_records", ["source", "record_id"])
        batch_op.create_index(
            "ix_partial_records_session",
            ["source", "charging_id"],
            unique=False,
            postgresql_where=NOT_MERGED,
            sqlite_where=NOT_MERGED,
        )
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_records_session",
            ["source", "charging_id"],
            unique=False,
            postgresql_where=EVENTS,
            sqlite_where=EVENTS,
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_records_session")
    with op.batch_alter_table("partial_records", schema=None, recreate="always") as batch_op:
        batch_op.drop_index("ix_partial_records_session")
        batch_op.drop_constraint("pk_partial_records", type_="primary")
        batch_op.add_column(
            sa.Column(
                "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(), nullable=False
            )
        )
        batch_op.create_primary_key("pk_partial_records", ["id"])
        batch_op.create_unique_constraint("uq_partial_records_source_record_id", ["source", "record_id"])
        batch_op.create_index("ix_partial_records_session", ["source", "charging_id"], unique=False)
