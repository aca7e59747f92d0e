"""Children insert check planned at each statement

The statement-level check on inserted invoice lines, allowances and VAT rows (PostgreSQL) runs
its query through EXECUTE, so it is planned against the invoices table as it is at each
statement. Written inline, PL/pgSQL planned it once per session and kept the plan: a session
whose first insert met an empty table hashed every invoice at each later statement (a new
database's first bill run slowed down batch after batch). SQLite has no such check.

Revision ID: b99ad5f6fe83
Revises: d4a4adee19ac
Create Date: 2026-11-26 03:27:26.129239
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b99ad5f6fe83"
down_revision: str | None = "d4a4adee19ac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# frozen copies of `telbill.invoicing.model._PG_CHILD_INSERT_FUNCTION`, new and before
NEW_FUNCTION = "\nCREATE OR REPLACE FUNCTION invoice_children_inserted() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n    finalised boolean;\nBEGIN\n    EXECUTE 'SELECT EXISTS (\n        SELECT 1 FROM (SELECT DISTINCT invoice_id FROM new_rows) n\n        JOIN invoices i ON i.id = n.invoice_id\n        WHERE i.state <> ''draft'')' INTO finalised;\n    IF finalised THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';\n    END IF;\n    RETURN NULL;\nEND\n$$"
OLD_FUNCTION = "\nCREATE OR REPLACE FUNCTION invoice_children_inserted() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF EXISTS (\n        SELECT 1 FROM (SELECT DISTINCT invoice_id FROM new_rows) n\n        CROSS JOIN LATERAL (SELECT state FROM invoices WHERE id = n.invoice_id) i\n        WHERE i.state <> 'draft'\n    ) THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';\n    END IF;\n    RETURN NULL;\nEND\n$$"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NEW_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(OLD_FUNCTION)
