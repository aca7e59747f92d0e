"""Tables of the invoice store, and the database triggers that keep finalised invoices immutable.

A finalised invoice (or credit note) and its lines, allowances and VAT rows never change: the
service refuses it, and so does the database (`immutability_ddl`), so a stray UPDATE cannot
rewrite an issued document. Only the settlement columns (paid, credited, refunded, balance) and
the state move after finalisation.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, BigId, MoneyAmount, UTCDateTime, id_column

STATES = ("draft", "finalised", "partially_paid", "paid", "void")
Json = JSON().with_variant(JSONB(), "postgresql")  # JSONB compares by value, which the trigger needs


def _only_set(name: str, column: str) -> Index:
    """An index of the rows where `column` is set: most rows leave it empty (a credit note's
    invoice, a credited line), and an entry per empty row is paid on every bill-run insert."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, postgresql_where=where, sqlite_where=where)


def _invoice_fk() -> ForeignKey:
    """A child row's invoice. Deferrable: the bill run writes a finalised invoice's lines before
    the invoice itself (`invoicing.bulk`), and has the key checked once the invoice is in."""
    return ForeignKey("invoices.id", deferrable=True, initially="IMMEDIATE")


def _amount() -> Mapped[Decimal]:
    return mapped_column(MoneyAmount(), default=Decimal(0))


class Invoice(Base):
    """An invoice (380) or a credit note (381): a draft until finalised, then frozen.

    `content` is the canonical JSON of the full `InvoiceContent` at finalisation (Decimals as
    strings), `content_sha256` its hash; the amount columns are copies for queries.
    """

    __tablename__ = "invoices"

    id: Mapped[int] = id_column()
    # account_id: no index of its own, (account_id, period_start) serves its look-ups
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"))
    payer_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive last day
    series: Mapped[str] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    document_type: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    held_reason: Mapped[str | None] = mapped_column(String(20), default=None)
    currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(8))
    issue_date: Mapped[date | None] = mapped_column(Date, default=None)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    line_total: Mapped[Decimal] = _amount()
    allowance_total: Mapped[Decimal] = _amount()
    tax_total: Mapped[Decimal] = _amount()
    grand_total: Mapped[Decimal] = _amount()
    prepaid_amount: Mapped[Decimal] = _amount()
    amount_paid: Mapped[Decimal] = _amount()
    amount_credited: Mapped[Decimal] = _amount()
    amount_refunded: Mapped[Decimal] = _amount()
    balance: Mapped[Decimal] = _amount()
    extras: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)  # usage summary, notes
    content: Mapped[str | None] = mapped_column(Text, default=None)
    content_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    idempotency_key: Mapped[str] = mapped_column(String(80))
    preceding_invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("invoices.id"), default=None)
    absorbed_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("invoices.id"), default=None)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)  # why a credit note was issued
    void_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        Index("uq_invoices_idempotency_key", "idempotency_key", unique=True),
        Index("ix_invoices_account_period", "account_id", "period_start"),
        _only_set("ix_invoices_preceding_invoice_id", "preceding_invoice_id"),
        CheckConstraint(f"state IN {STATES!r}", name="state"),
        CheckConstraint("document_type IN ('380', '381')", name="document_type"),
        CheckConstraint(
            "(state = 'draft' AND number IS NULL) OR (state <> 'draft' AND number IS NOT NULL)",
            name="numbered_when_final",
        ),
        CheckConstraint("period_end >= period_start", name="period"),
    )


