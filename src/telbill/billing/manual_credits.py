"""How much of each billed key manual credit notes gave back (pure), for reconciliation.

A manual credit note (issued by an operator with `invoicing.issue_credit_note` or `void`) gives
back lines of a bill-run invoice in one of two ways:

- a line credit names the invoice line (`credited_line_id`). It gives back part of what the
  customer was charged for the line: its net minus its share of the invoice's discounts
  (`allowance_share`, see `invoicing.shares`). That part is turned back into the line's own
  terms, the terms the bill run billed it in: with C given back so far of a line billed G whose
  share is S, the line is given back round(G × C / (G − S)) — all of G once C = G − S (a 40.00
  credit of a 50.00 line discounted by 10.00 gives back the whole 50.00 line). A mirror of the
  invoice repeats its allowances, so its lines carry their shares and give back G;
- an amount spread over the VAT rates, or "all that remains" after earlier credits, is one line
  per rate with no invoice line: it goes to the invoice's lines at that rate in proportion to
  what each still has (its net minus what earlier notes gave back), scaled by what remained of the
  rate's base. Without document discounts the shares add up to the note's line; with them they
  add up to more (a 18.00 credit of a 20.00 line discounted by 2.00 gives back the whole line),
  and a credit of all that remains gives back every line entirely.

Lines of the invoice with no key (added by hand) take their share too; only keyed lines are
reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

RateKey = tuple[str, Decimal]  # (VAT category code, rate)


@dataclass(frozen=True, slots=True)
class BilledLine:
    """One line of a bill-run invoice that has manual credit notes."""

    row_id: int
    key: str | None
    net: Decimal
    rate: RateKey
    share: Decimal = Decimal(0)  # of the invoice's allowances

    @property
    def charged(self) -> Decimal:
        return self.net - self.share


@dataclass(frozen=True, slots=True)
class NoteLine:
    credited_line_id: int | None
    net: Decimal
    rate: RateKey
    share: Decimal = Decimal(0)  # of the note's allowances (a mirror repeats the invoice's)


@dataclass(frozen=True, slots=True)
class ManualNote:
    """A finalised credit note of the invoice: its lines and its base per rate (its VAT rows)."""

    lines: tuple[NoteLine, ...]
    base: Mapping[RateKey, Decimal]


def credited_by_key(
    lines: Sequence[BilledLine],
    invoice_base: Mapping[RateKey, Decimal],
    notes: Sequence[ManualNote],
    quantum: Decimal,
) -> dict[str, Decimal]:
    """Per key, the net that the invoice's credit notes (in issue order) gave back."""
    spread_given = {line.row_id: Decimal(0) for line in lines}  # in the lines' own terms
    charged_given = {line.row_id: Decimal(0) for line in lines}  # by line credits, net of shares
    by_id = {line.row_id: line for line in lines}

    whole: set[int] = set()  # mirrored whole (a line discounted to nothing gives back all of it)

    def given() -> dict[int, Decimal]:
        return {
            i: by_id[i].net
            if i in whole
            else spread_given[i] + _as_billed(by_id[i], charged_given[i], quantum)
            for i in spread_given
        }

    base_left = dict(invoice_base)
    for note in notes:
        spread: dict[RateKey, Decimal] = {}
        for nl in note.lines:
            if nl.credited_line_id in charged_given:
                billed = by_id[nl.credited_line_id]
                if (nl.net, nl.share) == (billed.net, billed.share):
                    whole.add(billed.row_id)
                charged_given[billed.row_id] += nl.net - nl.share
            else:
                spread[nl.rate] = spread.get(nl.rate, Decimal(0)) + nl.net
        for rate, amount in spread.items():
            _spread(
                amount,
                base_left.get(rate, Decimal(0)),
                [ln for ln in lines if ln.rate == rate],
                given(),
                spread_given,
                quantum,
            )
        for rate, base in note.base.items():
            base_left[rate] = base_left.get(rate, Decimal(0)) - base
    out: dict[str, Decimal] = {}
    final = given()
    for line in lines:
        if line.key is not None and final[line.row_id] != 0:
            out[line.key] = out.get(line.key, Decimal(0)) + final[line.row_id]
    return out


def _as_billed(line: BilledLine, charged_given: Decimal, quantum: Decimal) -> Decimal:
    """What line credits that gave back `charged_given` of the line's charged amount gave back
    of the line as billed (module docstring)."""
    if charged_given == 0 or line.share == 0:
        return charged_given
    if line.charged == 0 or charged_given == line.charged:
        return line.net
    return (line.net * charged_given / line.charged).quantize(quantum, rounding=ROUND_HALF_UP)


def _spread(
    amount: Decimal,
    base_left: Decimal,
    lines: Sequence[BilledLine],
    given: Mapping[int, Decimal],
    into: dict[int, Decimal],
    quantum: Decimal,
) -> None:
    if base_left <= 0:
        return
    shares = {ln.row_id: amount * (ln.net - given[ln.row_id]) / base_left for ln in lines}
    for row_id, share in shares.items():
        into[row_id] += share.quantize(quantum, rounding=ROUND_HALF_UP)
