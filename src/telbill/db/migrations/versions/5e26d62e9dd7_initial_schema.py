"""initial schema

Revision ID: 5e26d62e9dd7
Revises:
Create Date: 2026-11-25 20:28:32.079809
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import telbill.db.base

revision: str = "5e26d62e9dd7"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Finalised invoices never change: triggers refuse edits and deletes (frozen copy of
# telbill.invoicing.model.immutability_ddl at the time of this revision).
IMMUTABILITY_DDL = {
    "postgresql": [
        "\nCREATE OR REPLACE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF OLD.state = 'draft' THEN\n        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n        RETURN NEW;\n    END IF;\n    IF TG_OP = 'DELETE' THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = 'invoice ' || OLD.number || ' is finalised and immutable: it cannot be deleted';\n    END IF;\n    IF NEW.state = 'draft' OR (OLD.state = 'void' AND NEW.state <> 'void')\n       OR ROW(NEW.id, NEW.account_id, NEW.payer_account_id, NEW.kind, NEW.period_start, NEW.period_end, NEW.series, NEW.number, NEW.document_type, NEW.held_reason, NEW.currency, NEW.language, NEW.issue_date, NEW.due_date, NEW.line_total, NEW.allowance_total, NEW.tax_total, NEW.grand_total, NEW.prepaid_amount, NEW.extras, NEW.content, NEW.content_sha256, NEW.idempotency_key, NEW.preceding_invoice_id, NEW.absorbed_into_id, NEW.reason, NEW.created_at, NEW.finalised_at) IS DISTINCT FROM ROW(OLD.id, OLD.account_id, OLD.payer_account_id, OLD.kind, OLD.period_start, OLD.period_end, OLD.series, OLD.number, OLD.document_type, OLD.held_reason, OLD.currency, OLD.language, OLD.issue_date, OLD.due_date, OLD.line_total, OLD.allowance_total, OLD.tax_total, OLD.grand_total, OLD.prepaid_amount, OLD.extras, OLD.content, OLD.content_sha256, OLD.idempotency_key, OLD.preceding_invoice_id, OLD.absorbed_into_id, OLD.reason, OLD.created_at, OLD.finalised_at) THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = 'invoice ' || OLD.number\n                || ' is finalised and immutable: only its settlement may change';\n    END IF;\n    RETURN NEW;\nEND\n$$",
        "DROP TRIGGER IF EXISTS invoices_immutable ON invoices",
        "CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_immutable()",
        "\nCREATE OR REPLACE FUNCTION invoice_children_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n    old_state text;\n    new_state text;\nBEGIN\n    IF TG_OP <> 'INSERT' THEN\n        SELECT state INTO old_state FROM invoices WHERE id = OLD.invoice_id;\n    END IF;\n    IF TG_OP <> 'DELETE' THEN\n        SELECT state INTO new_state FROM invoices WHERE id = NEW.invoice_id;\n    END IF;\n    IF coalesce(old_state, 'draft') <> 'draft' OR coalesce(new_state, 'draft') <> 'draft' THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';\n    END IF;\n    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND\n$$",
        "DROP TRIGGER IF EXISTS invoice_lines_immutable ON invoice_lines",
        "CREATE TRIGGER invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION invoice_children_immutable()",
        "\nCREATE OR REPLACE FUNCTION invoice_children_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n    old_state text;\n    new_state text;\nBEGIN\n    IF TG_OP <> 'INSERT' THEN\n        SELECT state INTO old_state FROM invoices WHERE id = OLD.invoice_id;\n    END IF;\n    IF TG_OP <> 'DELETE' THEN\n        SELECT state INTO new_state FROM invoices WHERE id = NEW.invoice_id;\n    END IF;\n    IF coalesce(old_state, 'draft') <> 'draft' OR coalesce(new_state, 'draft') <> 'draft' THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';\n    END IF;\n    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND\n$$",
        "DROP TRIGGER IF EXISTS invoice_allowances_immutable ON invoice_allowances",
        "CREATE TRIGGER invoice_allowances_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_allowances FOR EACH ROW EXECUTE FUNCTION invoice_children_immutable()",
        "\nCREATE OR REPLACE FUNCTION invoice_children_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n    old_state text;\n    new_state text;\nBEGIN\n    IF TG_OP <> 'INSERT' THEN\n        SELECT state INTO old_state FROM invoices WHERE id = OLD.invoice_id;\n    END IF;\n    IF TG_OP <> 'DELETE' THEN\n        SELECT state INTO new_state FROM invoices WHERE id = NEW.invoice_id;\n    END IF;\n    IF coalesce(old_state, 'draft') <> 'draft' OR coalesce(new_state, 'draft') <> 'draft' THEN\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',\n            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';\n    END IF;\n    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND\n$$",
        "DROP TRIGGER IF EXISTS invoice_tax_subtotals_immutable ON invoice_tax_subtotals",
        "CREATE TRIGGER invoice_tax_subtotals_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_tax_subtotals FOR EACH ROW EXECUTE FUNCTION invoice_children_immutable()",
    ],
    "sqlite": [
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
    ],
}


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "account_number_counters",
        sa.Column("series", sa.String(length=20), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_account_number_counters")),
    )
    op.create_table(
        "api_keys",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "balances",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("bucket_id", sa.String(length=160), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("allowance_code", sa.String(length=80), nullable=False),
        sa.Column("usage_type", sa.String(length=8), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("period_start", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opening", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balances")),
        sa.UniqueConstraint("bucket_id", name=op.f("uq_balances_bucket_id")),
    )
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_balances_account_id"), ["account_id"], unique=False)

    op.create_table(
        "bill_runs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("target_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("started_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('running', 'done')", name=op.f("ck_bill_runs_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_runs")),
    )
    with op.batch_alter_table("bill_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bill_runs_target_at"), ["target_at"], unique=False)

    op.create_table(
        "catalog_imports",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("catalog_name", sa.String(length=200), nullable=False),
        sa.Column("catalog_version", sa.String(length=80), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_imports")),
    )
    with op.batch_alter_table("catalog_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_imports_content_hash"), ["content_hash"], unique=False)

    op.create_table(
        "catalog_offers",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_offers")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_offers_code")),
    )
    op.create_table(
        "catalog_products",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_products")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_products_code")),
    )
    op.create_table(
        "catalog_rating_sections",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_rating_sections")),
        sa.UniqueConstraint("version", name=op.f("uq_catalog_rating_sections_version")),
    )
    op.create_table(
        "coupons",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("code_key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("percent", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=True),
        sa.Column("amounts", sa.JSON(), nullable=False),
        sa.Column("duration", sa.String(length=10), nullable=False),
        sa.Column("cycles", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("new_customers_only", sa.Boolean(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=True),
        sa.Column("countries", sa.JSON(), nullable=True),
        sa.Column("valid_from", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("max_per_account", sa.Integer(), nullable=True),
        sa.Column("stacking", sa.String(length=10), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(duration = 'cycles') = (cycles IS NOT NULL)", name=op.f("ck_coupons_cycles")),
        sa.CheckConstraint("duration IN ('once', 'cycles', 'forever')", name=op.f("ck_coupons_duration")),
        sa.CheckConstraint("kind IN ('percentage', 'amount')", name=op.f("ck_coupons_kind")),
        sa.CheckConstraint("scope IN ('invoice', 'product', 'charge_kind')", name=op.f("ck_coupons_scope")),
        sa.CheckConstraint("stacking IN ('stackable', 'exclusive')", name=op.f("ck_coupons_stacking")),
        sa.CheckConstraint("status IN ('active', 'archived')", name=op.f("ck_coupons_status")),
        sa.CheckConstraint("cycles IS NULL OR cycles >= 1", name=op.f("ck_coupons_cycles_positive")),
        sa.CheckConstraint(
            "max_per_account IS NULL OR max_per_account >= 1", name=op.f("ck_coupons_max_per_account")
        ),
        sa.CheckConstraint(
            "max_redemptions IS NULL OR max_redemptions >= 1", name=op.f("ck_coupons_max_redemptions")
        ),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_until > valid_from",
            name=op.f("ck_coupons_validity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code_key", name=op.f("uq_coupons_code_key")),
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupons_status"), ["status"], unique=False)

    op.create_table(
        "customers",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=True),
        sa.Column("family_name", sa.String(length=100), nullable=True),
        sa.Column("registration_number", sa.String(length=40), nullable=True),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("segment", sa.String(length=20), nullable=False),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'company')", name=op.f("ck_customers_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("number", name=op.f("uq_customers_number")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_vat_number"), ["vat_number"], unique=False)

    op.create_table(
        "invoice_number_series",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("document_type", sa.String(length=3), nullable=False),
        sa.Column("format", sa.String(length=60), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("next_value >= 1", name=op.f("ck_invoice_number_series_next_value")),
        sa.PrimaryKeyConstraint("code", "year", name=op.f("pk_invoice_number_series")),
    )
    op.create_table(
        "mediation_runs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("started_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("files_rejected", sa.Integer(), nullable=False),
        sa.Column("files_skipped", sa.Integer(), nullable=False),
        sa.Column("records_in", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("suspended", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_runs")),
    )
    op.create_table(
        "outbox_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("aggregate_type", sa.String(length=40), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dispatched_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_events_event_id")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_events_aggregate", ["aggregate_type", "aggregate_id"], unique=False)
        batch_op.create_index("ix_outbox_events_pending", ["dispatched_at", "id"], unique=False)

    op.create_table(
        "partial_records",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("file_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.BigInteger(), nullable=False),
        sa.Column("usage_type", sa.String(length=8), nullable=False),
        sa.Column("served_msisdn", sa.String(length=20), nullable=True),
        sa.Column("served_imsi", sa.String(length=20), nullable=True),
        sa.Column("other_party", sa.String(length=24), nullable=True),
        sa.Column("start_time", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.BigInteger(), nullable=True),
        sa.Column("volume_up", sa.BigInteger(), nullable=True),
        sa.Column("volume_down", sa.BigInteger(), nullable=True),
        sa.Column("visited_mcc", sa.String(length=3), nullable=True),
        sa.Column("visited_mnc", sa.String(length=3), nullable=True),
        sa.Column("roaming", sa.Boolean(), nullable=False),
        sa.Column("cell_id", sa.String(length=40), nullable=True),
        sa.Column("rating_group", sa.BigInteger(), nullable=True),
        sa.Column("charging_id", sa.String(length=40), nullable=False),
        sa.Column("record_sequence", sa.BigInteger(), nullable=False),
        sa.Column("cause_for_closing", sa.String(length=40), nullable=True),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("content_hash", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("received_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partial_records")),
        sa.UniqueConstraint("source", "record_id", name=op.f("uq_partial_records_source_record_id")),
    )
    with op.batch_alter_table("partial_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_partial_records_held",
            ["source"],
            unique=False,
            postgresql_where=sa.text("status = 'held'"),
            sqlite_where=sa.text("status = 'held'"),
        )
        batch_op.create_index("ix_partial_records_session", ["source", "charging_id"], unique=False)
        batch_op.create_index(
            "ix_partial_records_start_brin", ["start_time"], unique=False, postgresql_using="brin"
        )

    op.create_table(
        "rated_usage",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("usage_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("superseded_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("rating_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("reason_detail", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("start_time", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("billing_period_start", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("usage_type", sa.String(length=8), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=True),
        sa.Column("destination", sa.String(length=80), nullable=True),
        sa.Column("zone", sa.String(length=80), nullable=True),
        sa.Column("bands", sa.String(length=120), nullable=True),
        sa.Column("slots", sa.String(length=40), nullable=True),
        sa.Column("offer_code", sa.String(length=80), nullable=True),
        sa.Column("offer_version", sa.Integer(), nullable=True),
        sa.Column("charge_code", sa.String(length=80), nullable=True),
        sa.Column("pricing", sa.String(length=8), nullable=True),
        sa.Column("quantity_base", sa.BigInteger(), nullable=False),
        sa.Column("charged_quantity", sa.BigInteger(), nullable=True),
        sa.Column("free_quantity", sa.BigInteger(), nullable=True),
        sa.Column("bucket_ids", sa.String(length=400), nullable=True),
        sa.Column("amount_micros", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("tariff_code", sa.String(length=80), nullable=True),
        sa.Column("tariff_version", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("rated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('rated', 'failed')", name=op.f("ck_rated_usage_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rated_usage")),
        sa.UniqueConstraint(
            "usage_record_id", "generation", name=op.f("uq_rated_usage_usage_record_id_generation")
        ),
    )
    with op.batch_alter_table("rated_usage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rated_usage_account_period", ["account_id", "billing_period_start"], unique=False
        )
        batch_op.create_index("ix_rated_usage_account_time", ["account_id", "start_time"], unique=False)
        batch_op.create_index(
            "uq_rated_usage_current",
            ["usage_record_id"],
            unique=True,
            sqlite_where=sa.text("superseded_by IS NULL"),
            postgresql_where=sa.text("superseded_by IS NULL"),
        )

    op.create_table(
        "rating_adjustments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("offer_code", sa.String(length=80), nullable=False),
        sa.Column("charge_code", sa.String(length=80), nullable=False),
        sa.Column("billing_period_start", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("rating_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'billed')", name=op.f("ck_rating_adjustments_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_adjustments")),
    )
    with op.batch_alter_table("rating_adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_adjustments_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            "uq_rating_adjustments_pending",
            ["subscription_id", "charge_code", "billing_period_start", "currency"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "rating_runs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("started_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_from", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_to", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accounts", sa.JSON(), nullable=True),
        sa.Column("records_in", sa.BigInteger(), nullable=False),
        sa.Column("rated", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("replaced", sa.BigInteger(), nullable=False),
        sa.Column("unchanged", sa.BigInteger(), nullable=False),
        sa.Column("invoiced", sa.BigInteger(), nullable=False),
        sa.Column("adjustments", sa.BigInteger(), nullable=False),
        sa.Column("amounts", sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('rate', 'rerate')", name=op.f("ck_rating_runs_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_runs")),
    )
    op.create_table(
        "test_clocks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("now", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_clocks")),
        sa.UniqueConstraint("name", name=op.f("uq_test_clocks_name")),
    )
    op.create_table(
        "usage_records",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("file_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.BigInteger(), nullable=False),
        sa.Column("usage_type", sa.String(length=8), nullable=False),
        sa.Column("served_msisdn", sa.String(length=20), nullable=True),
        sa.Column("served_imsi", sa.String(length=20), nullable=True),
        sa.Column("other_party", sa.String(length=24), nullable=True),
        sa.Column("start_time", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.BigInteger(), nullable=True),
        sa.Column("volume_up", sa.BigInteger(), nullable=True),
        sa.Column("volume_down", sa.BigInteger(), nullable=True),
        sa.Column("visited_mcc", sa.String(length=3), nullable=True),
        sa.Column("visited_mnc", sa.String(length=3), nullable=True),
        sa.Column("roaming", sa.Boolean(), nullable=False),
        sa.Column("cell_id", sa.String(length=40), nullable=True),
        sa.Column("rating_group", sa.BigInteger(), nullable=True),
        sa.Column("charging_id", sa.String(length=40), nullable=True),
        sa.Column("record_sequence", sa.BigInteger(), nullable=True),
        sa.Column("cause_for_closing", sa.String(length=40), nullable=True),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("content_hash", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("source", "record_id", name=op.f("uq_usage_records_source_record_id")),
    )
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_records_start_brin", ["start_time"], unique=False, postgresql_using="brin"
        )

    op.create_table(
        "api_idempotency_records",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("api_key_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_api_idempotency_records_api_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency_records")),
        sa.UniqueConstraint("api_key_id", "key", name=op.f("uq_api_idempotency_records_api_key_id_key")),
    )
    op.create_table(
        "billing_accounts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("payment_responsibility", sa.String(length=10), nullable=False),
        sa.Column("pays_for_children", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("bill_cycle_day", sa.Integer(), nullable=False),
        sa.Column("cycle_unit", sa.String(length=5), nullable=False),
        sa.Column("cycle_count", sa.Integer(), nullable=False),
        sa.Column("cycle_anchor", sa.Date(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("invoice_delivery", sa.String(length=10), nullable=False),
        sa.Column("communication", sa.JSON(), nullable=False),
        sa.Column("tax_exempt", sa.Boolean(), nullable=False),
        sa.Column("tax_exemption_reason", sa.String(length=200), nullable=True),
        sa.Column("tax_exemption_certificate", sa.String(length=100), nullable=True),
        sa.Column("tax_exempt_until", sa.Date(), nullable=True),
        sa.Column("credit_limit", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=True),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "parent_id IS NOT NULL OR payment_responsibility = 'self'",
            name=op.f("ck_billing_accounts_root_pays_itself"),
        ),
        sa.CheckConstraint(
            "payment_responsibility IN ('self', 'parent')",
            name=op.f("ck_billing_accounts_payment_responsibility"),
        ),
        sa.CheckConstraint(
            "bill_cycle_day BETWEEN 1 AND 31", name=op.f("ck_billing_accounts_bill_cycle_day")
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_billing_accounts_not_own_parent")
        ),
        sa.CheckConstraint(
            "payment_terms_days BETWEEN 0 AND 120", name=op.f("ck_billing_accounts_payment_terms_days")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_billing_accounts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["billing_accounts.id"],
            name=op.f("fk_billing_accounts_parent_id_billing_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_accounts")),
        sa.UniqueConstraint("number", name=op.f("uq_billing_accounts_number")),
    )
    with op.batch_alter_table("billing_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_billing_accounts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_billing_accounts_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_billing_accounts_status"), ["status"], unique=False)

    op.create_table(
        "catalog_offer_versions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("offer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("published_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["catalog_offers.id"],
            name=op.f("fk_catalog_offer_versions_offer_id_catalog_offers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_offer_versions")),
        sa.UniqueConstraint(
            "offer_id", "effective_from", name=op.f("uq_catalog_offer_versions_offer_id_effective_from")
        ),
        sa.UniqueConstraint("offer_id", "version", name=op.f("uq_catalog_offer_versions_offer_id_version")),
    )
    with op.batch_alter_table("catalog_offer_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_offer_versions_offer_id"), ["offer_id"], unique=False)

    op.create_table(
        "mediation_files",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reject_reason", sa.String(length=40), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("source_config", sa.JSON(), nullable=False),
        sa.Column("imported_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("records_in", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("suspended", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.Column("partials", sa.BigInteger(), nullable=False),
        sa.Column("events_correlated", sa.BigInteger(), nullable=False),
        sa.Column("first_start", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_start", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["mediation_runs.id"], name=op.f("fk_mediation_files_run_id_mediation_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_files")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_mediation_files_content_hash")),
    )
    op.create_table(
        "promo_codes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("code_key", sa.String(length=40), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'archived')", name=op.f("ck_promo_codes_status")),
        sa.CheckConstraint("max_uses IS NULL OR max_uses >= 1", name=op.f("ck_promo_codes_max_uses")),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"], name=op.f("fk_promo_codes_coupon_id_coupons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_codes")),
        sa.UniqueConstraint("code_key", name=op.f("uq_promo_codes_code_key")),
    )
    with op.batch_alter_table("promo_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promo_codes_coupon_id"), ["coupon_id"], unique=False)

    op.create_table(
        "account_discounts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("stacking", sa.String(length=10), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("valid_from", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('percentage', 'amount')", name=op.f("ck_account_discounts_kind")),
        sa.CheckConstraint(
            "scope IN ('invoice', 'product', 'charge_kind')", name=op.f("ck_account_discounts_scope")
        ),
        sa.CheckConstraint(
            "stacking IN ('stackable', 'exclusive')", name=op.f("ck_account_discounts_stacking")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_account_discounts_validity")
        ),
        sa.CheckConstraint("value > 0", name=op.f("ck_account_discounts_value")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_account_discounts_account_id_billing_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_discounts")),
    )
    with op.batch_alter_table("account_discounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_discounts_account_id"), ["account_id"], unique=False)

    op.create_table(
        "bill_run_items",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period_start", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("worker", sa.String(length=40), nullable=True),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("finished_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'claimed', 'done', 'failed')", name=op.f("ck_bill_run_items_state")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_bill_run_items_account_id_billing_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["bill_runs.id"], name=op.f("fk_bill_run_items_run_id_bill_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_run_items")),
        sa.UniqueConstraint("account_id", "period_start", name="uq_bill_run_items_account_period"),
    )
    with op.batch_alter_table("bill_run_items", schema=None) as batch_op:
        batch_op.create_index("ix_bill_run_items_run_state", ["run_id", "state"], unique=False)

    op.create_table(
        "billing_account_cycle_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("billing_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("old_bill_cycle_day", sa.Integer(), nullable=False),
        sa.Column("new_bill_cycle_day", sa.Integer(), nullable=False),
        sa.Column("old_cycle_unit", sa.String(length=5), nullable=False),
        sa.Column("new_cycle_unit", sa.String(length=5), nullable=False),
        sa.Column("old_cycle_count", sa.Integer(), nullable=False),
        sa.Column("new_cycle_count", sa.Integer(), nullable=False),
        sa.Column("old_cycle_anchor", sa.Date(), nullable=False),
        sa.Column("new_cycle_anchor", sa.Date(), nullable=False),
        sa.Column("effective_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["billing_account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_billing_account_cycle_changes_billing_account_id_billing_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_account_cycle_changes")),
    )
    with op.batch_alter_table("billing_account_cycle_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_account_cycle_changes_account", ["billing_account_id", "effective_at"], unique=False
        )

    op.create_table(
        "contacts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("billing_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["billing_account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_contacts_billing_account_id_billing_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contacts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_billing_account_id"), ["billing_account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "coupon_redemptions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("promo_code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("redeemed_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_cycle", sa.Integer(), nullable=True),
        sa.Column("cycles_applied", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("coupon_seq", sa.Integer(), nullable=False),
        sa.Column("account_seq", sa.Integer(), nullable=False),
        sa.Column("promo_seq", sa.Integer(), nullable=True),
        sa.Column("revoked_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'exhausted', 'revoked')", name=op.f("ck_coupon_redemptions_status")
        ),
        sa.CheckConstraint("cycles_applied >= 0", name=op.f("ck_coupon_redemptions_cycles_applied")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_coupon_redemptions_account_id_billing_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_redemptions_coupon_id_coupons")
        ),
        sa.ForeignKeyConstraint(
            ["promo_code_id"],
            ["promo_codes.id"],
            name=op.f("fk_coupon_redemptions_promo_code_id_promo_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_redemptions")),
        sa.UniqueConstraint(
            "coupon_id",
            "account_id",
            "account_seq",
            name=op.f("uq_coupon_redemptions_coupon_id_account_id_account_seq"),
        ),
        sa.UniqueConstraint(
            "coupon_id", "coupon_seq", name=op.f("uq_coupon_redemptions_coupon_id_coupon_seq")
        ),
        sa.UniqueConstraint(
            "promo_code_id", "promo_seq", name=op.f("uq_coupon_redemptions_promo_code_id_promo_seq")
        ),
    )
    with op.batch_alter_table("coupon_redemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupon_redemptions_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_coupon_redemptions_account_status", ["account_id", "status"], unique=False)
        batch_op.create_index("ix_coupon_redemptions_coupon_time", ["coupon_id", "redeemed_at"], unique=False)

    op.create_table(
        "invoices",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payer_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("series", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("document_type", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("held_reason", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("line_total", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("allowance_total", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("tax_total", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("grand_total", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("prepaid_amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("amount_paid", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("amount_credited", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("amount_refunded", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("balance", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column(
            "extras",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column(
            "preceding_invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("absorbed_into_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finalised_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'draft' AND number IS NULL) OR (state <> 'draft' AND number IS NOT NULL)",
            name=op.f("ck_invoices_numbered_when_final"),
        ),
        sa.CheckConstraint("document_type IN ('380', '381')", name=op.f("ck_invoices_document_type")),
        sa.CheckConstraint(
            "state IN ('draft', 'finalised', 'partially_paid', 'paid', 'void')",
            name=op.f("ck_invoices_state"),
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_invoices_period")),
        sa.ForeignKeyConstraint(
            ["absorbed_into_id"], ["invoices.id"], name=op.f("fk_invoices_absorbed_into_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["billing_accounts.id"], name=op.f("fk_invoices_account_id_billing_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["payer_account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_invoices_payer_account_id_billing_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["preceding_invoice_id"], ["invoices.id"], name=op.f("fk_invoices_preceding_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_invoices_account_period", ["account_id", "period_start"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_payer_account_id"), ["payer_account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invoices_preceding_invoice_id"), ["preceding_invoice_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invoices_state"), ["state"], unique=False)
        batch_op.create_index("uq_invoices_idempotency_key", ["idempotency_key"], unique=True)

    op.create_table(
        "orders",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("external_id", sa.String(length=80), nullable=True),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("account_ref", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("requested_start", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failure_reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('acknowledged', 'inProgress', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_orders_state"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["billing_accounts.id"], name=op.f("fk_orders_account_id_billing_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_external_id"), ["external_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_state"), ["state"], unique=False)

    op.create_table(
        "suspense_records",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("corrections", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["mediation_files.id"], name=op.f("fk_suspense_records_file_id_mediation_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspense_records")),
    )
    with op.batch_alter_table("suspense_records", schema=None) as batch_op:
        batch_op.create_index("ix_suspense_records_file", ["file_id", "line_no"], unique=False)
        batch_op.create_index("ix_suspense_records_status_reason", ["status", "reason"], unique=False)

    op.create_table(
        "account_credits",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("remaining", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("source_invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("CAST(amount AS NUMERIC) > 0", name=op.f("ck_account_credits_amount")),
        sa.CheckConstraint(
            "CAST(remaining AS NUMERIC) >= 0 AND CAST(remaining AS NUMERIC) <= CAST(amount AS NUMERIC)",
            name=op.f("ck_account_credits_remaining"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_account_credits_account_id_billing_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["source_invoice_id"], ["invoices.id"], name=op.f("fk_account_credits_source_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_credits")),
    )
    with op.batch_alter_table("account_credits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_credits_account_id"), ["account_id"], unique=False)

    op.create_table(
        "discount_applications",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("discount_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("redemption_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("account_discount_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("line_ids", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.String(length=30), nullable=True),
        sa.Column("explanation", sa.String(length=500), nullable=False),
        sa.Column("recorded_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('coupon', 'account', 'bundle')", name=op.f("ck_discount_applications_source")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_discount_applications_amount")),
        sa.ForeignKeyConstraint(
            ["account_discount_id"],
            ["account_discounts.id"],
            name=op.f("fk_discount_applications_account_discount_id_account_discounts"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_discount_applications_account_id_billing_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["coupon_redemptions.id"],
            name=op.f("fk_discount_applications_redemption_id_coupon_redemptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_applications")),
        sa.UniqueConstraint(
            "invoice_id", "discount_id", name=op.f("uq_discount_applications_invoice_id_discount_id")
        ),
    )
    with op.batch_alter_table("discount_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_discount_applications_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_discount_applications_redemption_id"), ["redemption_id"], unique=False
        )

    op.create_table(
        "invoice_allowances",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("tax_category", sa.String(length=2), nullable=False),
        sa.Column("tax_rate", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_allowances_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_allowances")),
    )
    with op.batch_alter_table("invoice_allowances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_allowances_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "invoice_documents",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("media_type", sa.String(length=60), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_documents_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_documents")),
        sa.UniqueConstraint("invoice_id", "kind", name=op.f("uq_invoice_documents_invoice_id_kind")),
    )
    with op.batch_alter_table("invoice_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_documents_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "invoice_tax_subtotals",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("rate", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("taxable_amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("tax_amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("exemption_reason", sa.String(length=300), nullable=True),
        sa.Column("exemption_code", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_tax_subtotals_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_tax_subtotals")),
    )
    with op.batch_alter_table("invoice_tax_subtotals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_tax_subtotals_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "subscriptions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("offer_code", sa.String(length=80), nullable=False),
        sa.Column("offer_version", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("phase", sa.String(length=12), nullable=True),
        sa.Column("start_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("trial_end", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("commitment_end", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("activated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "phase IS NULL OR phase IN ('trial', 'fixed_term', 'evergreen')",
            name=op.f("ck_subscriptions_phase"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'trial', 'active', 'suspended', 'cancelled')",
            name=op.f("ck_subscriptions_state"),
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_subscriptions_quantity")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["billing_accounts.id"], name=op.f("fk_subscriptions_account_id_billing_accounts")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_subscriptions_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["subscriptions.id"], name=op.f("fk_subscriptions_parent_id_subscriptions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_subscriptions_contract_due", ["phase", "commitment_end"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_offer_code"), ["offer_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_state"), ["state"], unique=False)
        batch_op.create_index("ix_subscriptions_trial_due", ["state", "trial_end"], unique=False)

    op.create_table(
        "account_credit_applications",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("credit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_id"],
            ["account_credits.id"],
            name=op.f("fk_account_credit_applications_credit_id_account_credits"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_account_credit_applications_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_credit_applications")),
    )
    with op.batch_alter_table("account_credit_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_credit_applications_credit_id"), ["credit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_credit_applications_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "invoice_lines",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("unit_code", sa.String(length=3), nullable=False),
        sa.Column("unit_price", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("net_amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("tax_category", sa.String(length=2), nullable=False),
        sa.Column("tax_rate", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("product_code", sa.String(length=80), nullable=True),
        sa.Column("charge_kind", sa.String(length=20), nullable=False),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("usage_aggregate_id", sa.BigInteger(), nullable=True),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column("credited_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["credited_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_invoice_lines_credited_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_invoice_lines_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint("invoice_id", "line_id", name=op.f("uq_invoice_lines_invoice_id_line_id")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_credited_line_id"), ["credited_line_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "order_items",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("offer_code", sa.String(length=80), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("requested_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint("action IN ('add', 'modify', 'delete')", name=op.f("ck_order_items_action")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_items_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_order_items_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_items_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_subscription_id"), ["subscription_id"], unique=False)

    op.create_table(
        "subscription_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("effective_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'cancelled')", name=op.f("ck_subscription_changes_status")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_changes_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_changes")),
    )
    with op.batch_alter_table("subscription_changes", schema=None) as batch_op:
        batch_op.create_index("ix_subscription_changes_due", ["status", "effective_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subscription_changes_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "subscription_pending_charges",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("amount", telbill.db.base.MoneyAmount(precision=24, scale=6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("effective_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'billed', 'void')", name=op.f("ck_subscription_pending_charges_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_subscription_pending_charges_account_id_billing_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_pending_charges_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_pending_charges")),
    )
    with op.batch_alter_table("subscription_pending_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_pending_charges_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subscription_pending_charges_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "subscription_service_ids",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("valid_from", telbill.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", telbill.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "type IN ('msisdn', 'imsi', 'iccid', 'line_id')", name=op.f("ck_subscription_service_ids_type")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_subscription_service_ids_interval")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_service_ids_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_service_ids")),
    )
    with op.batch_alter_table("subscription_service_ids", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscription_service_ids_lookup", ["type", "value", "valid_from"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subscription_service_ids_subscription_id"), ["subscription_id"], unique=False
        )
        batch_op.create_index(
            "uq_subscription_service_ids_open",
            ["type", "value"],
            unique=True,
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )

    # ### end Alembic commands ###
    for statement in IMMUTABILITY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("subscription_service_ids", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_subscription_service_ids_open",
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_subscription_service_ids_subscription_id"))
        batch_op.drop_index("ix_subscription_service_ids_lookup")

    op.drop_table("subscription_service_ids")
    with op.batch_alter_table("subscription_pending_charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_pending_charges_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_subscription_pending_charges_account_id"))

    op.drop_table("subscription_pending_charges")
    with op.batch_alter_table("subscription_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_changes_subscription_id"))
        batch_op.drop_index("ix_subscription_changes_due")

    op.drop_table("subscription_changes")
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_items_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_order_id"))

    op.drop_table("order_items")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_lines_credited_line_id"))

    op.drop_table("invoice_lines")
    with op.batch_alter_table("account_credit_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_credit_applications_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_account_credit_applications_credit_id"))

    op.drop_table("account_credit_applications")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_subscriptions_trial_due")
        batch_op.drop_index(batch_op.f("ix_subscriptions_state"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_parent_id"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_offer_code"))
        batch_op.drop_index("ix_subscriptions_contract_due")
        batch_op.drop_index(batch_op.f("ix_subscriptions_account_id"))

    op.drop_table("subscriptions")
    with op.batch_alter_table("invoice_tax_subtotals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_tax_subtotals_invoice_id"))

    op.drop_table("invoice_tax_subtotals")
    with op.batch_alter_table("invoice_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_documents_invoice_id"))

    op.drop_table("invoice_documents")
    with op.batch_alter_table("invoice_allowances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_allowances_invoice_id"))

    op.drop_table("invoice_allowances")
    with op.batch_alter_table("discount_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discount_applications_redemption_id"))
        batch_op.drop_index(batch_op.f("ix_discount_applications_account_id"))

    op.drop_table("discount_applications")
    with op.batch_alter_table("account_credits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_credits_account_id"))

    op.drop_table("account_credits")
    with op.batch_alter_table("suspense_records", schema=None) as batch_op:
        batch_op.drop_index("ix_suspense_records_status_reason")
        batch_op.drop_index("ix_suspense_records_file")

    op.drop_table("suspense_records")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_state"))
        batch_op.drop_index(batch_op.f("ix_orders_external_id"))
        batch_op.drop_index(batch_op.f("ix_orders_account_id"))

    op.drop_table("orders")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("uq_invoices_idempotency_key")
        batch_op.drop_index(batch_op.f("ix_invoices_state"))
        batch_op.drop_index(batch_op.f("ix_invoices_preceding_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_payer_account_id"))
        batch_op.drop_index("ix_invoices_account_period")
        batch_op.drop_index(batch_op.f("ix_invoices_account_id"))

    op.drop_table("invoices")
    with op.batch_alter_table("coupon_redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_coupon_redemptions_coupon_time")
        batch_op.drop_index("ix_coupon_redemptions_account_status")
        batch_op.drop_index(batch_op.f("ix_coupon_redemptions_account_id"))

    op.drop_table("coupon_redemptions")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_billing_account_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("billing_account_cycle_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_account_cycle_changes_account")

    op.drop_table("billing_account_cycle_changes")
    with op.batch_alter_table("bill_run_items", schema=None) as batch_op:
        batch_op.drop_index("ix_bill_run_items_run_state")

    op.drop_table("bill_run_items")
    with op.batch_alter_table("account_discounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_discounts_account_id"))

    op.drop_table("account_discounts")
    with op.batch_alter_table("promo_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promo_codes_coupon_id"))

    op.drop_table("promo_codes")
    op.drop_table("mediation_files")
    with op.batch_alter_table("catalog_offer_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_offer_versions_offer_id"))

    op.drop_table("catalog_offer_versions")
    with op.batch_alter_table("billing_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_accounts_status"))
        batch_op.drop_index(batch_op.f("ix_billing_accounts_parent_id"))
        batch_op.drop_index(batch_op.f("ix_billing_accounts_customer_id"))

    op.drop_table("billing_accounts")
    op.drop_table("api_idempotency_records")
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_records_start_brin", postgresql_using="brin")

    op.drop_table("usage_records")
    op.drop_table("test_clocks")
    op.drop_table("rating_runs")
    with op.batch_alter_table("rating_adjustments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_rating_adjustments_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_rating_adjustments_account_id"))

    op.drop_table("rating_adjustments")
    with op.batch_alter_table("rated_usage", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_rated_usage_current",
            sqlite_where=sa.text("superseded_by IS NULL"),
            postgresql_where=sa.text("superseded_by IS NULL"),
        )
        batch_op.drop_index("ix_rated_usage_account_time")
        batch_op.drop_index("ix_rated_usage_account_period")

    op.drop_table("rated_usage")
    with op.batch_alter_table("partial_records", schema=None) as batch_op:
        batch_op.drop_index("ix_partial_records_start_brin", postgresql_using="brin")
        batch_op.drop_index("ix_partial_records_session")
        batch_op.drop_index(
            "ix_partial_records_held",
            postgresql_where=sa.text("status = 'held'"),
            sqlite_where=sa.text("status = 'held'"),
        )

    op.drop_table("partial_records")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_pending")
        batch_op.drop_index("ix_outbox_events_aggregate")

    op.drop_table("outbox_events")
    op.drop_table("mediation_runs")
    op.drop_table("invoice_number_series")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_vat_number"))

    op.drop_table("customers")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupons_status"))

    op.drop_table("coupons")
    op.drop_table("catalog_rating_sections")
    op.drop_table("catalog_products")
    op.drop_table("catalog_offers")
    with op.batch_alter_table("catalog_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_imports_content_hash"))

    op.drop_table("catalog_imports")
    with op.batch_alter_table("bill_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_runs_target_at"))

    op.drop_table("bill_runs")
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_balances_account_id"))

    op.drop_table("balances")
    op.drop_table("api_keys")
    op.drop_table("account_number_counters")
    # ### end Alembic commands ###
