"""Between stored rows and the content contract: rows from `InvoiceLine`s and back, exact Decimals.

PostgreSQL hands Numeric(24, 6) values back with six decimals and SQLite gives back the text it
was given; both are brought to one canonical form here, so a snapshot is the same on either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from telbill.billing.taxes import Exemption
from telbill.core.errors import ValidationFailed
from telbill.core.money import currency
from telbill.invoicing.content import DocumentAllowance, InvoiceLine, TaxCategory, TaxSubtotal
from telbill.invoicing.model import InvoiceAllowanceRow, InvoiceLineRow, InvoiceTaxSubtotalRow
from telbill.invoicing.schemas import LineSource

MAX_DECIMALS = 6


def plain(value: Decimal) -> Decimal:
    """Trailing zeros dropped, never in exponent form: 20.000000 → 20, 0.150000 → 0.15."""
    n = value.normalize()
    return n.quantize(Decimal(1)) if n == n.to_integral_value() else n


def money(value: Decimal, code: str) -> Decimal:
    return value.quantize(currency(code).quantum)


def check_lines(lines: Sequence[InvoiceLine], allowances: Sequence[DocumentAllowance]) -> None:
    """What the tables can hold exactly: at most 6 decimals, unique short line ids."""
    problems = []
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            problems.append(f"line id {line.line_id!r} appears twice")
        seen.add(line.line_id)
        if not 0 < len(line.line_id) <= 40:
            problems.append(f"line id {line.line_id!r} must have 1 to 40 characters")
        for name in ("quantity", "unit_price", "tax_rate"):
            value = getattr(line, name)
            if value.as_tuple().exponent < -MAX_DECIMALS:  # type: ignore[operator]
                problems.append(f"line {line.line_id}: {name} {value} has more than {MAX_DECIMALS} decimals")
        if line.unit_price < 0:
            problems.append(
                f"line {line.line_id}: unit price must not be negative (BR-27), got {line.unit_price}"
            )
    for allowance in allowances:
        if allowance.amount < 0:
            problems.append(f"allowance {allowance.reason!r}: amount must not be negative")
    if problems:
        raise ValidationFailed("the invoice lines cannot be stored", details=problems)


def line_rows(
    invoice_id: int,
    lines: Sequence[InvoiceLine],
    sources: Mapping[str, LineSource],
    credited: Sequence[int | None] = (),
    shares: Mapping[str, Decimal] | None = None,
) -> list[InvoiceLineRow]:
    """`shares`: each line's share of the allowances (`invoicing.shares`), by line id."""
    rows = []
    for position, line in enumerate(lines, start=1):
        source = sources.get(line.line_id, LineSource())
        rows.append(
            InvoiceLineRow(
                invoice_id=invoice_id,
                position=position,
                line_id=line.line_id,
                description=line.description,
                quantity=line.quantity,
                unit_code=line.unit_code,
                unit_price=line.unit_price,
                net_amount=line.net_amount,
                tax_category=line.tax_category.value,
                tax_rate=line.tax_rate,
                period_start=line.period_start,
                period_end=line.period_end,
                product_code=line.product_code,
                charge_kind=line.charge_kind,
                subscription_id=source.subscription_id,
                usage_aggregate_id=source.usage_aggregate_id,
                source_ref=source.source_ref,
                credited_line_id=credited[position - 1] if credited else None,
                allowance_share=(shares or {}).get(line.line_id, Decimal(0)),
            )
        )
    return rows


def allowance_rows(invoice_id: int, allowances: Sequence[DocumentAllowance]) -> list[InvoiceAllowanceRow]:
    return [
        InvoiceAllowanceRow(
            invoice_id=invoice_id,
            position=position,
            reason=a.reason,
            amount=a.amount,
            tax_category=a.tax_category.value,
            tax_rate=a.tax_rate,
        )
        for position, a in enumerate(allowances, start=1)
    ]


def subtotal_rows(invoice_id: int, subtotals: Sequence[TaxSubtotal]) -> list[InvoiceTaxSubtotalRow]:
    return [
        InvoiceTaxSubtotalRow(
            invoice_id=invoice_id,
            position=position,
            category=s.category.value,
            rate=s.rate,
            taxable_amount=s.taxable_amount,
            tax_amount=s.tax_amount,
            exemption_reason=s.exemption_reason,
            exemption_code=s.exemption_code,
        )
        for position, s in enumerate(subtotals, start=1)
    ]


def to_line(row: InvoiceLineRow, code: str) -> InvoiceLine:
    return InvoiceLine(
        line_id=row.line_id,
        description=row.description,
        quantity=plain(row.quantity),
        unit_code=row.unit_code,
        unit_price=plain(row.unit_price),
        net_amount=money(row.net_amount, code),
        tax_category=TaxCategory(row.tax_category),
        tax_rate=plain(row.tax_rate),
        period_start=row.period_start,
        period_end=row.period_end,
        product_code=row.product_code,
        charge_kind=row.charge_kind,
    )


def to_allowance(row: InvoiceAllowanceRow, code: str) -> DocumentAllowance:
    return DocumentAllowance(
        row.reason, money(row.amount, code), TaxCategory(row.tax_category), plain(row.tax_rate)
    )


def to_subtotal(row: InvoiceTaxSubtotalRow, code: str) -> TaxSubtotal:
    return TaxSubtotal(
        category=TaxCategory(row.category),
        rate=plain(row.rate),
        taxable_amount=money(row.taxable_amount, code),
        tax_amount=money(row.tax_amount, code),
        exemption_reason=row.exemption_reason,
        exemption_code=row.exemption_code,
    )


def exemptions_to_plain(exemptions: Mapping[TaxCategory, Exemption]) -> dict[str, list[str | None]]:
    return {category.value: [e.reason, e.code] for category, e in exemptions.items()}


def exemptions_from_plain(data: Mapping[str, list[str | None]]) -> dict[TaxCategory, Exemption]:
    return {TaxCategory(k): Exemption(str(v[0]), v[1]) for k, v in data.items()}
