"""Each line's share of the document allowances (discounts), recorded with the invoice (pure).

A document allowance (BG-20) is one amount per discount and VAT rate, but a discount applied to
some lines only: a coupon on one product, on one charge kind, or on the whole invoice. What the
customer was charged for a line, net of VAT, is its net minus its share of the allowances; a
credit note gives that back (`crediting.py`). The shares are fixed once, when the invoice is
written, and stored on its lines (`invoice_lines.allowance_share`):

- the bill run hands over the allocation its discounts made (`billing.discounts`: each discount
  spread over the lines it applied to by largest remainder, to the minor unit);
- a draft written without shares (by hand, through the API) gets the default: each VAT rate's
  allowances spread over the lines at that rate, in proportion to their nets, by largest
  remainder, so the shares of a rate add up exactly to its allowances.

Either way the shares at a rate add up to the allowances at that rate, and no share exceeds its
line's net, so Σ (net − share) over a rate's lines is exactly the rate's taxable amount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from telbill.core.errors import ValidationFailed
from telbill.core.money import Money
from telbill.invoicing.content import DocumentAllowance, InvoiceLine, TaxCategory

RateKey = tuple[TaxCategory, Decimal]
ZERO = Decimal(0)


def _by_rate(allowances: Sequence[DocumentAllowance]) -> dict[RateKey, Decimal]:
    out: dict[RateKey, Decimal] = {}
    for a in allowances:
        out[(a.tax_category, a.tax_rate)] = out.get((a.tax_category, a.tax_rate), ZERO) + a.amount
    return out


def default_shares(
    lines: Sequence[InvoiceLine], allowances: Sequence[DocumentAllowance], code: str
) -> dict[str, Decimal]:
    """Each rate's allowances over that rate's lines in proportion to their nets (largest
    remainder). A rate whose allowances its lines cannot carry (no line of the same sign, or more
    than their nets) gets no shares: its lines stay at their full net."""
    shares = {line.line_id: ZERO for line in lines}
    for key, total in _by_rate(allowances).items():
        if total == 0:
            continue
        sign = 1 if total > 0 else -1
        carriers = [ln for ln in lines if (ln.tax_category, ln.tax_rate) == key and ln.net_amount * sign > 0]
        room = sum((ln.net_amount * sign for ln in carriers), ZERO)
        if not carriers or room < total * sign:
            continue
        parts = Money(total * sign, code).allocate([ln.net_amount * sign for ln in carriers])
        for line, part in zip(carriers, parts, strict=True):
            shares[line.line_id] = part.amount * sign
    return shares


def line_shares(
    lines: Sequence[InvoiceLine],
    allowances: Sequence[DocumentAllowance],
    code: str,
    given: Mapping[str, Decimal] | None = None,
) -> dict[str, Decimal]:
    """Every line's share: `given` (checked) when the caller allocated the allowances, else
    `default_shares`."""
    if not given:
        return default_shares(lines, allowances, code) if allowances else {ln.line_id: ZERO for ln in lines}
    _check(lines, allowances, given)
    return {ln.line_id: given.get(ln.line_id, ZERO) for ln in lines}


def consistent(
    lines: Sequence[InvoiceLine], allowances: Sequence[DocumentAllowance], given: Mapping[str, Decimal]
) -> bool:
    """Whether `given` shares carry exactly the allowances (see `line_shares`)."""
    try:
        _check(lines, allowances, given)
    except ValidationFailed:
        return False
    return True


def _check(
    lines: Sequence[InvoiceLine], allowances: Sequence[DocumentAllowance], given: Mapping[str, Decimal]
) -> None:
    by_id = {ln.line_id: ln for ln in lines}
    problems = [f"a share names no line of the invoice: {i}" for i in given if i not in by_id]
    carried: dict[RateKey, Decimal] = {}
    for line_id, share in given.items():
        line = by_id.get(line_id)
        if line is None:
            continue
        if share * line.net_amount < 0 or abs(share) > abs(line.net_amount):
            problems.append(f"line {line_id}: share {share} is not within its net {line.net_amount}")
        key = (line.tax_category, line.tax_rate)
        carried[key] = carried.get(key, ZERO) + share
    wanted = _by_rate(allowances)
    for key in set(carried) | set(wanted):
        if carried.get(key, ZERO) != wanted.get(key, ZERO):
            problems.append(
                f"VAT {key[0].value} {key[1]}%: shares add up to {carried.get(key, ZERO)}, "
                f"the allowances to {wanted.get(key, ZERO)}"
            )
    if problems:
        raise ValidationFailed("the allowances' shares do not match the invoice", details=problems)
