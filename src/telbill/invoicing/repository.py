"""Every SQL statement of the invoice store."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telbill.invoicing.model import (
    AccountCredit,
    AccountCreditApplication,
    Invoice,
    InvoiceAllowanceRow,
    InvoiceDocument,
    InvoiceLineRow,
    InvoiceNumberSeries,
    InvoiceTaxSubtotalRow,
)
from telbill.invoicing.schemas import InvoiceFilters


def add(session: Session, row: Any) -> Any:
    session.add(row)
    return row


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# invoices ------------------------------------------------------------------------------------


def get(session: Session, invoice_id: int, *, for_update: bool = False) -> Invoice | None:
    """By id; `for_update` locks the row on PostgreSQL so two finalisations of one draft queue."""
    if not for_update:
        return session.get(Invoice, invoice_id)
    stmt = (
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # the row as it is once the lock is ours
    )
    return session.scalars(stmt).one_or_none()


def by_number(session: Session, number: str) -> Invoice | None:
    return session.scalars(select(Invoice).where(Invoice.number == number)).one_or_none()


def by_key(session: Session, key: str) -> Invoice | None:
    return session.scalars(select(Invoice).where(Invoice.idempotency_key == key)).one_or_none()


def insert_invoice(session: Session, invoice: Invoice) -> bool:
    """Insert under a savepoint; False if the idempotency key already exists (the unique index says so)."""
    try:
        with session.begin_nested():
            session.add(invoice)
            session.flush()
    except IntegrityError as exc:
        if "idempotency_key" not in str(exc.orig):
            raise
        return False
    return True


def list_invoices(session: Session, filters: InvoiceFilters) -> Sequence[Invoice]:
    stmt = select(Invoice)
    if filters.account_id is not None:
        stmt = stmt.where(Invoice.account_id == filters.account_id)
    if filters.state is not None:
        stmt = stmt.where(Invoice.state == filters.state)
    if filters.document_type is not None:
        stmt = stmt.where(Invoice.document_type == filters.document_type.value)
    if filters.number_prefix:
        stmt = stmt.where(Invoice.number.startswith(filters.number_prefix, autoescape=True))
    if filters.issued_from is not None:
        stmt = stmt.where(Invoice.issue_date >= filters.issued_from)
    if filters.issued_to is not None:
        stmt = stmt.where(Invoice.issue_date <= filters.issued_to)
    stmt = stmt.order_by(Invoice.id).limit(filters.limit).offset(filters.offset)
    return session.scalars(stmt).all()


def credit_notes_of(session: Session, invoice_id: int) -> Sequence[Invoice]:
    stmt = (
        select(Invoice)
        .where(Invoice.preceding_invoice_id == invoice_id, Invoice.document_type == "381")
        .order_by(Invoice.id)
    )
    return session.scalars(stmt).all()


def held_drafts(session: Session, account_id: int, reason: str) -> Sequence[Invoice]:
    stmt = (
        select(Invoice)
        .where(Invoice.payer_account_id == account_id, Invoice.held_reason == reason)
        .where(Invoice.state == "draft", Invoice.absorbed_into_id.is_(None))
        .order_by(Invoice.period_start, Invoice.id)
    )
    return session.scalars(stmt).all()


def delete_invoice(session: Session, invoice: Invoice) -> None:
    delete_children(session, invoice.id)
    session.delete(invoice)
    session.flush()


# lines, allowances, VAT rows -------------------------------------------------------------------


def lines_of(session: Session, invoice_id: int) -> Sequence[InvoiceLineRow]:
    stmt = select(InvoiceLineRow).where(InvoiceLineRow.invoice_id == invoice_id)
    return session.scalars(stmt.order_by(InvoiceLineRow.position)).all()


def allowances_of(session: Session, invoice_id: int) -> Sequence[InvoiceAllowanceRow]:
    stmt = select(InvoiceAllowanceRow).where(InvoiceAllowanceRow.invoice_id == invoice_id)
    return session.scalars(stmt.order_by(InvoiceAllowanceRow.position)).all()


def subtotals_of(session: Session, invoice_id: int) -> Sequence[InvoiceTaxSubtotalRow]:
    stmt = select(InvoiceTaxSubtotalRow).where(InvoiceTaxSubtotalRow.invoice_id == invoice_id)
    return session.scalars(stmt.order_by(InvoiceTaxSubtotalRow.position)).all()


def delete_children(session: Session, invoice_id: int) -> None:
    session.flush()
    for table in (InvoiceLineRow, InvoiceAllowanceRow, InvoiceTaxSubtotalRow):
        session.execute(delete(table).where(table.invoice_id == invoice_id))  # type: ignore[attr-defined]
    session.expire_all()


def credited_by_line(session: Session, invoice_id: int) -> dict[int, tuple[Decimal, Decimal]]:
    """Per invoice line id: (quantity, net amount) already given back by finalised credit notes;
    the net is after the credit lines' own allowance shares (a mirror repeats the invoice's
    allowances), so it counts what the customer got back."""
    ln = InvoiceLineRow
    credited = select(ln.id).where(ln.invoice_id == invoice_id)
    stmt = (
        select(ln.credited_line_id, ln.quantity, ln.net_amount, ln.allowance_share)
        .join(Invoice, Invoice.id == ln.invoice_id)
        .where(ln.credited_line_id.in_(credited), Invoice.state != "draft")
    )
    result: dict[int, tuple[Decimal, Decimal]] = {}
    for line_id, quantity, net, share in session.execute(stmt):
        q, n = result.get(line_id, (Decimal(0), Decimal(0)))
        result[line_id] = (q + quantity, n + net - (share or Decimal(0)))
    return result


def credited_subtotals(session: Session, invoice_id: int) -> Sequence[InvoiceTaxSubtotalRow]:
    """VAT rows of the finalised credit notes of an invoice."""
    notes = select(Invoice.id).where(
        Invoice.preceding_invoice_id == invoice_id, Invoice.document_type == "381", Invoice.state != "draft"
    )
    stmt = select(InvoiceTaxSubtotalRow).where(InvoiceTaxSubtotalRow.invoice_id.in_(notes))
    return session.scalars(stmt).all()


# numbering -----------------------------------------------------------------------------------


def new_series(code: str, year: int, document_type: str, fmt: str) -> InvoiceNumberSeries:
    return InvoiceNumberSeries(code=code, year=year, document_type=document_type, format=fmt, next_value=1)


def series_row(session: Session, code: str, year: int) -> InvoiceNumberSeries | None:
    return session.get(InvoiceNumberSeries, (code, year))


def latest_series_row(session: Session, code: str) -> InvoiceNumberSeries | None:
    stmt = select(InvoiceNumberSeries).where(InvoiceNumberSeries.code == code)
    return session.scalars(stmt.order_by(InvoiceNumberSeries.year.desc()).limit(1)).first()


def ensure_series_row(session: Session, code: str, year: int, document_type: str, fmt: str) -> None:
    """Create the counter row if missing; concurrent creators do not collide."""
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    values = {"code": code, "year": year, "document_type": document_type, "format": fmt, "next_value": 1}
    session.execute(insert(InvoiceNumberSeries).values(**values).on_conflict_do_nothing())


def take_next_value(session: Session, code: str, year: int) -> tuple[str, str, int]:
    """(format, document type, value) and the counter moved on, under a lock held to the end of the
    transaction: the row lock of SELECT ... FOR UPDATE on PostgreSQL; on SQLite the UPDATE runs first,
    which takes the database write lock before the value is read."""
    where = (InvoiceNumberSeries.code == code, InvoiceNumberSeries.year == year)
    bump = (
        update(InvoiceNumberSeries)
        .where(*where)
        .values(next_value=InvoiceNumberSeries.next_value + 1)
        .returning(
            InvoiceNumberSeries.format, InvoiceNumberSeries.document_type, InvoiceNumberSeries.next_value
        )
        .execution_options(synchronize_session=False)
    )
    if _dialect(session) == "postgresql":
        locked = select(InvoiceNumberSeries.next_value).where(*where).with_for_update()
        current = session.execute(locked).scalar_one()
        fmt, doc_type, after = session.execute(bump).one()
        assert after == current + 1
    else:
        fmt, doc_type, after = session.execute(bump).one()
    cached = session.identity_map.get(session.identity_key(InvoiceNumberSeries, (code, year)))  # type: ignore[arg-type]
    if cached is not None:
        session.expire(cached)
    return fmt, doc_type, int(after) - 1


# account credit --------------------------------------------------------------------------------


def open_credits(session: Session, account_id: int, currency: str) -> Sequence[AccountCredit]:
    """Credits of the account in that currency, oldest first, locked against a concurrent consumer.

    Exhausted ones are skipped by the caller: SQLite stores amounts as text, so no SQL comparison."""
    stmt = (
        select(AccountCredit)
        .where(AccountCredit.account_id == account_id, AccountCredit.currency == currency)
        .order_by(AccountCredit.created_at, AccountCredit.id)
        .with_for_update()
    )
    return session.scalars(stmt).all()


def credit_total(session: Session, account_id: int, currency: str) -> list[Decimal]:
    stmt = select(AccountCredit.remaining).where(
        AccountCredit.account_id == account_id, AccountCredit.currency == currency
    )
    return list(session.scalars(stmt))


def applications_of(session: Session, invoice_id: int) -> Sequence[AccountCreditApplication]:
    stmt = select(AccountCreditApplication).where(AccountCreditApplication.invoice_id == invoice_id)
    return session.scalars(stmt).all()


def get_credit(session: Session, credit_id: int) -> AccountCredit | None:
    return session.get(AccountCredit, credit_id)


def remove(session: Session, row: Any) -> None:
    session.delete(row)


# documents -------------------------------------------------------------------------------------


def document(session: Session, invoice_id: int, kind: str) -> InvoiceDocument | None:
    stmt = select(InvoiceDocument).where(
        InvoiceDocument.invoice_id == invoice_id, InvoiceDocument.kind == kind
    )
    return session.scalars(stmt).one_or_none()


def count_invoices(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)
