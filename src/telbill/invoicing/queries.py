"""Read-only queries of the Customer Bill API over the store's tables: filtered, sorted and
counted pages of bills, and a page's VAT rows, lines and allowances in a few statements.

They only read; every change to an invoice goes through the store's services.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from telbill.invoicing.model import Invoice, InvoiceAllowanceRow, InvoiceLineRow, InvoiceTaxSubtotalRow
from telbill.invoicing.tmf import CATEGORIES, CREDIT_NOTE, INVOICE


@dataclass(frozen=True)
class BillQuery:
    """TMF filters of `GET /customerBill`; `states` are TMF678 states, `sort` pairs (field, descending)."""

    states: tuple[str, ...] = ()
    payer_account_id: int | None = None
    billed_from: date | None = None
    billed_to: date | None = None
    category: str | None = None
    bill_no: str | None = None
    sort: tuple[tuple[str, bool], ...] = ()
    offset: int = 0
    limit: int = 100


def _state_condition(state: str) -> ColumnElement[bool]:
    """The store rows a TMF state stands for (the inverse of `tmf.tmf_state`)."""
    issued_note = and_(Invoice.document_type == CREDIT_NOTE, Invoice.state != "draft")
    match state:
        case "new":
            return and_(Invoice.state == "draft", Invoice.held_reason.is_(None))
        case "onHold":
            return and_(Invoice.state == "draft", Invoice.held_reason.is_not(None))
        case "sent":
            return and_(Invoice.state == "finalised", Invoice.document_type == INVOICE)
        case "partiallyPaid":
            return and_(Invoice.state == "partially_paid", Invoice.document_type == INVOICE)
        case "settled":
            return or_(
                and_(Invoice.state.in_(("paid", "void")), Invoice.document_type == INVOICE), issued_note
            )
    return Invoice.id.is_(None)  # validated, or anything else: no bill is in it


def _filtered(stmt: Select, query: BillQuery) -> Select:  # type: ignore[type-arg]
    if query.states:
        stmt = stmt.where(or_(*(_state_condition(s) for s in query.states)))
    if query.payer_account_id is not None:
        stmt = stmt.where(Invoice.payer_account_id == query.payer_account_id)
    if query.billed_from is not None:
        stmt = stmt.where(Invoice.issue_date >= query.billed_from)
    if query.billed_to is not None:
        stmt = stmt.where(Invoice.issue_date <= query.billed_to)
    if query.category is not None:
        stmt = stmt.where(Invoice.document_type == CATEGORIES[query.category])
    if query.bill_no is not None:
        stmt = stmt.where(Invoice.number == query.bill_no)
    return stmt


_SORT_COLUMNS = {
    "id": Invoice.id,
    "billNo": Invoice.number,
    "billDate": Invoice.issue_date,
    "paymentDueDate": Invoice.due_date,
    "lastUpdate": Invoice.updated_at,
}


def _ordered(stmt: Select, sort: Sequence[tuple[str, bool]]) -> Select:  # type: ignore[type-arg]
    """Bills without the sorted value (drafts have no number or date) come last either way, on
    both databases; the id breaks ties so pages never overlap."""
    for name, descending in sort:
        column = _SORT_COLUMNS[name]
        stmt = stmt.order_by(column.is_(None), column.desc() if descending else column.asc())
    return stmt.order_by(Invoice.id)


def find_bills(session: Session, query: BillQuery) -> tuple[Sequence[Invoice], int]:
    """One page of bills and the number of bills matching the filters."""
    total = session.scalar(_filtered(select(func.count()).select_from(Invoice), query)) or 0
    stmt = _ordered(_filtered(select(Invoice), query), query.sort).offset(query.offset).limit(query.limit)
    return session.scalars(stmt).all(), int(total)


def taxes_of(session: Session, invoice_ids: Sequence[int]) -> dict[int, list[InvoiceTaxSubtotalRow]]:
    """VAT rows of several bills in one statement, by bill and in document order."""
    found: dict[int, list[InvoiceTaxSubtotalRow]] = defaultdict(list)
    if invoice_ids:
        stmt = (
            select(InvoiceTaxSubtotalRow)
            .where(InvoiceTaxSubtotalRow.invoice_id.in_(list(invoice_ids)))
            .order_by(InvoiceTaxSubtotalRow.invoice_id, InvoiceTaxSubtotalRow.position)
        )
        for row in session.scalars(stmt):
            found[row.invoice_id].append(row)
    return found


def numbers_of(session: Session, invoice_ids: Sequence[int]) -> dict[int, str | None]:
    if not invoice_ids:
        return {}
    stmt = select(Invoice.id, Invoice.number).where(Invoice.id.in_(list(invoice_ids)))
    return {row.id: row.number for row in session.execute(stmt)}


def lines_of(session: Session, invoice_id: int) -> Sequence[InvoiceLineRow]:
    stmt = (
        select(InvoiceLineRow)
        .where(InvoiceLineRow.invoice_id == invoice_id)
        .order_by(InvoiceLineRow.position)
    )
    return session.scalars(stmt).all()


def allowances_of(session: Session, invoice_id: int) -> Sequence[InvoiceAllowanceRow]:
    stmt = (
        select(InvoiceAllowanceRow)
        .where(InvoiceAllowanceRow.invoice_id == invoice_id)
        .order_by(InvoiceAllowanceRow.position)
    )
    return session.scalars(stmt).all()
