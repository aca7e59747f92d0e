"""Writing computed invoices: through the invoice store one by one, or in bulk.

`StoreWriter` calls the store's use cases (`create_draft`, `apply_account_credit`,
`finalise`) for each invoice — every rule of the store applies as written. `BulkWriter`
(`invoicing.bulk`) writes a whole batch with a few statements and one lock of the number
series. Both record promotion applications and route credit for unused time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telbill.billing.assemble import Assembled, CreditHandling
from telbill.billing.loading import LoadedInvoice
from telbill.core.clock import Clock
from telbill.events import append_event

if TYPE_CHECKING:
    from telbill.billing.run import BillRunOptions


@dataclass(frozen=True, slots=True)
class Written:
    invoice_id: int
    state: str


class InvoiceWriter(Protocol):
    def write(
        self,
        session: Session,
        clock: Clock,
        invoices: Sequence[tuple[LoadedInvoice, Assembled]],
        options: BillRunOptions,
    ) -> dict[int, Written]: ...


def without_rates(
    session: Session,
    clock: Clock,
    invoices: Sequence[tuple[LoadedInvoice, Assembled]],
    options: BillRunOptions,
) -> tuple[list[tuple[LoadedInvoice, Assembled]], list[tuple[LoadedInvoice, str]]]:
    """The invoices that can be issued, and those refused — with the error naming the pair and
    date — because their currency is not the seller's VAT accounting currency and no exchange
    rate is in force on their issue date (the clock's date in the payer's timezone, as the store
    and the bulk writer date them). One look-up per currency and date; none when every invoice is
    in the accounting currency or the run leaves drafts."""
    accounting = options.seller.accounting_currency
    now = clock.now()

    def wanted(entry: LoadedInvoice, invoice: Assembled) -> tuple[str, str, date] | None:
        code = invoice.content.currency
        if code == accounting:
            return None
        return code, accounting, now.astimezone(ZoneInfo(entry.inputs.payer.timezone)).date()

    keys = [wanted(e, i) for e, i in invoices] if options.auto_finalise else []
    if not any(keys):
        return list(invoices), []
    from telbill import fx

    _, missing = fx.rates_in_force(session, {k for k in keys if k is not None})
    if not missing:
        return list(invoices), []
    lacking = set(missing)
    ready, refused = [], []
    for (entry, invoice), key in zip(invoices, keys, strict=True):
        if key in lacking:
            refused.append((entry, str(fx.MissingExchangeRate([key]))))  # type: ignore[list-item]
        else:
            ready.append((entry, invoice))
    return ready, refused


def draft_of(entry: LoadedInvoice, invoice: Assembled):  # type: ignore[no-untyped-def]
    from telbill.invoicing import DraftInvoice, LineSource

    content = invoice.content
    payer = entry.inputs.payer.account_id
    sources = {
        line_id: LineSource(item.subscription_id, None, item.key) for line_id, item in invoice.sources.items()
    }
    return DraftInvoice(
        account_id=payer,
        period_start=content.period_start,
        period_end=content.period_end,
        lines=content.lines,
        allowances=content.allowances,
        document_type=content.document_type,
        currency=content.currency,
        payer_account_id=payer,
        sources=sources,
        exemptions=invoice.exemptions,
        usage_summary=content.usage_summary,
        allowance_shares=invoice.allowance_shares,
    )


def route_credit(
    session: Session, clock: Clock, payer: int, invoice: Assembled, invoice_id: int, how: CreditHandling
) -> None:
    """Credit for unused time taken off the invoice: an account credit, or a refund request."""
    if invoice.credit_out <= 0:
        return
    currency = invoice.content.currency
    if how is CreditHandling.ACCOUNT_CREDIT:
        from telbill.invoicing import grant_account_credit

        grant_account_credit(
            session, clock, payer, invoice.credit_out, currency, "proration",
            source_invoice_id=invoice_id, note="credit for unused time",
        )  # fmt: skip
    elif how is CreditHandling.REFUND:
        append_event(
            session,
            clock,
            event_type="BillingAccount.refundRequested",
            aggregate_type="billing_account",
            aggregate_id=payer,
            payload={"amount": str(invoice.credit_out), "currency": currency, "invoice_id": invoice_id,
                     "reason": "credit for unused time"},
        )  # fmt: skip


def record_discounts(session: Session, clock: Clock, payer: int, invoice: Assembled, invoice_id: int) -> None:
    """Each account's applications under its own id (a consolidated child's coupon is the child's)."""
    if not invoice.applications:
        return
    from telbill.promotions import record_applications

    by_owner: dict[int, list] = {}  # type: ignore[type-arg]
    for a in invoice.applications:
        by_owner.setdefault(invoice.owners.get(a.discount_id, payer), []).append(a)
    for owner, applications in by_owner.items():
        record_applications(session, clock, invoice_id, owner, applications, invoice.cycle_number)


