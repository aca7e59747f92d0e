"""Proration: what share of a period's price a part of that period costs.

Periods are half-open `[start, end)` of aware instants. The share is an exact `Fraction`
measured on the account's calendar by one of three bases (see docs/contexts/billing.md):

- ACTUAL_DAYS: local calendar days; a DST day is one day, a partial day its elapsed share.
- THIRTY_DAY_MONTH: every local month counts 30 days; the 31st counts 0, the last day of
  February counts the missing days (3 in a common year, 2 in a leap year).
- SECONDS: elapsed time, to the microsecond.

Each basis maps an instant to a position on a line; a fraction is a ratio of two position
differences, so consecutive sub-periods add up to exactly 1 and a full period is exactly 1.
Money is rounded once, when `prorate` turns `amount × fraction` into a line amount.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Protocol

from telbill.billing.rounding import as_fraction, money_of_fraction
from telbill.core.clock import ensure_utc, zone
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, Rounding

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class ProrationBasis(StrEnum):
    ACTUAL_DAYS = "actual_days"
    THIRTY_DAY_MONTH = "thirty_day_month"
    SECONDS = "seconds"


class Span(Protocol):
    """Anything with a half-open `[start, end)` of aware instants (e.g. periods.Period)."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Interval:
    """A concrete `[start, end)` span, used for the parts of a period a line covers."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start))
        object.__setattr__(self, "end", ensure_utc(self.end))
        if self.end < self.start:
            raise ValidationFailed(f"interval ends before it starts: {self.start} > {self.end}")


def _tz(tz: str | tzinfo) -> tzinfo:
    return zone(tz) if isinstance(tz, str) else tz


def _micros(delta: timedelta) -> int:
    return delta // _MICROSECOND


def _local_day_start(day: date, tz: tzinfo) -> datetime:
    """First instant of a local date (fold=0 maps a skipped midnight to the transition instant)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _day_and_share(instant: datetime, tz: tzinfo) -> tuple[date, Fraction]:
    """The local date of an instant and the share of that local day already elapsed."""
    day = instant.astimezone(tz).date()
    start = _local_day_start(day, tz)
    end = _local_day_start(day + timedelta(days=1), tz)
    return day, Fraction(_micros(instant - start), _micros(end - start))


def _thirty_day_position(day: date, share: Fraction) -> Fraction:
    """Position on a line where every month is 30 units long (see the module docstring)."""
    month_length = calendar.monthrange(day.year, day.month)[1]
    offset = min(day.day - 1, 30)
    weight = 30 - offset if day.day == month_length else 1
    return Fraction((day.year * 12 + day.month - 1) * 30 + offset) + weight * share


def position(instant: datetime, basis: ProrationBasis, tz: str | tzinfo) -> Fraction:
    """Where an instant sits on the basis' line; differences of positions measure spans."""
    instant = ensure_utc(instant)
    if basis is ProrationBasis.SECONDS:
        return Fraction(_micros(instant - _EPOCH))
    day, share = _day_and_share(instant, _tz(tz))
    if basis is ProrationBasis.ACTUAL_DAYS:
        return day.toordinal() + share
    return _thirty_day_position(day, share)


def measure(span: Span, basis: ProrationBasis, tz: str | tzinfo) -> Fraction:
    """Length of a span in the basis' unit (days, 30-day-month days, or microseconds)."""
    return position(span.end, basis, tz) - position(span.start, basis, tz)


def _check_inside(service: Span, enclosing: Span) -> None:
    s_start, s_end = ensure_utc(service.start), ensure_utc(service.end)
    e_start, e_end = ensure_utc(enclosing.start), ensure_utc(enclosing.end)
    problems = []
    if not e_start < e_end:
        problems.append(f"enclosing period [{e_start}, {e_end}) is empty")
    if s_end < s_start:
        problems.append(f"service period ends before it starts: [{s_start}, {s_end})")
    if s_start < e_start or s_end > e_end:
        problems.append(f"service [{s_start}, {s_end}) is not inside the period [{e_start}, {e_end})")
    if problems:
        raise ValidationFailed("cannot prorate", details=problems)


