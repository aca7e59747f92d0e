"""Billing periods: where each bill cycle starts and ends, on the account's own calendar.

Period N always starts at `anchor + N × length` — derived from the anchor, never by chaining
"+1 month", so a bill cycle day (BCD) of 31 gives 31 Jan → 28/29 Feb → 31 Mar → 30 Apr → 31 May:
the day is clamped to the month's end and comes back when the month has it again.

A period is half-open `[start, end)` in UTC. Its bounds are local midnight in the account's
IANA timezone, so a period that crosses a DST change is an hour shorter or longer than the
same dates in UTC. Pure: no I/O, no wall clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from telbill.core.clock import ensure_utc
from telbill.core.errors import ValidationFailed

CycleUnit = Literal["month", "day", "week"]
UNITS: tuple[CycleUnit, ...] = ("month", "day", "week")
NAMED_LENGTHS: dict[str, tuple[CycleUnit, int]] = {
    "monthly": ("month", 1),
    "quarterly": ("month", 3),
    "semiannual": ("month", 6),
    "annual": ("month", 12),
    "weekly": ("week", 1),
    "daily": ("day", 1),
}
_CUSTOM = re.compile(r"^(\d{1,4})\s*(d|day|days|w|week|weeks|m|month|months)$")
_UNIT_OF = {"d": "day", "w": "week", "m": "month"}
MAX_COUNT = {"month": 24, "week": 104, "day": 731}


@dataclass(frozen=True, slots=True)
class BillingCycle:
    """How an account's periods repeat.

    Month cycles: period 0 starts in the anchor's month on the (clamped) bill cycle day; the
    anchor's day is not used, only its month (it fixes which months start a quarter or a year).
    Day and week cycles: period 0 starts on the anchor date itself and the BCD is not used.
    """

    unit: CycleUnit
    count: int
    bill_cycle_day: int
    anchor: date

    def __post_init__(self) -> None:
        problems = []
        if self.unit not in UNITS:
            problems.append(f"unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        elif not isinstance(self.count, int) or not 1 <= self.count <= MAX_COUNT[self.unit]:
            problems.append(f"count must be 1..{MAX_COUNT[self.unit]} {self.unit}s, got {self.count!r}")
        if not isinstance(self.bill_cycle_day, int) or not 1 <= self.bill_cycle_day <= 31:
            problems.append(f"bill cycle day must be 1..31, got {self.bill_cycle_day!r}")
        if not isinstance(self.anchor, date) or isinstance(self.anchor, datetime):
            problems.append(f"anchor must be a date, got {self.anchor!r}")
        if problems:
            raise ValidationFailed("invalid billing cycle", details=problems)

    @classmethod
    def monthly(cls, bill_cycle_day: int, anchor: date) -> BillingCycle:
        return cls("month", 1, bill_cycle_day, anchor)

    @classmethod
    def quarterly(cls, bill_cycle_day: int, anchor: date) -> BillingCycle:
        return cls("month", 3, bill_cycle_day, anchor)

    @classmethod
    def annual(cls, bill_cycle_day: int, anchor: date) -> BillingCycle:
        return cls("month", 12, bill_cycle_day, anchor)

    @property
    def length_name(self) -> str:
        return describe_length(self.unit, self.count)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A half-open service period `[start, end)` of aware UTC instants."""

    start: datetime
    end: datetime

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.start <= instant < self.end

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def parse_length(text: str) -> tuple[CycleUnit, int]:
    """'monthly', 'quarterly', 'annual', 'weekly', 'daily', or custom '14d', '2w', '6m', '10 days'."""
    key = text.strip().lower()
    if key in NAMED_LENGTHS:
        return NAMED_LENGTHS[key]
    match = _CUSTOM.match(key)
    if not match:
        raise ValidationFailed(
            f"unknown cycle length {text!r}",
            details=[f"use one of {', '.join(NAMED_LENGTHS)} or N days/weeks/months such as 14d, 2w, 6m"],
        )
    unit: CycleUnit = _UNIT_OF[match.group(2)[0]]  # type: ignore[assignment]
    count = int(match.group(1))
    if not 1 <= count <= MAX_COUNT[unit]:
        raise ValidationFailed(f"cycle length {text!r}: count must be 1..{MAX_COUNT[unit]} {unit}s")
    return unit, count