class StoreWriter:
    """One invoice at a time through the store's use cases."""

    def write(
        self,
        session: Session,
        clock: Clock,
        invoices: Sequence[tuple[LoadedInvoice, Assembled]],
        options: BillRunOptions,
    ) -> dict[int, Written]:
        from telbill.invoicing import apply_account_credit, carry_forward, create_draft, finalise

        out = {}
        for entry, invoice in invoices:
            payer = entry.inputs.payer.account_id
            row = create_draft(session, clock, draft_of(entry, invoice))
            if row.state == "draft" and options.auto_finalise:
                if options.finalise_policy.minimum_amount > 0:
                    carry_forward(session, clock, row.id)
                apply_account_credit(session, clock, row.id)
                row = finalise(session, clock, row.id, options.seller, options.finalise_policy)
            record_discounts(session, clock, payer, invoice, row.id)
            route_credit(session, clock, payer, invoice, row.id, options.credit_handling)
            out[payer] = Written(row.id, row.state)
        return out


class BulkWriter:
    """A batch of invoices with a few statements and one lock of the number series
    (`invoicing.bulk`); credit notes and carry-forward policies go through the store one by one."""

    def write(
        self,
        session: Session,
        clock: Clock,
        invoices: Sequence[tuple[LoadedInvoice, Assembled]],
        options: BillRunOptions,
    ) -> dict[int, Written]:
        from telbill.invoicing.bulk import PayerTerms, create_and_finalise_many

        if options.finalise_policy.minimum_amount > 0:
            return StoreWriter().write(session, clock, invoices, options)
        plain = [(e, i) for e, i in invoices if i.content.document_type.value == "380"]
        others = [(e, i) for e, i in invoices if i.content.document_type.value != "380"]
        out = StoreWriter().write(session, clock, others, options) if others else {}
        drafts = [draft_of(e, i) for e, i in plain]
        buyers = {e.inputs.payer.account_id: e.facts.party for e, _ in plain}
        payers = {
            f.account_id: PayerTerms(f.account_id, f.account_number, f.currency, f.language, f.timezone,
                                     f.payment_terms_days)
            for f in (e.facts for e, _ in plain)
        }  # fmt: skip
        results = create_and_finalise_many(
            session,
            clock,
            drafts,
            buyers,
            options.seller,
            options.finalise_policy,
            finalise=options.auto_finalise,
            totals={
                d.key: (i.content.tax_subtotals, i.content.totals)
                for (_, i), d in zip(plain, drafts, strict=True)
            },
            payers=payers,
        )
        for (entry, invoice), draft in zip(plain, drafts, strict=True):
            payer = entry.inputs.payer.account_id
            r = results[draft.key]
            if invoice.applications:
                record_discounts(session, clock, payer, invoice, r.invoice_id)
            if invoice.credit_out > 0:
                route_credit(session, clock, payer, invoice, r.invoice_id, options.credit_handling)
            out[payer] = Written(r.invoice_id, r.state)
        return out
