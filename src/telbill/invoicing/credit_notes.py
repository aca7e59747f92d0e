"""Corrections of issued invoices: credit notes, void, and account credit.

A finalised invoice is never edited. A credit note (381), numbered in its own gapless series,
gives back all or part of it; its amount is applied to the invoice's balance at once. When
payments and credits together exceed an invoice's total, the excess becomes account credit,
which later invoices consume as a prepaid amount (BT-113).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlalchemy.orm import Session

from telbill import accounts
from telbill.core.clock import Clock
from telbill.core.errors import Conflict, NotFound, ValidationFailed
from telbill.core.money import currency as currency_of
from telbill.invoicing import lifecycle, repository, rows
from telbill.invoicing.content import DocumentType
from telbill.invoicing.crediting import CreditableLine, CreditNotePlan, RateStanding, plan_credit_note
from telbill.invoicing.lifecycle import Action, InvoiceState
from telbill.invoicing.model import AccountCredit, AccountCreditApplication, Invoice
from telbill.invoicing.schemas import CREDIT_NOTE_SERIES, KEY_VERSION, CreditSpec
from telbill.invoicing.service import (
    finalise_as,
    invoice_content,
    standing_of,
    state_changed,
)
from telbill.invoicing.shares import consistent, default_shares


def _locked(session: Session, invoice_id: int) -> Invoice:
    invoice = repository.get(session, invoice_id, for_update=True)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    return invoice


def credit_notes_of(session: Session, invoice_id: int) -> list[Invoice]:
    return list(repository.credit_notes_of(session, invoice_id))


def creditable_lines(session: Session, invoice: Invoice) -> list[CreditableLine]:
    """The invoice's lines with what credit notes gave back of each and their allowance shares
    (for lines written before shares were recorded, the default allocation, `invoicing.shares`)."""
    code = invoice.currency
    credited = repository.credited_by_line(session, invoice.id)
    found = repository.lines_of(session, invoice.id)
    lines = [rows.to_line(r, code) for r in found]
    shares = {r.line_id: rows.money(r.allowance_share, code) for r in found if r.allowance_share is not None}
    if len(shares) < len(found):
        allowances = [rows.to_allowance(a, code) for a in repository.allowances_of(session, invoice.id)]
        shares = default_shares(lines, allowances, code)
    return [
        CreditableLine(r.id, line, *credited.get(r.id, (Decimal(0), Decimal(0))), shares[line.line_id])
        for r, line in zip(found, lines, strict=True)
    ]


def rate_standings(session: Session, invoice: Invoice) -> list[RateStanding]:
    code = invoice.currency
    credited: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for row in repository.credited_subtotals(session, invoice.id):
        key = (row.category, rows.plain(row.rate))
        taxable, tax = credited.get(key, (Decimal(0), Decimal(0)))
        credited[key] = (taxable + row.taxable_amount, tax + row.tax_amount)
    out = []
    for row in repository.subtotals_of(session, invoice.id):
        taxable, tax = credited.get((row.category, rows.plain(row.rate)), (Decimal(0), Decimal(0)))
        out.append(
            RateStanding(rows.to_subtotal(row, code), rows.money(taxable, code), rows.money(tax, code))
        )
    return out


def _credit_key(invoice: Invoice, ordinal: int) -> str:
    identity = f"{KEY_VERSION}|credit_note|{invoice.id}|{ordinal}"
    return f"{KEY_VERSION}:{hashlib.sha256(identity.encode()).hexdigest()}"


def issue_credit_note(
    session: Session,
    clock: Clock,
    invoice_id: int,
    spec: CreditSpec | None = None,
    *,
    reason: str,
    idempotency_key: str | None = None,
) -> Invoice:
    """A finalised credit note for all that remains (no spec) or part of the invoice.

    With an `idempotency_key`, a replay returns the credit note issued the first time.
    """
    if not reason.strip():
        raise ValidationFailed("a credit note needs a reason")
    if idempotency_key:
        existing = repository.by_key(session, idempotency_key)
        if existing is not None:
            if existing.preceding_invoice_id != invoice_id:
                raise Conflict(f"idempotency key {idempotency_key!r} was used for another document")
            return existing
    invoice = _locked(session, invoice_id)
    if invoice.document_type != DocumentType.INVOICE.value:
        raise Conflict(f"{invoice.number} is a credit note; only invoices are credited")
    previous = lifecycle.require(invoice.state, Action.CREDIT)
    note = _credit(session, clock, invoice, spec or CreditSpec(), reason, idempotency_key)
    invoice.state = lifecycle.after_credit(previous, standing_of(invoice)).value
    state_changed(session, clock, invoice, previous.value)
    return note


def void(session: Session, clock: Clock, invoice_id: int, reason: str) -> Invoice:
    """Void an unpaid or partly paid invoice: a credit note for everything that remains, then void.

    What the customer already paid on it becomes account credit. Returns the voided invoice; its
    credit note is the last of `credit_notes_of`.
    """
    if not reason.strip():
        raise ValidationFailed("voiding an invoice needs a reason")
    invoice = _locked(session, invoice_id)
    previous = lifecycle.require(invoice.state, Action.VOID)
    if standing_of(invoice).creditable > 0:
        _credit(session, clock, invoice, CreditSpec(), reason, None)
    invoice.state = lifecycle.after_void(previous, standing_of(invoice)).value
    invoice.void_reason = reason
    invoice.voided_at = clock.now()
    state_changed(session, clock, invoice, previous.value)
    return invoice


def _credit(
    session: Session, clock: Clock, invoice: Invoice, spec: CreditSpec, reason: str, key: str | None
) -> Invoice:
    original = invoice_content(session, invoice.id)
    description = (
        f"Avoir sur la facture {invoice.number} : {reason}"
        if invoice.language == "fr"
        else f"Credit on invoice {invoice.number}: {reason}"
    )
    plan = plan_credit_note(
        spec, creditable_lines(session, invoice), original.allowances, rate_standings(session, invoice),
        invoice.currency, description,
    )  # fmt: skip
    if plan.totals.grand_total > standing_of(invoice).creditable:
        raise ValidationFailed(
            f"the credit note ({plan.totals.grand_total}) exceeds what remains creditable "
            f"({standing_of(invoice).creditable} {invoice.currency})"
        )
    now = clock.now()
    note = Invoice(
        account_id=invoice.account_id,
        payer_account_id=invoice.payer_account_id,
        kind="credit_note",
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        series=CREDIT_NOTE_SERIES,
        document_type=DocumentType.CREDIT_NOTE.value,
        state=InvoiceState.DRAFT.value,
        currency=invoice.currency,
        language=invoice.language,
        idempotency_key=key or _credit_key(invoice, len(credit_notes_of(session, invoice.id)) + 1),
        preceding_invoice_id=invoice.id,
        reason=reason,
        extras={"exemptions": {}, "usage_summary": [], "notes": [reason, *_discount_note(plan, invoice)]},
        created_at=now,
        updated_at=now,
    )
    if not repository.insert_invoice(session, note):
        raise Conflict(f"a credit note for {invoice.number} is being issued concurrently; retry")
    from telbill.invoicing.service import _write_lines

    _write_lines(
        session,
        note,
        plan.lines,
        plan.allowances,
        {},
        {},
        plan.credited_row_ids,
        (plan.subtotals, plan.totals),
        # a mirror repeats the invoice's shares; an old invoice whose allowances its lines could
        # not carry gets the default allocation, as `creditable_lines` assumed
        shares=plan.shares if consistent(plan.lines, plan.allowances, plan.shares) else None,
    )
    finalise_as(session, clock, note, original.seller, original.buyer, credited=original.accounting_vat)
    invoice.amount_credited += note.grand_total
    refund_excess(session, clock, invoice, source="credit_note")
    return note


def _discount_note(plan: CreditNotePlan, invoice: Invoice) -> list[str]:
    if not plan.net_of_discounts:
        return []
    if invoice.language == "fr":
        return [f"Montants nets des remises appliquées aux lignes de la facture {invoice.number}."]
    return [f"Amounts are net of the discounts applied to these lines on invoice {invoice.number}."]


def refund_excess(session: Session, clock: Clock, invoice: Invoice, *, source: str) -> None:
    """Turn a negative balance (paid and credited more than the total) into account credit."""
    balance = standing_of(invoice).balance
    if balance < 0:
        grant_account_credit(
            session, clock, invoice.payer_account_id, -balance, invoice.currency, source,
            source_invoice_id=invoice.id, note=f"excess on {invoice.number}",
        )  # fmt: skip
        invoice.amount_refunded += -balance
    invoice.balance = standing_of(invoice).balance


# account credit ----------------------------------------------------------------------------------


def grant_account_credit(
    session: Session,
    clock: Clock,
    account_id: int,
    amount: Decimal,
    currency: str,
    source: str,
    *,
    source_invoice_id: int | None = None,
    note: str | None = None,
) -> AccountCredit:
    """Credit an account (unused time from proration, an overpayment, goodwill)."""
    quantum = currency_of(currency).quantum
    if amount <= 0 or amount != amount.quantize(quantum):
        raise ValidationFailed(
            f"account credit must be positive and rounded to {quantum} {currency}, got {amount}"
        )
    accounts.get_account(session, account_id)
    credit = AccountCredit(
        account_id=account_id,
        currency=currency,
        amount=amount,
        remaining=amount,
        source=source,
        source_invoice_id=source_invoice_id,
        note=note,
        created_at=clock.now(),
    )
    repository.add(session, credit)
    session.flush()
    return credit


def account_credit_balance(session: Session, account_id: int, currency: str) -> Decimal:
    return sum(repository.credit_total(session, account_id, currency), Decimal(0))


def apply_account_credit(session: Session, clock: Clock, invoice_id: int) -> Decimal:
    """Consume the payer's open account credit (oldest first) on a draft invoice, as a prepaid
    amount up to its total. Returns the amount applied."""
    invoice = _locked(session, invoice_id)
    lifecycle.require(invoice.state, Action.EDIT)
    if invoice.document_type != DocumentType.INVOICE.value:
        return Decimal(0)
    due = invoice.grand_total - invoice.prepaid_amount
    applied = Decimal(0)
    for credit in repository.open_credits(session, invoice.payer_account_id, invoice.currency):
        if due - applied <= 0:
            break
        if credit.remaining <= 0:
            continue
        take = min(credit.remaining, due - applied)
        credit.remaining -= take
        applied += take
        repository.add(
            session,
            AccountCreditApplication(
                credit_id=credit.id, invoice_id=invoice.id, amount=take, created_at=clock.now()
            ),
        )
    invoice.prepaid_amount += applied
    invoice.balance = standing_of(invoice).balance
    invoice.updated_at = clock.now()
    session.flush()
    return applied


def release_account_credit(session: Session, invoice: Invoice) -> Decimal:
    """Give back the account credit a draft consumed (before it is regenerated or deleted)."""
    released = Decimal(0)
    for application in repository.applications_of(session, invoice.id):
        credit = repository.get_credit(session, application.credit_id)
        if credit is not None:
            credit.remaining += application.amount
        released += application.amount
        repository.remove(session, application)
    invoice.prepaid_amount = Decimal(0)
    invoice.balance = standing_of(invoice).balance
    session.flush()
    return released
