"""What a subscription needs to know of its offer, and the dates and fees computed from it.

`OfferTerms` is a flat, frozen summary of one offer version (built by `ports.py` from the
catalog), so the rules here stay pure: trial and commitment ends on the account's calendar,
and the early termination fee.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from telbill.core.clock import ensure_utc
from telbill.core.money import Money, Rounding

MONTHS_PER_UNIT = {"months": 1, "quarters": 3, "years": 12}
DAYS_PER_UNIT = {"days": 1, "weeks": 7}


@dataclass(frozen=True)
class Length:
    """A calendar length such as 1 month or 14 days (units as in the catalog)."""

    unit: str
    count: int

    def __str__(self) -> str:
        return f"{self.count} {self.unit}"


@dataclass(frozen=True)
class EarlyTermination:
    """How much leaving a commitment early costs: fixed, remaining months, or a percent of them."""

    kind: str  # fixed | remaining_months | percent_of_remaining
    amounts: Mapping[str, Decimal] = field(default_factory=dict)
    percent: Decimal | None = None


@dataclass(frozen=True)
class OfferTerms:
    code: str
    version: int
    kind: str  # plan | addon | bundle
    name: str = ""
    currencies: frozenset[str] = frozenset()
    plan_change: str = "immediate"  # immediate | end_of_period
    cancellation: str = "end_of_period"
    trial: Length | None = None
    fixed_term: Length | None = None
    early_termination: EarlyTermination | None = None
    monthly_price: Mapping[str, Decimal] = field(default_factory=dict)
    compatible_with: tuple[str, ...] = ()
    components: tuple[str, ...] = ()


def add_length(instant: datetime, length: Length, tz: ZoneInfo) -> datetime:
    """`instant` + `length` on the local calendar; month ends clamp (31 Jan + 1 month = 28/29 Feb)."""
    local = ensure_utc(instant).astimezone(tz)
    if length.unit in DAYS_PER_UNIT:
        moved = local.date() + timedelta(days=length.count * DAYS_PER_UNIT[length.unit])
    else:
        months = local.year * 12 + local.month - 1 + length.count * MONTHS_PER_UNIT[length.unit]
        year, month0 = divmod(months, 12)
        day = min(local.day, calendar.monthrange(year, month0 + 1)[1])
        moved = local.date().replace(year=year, month=month0 + 1, day=day)
    naive = datetime.combine(moved, local.time())
    return naive.replace(tzinfo=tz).astimezone(ensure_utc(instant).tzinfo)


@dataclass(frozen=True)
class Phases:
    """Where a new subscription's phases end: trial first, then the commitment, then evergreen."""

    first_phase: str
    trial_end: datetime | None
    commitment_end: datetime | None


def phases_from(terms: OfferTerms, start: datetime, tz: ZoneInfo) -> Phases:
    trial_end = add_length(start, terms.trial, tz) if terms.trial else None
    commitment_start = trial_end or start
    commitment_end = add_length(commitment_start, terms.fixed_term, tz) if terms.fixed_term else None
    first = "trial" if trial_end else ("fixed_term" if commitment_end else "evergreen")
    return Phases(first, trial_end, commitment_end)


def phase_after_trial(terms: OfferTerms) -> str:
    return "fixed_term" if terms.fixed_term else "evergreen"


def whole_months_between(start: datetime, end: datetime, tz: ZoneInfo) -> int:
    """How many whole calendar months fit in `[start, end)` (each counted from `start`, not chained)."""
    if end <= start:
        return 0
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    months = (local_end.year - local_start.year) * 12 + local_end.month - local_start.month
    while months > 0 and add_length(start, Length("months", months), tz) > end:
        months -= 1
    return max(months, 0)


def early_termination_fee(
    terms: OfferTerms, currency: str, quantity: int, at: datetime, commitment_end: datetime, tz: ZoneInfo
) -> Money | None:
    """The fee for leaving at `at` a commitment that ends at `commitment_end`, or None if nothing is owed.

    fixed: the amount × quantity. remaining_months: remaining whole months × monthly recurring
    price × quantity. percent_of_remaining: that, × percent / 100. Rounded once, half up.
    """
    rule = terms.early_termination
    if rule is None or at >= commitment_end:
        return None
    if rule.kind == "fixed":
        fee = Money(rule.amounts.get(currency, Decimal(0)), currency) * quantity
    else:
        months = whole_months_between(at, commitment_end, tz)
        fee = Money(terms.monthly_price.get(currency, Decimal(0)), currency) * (months * quantity)
        if rule.kind == "percent_of_remaining":
            fee = fee * (rule.percent or Decimal(0)) / 100
    fee = fee.rounded(Rounding.HALF_UP)
    return None if fee.is_zero() else fee