class InvoiceLineRow(Base):
    """One line of an invoice or credit note; `credited_line_id` on a credit-note line names the
    invoice line it gives back; `allowance_share` is the part of the document allowances it carries."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = id_column()
    # no index of its own: the unique (invoice_id, line_id) serves look-ups by invoice
    invoice_id: Mapped[int] = mapped_column(BigId, _invoice_fk())
    position: Mapped[int] = mapped_column(Integer)
    line_id: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(MoneyAmount())
    unit_code: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal] = mapped_column(MoneyAmount())
    net_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    tax_category: Mapped[str] = mapped_column(String(2))
    tax_rate: Mapped[Decimal] = mapped_column(MoneyAmount())
    period_start: Mapped[date | None] = mapped_column(Date, default=None)
    period_end: Mapped[date | None] = mapped_column(Date, default=None)
    product_code: Mapped[str | None] = mapped_column(String(80), default=None)
    charge_kind: Mapped[str] = mapped_column(String(20))
    subscription_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("subscriptions.id"), index=True, default=None
    )
    usage_aggregate_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    source_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    credited_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("invoice_lines.id"), default=None)
    # the line's share of the document allowances (`invoicing.shares`), fixed when written;
    # NULL on lines written before shares were recorded (the default allocation is assumed)
    allowance_share: Mapped[Decimal | None] = mapped_column(MoneyAmount(), default=None)

    __table_args__ = (
        UniqueConstraint("invoice_id", "line_id"),
        _only_set("ix_invoice_lines_credited_line_id", "credited_line_id"),
    )


class InvoiceAllowanceRow(Base):
    __tablename__ = "invoice_allowances"

    id: Mapped[int] = id_column()
    invoice_id: Mapped[int] = mapped_column(BigId, _invoice_fk(), index=True)
    position: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    tax_category: Mapped[str] = mapped_column(String(2))
    tax_rate: Mapped[Decimal] = mapped_column(MoneyAmount())


class InvoiceTaxSubtotalRow(Base):
    __tablename__ = "invoice_tax_subtotals"

    id: Mapped[int] = id_column()
    invoice_id: Mapped[int] = mapped_column(BigId, _invoice_fk(), index=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(2))
    rate: Mapped[Decimal] = mapped_column(MoneyAmount())
    taxable_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    tax_amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    exemption_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    exemption_code: Mapped[str | None] = mapped_column(String(30), default=None)


class InvoiceNumberSeries(Base):
    """The next number of a series in a year (year 0: one counter for all years).

    `format` is a Python format string over `year` and `seq`, e.g. ``INV-{year}-{seq:06d}``.
    """

    __tablename__ = "invoice_number_series"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_type: Mapped[str] = mapped_column(String(3))
    format: Mapped[str] = mapped_column(String(60))
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)

    __table_args__ = (CheckConstraint("next_value >= 1", name="next_value"),)


class AccountCredit(Base):
    """Money the operator owes an account, consumed by its next invoices (as prepaid, BT-113)."""

    __tablename__ = "account_credits"

    id: Mapped[int] = id_column()
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    remaining: Mapped[Decimal] = mapped_column(MoneyAmount())
    source: Mapped[str] = mapped_column(String(40))  # proration, credit_note, overpayment, goodwill
    source_invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("invoices.id"), default=None)
    note: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # CAST: SQLite keeps amounts as text, which would compare as strings
        CheckConstraint("CAST(amount AS NUMERIC) > 0", name="amount"),
        CheckConstraint(
            "CAST(remaining AS NUMERIC) >= 0 AND CAST(remaining AS NUMERIC) <= CAST(amount AS NUMERIC)",
            name="remaining",
        ),
    )


class AccountCreditApplication(Base):
    """How much of a credit an invoice consumed; released again if the draft is edited."""

    __tablename__ = "account_credit_applications"

    id: Mapped[int] = id_column()
    credit_id: Mapped[int] = mapped_column(BigId, ForeignKey("account_credits.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceDocument(Base):
    """A rendered document (the PDF/A-3 with Factur-X, or the XML alone) with its hash."""

    __tablename__ = "invoice_documents"

    id: Mapped[int] = id_column()
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # pdf | facturx_xml
    media_type: Mapped[str] = mapped_column(String(60))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("invoice_id", "kind"),)


# ---------------------------------------------------------------------------------------------
# Immutability triggers. Written without '%' and ':' so they run unchanged through DDL(),
# Alembic's op.execute() and a plain DB-API cursor.

MUTABLE_AFTER_FINALISE = frozenset(
    {"state", "amount_paid", "amount_credited", "amount_refunded", "balance", "updated_at", "voided_at",
     "void_reason"}
)  # fmt: skip
CHILD_TABLES = ("invoice_lines", "invoice_allowances", "invoice_tax_subtotals")


def protected_columns() -> list[str]:
    return [c.name for c in Invoice.__table__.columns if c.name not in MUTABLE_AFTER_FINALISE]


def _pg_invoice_ddl() -> list[str]:
    cols = protected_columns()
    new = ", ".join(f"NEW.{c}" for c in cols)
    old = ", ".join(f"OLD.{c}" for c in cols)
    function = f"""
CREATE OR REPLACE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'invoice ' || OLD.number || ' is finalised and immutable: it cannot be deleted';
    END IF;
    IF NEW.state = 'draft' OR (OLD.state = 'void' AND NEW.state <> 'void')
       OR ROW({new}) IS DISTINCT FROM ROW({old}) THEN
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'invoice ' || OLD.number
                || ' is finalised and immutable: only its settlement may change';
    END IF;
    RETURN NEW;
END
$$"""
    return [
        function,
        "DROP TRIGGER IF EXISTS invoices_immutable ON invoices",
        "CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices "
        "FOR EACH ROW EXECUTE FUNCTION invoices_immutable()",
    ]


_PG_CHILD_FUNCTION = """
CREATE OR REPLACE FUNCTION invoice_children_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_state text;
    new_state text;
