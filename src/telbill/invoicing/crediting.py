"""What a credit note gives back, computed from the invoice and what earlier credit notes gave back.

Amounts on a credit note (381) are positive. A credit note may give back whole lines, part of a
line (a quantity or a net amount), a net amount spread over the invoice's VAT rates, or all that
remains. Nothing may exceed what remains creditable, per line and per VAT rate.

A line gives back what the customer was charged for it: its net minus its share of the
document allowances (discounts), as allocated when the invoice was written (`invoicing.shares`).
A credit-note line of a discounted line carries that discounted net (and the discounted unit
price), with no allowance on the note; only the mirror of a whole invoice repeats its
allowances. So a rate's lines credited one by one give back exactly the rate's taxable amount.

VAT is cumulative per rate, so a series of partial credit notes never gives back more or less VAT
than the invoice charged:

    tax of this note at rate r = round(credited taxable at r after it × r)
                               − round(credited taxable at r before it × r)

The first credit note's VAT is exactly the EN 16931 computation on its own subtotal; a later one
may differ from it by at most one minor unit per rate (within BR-CO-17), and the last one closes
the rate exactly. A line's net credited by quantity is rounded cumulatively the same way, so a
line credited unit by unit closes exactly. Why no other rule works: docs/contexts/invoices.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from telbill.billing.taxes import tax_on
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, currency
from telbill.invoicing.content import DocumentAllowance, InvoiceLine, TaxCategory, TaxSubtotal, Totals
from telbill.invoicing.schemas import CreditSpec, LineCredit

RateKey = tuple[TaxCategory, Decimal]
_QTY = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class CreditableLine:
    """An invoice line as credit notes see it. `allowance_share` is its share of the invoice's
    document allowances (`invoicing.shares`); `charged` = net − share is what the customer was
    charged for it (net of VAT), and all a line's credits together give back at most that.
    `credited_net` counts in the same terms."""

    row_id: int
    line: InvoiceLine
    credited_quantity: Decimal = Decimal(0)
    credited_net: Decimal = Decimal(0)
    allowance_share: Decimal = Decimal(0)

    @property
    def charged(self) -> Decimal:
        return self.line.net_amount - self.allowance_share

    @property
    def remaining_net(self) -> Decimal:
        return self.charged - self.credited_net

    @property
    def remaining_quantity(self) -> Decimal:
        return self.line.quantity - self.credited_quantity


@dataclass(frozen=True, slots=True)
class RateStanding:
    """One VAT rate of the invoice: what it charged and what credit notes already gave back."""

    subtotal: TaxSubtotal
    credited_taxable: Decimal = Decimal(0)
    credited_tax: Decimal = Decimal(0)

    @property
    def key(self) -> RateKey:
        return (self.subtotal.category, self.subtotal.rate)

    @property
    def remaining_taxable(self) -> Decimal:
        return self.subtotal.taxable_amount - self.credited_taxable


@dataclass(frozen=True, slots=True)
class CreditNotePlan:
    lines: tuple[InvoiceLine, ...]
    credited_row_ids: tuple[int | None, ...]  # per line: the invoice line it gives back
    allowances: tuple[DocumentAllowance, ...]
    subtotals: tuple[TaxSubtotal, ...]
    totals: Totals
    shares: dict[str, Decimal]  # by credit-note line id: its share of the note's allowances (mirror)
    net_of_discounts: bool = False  # some line gives back a discounted line, net of its share


def _round(value: Decimal, code: str) -> Decimal:
    return value.quantize(currency(code).quantum, rounding=ROUND_HALF_UP)


def _line_credit(item: CreditableLine, credit: LineCredit, code: str, index: int) -> InvoiceLine:
    """The credit-note line giving back part of an invoice line, net of the line's share of the
    discounts: the customer gets back what it was charged for that part, no more."""
    line = item.line
    if line.net_amount <= 0:
        raise ValidationFailed(f"line {line.line_id} is a credit already; it cannot be credited")
    if credit.quantity is not None:
        quantity, net = credit.quantity, _net_for_quantity(item, credit.quantity, code)
    else:
        net = item.remaining_net if credit.amount is None else credit.amount
        if not 0 < net <= item.remaining_net or net != _round(net, code):
            raise ValidationFailed(
                f"line {line.line_id}: amount {net} is not within the {item.remaining_net} {code} "
                f"that remains creditable (at the currency's minor unit)"
            )
        quantity = _quantity_for_net(item, net)
    return replace(line, line_id=str(index), quantity=quantity, net_amount=net, unit_price=_net_price(item))


def _net_price(item: CreditableLine) -> Decimal:
    """The unit price after the line's share of the discounts (BT-146 is a net price)."""
    line = item.line
    if item.allowance_share == 0:
        return line.unit_price
    return (line.unit_price * item.charged / line.net_amount).quantize(_QTY, rounding=ROUND_HALF_UP)


