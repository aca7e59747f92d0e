"""Invoices written once: deferrable child keys, statement-level insert check, fewer indexes

The bill run writes a finalised invoice in one insert, its lines, allowances and VAT rows first
(their foreign key to the invoice is deferrable, checked once the invoice is in). On PostgreSQL
an insert of child rows is checked once per statement (transition table) instead of once per
row; updates and deletes of child rows keep their per-row check. Indexes that other indexes
cover are dropped (invoices.account_id, invoice_lines.invoice_id); the credit-note references
are indexed only where set. A bill run's claim reads pending items in id order from the index.

SQLite rebuilds a table to change its foreign keys, which drops its triggers: they are
installed again (frozen copy of `telbill.invoicing.model.immutability_ddl`).

Revision ID: a933cb9e0c19
Revises: de6b1c85b228
Create Date: 2026-11-26 00:47:31.665243
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a933cb9e0c19"
down_revision: str | None = "de6b1c85b228"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_TRIGGERS = [
    "\nCREATE OR REPLACE FUNCTION invoice_children_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n    old_state text;\n    new_state text;\nBEGIN\n    SELECT state INTO old_state FROM invoices WHERE id = OLD.invoice_id;\n    IF TG_OP = 'UPDATE' THEN\n        SELECT state INTO new_state FROM invoices WHERE id = NEW.invoice_id;\n    END IF;\n    IF coalesce(old_state, 'draft') <> 'draft' OR coalesce(new_state, 'draft') <> 'draft' THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';\n    END IF;\n    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND\n$$",
    "\nCREATE OR REPLACE FUNCTION invoice_children_inserted() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF EXISTS (\n        SELECT 1 FROM (SELECT DISTINCT invoice_id FROM new_rows) n\n        CROSS JOIN LATERAL (SELECT state FROM invoices WHERE id = n.invoice_id) i\n        WHERE i.state <> 'draft'\n    ) THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';\n    END IF;\n    RETURN NULL;\nEND\n$$",
    "DROP TRIGGER IF EXISTS invoice_lines_immutable ON invoice_lines",
    "CREATE TRIGGER invoice_lines_immutable BEFORE UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION invoice_children_immutable()",
    "DROP TRIGGER IF EXISTS invoice_lines_immutable_insert ON invoice_lines",
    "CREATE TRIGGER invoice_lines_immutable_insert AFTER INSERT ON invoice_lines REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_children_inserted()",
    "DROP TRIGGER IF EXISTS invoice_allowances_immutable ON invoice_allowances",
    "CREATE TRIGGER invoice_allowances_immutable BEFORE UPDATE OR DELETE ON invoice_allowances FOR EACH ROW EXECUTE FUNCTION invoice_children_immutable()",
    "DROP TRIGGER IF EXISTS invoice_allowances_immutable_insert ON invoice_allowances",
    "CREATE TRIGGER invoice_allowances_immutable_insert AFTER INSERT ON invoice_allowances REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_children_inserted()",
    "DROP TRIGGER IF EXISTS invoice_tax_subtotals_immutable ON invoice_tax_subtotals",
    "CREATE TRIGGER invoice_tax_subtotals_immutable BEFORE UPDATE OR DELETE ON invoice_tax_subtotals FOR EACH ROW EXECUTE FUNCTION invoice_children_immutable()",
    "DROP TRIGGER IF EXISTS invoice_tax_subtotals_immutable_insert ON invoice_tax_subtotals",
    "CREATE TRIGGER invoice_tax_subtotals_immutable_insert AFTER INSERT ON invoice_tax_subtotals REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_children_inserted()",
]

SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS invoices_immutable_update BEFORE UPDATE ON invoices WHEN OLD.state <> 'draft' AND (NEW.state = 'draft' OR (OLD.state = 'void' AND NEW.state <> 'void') OR NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id OR NEW.payer_account_id IS NOT OLD.payer_account_id OR NEW.kind IS NOT OLD.kind OR NEW.period_start IS NOT OLD.period_start OR NEW.period_end IS NOT OLD.period_end OR NEW.series IS NOT OLD.series OR NEW.number IS NOT OLD.number OR NEW.document_type IS NOT OLD.document_type OR NEW.held_reason IS NOT OLD.held_reason OR NEW.currency IS NOT OLD.currency OR NEW.language IS NOT OLD.language OR NEW.issue_date IS NOT OLD.issue_date OR NEW.due_date IS NOT OLD.due_date OR NEW.line_total IS NOT OLD.line_total OR NEW.allowance_total IS NOT OLD.allowance_total OR NEW.tax_total IS NOT OLD.tax_total OR NEW.grand_total IS NOT OLD.grand_total OR NEW.prepaid_amount IS NOT OLD.prepaid_amount OR NEW.extras IS NOT OLD.extras OR NEW.content IS NOT OLD.content OR NEW.content_sha256 IS NOT OLD.content_sha256 OR NEW.idempotency_key IS NOT OLD.idempotency_key OR NEW.preceding_invoice_id IS NOT OLD.preceding_invoice_id OR NEW.absorbed_into_id IS NOT OLD.absorbed_into_id OR NEW.reason IS NOT OLD.reason OR NEW.created_at IS NOT OLD.created_at OR NEW.finalised_at IS NOT OLD.finalised_at) BEGIN SELECT RAISE(ABORT, 'a finalised invoice is immutable: only its settlement may change'); END",
    "CREATE TRIGGER IF NOT EXISTS invoices_immutable_delete BEFORE DELETE ON invoices WHEN OLD.state <> 'draft' BEGIN SELECT RAISE(ABORT, 'a finalised invoice is immutable: it cannot be deleted'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_lines_immutable_insert BEFORE INSERT ON invoice_lines WHEN coalesce((SELECT state FROM invoices WHERE id = NEW.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_lines of a finalised invoice are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_lines_immutable_update BEFORE UPDATE ON invoice_lines WHEN coalesce((SELECT state FROM invoices WHERE id = OLD.invoice_id), 'draft') <> 'draft' OR coalesce((SELECT state FROM invoices WHERE id = NEW.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_lines of a finalised invoice are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_lines_immutable_delete BEFORE DELETE ON invoice_lines WHEN coalesce((SELECT state FROM invoices WHERE id = OLD.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_lines of a finalised invoice are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_allowances_immutable_insert BEFORE INSERT ON invoice_allowances WHEN coalesce((SELECT state FROM invoices WHERE id = NEW.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_allowances of a finalised invoice are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_allowances_immutable_update BEFORE UPDATE ON invoice_allowances WHEN coalesce((SELECT state FROM invoices WHERE id = OLD.invoice_id), 'draft') <> 'draft' OR coalesce((SELECT state FROM invoices WHERE id = NEW.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_allowances of a finalised invoice are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_allowances_immutable_delete BEFORE DELETE ON invoice_allowances WHEN coalesce((SELECT state FROM invoices WHERE id = OLD.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_allowances of a finalised invoice are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_tax_subtotals_immutable_insert BEFORE INSERT ON invoice_tax_subtotals WHEN coalesce((SELECT state FROM invoices WHERE id = NEW.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_tax_subtotals of a finalised invoice are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_tax_subtotals_immutable_update BEFORE UPDATE ON invoice_tax_subtotals WHEN coalesce((SELECT state FROM invoices WHERE id = OLD.invoice_id), 'draft') <> 'draft' OR coalesce((SELECT state FROM invoices WHERE id = NEW.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_tax_subtotals of a finalised invoice are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS invoice_tax_subtotals_immutable_delete BEFORE DELETE ON invoice_tax_subtotals WHEN coalesce((SELECT state FROM invoices WHERE id = OLD.invoice_id), 'draft') <> 'draft' BEGIN SELECT RAISE(ABORT, 'invoice_tax_subtotals of a finalised invoice are immutable'); END",
]

PG_OLD_TRIGGERS = [
    "\nCREATE OR REPLACE FUNCTION invoice_children_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n    old_state text;\n    new_state text;\nBEGIN\n    IF TG_OP <> 'INSERT' THEN\n        SELECT state INTO old_state FROM invoices WHERE id = OLD.invoice_id;\n    END IF;\n    IF TG_OP <> 'DELETE' THEN\n        SELECT state INTO new_state FROM invoices WHERE id = NEW.invoice_id;\n    END IF;\n    IF coalesce(old_state, 'draft') <> 'draft' OR coalesce(new_state, 'draft') <> 'draft' THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';\n    END IF;\n    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND\n$$",
    "DROP TRIGGER IF EXISTS {t}_immutable_insert ON {t}",
    "DROP TRIGGER IF EXISTS {t}_immutable ON {t}",
    "CREATE TRIGGER {t}_immutable BEFORE INSERT OR UPDATE OR DELETE ON {t} "
    "FOR EACH ROW EXECUTE FUNCTION invoice_children_immutable()",
]
CHILD_TABLES = ("invoice_lines", "invoice_allowances", "invoice_tax_subtotals")


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("invoice_allowances", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invoice_allowances_invoice_id_invoices"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_allowances_invoice_id_invoices"),
            "invoices",
            ["invoice_id"],
            ["id"],
            initially="IMMEDIATE",
            deferrable=True,
        )

    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))
        batch_op.drop_constraint(batch_op.f("fk_invoice_lines_invoice_id_invoices"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_lines_invoice_id_invoices"),
            "invoices",
            ["invoice_id"],
            ["id"],
            initially="IMMEDIATE",
            deferrable=True,
        )

    with op.batch_alter_table("invoice_tax_subtotals", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invoice_tax_subtotals_invoice_id_invoices"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_tax_subtotals_invoice_id_invoices"),
            "invoices",
            ["invoice_id"],
            ["id"],
            initially="IMMEDIATE",
            deferrable=True,
        )

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_account_id"))

    # ### end Alembic commands ###

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_preceding_invoice_id")
        batch_op.create_index(
            "ix_invoices_preceding_invoice_id",
            ["preceding_invoice_id"],
            postgresql_where=sa.text("preceding_invoice_id IS NOT NULL"),
            sqlite_where=sa.text("preceding_invoice_id IS NOT NULL"),
        )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_lines_credited_line_id")
        batch_op.create_index(
            "ix_invoice_lines_credited_line_id",
            ["credited_line_id"],
            postgresql_where=sa.text("credited_line_id IS NOT NULL"),
            sqlite_where=sa.text("credited_line_id IS NOT NULL"),
        )
    with op.batch_alter_table("bill_run_items", schema=None) as batch_op:
        batch_op.drop_index("ix_bill_run_items_run_state")
        batch_op.create_index("ix_bill_run_items_run_state", ["run_id", "state", "id"])
    _triggers(PG_TRIGGERS)


def _triggers(pg: list[str]) -> None:
    dialect = op.get_bind().dialect.name
    for statement in pg if dialect == "postgresql" else SQLITE_TRIGGERS if dialect == "sqlite" else []:
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("bill_run_items", schema=None) as batch_op:
        batch_op.drop_index("ix_bill_run_items_run_state")
        batch_op.create_index("ix_bill_run_items_run_state", ["run_id", "state"])
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_lines_credited_line_id")
        batch_op.create_index("ix_invoice_lines_credited_line_id", ["credited_line_id"])
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_preceding_invoice_id")
        batch_op.create_index("ix_invoices_preceding_invoice_id", ["preceding_invoice_id"])
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_account_id"), ["account_id"], unique=False)

    with op.batch_alter_table("invoice_tax_subtotals", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invoice_tax_subtotals_invoice_id_invoices"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_tax_subtotals_invoice_id_invoices"), "invoices", ["invoice_id"], ["id"]
        )

    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invoice_lines_invoice_id_invoices"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_lines_invoice_id_invoices"), "invoices", ["invoice_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False)

    with op.batch_alter_table("invoice_allowances", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invoice_allowances_invoice_id_invoices"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_allowances_invoice_id_invoices"), "invoices", ["invoice_id"], ["id"]
        )

    # ### end Alembic commands ###
    _triggers([s.format(t=t) for t in CHILD_TABLES for s in PG_OLD_TRIGGERS])
    _triggers(["DROP FUNCTION IF EXISTS invoice_children_inserted()"])
