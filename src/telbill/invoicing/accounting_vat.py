"""The VAT total in the seller's VAT accounting currency (EN 16931 BT-6, BT-111), pure.

Rule: **the total is converted, once.** BT-111 = round_half_up(BT-110 × rate) to the accounting
currency's minor unit (÷ rate when the source quotes the rate the other way round). EN 16931 has
only this total in the accounting currency; converting each VAT row (BT-117) and adding them up
would round once per rate and could differ from the converted total by up to half a minor unit
per rate, for no figure the standard asks for.

A credit note of such an invoice uses **the rate of the invoice it credits**, cumulatively like
its VAT (`docs/contexts/invoices.md`):

    BT-111(note k) = round(C_k × rate) − round(C_(k−1) × rate),  C_k = Σ BT-110 of notes 1..k

so the notes reverse in the accounting currency exactly what the invoice declared: once the
invoice is wholly credited, Σ BT-111 of its notes = its own BT-111, to the cent.
"""

from __future__ import annotations

from decimal import Decimal

from telbill.fx.rates import Rate, convert
from telbill.invoicing.content import AccountingVat


def in_accounting_currency(tax_total: Decimal, code: str, rate: Rate, accounting: str) -> AccountingVat:
    """BT-6 and BT-111 of a document whose VAT total (BT-110) is `tax_total` in `code`."""
    return AccountingVat(
        currency=accounting,
        tax_total=convert(tax_total, rate, code, accounting),
        rate=rate.rate,
        rate_base=rate.base,
        rate_quote=rate.quote,
        rate_date=rate.effective_date,
        rate_source=rate.source,
    )


def rate_of(frozen: AccountingVat) -> Rate:
    return Rate(frozen.rate_base, frozen.rate_quote, frozen.rate, frozen.rate_date, frozen.rate_source)


def for_credit_note(
    note_tax: Decimal, credited_before: Decimal, code: str, invoice: AccountingVat
) -> AccountingVat:
    """BT-111 of a credit note giving back `note_tax` of VAT after notes that gave back
    `credited_before`, at the credited invoice's rate (cumulative rounding, see the module)."""
    rate = rate_of(invoice)
    after = convert(credited_before + note_tax, rate, code, invoice.currency)
    before = convert(credited_before, rate, code, invoice.currency)
    return AccountingVat(
        currency=invoice.currency,
        tax_total=after - before,
        rate=invoice.rate,
        rate_base=invoice.rate_base,
        rate_quote=invoice.rate_quote,
        rate_date=invoice.rate_date,
        rate_source=invoice.rate_source,
    )
