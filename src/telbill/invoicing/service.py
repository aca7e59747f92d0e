"""Use cases of the invoice store: drafts, finalisation, payments, queries, stored documents.

Every function takes the caller's session and clock and never commits: a bill run writes many
invoices in its own transaction. Credit notes, void and account credit are in `credit_notes.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from telbill import accounts, fx
from telbill.billing.taxes import Exemption
from telbill.billing.totals import compute_totals
from telbill.core.clock import Clock
from telbill.core.errors import Conflict, NotFound, ValidationFailed
from telbill.core.settings import Seller
from telbill.events import append_event
from telbill.invoicing import accounting_vat, lifecycle, mentions, numbering, repository, rows, snapshot
from telbill.invoicing.content import (
    AccountingVat,
    DocumentAllowance,
    DocumentType,
    InvoiceContent,
    InvoiceLine,
    Party,
    TaxCategory,
    Totals,
)
from telbill.invoicing.lifecycle import Action, InvoiceState, Standing
from telbill.invoicing.model import Invoice, InvoiceDocument
from telbill.invoicing.schemas import BelowMinimum, DraftInvoice, FinalisePolicy, InvoiceFilters, LineSource
from telbill.invoicing.shares import line_shares

AGGREGATE = "invoice"
MEDIA_TYPES = {"pdf": "application/pdf", "facturx_xml": "application/xml"}


# reading ---------------------------------------------------------------------------------------


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = repository.get(session, invoice_id)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    return invoice


def get_invoice_by_number(session: Session, number: str) -> Invoice:
    invoice = repository.by_number(session, number)
    if invoice is None:
        raise NotFound(f"no invoice or credit note numbered {number!r}")
    return invoice


def list_invoices(session: Session, filters: InvoiceFilters | None = None) -> Sequence[Invoice]:
    return repository.list_invoices(session, filters or InvoiceFilters())


def invoice_content(session: Session, invoice_id: int) -> InvoiceContent:
    """The content frozen at finalisation, checked against its hash."""
    invoice = get_invoice(session, invoice_id)
    if invoice.content is None or invoice.content_sha256 is None:
        raise Conflict(f"invoice {invoice_id} is a {invoice.state}: it has no frozen content yet")
    if snapshot.sha256_of(invoice.content) != invoice.content_sha256:
        raise Conflict(f"invoice {invoice.number}: stored content does not match its SHA-256")
    return snapshot.content_from_json(invoice.content)


def standing_of(invoice: Invoice) -> Standing:
    return Standing(
        grand_total=invoice.grand_total,
        prepaid=invoice.prepaid_amount,
        paid=invoice.amount_paid,
        credited=invoice.amount_credited,
        refunded=invoice.amount_refunded,
    )


def draft_lines(
    session: Session, invoice: Invoice
) -> tuple[tuple[InvoiceLine, ...], tuple[DocumentAllowance, ...]]:
    """Lines and allowances as content (for drafts, previews and credit notes)."""
    lines = tuple(rows.to_line(r, invoice.currency) for r in repository.lines_of(session, invoice.id))
    allowances = tuple(
        rows.to_allowance(r, invoice.currency) for r in repository.allowances_of(session, invoice.id)
    )
    return lines, allowances


# drafts ----------------------------------------------------------------------------------------


def create_draft(session: Session, clock: Clock, draft: DraftInvoice) -> Invoice:
    """A new draft, or the invoice already written under the same idempotency key (any state)."""
    existing = repository.by_key(session, draft.key)
    if existing is not None:
        return existing
    account = accounts.get_account(session, draft.account_id)
    payer = accounts.get_account(session, draft.payer_account_id) if draft.payer_account_id else None
    payer = payer or accounts.payer_of(session, account.id)
    now = clock.now()
    invoice = Invoice(
        account_id=account.id,
        payer_account_id=payer.id,
        kind=draft.kind,
        period_start=draft.period_start,
        period_end=draft.period_end,
        series=draft.series_code,
        document_type=draft.document_type.value,
        state=InvoiceState.DRAFT.value,
        currency=draft.currency or payer.currency,
        language=payer.language,
        idempotency_key=draft.key,
        preceding_invoice_id=draft.preceding_invoice_id,
        extras={},
        created_at=now,
        updated_at=now,
    )
    rows.check_lines(draft.lines, draft.allowances)
    compute_totals(draft.lines, draft.allowances, invoice.currency)  # validate before writing
    if not repository.insert_invoice(session, invoice):
        return repository.by_key(session, draft.key)  # type: ignore[return-value]
    _write_lines(
        session, invoice, draft.lines, draft.allowances, draft.sources, draft.exemptions,
        shares=draft.allowance_shares,
    )  # fmt: skip
    invoice.extras = _extras(draft.exemptions, draft.usage_summary, draft.notes)
    return invoice


def _extras(exemptions: Mapping[TaxCategory, Exemption], usage: tuple, notes: tuple[str, ...]) -> dict:  # type: ignore[type-arg]
    return {
        "exemptions": rows.exemptions_to_plain(exemptions),
        "usage_summary": snapshot.usage_to_plain(usage),
        "notes": list(notes),
    }


def _write_lines(
    session: Session,
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    allowances: Sequence[DocumentAllowance],
    sources: Mapping[str, LineSource],
    exemptions: Mapping[TaxCategory, Exemption],
    credited: Sequence[int | None] = (),
    computed: tuple | None = None,  # type: ignore[type-arg]
    *,
    shares: Mapping[str, Decimal] | None = None,
) -> None:
    """Lines, allowances, VAT rows and the totals columns of a draft; each line's share of the
    allowances as given (checked) or by the default allocation (`invoicing.shares`)."""
    rows.check_lines(lines, allowances)
    subtotals, totals = computed or compute_totals(lines, allowances, invoice.currency, exemptions=exemptions)
    carried = line_shares(lines, allowances, invoice.currency, shares)
    session.add_all(rows.line_rows(invoice.id, lines, sources, credited, carried))
    session.add_all(rows.allowance_rows(invoice.id, allowances))
    session.add_all(rows.subtotal_rows(invoice.id, subtotals))
    _set_totals(invoice, totals)
    session.flush()


def _set_totals(invoice: Invoice, totals: Totals) -> None:
    invoice.line_total = totals.line_total
    invoice.allowance_total = totals.allowance_total
    invoice.tax_total = totals.tax_total
    invoice.grand_total = totals.grand_total
    invoice.balance = standing_of(invoice).balance


def replace_draft_lines(
    session: Session,
    clock: Clock,
    invoice_id: int,
    lines: Sequence[InvoiceLine],
    allowances: Sequence[DocumentAllowance] = (),
    *,
    sources: Mapping[str, LineSource] | None = None,
    exemptions: Mapping[TaxCategory, Exemption] | None = None,
    allowance_shares: Mapping[str, Decimal] | None = None,
) -> Invoice:
    """Regenerate a draft's content. Account credit it had consumed is released (apply it again).
    `allowance_shares` as in `DraftInvoice`."""
    invoice = repository.get(session, invoice_id, for_update=True) or get_invoice(session, invoice_id)
    lifecycle.require(invoice.state, Action.EDIT)
    from telbill.invoicing.credit_notes import release_account_credit

    release_account_credit(session, invoice)
    if exemptions is None:
        exemptions = rows.exemptions_from_plain(invoice.extras.get("exemptions", {}))
    repository.delete_children(session, invoice.id)
    _write_lines(session, invoice, lines, allowances, sources or {}, exemptions, shares=allowance_shares)
    invoice.extras = {**invoice.extras, "exemptions": rows.exemptions_to_plain(exemptions)}
    invoice.held_reason = None
    invoice.updated_at = clock.now()
    return invoice


def delete_draft(session: Session, clock: Clock, invoice_id: int) -> None:
    """Remove a draft and its lines; its idempotency key becomes free again."""
    invoice = get_invoice(session, invoice_id)
    lifecycle.require(invoice.state, Action.DELETE)
    from telbill.invoicing.credit_notes import release_account_credit

    release_account_credit(session, invoice)
    repository.delete_invoice(session, invoice)


# finalisation ------------------------------------------------------------------------------------


def seller_party(seller: Seller) -> Party:
    return Party(
        name=seller.name,
        address=seller.address,
        city=seller.city,
        postcode=seller.postcode,
        country=seller.country,
        vat_number=seller.vat_number or None,
        registration_id=seller.siren or None,
    )


def buyer_party(session: Session, account_id: int) -> Party:
    account = accounts.get_account(session, account_id)
    customer = accounts.get_customer(session, account.customer_id)
    address = "\n".join(x for x in (customer.address_line1, customer.address_line2) if x)
    contacts = accounts.list_contacts(session, billing_account_id=account.id)
    email = next((c.email for c in contacts if c.email and "billing" in (c.roles or [])), None)
    return Party(
        name=customer.legal_name or customer.name,
        address=address,
        city=customer.city or "",
        postcode=customer.postcode or "",
        country=customer.country,
        vat_number=customer.vat_number,
        registration_id=customer.registration_number,
        email=email,
    )


def _hold_reason(invoice: Invoice, policy: FinalisePolicy) -> str | None:
    if invoice.document_type == DocumentType.CREDIT_NOTE.value:
        return None
    total = invoice.grand_total
    if total == 0 and not policy.finalise_zero:
        return "zero_amount"
    if 0 < total < policy.minimum_amount and policy.below_minimum is BelowMinimum.CARRY_FORWARD:
        return "below_minimum"
    return None


def finalise(
    session: Session,
    clock: Clock,
    invoice_id: int,
    seller: Seller,
    policy: FinalisePolicy | None = None,
) -> Invoice:
    """Number, date and freeze a draft. A draft the policy holds back stays a draft, with its
    `held_reason` set ("zero_amount" or "below_minimum": its lines go on the next invoice)."""
    invoice = repository.get(session, invoice_id, for_update=True)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    lifecycle.require(invoice.state, Action.FINALISE)
    if invoice.preceding_invoice_id is not None:
        raise Conflict("a credit note of an invoice is issued with issue_credit_note, not finalised alone")
    held = _hold_reason(invoice, policy or FinalisePolicy())
    if held is not None:
        invoice.held_reason, invoice.updated_at = held, clock.now()
        return invoice
    return finalise_as(
        session, clock, invoice, seller_party(seller), accounting_currency=seller.accounting_currency
    )


def finalise_as(
    session: Session,
    clock: Clock,
    invoice: Invoice,
    seller: Party,
    buyer: Party | None = None,
    *,
    accounting_currency: str | None = None,
    credited: AccountingVat | None = None,
) -> Invoice:
    """Finalise with the given identities (credit notes reuse their invoice's).

    A document in another currency than `accounting_currency` freezes its VAT total in that one
    (BT-6, BT-111) at the rate in force on its issue date, and is refused (`MissingExchangeRate`,
    naming the pair and the date) when there is none. A credit note of an invoice passes that
    invoice's frozen figures as `credited` and uses its rate (`accounting_vat.py`)."""
    if invoice.document_type == DocumentType.INVOICE.value and invoice.grand_total < 0:
        raise Conflict(
            f"invoice {invoice.id} totals {invoice.grand_total}: "
            "a negative total is issued as a credit note (381)"
        )
    payer = accounts.get_account(session, invoice.payer_account_id)
    now = clock.now()
    issue_date = now.astimezone(payer.zone).date()
    is_credit = invoice.document_type == DocumentType.CREDIT_NOTE.value
    due_date = issue_date if is_credit else issue_date + timedelta(days=payer.payment_terms_days)
    preceding = (
        repository.get(session, invoice.preceding_invoice_id) if invoice.preceding_invoice_id else None
    )
    accounting = _accounting_vat(session, invoice, issue_date, accounting_currency, credited)
    buyer = buyer or buyer_party(session, invoice.payer_account_id)
    lines, allowances = draft_lines(session, invoice)
    subtotals = tuple(
        rows.to_subtotal(r, invoice.currency) for r in repository.subtotals_of(session, invoice.id)
    )
    number = numbering.allocate_number(
        session, invoice.series, DocumentType(invoice.document_type), issue_date
    )
    content = InvoiceContent(
        number=number,
        document_type=DocumentType(invoice.document_type),
        issue_date=issue_date,
        due_date=due_date,
        currency=invoice.currency,
        language=invoice.language,
        seller=seller,
        buyer=buyer,
        buyer_reference=payer.number,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        lines=lines,
        allowances=allowances,
        tax_subtotals=subtotals,
        totals=_content_totals(invoice),
        payment_terms=(
            mentions.credit_note_terms_text(invoice.language, preceding.number if preceding else None)
            if is_credit
            else mentions.payment_terms_text(invoice.language, payer.payment_terms_days, due_date)
        ),
        late_payment_text=mentions.late_payment_text(invoice.language),
        preceding_invoice=preceding.number if preceding else None,
        preceding_invoice_date=preceding.issue_date if preceding else None,
        usage_summary=snapshot.usage_from_plain(invoice.extras.get("usage_summary", [])),
        notes=tuple(invoice.extras.get("notes", [])),
        accounting_vat=accounting,
    )
    _freeze(invoice, content, now)
    if is_credit:
        invoice.state, invoice.balance = InvoiceState.FINALISED.value, Decimal(0)
        if preceding is None:  # a credit standing alone (a negative bill run): the account keeps it
            from telbill.invoicing.credit_notes import grant_account_credit

            if invoice.grand_total > 0:
                amount = rows.money(invoice.grand_total, invoice.currency)
                grant_account_credit(
                    session, clock, invoice.payer_account_id, amount, invoice.currency, "credit_note",
                    source_invoice_id=invoice.id, note=f"credit note {number}",
                )  # fmt: skip
    else:
        invoice.state = lifecycle.after_finalise(invoice.state, standing_of(invoice)).value
    session.flush()
    _event(session, clock, "CustomerBill.created", invoice)
    return invoice


def _accounting_vat(
    session: Session,
    invoice: Invoice,
    issue_date: date,
    accounting: str | None,
    credited: AccountingVat | None,
) -> AccountingVat | None:
    """BT-6/BT-111 of the document: at the credited invoice's rate for its credit note, else at the
    rate in force on the issue date when the currency is not the accounting currency."""
    if credited is not None:
        before = sum(
            (n.tax_total for n in repository.credit_notes_of(session, credited_invoice_id(invoice))
             if n.id != invoice.id and n.state != InvoiceState.DRAFT.value),
            Decimal(0),
        )  # fmt: skip
        return accounting_vat.for_credit_note(invoice.tax_total, before, invoice.currency, credited)
    if accounting is None or invoice.currency == accounting:
        return None
    rate = fx.rate_in_force(session, invoice.currency, accounting, issue_date)
    return accounting_vat.in_accounting_currency(invoice.tax_total, invoice.currency, rate, accounting)


def credited_invoice_id(note: Invoice) -> int:
    if note.preceding_invoice_id is None:
        raise Conflict(f"document {note.id} credits no invoice")
    return note.preceding_invoice_id


def _content_totals(invoice: Invoice) -> Totals:
    q = rows.money
    code = invoice.currency
    basis = invoice.line_total - invoice.allowance_total
    return Totals(
        line_total=q(invoice.line_total, code),
        allowance_total=q(invoice.allowance_total, code),
        tax_basis_total=q(basis, code),
        tax_total=q(invoice.tax_total, code),
        grand_total=q(invoice.grand_total, code),
        prepaid=q(invoice.prepaid_amount, code),
        due_payable=q(invoice.grand_total - invoice.prepaid_amount, code),
    )


def _freeze(invoice: Invoice, content: InvoiceContent, now: datetime) -> None:
    text = snapshot.content_to_json(content)
    invoice.number = content.number
    invoice.issue_date = content.issue_date
    invoice.due_date = content.due_date
    invoice.content = text
    invoice.content_sha256 = snapshot.sha256_of(text)
    invoice.held_reason = None
    invoice.finalised_at = now
    invoice.updated_at = now


def _event(session: Session, clock: Clock, event_type: str, invoice: Invoice, **extra: object) -> None:
    payload = {
        "id": invoice.id,
        "billNo": invoice.number,
        "documentType": invoice.document_type,
        "state": invoice.state,
        "accountId": invoice.account_id,
        "payerAccountId": invoice.payer_account_id,
        "currency": invoice.currency,
        "amountDue": invoice.grand_total,
        "remainingAmount": invoice.balance,
        "billDate": invoice.issue_date,
        "paymentDueDate": invoice.due_date,
        **extra,
    }
    append_event(
        session,
        clock,
        event_type=event_type,
        aggregate_type=AGGREGATE,
        aggregate_id=invoice.id,
        payload=payload,
    )


def state_changed(session: Session, clock: Clock, invoice: Invoice, previous: str) -> None:
    invoice.updated_at = clock.now()
    session.flush()
    if invoice.state != previous:
        _event(session, clock, "CustomerBill.stateChanged", invoice, previousState=previous)


# payments ----------------------------------------------------------------------------------------


def record_payment(session: Session, clock: Clock, invoice_id: int, amount: Decimal) -> Invoice:
    """A payment received for an invoice; what exceeds the balance becomes account credit."""
    invoice = repository.get(session, invoice_id, for_update=True) or get_invoice(session, invoice_id)
    if invoice.document_type != DocumentType.INVOICE.value:
        raise Conflict(f"{invoice.number} is a credit note: it is not paid")
    if amount <= 0 or amount != rows.money(amount, invoice.currency):
        raise ValidationFailed(f"a payment is a positive amount at the currency's minor unit, got {amount}")
    previous = lifecycle.require(invoice.state, Action.PAY)
    invoice.amount_paid += amount
    from telbill.invoicing.credit_notes import refund_excess

    refund_excess(session, clock, invoice, source="overpayment")
    invoice.state = lifecycle.after_payment(previous, standing_of(invoice)).value
    state_changed(session, clock, invoice, previous.value)
    return invoice


# documents ---------------------------------------------------------------------------------------


def store_document(
    session: Session, invoice_id: int, kind: str, data: bytes, *, clock: Clock | None = None
) -> InvoiceDocument:
    """Keep a rendered document of an issued invoice. The first stored copy is the document: storing
    again returns it unchanged (rendering twice may differ in timestamps, the issued copy must not).
    `created_at` is the clock's time, or the finalisation instant when no clock is given."""
    invoice = get_invoice(session, invoice_id)
    if invoice.state == InvoiceState.DRAFT.value:
        raise Conflict(f"invoice {invoice_id} is a draft: only issued documents are stored")
    if kind not in MEDIA_TYPES:
        raise ValidationFailed(f"unknown document kind {kind!r} (one of {', '.join(MEDIA_TYPES)})")
    existing = repository.document(session, invoice_id, kind)
    if existing is not None:
        return existing
    doc = InvoiceDocument(
        invoice_id=invoice_id,
        kind=kind,
        media_type=MEDIA_TYPES[kind],
        data=data,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        created_at=clock.now() if clock else invoice.finalised_at,
    )
    repository.add(session, doc)
    session.flush()
    return doc


def get_document(session: Session, invoice_id: int, kind: str = "pdf") -> InvoiceDocument | None:
    return repository.document(session, invoice_id, kind)


def recomputed_totals(session: Session, invoice: Invoice) -> Totals:
    """Totals recomputed from the stored lines (checks and property tests)."""
    lines, allowances = draft_lines(session, invoice)
    exemptions = rows.exemptions_from_plain(invoice.extras.get("exemptions", {}))
    _, totals = compute_totals(lines, allowances, invoice.currency, exemptions=exemptions)
    return replace(totals, prepaid=rows.money(invoice.prepaid_amount, invoice.currency))


# carry forward -----------------------------------------------------------------------------------


def _sources_of(session: Session, invoice_id: int, prefix: str = "") -> dict[str, LineSource]:
    return {
        f"{prefix}{r.line_id}"[:40]: LineSource(r.subscription_id, r.usage_aggregate_id, r.source_ref)
        for r in repository.lines_of(session, invoice_id)
    }


def _shares_of(session: Session, invoice_id: int, prefix: str = "") -> dict[str, Decimal] | None:
    """The lines' recorded allowance shares (None if a line has none recorded)."""
    found: dict[str, Decimal] = {}
    for r in repository.lines_of(session, invoice_id):
        if r.allowance_share is None:
            return None
        found[f"{prefix}{r.line_id}"[:40]] = r.allowance_share
    return found


def carry_forward(session: Session, clock: Clock, invoice_id: int) -> int:
    """Move the lines of the payer's drafts held below the minimum onto this draft (the next
    period's invoice). The held drafts stay, emptied and marked absorbed, so their idempotency keys
    still answer a retried bill run. Returns the number of lines moved."""
    target = repository.get(session, invoice_id, for_update=True) or get_invoice(session, invoice_id)
    lifecycle.require(target.state, Action.EDIT)
    held = [
        h
        for h in repository.held_drafts(session, target.payer_account_id, "below_minimum")
        if h.id != target.id and h.currency == target.currency and h.document_type == target.document_type
    ]
    if not held:
        return 0
    lines, allowances = draft_lines(session, target)
    sources = _sources_of(session, target.id)
    shares = _shares_of(session, target.id)
    moved: list[InvoiceLine] = []
    from telbill.invoicing.credit_notes import release_account_credit

    for draft in held:
        release_account_credit(session, draft)
        prefix = f"{draft.id}-"
        held_lines, held_allowances = draft_lines(session, draft)
        moved += [replace(ln, line_id=f"{prefix}{ln.line_id}"[:40]) for ln in held_lines]
        allowances += held_allowances
        sources.update(_sources_of(session, draft.id, prefix))
        held_shares = _shares_of(session, draft.id, prefix)
        shares = None if shares is None or held_shares is None else {**shares, **held_shares}
        repository.delete_children(session, draft.id)
        _set_totals(draft, compute_totals([], [], draft.currency)[1])
        draft.held_reason, draft.absorbed_into_id, draft.updated_at = (
            "carried_forward",
            target.id,
            clock.now(),
        )
    replace_draft_lines(
        session, clock, target.id, lines + tuple(moved), allowances, sources=sources, allowance_shares=shares
    )
    return len(moved)