def fraction(
    service: Span,
    enclosing: Span,
    basis: ProrationBasis = ProrationBasis.ACTUAL_DAYS,
    tz: str | tzinfo = "UTC",
) -> Fraction:
    """Exact share of `enclosing` covered by `service` (which lies inside it), in [0, 1]."""
    _check_inside(service, enclosing)
    if ensure_utc(service.start) == ensure_utc(enclosing.start) and ensure_utc(service.end) == ensure_utc(
        enclosing.end
    ):
        return Fraction(1)
    whole = measure(enclosing, basis, tz)
    if whole == 0:
        raise ValidationFailed(
            "a 30-day-month basis cannot prorate a period that lies within a 31st",
            details=[f"period [{enclosing.start}, {enclosing.end}) measures 0 days on that basis"],
        )
    return measure(service, basis, tz) / whole


def fraction_over(service: Span, periods: list[Span], basis: ProrationBasis, tz: str | tzinfo) -> Fraction:
    """Sum of the shares of consecutive `periods` that `service` covers (may exceed 1).

    Used for a cycle change, whose transition period can be shorter or longer than one period.
    """
    ordered = sorted(periods, key=lambda p: ensure_utc(p.start))
    for before, after in pairwise(ordered):
        if ensure_utc(before.end) != ensure_utc(after.start):
            raise ValidationFailed("periods must be consecutive", details=[f"gap or overlap at {before.end}"])
    start, end = ensure_utc(service.start), ensure_utc(service.end)
    if not ordered or start < ensure_utc(ordered[0].start) or end > ensure_utc(ordered[-1].end):
        raise ValidationFailed(f"periods do not cover [{start}, {end})")
    total = Fraction(0)
    for period in ordered:
        part_start = max(start, ensure_utc(period.start))
        part_end = min(end, ensure_utc(period.end))
        if part_start < part_end:
            total += fraction(Interval(part_start, part_end), period, basis, tz)
    return total


def prorate(amount: Money, share: Fraction | Decimal | int, rounding: Rounding = Rounding.HALF_UP) -> Money:
    """`amount × share`, rounded once to the currency's minor unit with `rounding`.

    A share of exactly 1 gives the full amount (rounded only if it had sub-minor digits).
    """
    exact = as_fraction(share)
    if exact < 0:
        raise ValidationFailed(f"a proration share cannot be negative, got {exact}")
    if exact == 1:
        return amount.rounded(rounding)
    return money_of_fraction(Fraction(amount.amount) * exact, amount.currency, rounding)


# --- mid-period changes --------------------------------------------------------------------------


class ChangePolicy(StrEnum):
    """How an offer bills a change inside a period."""

    IMMEDIATE = "immediate"  # effective now: credit unused time, charge the remainder
    END_OF_TERM = "end_of_term"  # effective at the period end: nothing to prorate
    NONE = "none"  # effective now, but the period stays billed as it stood at its start


def change_policy(timing: str, on_change: str = "credit_and_charge") -> ChangePolicy:
    """The policy from an offer's settings: timing 'immediate' | 'end_of_period', and on a
    change 'credit_and_charge' | 'none' (the catalog's plan_change/cancellation and proration)."""
    if timing in ("end_of_period", "end_of_term"):
        return ChangePolicy.END_OF_TERM
    if timing != "immediate":
        raise ValidationFailed(f"unknown change timing {timing!r} (immediate or end_of_period)")
    if on_change == "none":
        return ChangePolicy.NONE
    if on_change != "credit_and_charge":
        raise ValidationFailed(f"unknown proration on change {on_change!r} (credit_and_charge or none)")
    return ChangePolicy.IMMEDIATE


class ProrationKind(StrEnum):
    LEADING = "leading"  # first, partial period after a subscription
    UNUSED_CREDIT = "unused_credit"  # credit for time paid in advance and not used
    REMAINDER = "remainder"  # the new offer from the change to the period end
    USED = "used"  # in arrears: the old offer up to the change
    QUANTITY_CHANGE = "quantity_change"  # in advance: the quantity difference for the rest
    SUSPENSION_CREDIT = "suspension_credit"  # in advance: credit for the suspended time
    ACTIVE = "active"  # in arrears: the period minus its suspended time
    TRANSITION = "transition"  # short or long period bridging a cycle change