BEGIN
    SELECT state INTO old_state FROM invoices WHERE id = OLD.invoice_id;
    IF TG_OP = 'UPDATE' THEN
        SELECT state INTO new_state FROM invoices WHERE id = NEW.invoice_id;
    END IF;
    IF coalesce(old_state, 'draft') <> 'draft' OR coalesce(new_state, 'draft') <> 'draft' THEN
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$"""

# Inserts are checked once per statement over the rows it added (a COPY of a batch's lines is one
# query, not one per line). Rows whose invoice does not exist yet pass: the bill run writes a new
# invoice's children first and the invoice, already final, after them in the same transaction,
# and the deferrable foreign key has the invoice there once it is written.
# The check is planned at each statement (EXECUTE), against the invoices table as it is then: a
# query written inline is planned once per session and kept, so a session whose first insert met
# an empty table (a new database's first bill run) would hash every invoice at each batch after.
_PG_CHILD_INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION invoice_children_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    finalised boolean;
BEGIN
    EXECUTE 'SELECT EXISTS (
        SELECT 1 FROM (SELECT DISTINCT invoice_id FROM new_rows) n
        JOIN invoices i ON i.id = n.invoice_id
        WHERE i.state <> ''draft'')' INTO finalised;
    IF finalised THEN
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = TG_TABLE_NAME || ' of a finalised invoice are immutable';
    END IF;
    RETURN NULL;
END
$$"""


def _pg_child_ddl(table: str) -> list[str]:
    return [
        _PG_CHILD_FUNCTION,
        _PG_CHILD_INSERT_FUNCTION,
        f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}",
        f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION invoice_children_immutable()",
        f"DROP TRIGGER IF EXISTS {table}_immutable_insert ON {table}",
        f"CREATE TRIGGER {table}_immutable_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_children_inserted()",
    ]


def _sqlite_invoice_ddl() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in protected_columns())
    return [
        "CREATE TRIGGER IF NOT EXISTS invoices_immutable_update BEFORE UPDATE ON invoices "
        f"WHEN OLD.state <> 'draft' AND (NEW.state = 'draft' OR (OLD.state = 'void' AND NEW.state <> 'void') "
        f"OR {changed}) "
        "BEGIN SELECT RAISE(ABORT, 'a finalised invoice is immutable: only its settlement may change'); END",
        "CREATE TRIGGER IF NOT EXISTS invoices_immutable_delete BEFORE DELETE ON invoices "
        "WHEN OLD.state <> 'draft' "
        "BEGIN SELECT RAISE(ABORT, 'a finalised invoice is immutable: it cannot be deleted'); END",
    ]


def _sqlite_child_ddl(table: str) -> list[str]:
    def final(ref: str) -> str:
        return f"coalesce((SELECT state FROM invoices WHERE id = {ref}.invoice_id), 'draft') <> 'draft'"

    message = f"SELECT RAISE(ABORT, '{table} of a finalised invoice are immutable')"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_immutable_insert BEFORE INSERT ON {table} "
        f"WHEN {final('NEW')} BEGIN {message}; END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_immutable_update BEFORE UPDATE ON {table} "
        f"WHEN {final('OLD')} OR {final('NEW')} BEGIN {message}; END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_immutable_delete BEFORE DELETE ON {table} "
        f"WHEN {final('OLD')} BEGIN {message}; END",
    ]


def _ddl_by_table(dialect_name: str) -> dict[str, list[str]]:
    if dialect_name == "postgresql":
        return {"invoices": _pg_invoice_ddl(), **{t: _pg_child_ddl(t) for t in CHILD_TABLES}}
    if dialect_name == "sqlite":
        return {"invoices": _sqlite_invoice_ddl(), **{t: _sqlite_child_ddl(t) for t in CHILD_TABLES}}
    raise ValueError(f"no immutability triggers written for dialect {dialect_name!r}")


def immutability_ddl(dialect_name: str) -> list[str]:
    """Every statement that installs the immutability triggers, in order (for a migration)."""
    return [stmt for stmts in _ddl_by_table(dialect_name).values() for stmt in stmts]


def _attach_triggers() -> None:
    tables = {t.__tablename__: t.__table__ for t in (Invoice, InvoiceLineRow, InvoiceAllowanceRow,
                                                      InvoiceTaxSubtotalRow)}  # fmt: skip
    for dialect in ("postgresql", "sqlite"):
        for table_name, statements in _ddl_by_table(dialect).items():
            for statement in statements:
                event.listen(tables[table_name], "after_create", DDL(statement).execute_if(dialect=dialect))


_attach_triggers()

# The content JSON (2–3 kB per invoice) is compressed with LZ4 where the server has it: about
# 15 µs less backend CPU per invoice row than the default pglz, for the same size
# (docs/benchmarks.md, "Bill run"). A server built without LZ4 keeps pglz.
CONTENT_COMPRESSION_DDL = """
DO $$
BEGIN
    ALTER TABLE invoices ALTER COLUMN content SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    NULL;
END
$$"""
event.listen(Invoice.__table__, "after_create", DDL(CONTENT_COMPRESSION_DDL).execute_if(dialect="postgresql"))
