"""Items of the charges billed per occurrence — a weekly fee on a monthly cycle (pure).

An occurrence (`occurrences.py`) is billed like a billing period, on its own span: per **live
piece** — the parts of it in which the subscription is active — each priced `prorate(price ×
quantity, share)` with share = the piece's part of the occurrence (actual days, or seconds when
that is the offer's basis: a 30-day month means nothing for a week). So:

- the part of an occurrence in a trial is covered by the trial, the part suspended is not bought,
  the part before the account's go-live was the old system's: the rest is billed, prorated;
- a cancellation cuts the occurrence (the used part is billed) under `on_change:
  credit_and_charge`; under `on_change: none` the occurrence is billed to its end;
- a plan or quantity change inside a running occurrence follows the change policy of the offer in
  force at the occurrence's start: `immediate` + `credit_and_charge` prices each piece on its own
  terms (the old offer's charge for the part before the change, the new one's for the rest);
  `end_of_period` and `on_change: none` keep the occurrence on the terms it started with — the new
  terms count from the next occurrence (suspensions still count, as for billing periods).

Each occurrence is keyed `rc|sub|offer|charge|occ|occurrence-start` and billed in the bill period
containing its start (in advance) or the closed period in which it ended (in arrears), so
reconciliation bills it once and repairs it when a later change reshapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from telbill.billing.charges import Context, ProposedItem, _prorated, period_at_instant, version_billed
from telbill.billing.events import Segment, Status, SubscriptionFacts
from telbill.billing.occurrences import Occurrence, charge_periods, divides, overlapping
from telbill.billing.periods import Period
from telbill.billing.proration import Interval, ProrationBasis, fraction_over
from telbill.catalog.offers import Offer
from telbill.catalog.types import Period as ChargePeriod

_WHOLE = Fraction(1)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A live part `[start, end)` of an occurrence, priced on `terms`."""

    start: datetime
    end: datetime
    terms: Segment


def _frozen_terms(offer: Offer) -> bool:
    """The occurrence keeps the terms it started with (end of term, or no proration)."""
    return offer.plan_change.value == "end_of_period" or offer.proration.on_change.value == "none"


def live_pieces(segments: Sequence[Segment], occ: Occurrence, offers: dict[str, Offer]) -> list[_Piece]:
    """The active parts of the occurrence, each with the terms that price it."""
    parts = []
    for seg in segments:
        start, end = max(seg.start, occ.start), min(seg.end or occ.end, occ.end)
        if start < end:
            parts.append((start, end, seg))
    if not parts:
        return []
    opener = parts[0][2]
    frozen = _frozen_terms(offers[opener.offer_code])
    out: list[_Piece] = []
    for start, end, seg in parts:
        if seg.status is not Status.ACTIVE:
            continue
        terms = opener if frozen else seg
        if out and out[-1].end == start and out[-1].terms == terms:
            out[-1] = _Piece(out[-1].start, end, terms)  # one piece while the terms hold
        else:
            out.append(_Piece(start, end, terms))
    if out and _cancelled_inside(segments, occ, out[-1], offers):
        out[-1] = _Piece(out[-1].start, occ.end, out[-1].terms)  # no credit: billed to its end
    return out


def _cancelled_inside(
    segments: Sequence[Segment], occ: Occurrence, last_piece: _Piece, offers: dict[str, Offer]
) -> bool:
    """The subscription ended inside the occurrence while active, under `on_change: none`."""
    last = segments[-1]
    if last.end is None or last.end >= occ.end or last.status is not Status.ACTIVE:
        return False
    none = offers[last_piece.terms.offer_code].proration.on_change.value == "none"
    return none and last_piece.end == last.end


def _share(offer: Offer, piece: _Piece, occ: Occurrence, tz: str) -> Fraction:
    if piece.start == occ.start and piece.end == occ.end:
        return _WHOLE
    seconds = offer.proration.basis.value == "seconds"
    basis = ProrationBasis.SECONDS if seconds else ProrationBasis.ACTUAL_DAYS
    return fraction_over(Interval(piece.start, piece.end), [Period(occ.start, occ.end)], basis, tz)


def occurrence_items(ctx: Context, sub: SubscriptionFacts, segments: Sequence[Segment]) -> list[ProposedItem]:
    """Charges whose period does not divide the bill cycle, per occurrence: in advance when the
    occurrence starts in the window, in arrears when it ended in a closed period of it."""
    if not segments:
        return []
    window, tz = ctx.window, ctx.account.timezone
    ended = segments[-1].end
    offers = dict(ctx.offers)
    items: list[ProposedItem] = []
    for length in charge_periods([offers[s.offer_code] for s in segments], ctx.account.regimes):
        for occ in overlapping(sub.start_at, length, tz, window.start, window.current.end):
            if ended is not None and occ.start >= ended:
                break
            pieces = live_pieces(segments, occ, offers)
            if pieces:
                billed_to = occ.end if ended is None else min(occ.end, ended)
                items.extend(_occurrence_items(ctx, sub, occ, length, pieces, billed_to))
    return items


def _due(ctx: Context, occ: Occurrence, in_advance: bool, billed_to: datetime) -> bool:
    """In advance: the occurrence starts in the window; in arrears: it ended in a closed period."""
    window = ctx.window
    if in_advance:
        return window.start <= occ.start < window.current.end
    return window.start < billed_to <= window.current.start


def _occurrence_items(
    ctx: Context,
    sub: SubscriptionFacts,
    occ: Occurrence,
    length: ChargePeriod,
    pieces: Sequence[_Piece],
    billed_to: datetime,
) -> list[ProposedItem]:
    """The items of one occurrence; `billed_to` is when it ended (in arrears, billed then)."""
    account = ctx.account
    period = period_at_instant(account, occ.start)
    cycle, _, _ = account.regime_at(occ.start)
    if divides(length, cycle):
        return []
    items = []
    for piece in pieces:
        seg = piece.terms
        offer = ctx.offers[seg.offer_code]
        number, version = version_billed(offer, seg.offer_version, period)
        share = _share(offer, piece, occ, account.timezone)
        for charge in version.recurring_charges():
            if charge.period != length or occ.index >= (charge.max_periods or occ.index + 1):
                continue
            if not _due(ctx, occ, charge.timing.value == "in_advance", billed_to):
                continue
            price = Decimal(charge.price[account.currency])
            label = f"{offer.name} — {charge.name or charge.code}"
            if share != 1:
                label = f"{label} (prorated {share.numerator}/{share.denominator})"
            items.append(
                ProposedItem(
                    key=f"rc|{sub.id}|{seg.offer_code}|{charge.code}|occ|{occ.start.isoformat()}",
                    account_id=sub.account_id,
                    subscription_id=sub.id,
                    offer_code=seg.offer_code,
                    charge_code=charge.code,
                    kind="recurring" if share == 1 else "proration",
                    description=f"{label} v{number}" if number > 1 else label,
                    service_start=piece.start,
                    service_end=piece.end,
                    quantity=Decimal(seg.quantity),
                    unit_price=price,
                    amount=_prorated(price, seg.quantity, account.currency, share),
                )
            )
    return items
