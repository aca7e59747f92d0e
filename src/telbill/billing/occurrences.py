"""A recurring charge's own periods (occurrences), for charges whose period does not divide the
bill cycle — a weekly fee on a monthly cycle (pure).

Occurrence k starts at `start + k × charge period` on the account's wall clock: the local date
moves, the local time of day stays (local midnight stays midnight across DST); months are added
from the start each time, the day clamped to the month's last (31 Jan + 1 month = 28 Feb,
+ 2 months = 31 Mar).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from telbill.billing.periods import BillingCycle
from telbill.catalog.offers import Offer
from telbill.catalog.types import Period as ChargePeriod
from telbill.core.clock import zone

_DAYS = {"days": 1, "weeks": 7}
_CYCLE_DAYS = {"day": 1, "week": 7}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Occurrence `index` (0 for the one starting with the subscription): `[start, end)`."""

    index: int
    start: datetime
    end: datetime


def divides(period: ChargePeriod, cycle: BillingCycle) -> bool:
    """True when the charge is priced per billing period by scaling (months against a month cycle,
    days or weeks against a day or week cycle); False when it is billed per occurrence."""
    if period.in_months() and cycle.unit == "month":
        return True
    return period.unit.value in _DAYS and cycle.unit in _CYCLE_DAYS


def _add_months(local: datetime, months: int) -> datetime:
    total = local.year * 12 + local.month - 1 + months
    year, month = divmod(total, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def nth_start(anchor: datetime, period: ChargePeriod, tz: str, k: int) -> datetime:
    """The start of occurrence `k`, in UTC."""
    local = anchor.astimezone(zone(tz)).replace(tzinfo=None)
    days = _DAYS.get(period.unit.value)
    if days is not None:
        moved = local + timedelta(days=days * period.count * k)
    else:
        moved = _add_months(local, (period.in_months() or 1) * k)
    return moved.replace(tzinfo=zone(tz)).astimezone(UTC)


def _first_index(anchor: datetime, period: ChargePeriod, lo: datetime) -> int:
    """An index at or before the first occurrence ending after `lo` (an estimate, never too late)."""
    if lo <= anchor:
        return 0
    days = _DAYS.get(period.unit.value)
    length = days * period.count if days else 28 * (period.in_months() or 1)
    return max(0, (lo - anchor).days // length - 2)


def overlapping(
    anchor: datetime, period: ChargePeriod, tz: str, lo: datetime, hi: datetime
) -> Iterator[Occurrence]:
    """Occurrences overlapping `[lo, hi)`, in order."""
    k = _first_index(anchor, period, lo)
    start = nth_start(anchor, period, tz, k)
    while start < hi:
        end = nth_start(anchor, period, tz, k + 1)
        if end > lo:
            yield Occurrence(k, start, end)
        k, start = k + 1, end


class _Regime(Protocol):
    @property
    def cycle(self) -> BillingCycle: ...


_PERIODS: dict[
    tuple[tuple[int, ...], tuple[BillingCycle, ...]], tuple[tuple[Offer, ...], list[ChargePeriod]]
] = {}


def charge_periods(offers: Iterable[Offer], regimes: Iterable[_Regime]) -> list[ChargePeriod]:
    """The distinct periods of the offers' recurring charges that some cycle of the account does
    not divide (usually none: then nothing is billed per occurrence). Remembered per (offers,
    cycles), held with the offers it was computed from: every subscription asks, with the same
    few offers and calendars."""
    distinct = tuple({id(o): o for o in offers}.values())
    cycles = tuple(r.cycle for r in regimes)
    key = (tuple(id(o) for o in distinct), cycles)
    hit = _PERIODS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], distinct, strict=True)):
        return list(hit[1])
    out = _charge_periods(distinct, cycles)
    if len(_PERIODS) > 4096:
        _PERIODS.clear()
    _PERIODS[key] = (distinct, out)
    return list(out)


def _charge_periods(offers: Sequence[Offer], cycles: Sequence[BillingCycle]) -> list[ChargePeriod]:
    out: list[ChargePeriod] = []
    for offer in offers:
        for version in offer.versions:
            for charge in version.recurring_charges():
                if charge.period not in out and not all(divides(charge.period, c) for c in cycles):
                    out.append(charge.period)
    return out