def _net_for_quantity(item: CreditableLine, quantity: Decimal, code: str) -> Decimal:
    """Net of `quantity` units, rounded cumulatively over the line's credits (like VAT per rate):
    round(charged × units credited after / units) − net credited before. Crediting a line's units
    in pieces (1 + 1 + 1 of 3 units at 1.00 in all: 0.33, 0.34, 0.33) gives back exactly what it
    was charged."""
    line = item.line
    if not 0 < quantity <= item.remaining_quantity:
        raise ValidationFailed(
            f"line {line.line_id}: quantity {quantity} is not within the "
            f"{item.remaining_quantity} that remains creditable"
        )
    after = item.credited_quantity + quantity
    if after == line.quantity:
        net = item.remaining_net
    else:  # units remain: so does at least a minor unit of the net, for the credit that closes it
        net = _round(item.charged * after / line.quantity, code) - item.credited_net
        net = min(net, item.remaining_net - currency(code).quantum)
    net = min(max(net, Decimal(0)), item.remaining_net)
    if net <= 0:
        raise ValidationFailed(
            f"line {line.line_id}: quantity {quantity} gives back nothing at the currency's minor unit"
        )
    return net


def _quantity_for_net(item: CreditableLine, net: Decimal) -> Decimal:
    """Units matching a net amount, cumulatively too: the credit that closes a line's net closes
    its quantity."""
    line = item.line
    if net == item.remaining_net:
        return item.remaining_quantity
    after = line.quantity * (item.credited_net + net) / item.charged
    after = after.quantize(_QTY, rounding=ROUND_HALF_UP)
    return min(max(after - item.credited_quantity, Decimal(0)), item.remaining_quantity)


def _from_lines(
    spec: CreditSpec, lines: Sequence[CreditableLine], code: str
) -> tuple[list[InvoiceLine], list[int | None]]:
    by_id = {item.line.line_id: item for item in lines}
    unknown = [c.line_id for c in spec.lines if c.line_id not in by_id]
    if unknown:
        raise ValidationFailed(f"no such lines on the invoice: {', '.join(unknown)}")
    if len({c.line_id for c in spec.lines}) != len(spec.lines):
        raise ValidationFailed("a line may appear once in a credit note")
    out = [_line_credit(by_id[c.line_id], c, code, i) for i, c in enumerate(spec.lines, start=1)]
    return out, [by_id[c.line_id].row_id for c in spec.lines]


def _per_rate_lines(amounts: dict[RateKey, Decimal], description: str) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            line_id=str(i),
            description=description,
            quantity=Decimal(1),
            unit_code="C62",
            unit_price=amount,
            net_amount=amount,
            tax_category=category,
            tax_rate=rate,
            charge_kind="adjustment",
        )
        for i, ((category, rate), amount) in enumerate(amounts.items(), start=1)
        if amount > 0
    ]


def _spread(amount: Decimal, rates: Sequence[RateStanding], code: str) -> dict[RateKey, Decimal]:
    """A net amount over the rates that remain creditable, in proportion to what remains of each."""
    open_rates = [r for r in rates if r.remaining_taxable > 0]
    available = sum((r.remaining_taxable for r in open_rates), Decimal(0))
    if amount != _round(amount, code) or amount > available:
        raise ValidationFailed(
            f"credit amount {amount} {code} exceeds the {available} {code} (net) that remains creditable"
        )
    parts = Money(amount, code).allocate([r.remaining_taxable for r in open_rates])
    return {r.key: p.amount for r, p in zip(open_rates, parts, strict=True)}