@dataclass(frozen=True, slots=True)
class ProrationTerms:
    """The offer's proration settings."""

    basis: ProrationBasis = ProrationBasis.ACTUAL_DAYS
    rounding: Rounding = Rounding.HALF_UP
    in_advance: bool = True
    change_policy: ChangePolicy = ChangePolicy.IMMEDIATE
    charge_while_suspended: bool = False


@dataclass(frozen=True, slots=True)
class PricedItem:
    """A subscribed item: its full-period price per unit and its quantity."""

    product_code: str
    description: str
    unit_price: Money
    quantity: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class LineProposal:
    """A proposed invoice line. `quantity` and `amount` are negative for credits."""

    kind: ProrationKind
    product_code: str
    description: str
    service: Interval
    share: Fraction  # exact share of the period(s) billed, > 1 only for a long transition
    quantity: Decimal
    unit_price: Money  # full-period price per unit
    amount: Money  # prorate(unit_price × |quantity|, share), signed, rounded once
    basis: ProrationBasis


@dataclass(frozen=True, slots=True)
class ChangeProposal:
    """Lines for one change in one period.

    `replaces_period_charge` True: the lines are this item's whole charge for the period, so the
    bill run must not bill it in full as well. False: the period is (or was) billed in full as
    usual and the lines adjust it.
    """

    lines: tuple[LineProposal, ...]
    effective_at: datetime
    replaces_period_charge: bool


def _line(
    kind: ProrationKind,
    item: PricedItem,
    service: Interval,
    share: Fraction,
    terms: ProrationTerms,
    sign: int = 1,
) -> LineProposal:
    amount = prorate(item.unit_price * item.quantity, share, terms.rounding)
    return LineProposal(
        kind=kind,
        product_code=item.product_code,
        description=item.description,
        service=service,
        share=share,
        quantity=item.quantity * sign,
        unit_price=item.unit_price,
        amount=amount if sign > 0 else -amount,
        basis=terms.basis,
    )


def _part(
    kind: ProrationKind,
    item: PricedItem,
    start: datetime,
    end: datetime,
    period: Span,
    terms: ProrationTerms,
    tz: str | tzinfo,
    sign: int = 1,
) -> LineProposal:
    service = Interval(start, end)
    return _line(kind, item, service, fraction(service, period, terms.basis, tz), terms, sign)


def _inside(at: datetime, period: Span) -> datetime:
    at = ensure_utc(at)
    if not ensure_utc(period.start) <= at <= ensure_utc(period.end):
        raise ValidationFailed(f"change at {at} is outside the period [{period.start}, {period.end})")
    return at


def subscribe(
    item: PricedItem, start: datetime, period: Span, terms: ProrationTerms, tz: str | tzinfo
) -> ChangeProposal:
    """Leading proration: the part of the first period from `start` to its end."""
    start = _inside(start, period)
    line = _part(ProrationKind.LEADING, item, start, ensure_utc(period.end), period, terms, tz)
    return ChangeProposal((line,), start, replaces_period_charge=True)


def cancel(
    item: PricedItem, at: datetime, period: Span, terms: ProrationTerms, tz: str | tzinfo
) -> ChangeProposal:
    """Cancellation inside a period: a credit for unused time (in advance) or the used part (arrears)."""
    at = _inside(at, period)
    policy = terms.change_policy
    if policy is ChangePolicy.END_OF_TERM:
        return ChangeProposal((), ensure_utc(period.end), replaces_period_charge=False)
    if policy is ChangePolicy.NONE:
        return ChangeProposal((), at, replaces_period_charge=False)
    start, end = ensure_utc(period.start), ensure_utc(period.end)
    if terms.in_advance:
        credit = _part(ProrationKind.UNUSED_CREDIT, item, at, end, period, terms, tz, sign=-1)
        return ChangeProposal(_non_zero(credit), at, replaces_period_charge=False)
    used = _part(ProrationKind.USED, item, start, at, period, terms, tz)
    return ChangeProposal(_non_zero(used), at, replaces_period_charge=True)


