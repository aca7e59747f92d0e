"""Invoice totals, EN 16931 style: VAT per (category, rate) on the per-rate subtotal.

    line_total (BT-106)      = Σ line net amounts
    allowance_total (BT-107) = Σ document allowances
    taxable per rate (BT-116)= Σ lines of that rate − Σ allowances of that rate
    tax per rate (BT-117)    = round_half_up(taxable × rate / 100) to the minor unit
    tax_basis_total (BT-109) = line_total − allowance_total
    tax_total (BT-110)       = Σ tax per rate
    grand_total (BT-112)     = tax_basis_total + tax_total
    due_payable (BT-115)     = grand_total − prepaid (BT-113)

Sign convention: an invoice (380) may carry negative lines (proration credits); a credit note
(381) shows the amounts it gives back as positive numbers, the document type carrying the
sign. `as_credit_note` flips a would-be negative invoice into those positive amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from telbill.billing.taxes import DEFAULT_EXEMPTIONS, Exemption, tax_amount
from telbill.core.errors import ValidationFailed
from telbill.core.money import currency
from telbill.invoicing.content import (
    DocumentAllowance,
    DocumentType,
    InvoiceLine,
    TaxCategory,
    TaxSubtotal,
    Totals,
)

RateKey = tuple[TaxCategory, Decimal]
_TAXED = {TaxCategory.STANDARD}
_ZERO = Decimal(0)


def _check(
    lines: Sequence[InvoiceLine], allowances: Sequence[DocumentAllowance], code: str, prepaid: Decimal
) -> None:
    quantum = currency(code).quantum
    problems = []
    for line in lines:
        if line.net_amount != line.net_amount.quantize(quantum):
            problems.append(f"line {line.line_id}: {line.net_amount} is not rounded to {quantum} {code}")
        problems.extend(_rate_problems(f"line {line.line_id}", line.tax_category, line.tax_rate))
    for allowance in allowances:
        if allowance.amount != allowance.amount.quantize(quantum):
            problems.append(f"allowance {allowance.reason!r}: {allowance.amount} is not rounded")
        problems.extend(
            _rate_problems(f"allowance {allowance.reason!r}", allowance.tax_category, allowance.tax_rate)
        )
    if prepaid != prepaid.quantize(quantum):
        problems.append(f"prepaid {prepaid} is not rounded to {quantum} {code}")
    if problems:
        raise ValidationFailed("cannot total the invoice", details=problems)


def _rate_problems(what: str, category: TaxCategory, rate: Decimal) -> list[str]:
    if category in _TAXED and rate <= 0:
        return [f"{what}: category {category.value} needs a positive rate, got {rate}"]
    if category not in _TAXED and rate != 0:
        return [f"{what}: category {category.value} must have rate 0, got {rate}"]
    return []


def _by_rate(lines: Sequence[InvoiceLine], allowances: Sequence[DocumentAllowance]) -> dict[RateKey, Decimal]:
    """Taxable amount per (category, rate), in order of first appearance (exact Decimal sums:
    every addend is already rounded to the minor unit)."""
    taxable: dict[RateKey, Decimal] = {}
    for line in lines:
        key = (line.tax_category, line.tax_rate)
        taxable[key] = taxable.get(key, _ZERO) + line.net_amount
    for allowance in allowances:
        key = (allowance.tax_category, allowance.tax_rate)
        taxable[key] = taxable.get(key, _ZERO) - allowance.amount
    return taxable


def _subtotal(
    key: RateKey, taxable: Decimal, quantum: Decimal, exemptions: Mapping[TaxCategory, Exemption]
) -> TaxSubtotal:
    category, rate = key
    taxed = category in _TAXED
    tax = tax_amount(taxable, rate, quantum) if taxed else _ZERO.quantize(quantum)
    exemption = None if taxed else exemptions.get(category, DEFAULT_EXEMPTIONS.get(category))
    return TaxSubtotal(
        category=category,
        rate=rate,
        taxable_amount=taxable.quantize(quantum, rounding=ROUND_HALF_UP),
        tax_amount=tax,
        exemption_reason=exemption.reason if exemption else None,
        exemption_code=exemption.code if exemption else None,
    )


def compute_totals(
    lines: Sequence[InvoiceLine],
    allowances: Sequence[DocumentAllowance],
    currency_code: str,
    *,
    prepaid: Decimal = Decimal(0),
    exemptions: Mapping[TaxCategory, Exemption] | None = None,
) -> tuple[tuple[TaxSubtotal, ...], Totals]:
    """VAT breakdown and document totals; every amount already rounded to the minor unit.

    `exemptions` gives the reason text/code per non-taxed category (from the tax decisions);
    missing ones fall back to a generic mention.
    """
    _check(lines, allowances, currency_code, prepaid)
    reasons = exemptions or {}
    quantum = currency(currency_code).quantum
    subtotals = tuple(_subtotal(k, v, quantum, reasons) for k, v in _by_rate(lines, allowances).items())

    def total(values: list[Decimal]) -> Decimal:
        # Money's sum and half-up rounding, on plain Decimals (the same arithmetic, no Money per addend)
        return sum(values, _ZERO).quantize(quantum, rounding=ROUND_HALF_UP)

    line_total = total([line.net_amount for line in lines])
    allowance_total = total([a.amount for a in allowances])
    tax_total = total([s.tax_amount for s in subtotals])
    basis = total([line_total, -allowance_total])
    grand = total([basis, tax_total])
    return subtotals, Totals(
        line_total=line_total,
        allowance_total=allowance_total,
        tax_basis_total=basis,
        tax_total=tax_total,
        grand_total=grand,
        prepaid=total([prepaid]),
        due_payable=total([grand, -prepaid]),
    )


def document_type_for(totals: Totals) -> DocumentType:
    """A negative grand total is not an invoice: it is issued as a credit note."""
    return DocumentType.CREDIT_NOTE if totals.grand_total < 0 else DocumentType.INVOICE


def as_credit_note(
    lines: Sequence[InvoiceLine], allowances: Sequence[DocumentAllowance]
) -> tuple[tuple[InvoiceLine, ...], tuple[DocumentAllowance, ...]]:
    """The same content with every amount's sign flipped, for a 381 document.

    Quantities flip with the amounts; unit prices stay positive (BR-27). Half-up rounding is
    symmetric, so the totals of the flipped content are exactly the flipped totals.
    """
    flipped_lines = tuple(replace(ln, quantity=-ln.quantity, net_amount=-ln.net_amount) for ln in lines)
    flipped_allowances = tuple(replace(a, amount=-a.amount) for a in allowances)
    return flipped_lines, flipped_allowances