def describe_length(unit: str, count: int) -> str:
    """The inverse of parse_length: 'monthly', 'quarterly', ... or '14d'."""
    for name, value in NAMED_LENGTHS.items():
        if value == (unit, count):
            return name
    return f"{count}{unit[0]}"


def clamp_day(year: int, month: int, day: int) -> date:
    """The day in that month, or the month's last day when the month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def local_date_to_utc(d: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `d` in `tz`, as a UTC instant.

    When midnight does not exist (a DST gap at midnight), PEP 495's fold=0 reads it with the
    offset in force before the gap, which is the first instant of that local day.
    """
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)


def start_date(cycle: BillingCycle, n: int) -> date:
    """The local date on which period n starts (n may be negative)."""
    if cycle.unit == "month":
        months = cycle.anchor.year * 12 + cycle.anchor.month - 1 + n * cycle.count
        year, month0 = divmod(months, 12)
        return clamp_day(year, month0 + 1, cycle.bill_cycle_day)
    days = cycle.count * (7 if cycle.unit == "week" else 1)
    return cycle.anchor + timedelta(days=n * days)


def period_at(cycle: BillingCycle, tz: ZoneInfo, n: int) -> Period:
    start = local_date_to_utc(start_date(cycle, n), tz)
    return Period(start, local_date_to_utc(start_date(cycle, n + 1), tz))


def _estimate_index(cycle: BillingCycle, local: date) -> int:
    if cycle.unit == "month":
        months = (local.year - cycle.anchor.year) * 12 + local.month - cycle.anchor.month
        return months // cycle.count
    days = cycle.count * (7 if cycle.unit == "week" else 1)
    return (local - cycle.anchor).days // days


@lru_cache(maxsize=65536)
def period_index(cycle: BillingCycle, tz: ZoneInfo, instant: datetime) -> int:
    """The n of the (non-empty) period that contains the instant (remembered: a run asks for the
    same few period starts of the same calendars for every account)."""
    instant = ensure_utc(instant)
    n = _estimate_index(cycle, instant.astimezone(tz).date())
    while local_date_to_utc(start_date(cycle, n), tz) > instant:
        n -= 1
    while local_date_to_utc(start_date(cycle, n + 1), tz) <= instant:
        n += 1
    return n


def period_containing(cycle: BillingCycle, tz: ZoneInfo, instant: datetime) -> Period:
    return period_at(cycle, tz, period_index(cycle, tz, instant))


def next_period_start(cycle: BillingCycle, tz: ZoneInfo, instant: datetime) -> datetime:
    """The first period boundary strictly after the instant."""
    return period_containing(cycle, tz, instant).end


def periods_between(cycle: BillingCycle, tz: ZoneInfo, start: datetime, end: datetime) -> list[Period]:
    """Whole periods that overlap `[start, end)`, in order (the first and last are not clipped)."""
    start, end = ensure_utc(start), ensure_utc(end)
    if end <= start:
        return []
    n = period_index(cycle, tz, start)
    result = []
    while True:
        period = period_at(cycle, tz, n)
        if period.start >= end:
            return result
        if period.end > period.start:
            result.append(period)
        n += 1


def first_period_for(cycle: BillingCycle, tz: ZoneInfo, service_start: datetime) -> Period:
    """The leading period of a service that starts mid-cycle: `[service_start, next boundary)`.

    When the service starts exactly on a boundary this is the whole period.
    """
    service_start = ensure_utc(service_start)
    return Period(service_start, next_period_start(cycle, tz, service_start))