def change_offer(
    old: PricedItem,
    new: PricedItem,
    at: datetime,
    period: Span,
    terms: ProrationTerms,
    tz: str | tzinfo,
) -> ChangeProposal:
    """Upgrade or downgrade: credit the unused old offer and charge the new one for the rest."""
    at = _inside(at, period)
    if terms.change_policy is ChangePolicy.END_OF_TERM:
        return ChangeProposal((), ensure_utc(period.end), replaces_period_charge=False)
    if terms.change_policy is ChangePolicy.NONE:
        return ChangeProposal((), at, replaces_period_charge=False)
    start, end = ensure_utc(period.start), ensure_utc(period.end)
    remainder = _part(ProrationKind.REMAINDER, new, at, end, period, terms, tz)
    if terms.in_advance:
        credit = _part(ProrationKind.UNUSED_CREDIT, old, at, end, period, terms, tz, sign=-1)
        return ChangeProposal(_non_zero(credit, remainder), at, replaces_period_charge=False)
    used = _part(ProrationKind.USED, old, start, at, period, terms, tz)
    return ChangeProposal(_non_zero(used, remainder), at, replaces_period_charge=True)


def change_quantity(
    item: PricedItem,
    new_quantity: Decimal,
    at: datetime,
    period: Span,
    terms: ProrationTerms,
    tz: str | tzinfo,
) -> ChangeProposal:
    """Quantity change; in advance one line for the difference over the rest of the period."""
    if new_quantity < 0:
        raise ValidationFailed(f"quantity cannot be negative, got {new_quantity}")
    new = PricedItem(item.product_code, item.description, item.unit_price, new_quantity)
    if not (terms.in_advance and terms.change_policy is ChangePolicy.IMMEDIATE):
        return change_offer(item, new, at, period, terms, tz)
    at = _inside(at, period)
    delta = new_quantity - item.quantity
    sign = 1 if delta >= 0 else -1
    moved = PricedItem(item.product_code, item.description, item.unit_price, abs(delta))
    line = _part(ProrationKind.QUANTITY_CHANGE, moved, at, ensure_utc(period.end), period, terms, tz, sign)
    return ChangeProposal(_non_zero(line), at, replaces_period_charge=False)


def suspension(
    item: PricedItem,
    suspended_at: datetime,
    resumed_at: datetime | None,
    period: Span,
    terms: ProrationTerms,
    tz: str | tzinfo,
) -> ChangeProposal:
    """No charge while suspended (unless the offer charges anyway), for the part inside `period`.

    `resumed_at` None means still suspended at the period end.
    """
    start, end = ensure_utc(period.start), ensure_utc(period.end)
    off_from = max(ensure_utc(suspended_at), start)
    off_to = min(ensure_utc(resumed_at) if resumed_at else end, end)
    if terms.charge_while_suspended or off_from >= off_to:
        return ChangeProposal((), off_from, replaces_period_charge=False)
    suspended = Interval(off_from, off_to)
    share_off = fraction(suspended, period, terms.basis, tz)
    if terms.in_advance:
        credit = _line(ProrationKind.SUSPENSION_CREDIT, item, suspended, share_off, terms, sign=-1)
        return ChangeProposal(_non_zero(credit), off_from, replaces_period_charge=False)
    active = _line(ProrationKind.ACTIVE, item, Interval(start, end), 1 - share_off, terms)
    return ChangeProposal(_non_zero(active), off_from, replaces_period_charge=True)


def cycle_change(
    item: PricedItem,
    transition: Span,
    new_cycle_periods: list[Span],
    terms: ProrationTerms,
    tz: str | tzinfo,
) -> ChangeProposal:
    """The transition period between the old and the new billing cycle day, charged once.

    `new_cycle_periods` are the consecutive periods of the new cycle covering the transition
    (one for a short transition, two for a long one); the share is the sum over them.
    """
    service = Interval(transition.start, transition.end)
    share = fraction_over(service, new_cycle_periods, terms.basis, tz)
    line = _line(ProrationKind.TRANSITION, item, service, share, terms)
    return ChangeProposal(_non_zero(line), service.start, replaces_period_charge=True)


def _non_zero(*lines: LineProposal) -> tuple[LineProposal, ...]:
    """Drop lines covering no time (a change exactly on a period edge)."""
    return tuple(line for line in lines if line.share != 0)