def _subtotals(
    lines: Sequence[InvoiceLine],
    allowances: Sequence[DocumentAllowance],
    rates: Sequence[RateStanding],
    code: str,
) -> tuple[TaxSubtotal, ...]:
    taxable: dict[RateKey, Decimal] = {}
    for line in lines:
        key = (line.tax_category, line.tax_rate)
        taxable[key] = taxable.get(key, Decimal(0)) + line.net_amount
    for allowance in allowances:
        key = (allowance.tax_category, allowance.tax_rate)
        taxable[key] = taxable.get(key, Decimal(0)) - allowance.amount
    by_key = {r.key: r for r in rates}
    problems, out = [], []
    for key, amount in taxable.items():
        standing = by_key.get(key)
        if standing is None or amount > standing.remaining_taxable:
            left = standing.remaining_taxable if standing else Decimal(0)
            problems.append(
                f"VAT {key[0].value} {key[1]}%: {amount} exceeds the {left} {code} left to credit"
            )
            continue
        out.append(_credit_subtotal(standing, amount, code))
    if problems:
        raise ValidationFailed("the credit note exceeds what remains creditable", details=problems)
    return tuple(out)


def _credit_subtotal(standing: RateStanding, taxable: Decimal, code: str) -> TaxSubtotal:
    sub = standing.subtotal
    if sub.category is TaxCategory.STANDARD:
        after = tax_on(Money(standing.credited_taxable + taxable, code), sub.rate).rounded().amount
        tax = after - standing.credited_tax
    else:
        tax = Decimal(0)
    return replace(sub, taxable_amount=taxable, tax_amount=tax)


def plan_credit_note(
    spec: CreditSpec,
    lines: Sequence[CreditableLine],
    allowances: Sequence[DocumentAllowance],
    rates: Sequence[RateStanding],
    code: str,
    description: str,
) -> CreditNotePlan:
    """The lines, VAT breakdown and totals of a credit note; raises if it would over-credit."""
    credit_allowances: list[DocumentAllowance] = []
    shares: dict[str, Decimal] = {}
    discounted = False
    if spec.amount is not None:
        credit_lines, refs = _per_rate_lines(_spread(spec.amount, rates, code), description), []
    elif spec.lines:
        credit_lines, refs = _from_lines(spec, lines, code)
        by_id = {item.line.line_id: item for item in lines}
        discounted = any(by_id[c.line_id].allowance_share != 0 for c in spec.lines)
    elif all(r.credited_taxable == 0 and r.credited_tax == 0 for r in rates):
        credit_lines = [item.line for item in lines]  # nothing credited yet: mirror the invoice
        refs = [item.row_id for item in lines]
        credit_allowances = list(allowances)
        shares = {item.line.line_id: item.allowance_share for item in lines}
    else:
        remaining = {r.key: r.remaining_taxable for r in rates}
        credit_lines, refs = _per_rate_lines(remaining, description), []
    if not credit_lines:
        raise ValidationFailed("nothing remains creditable on this invoice")
    refs_full: list[int | None] = list(refs) + [None] * (len(credit_lines) - len(refs))
    subtotals = _subtotals(credit_lines, credit_allowances, rates, code)
    return CreditNotePlan(
        tuple(credit_lines), tuple(refs_full), tuple(credit_allowances), subtotals,
        totals_of(credit_lines, credit_allowances, subtotals, code), shares, discounted,
    )  # fmt: skip


def totals_of(
    lines: Sequence[InvoiceLine],
    allowances: Sequence[DocumentAllowance],
    subtotals: Sequence[TaxSubtotal],
    code: str,
) -> Totals:
    """Document totals from lines, allowances and a VAT breakdown (which may be cumulative)."""
    line_total = sum((ln.net_amount for ln in lines), Decimal(0))
    allowance_total = sum((a.amount for a in allowances), Decimal(0))
    tax_total = sum((s.tax_amount for s in subtotals), Decimal(0))
    basis = line_total - allowance_total
    q = currency(code).quantum
    return Totals(
        line_total=line_total.quantize(q),
        allowance_total=allowance_total.quantize(q),
        tax_basis_total=basis.quantize(q),
        tax_total=tax_total.quantize(q),
        grand_total=(basis + tax_total).quantize(q),
        due_payable=(basis + tax_total).quantize(q),
    )
