"""Proration: exact shares of a period on the account's calendar, money rounded once per line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.billing.periods import BillingCycle, Period, period_at
from telbill.billing.proration import (
    ChangePolicy,
    Interval,
    PricedItem,
    ProrationBasis,
    ProrationKind,
    ProrationTerms,
    cancel,
    change_offer,
    change_policy,
    change_quantity,
    cycle_change,
    fraction,
    prorate,
    subscribe,
    suspension,
)
from telbill.billing.rounding import round_to_int
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, Rounding, currency

PARIS = "Europe/Paris"
EUR = "EUR"
PLAN = PricedItem("MOBILE-S", "Mobile S", Money.of("29.99", EUR))
PLAN_L = PricedItem("MOBILE-L", "Mobile L", Money.of("49.99", EUR))
ADVANCE = ProrationTerms()
ARREARS = ProrationTerms(in_advance=False)


def local(y: int, m: int, d: int, hour: int = 0, tz: str = PARIS) -> datetime:
    return datetime(y, m, d, hour, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def month(y: int, m: int, tz: str = PARIS) -> Period:
    """The calendar month on the account's calendar (BCD 1)."""
    return period_at(BillingCycle.monthly(1, date(y, m, 1)), ZoneInfo(tz), 0)


def eur(text: str) -> Money:
    return Money.of(text, EUR)


# --- worked examples ---------------------------------------------------------------------------


def test_subscribe_mid_february_common_year():
    """29.99 EUR monthly, subscribe 15 Feb 2027 (28-day month), actual days:
    days 15..28 = 14 of 28 → 14/28 × 29.99 = 14.995 → 15.00 (half-up)."""
    proposal = subscribe(PLAN, local(2027, 2, 15), month(2027, 2), ADVANCE, PARIS)
    (line,) = proposal.lines
    assert line.share == Fraction(14, 28)
    assert line.amount == eur("15.00")
    assert line.kind is ProrationKind.LEADING
    assert proposal.replaces_period_charge


def test_subscribe_in_a_31_day_month():
    """Subscribe 10 Jan 2027: days 10..31 = 22 of 31 → 22/31 × 29.99 = 659.78/31 = 21.2832… → 21.28."""
    (line,) = subscribe(PLAN, local(2027, 1, 10), month(2027, 1), ADVANCE, PARIS).lines
    assert line.share == Fraction(22, 31)
    assert line.amount == eur("21.28")


def test_subscribe_in_leap_february():
    """Subscribe 15 Feb 2028 (29-day month): 15/29 × 29.99 = 449.85/29 = 15.5120… → 15.51."""
    (line,) = subscribe(PLAN, local(2028, 2, 15), month(2028, 2), ADVANCE, PARIS).lines
    assert line.share == Fraction(15, 29)
    assert line.amount == eur("15.51")


def test_thirty_day_basis():
    """Each month counts 30 days; the last day of February counts the missing days, the 31st none.
    15 Feb 2027 → 1 Mar: positions 14 → 30, 16/30 × 29.99 = 15.99466… → 15.99.
    10 Jan 2027 → 1 Feb: days 10..30 = 21/30 × 29.99 = 20.993 → 20.99.
    31 Jan 2027 → 1 Feb: the 31st counts 0 → 0.00 (no line proposed)."""
    terms = ProrationTerms(basis=ProrationBasis.THIRTY_DAY_MONTH)
    (feb,) = subscribe(PLAN, local(2027, 2, 15), month(2027, 2), terms, PARIS).lines
    assert (feb.share, feb.amount) == (Fraction(16, 30), eur("15.99"))
    (jan,) = subscribe(PLAN, local(2027, 1, 10), month(2027, 1), terms, PARIS).lines
    assert (jan.share, jan.amount) == (Fraction(21, 30), eur("20.99"))
    assert fraction(Interval(local(2027, 1, 31), local(2027, 2, 1)), month(2027, 1), terms.basis, PARIS) == 0
    leap_last_day = Interval(local(2028, 2, 29), local(2028, 3, 1))
    assert fraction(leap_last_day, month(2028, 2), terms.basis, PARIS) == Fraction(2, 30)


def test_to_the_second():
    """Subscribe 15 Feb 2027 12:00 UTC, period February in UTC: 13.5 of 28 days
    → 13.5/28 × 29.99 = 404.865/28 = 14.4594… → 14.46."""
    terms = ProrationTerms(basis=ProrationBasis.SECONDS)
    start = datetime(2027, 2, 15, 12, tzinfo=UTC)
    (line,) = subscribe(PLAN, start, month(2027, 2, "UTC"), terms, "UTC").lines
    assert line.share == Fraction(27, 56)
    assert line.amount == eur("14.46")


def test_dst_day_counts_as_one_day_but_one_hour_less_to_the_second():
    """Paris, DST starts 28 Mar 2027 (a 23-hour day). Subscribe 28 Mar 00:00 local.
    Actual days: 4/31 × 29.99 = 3.8696… → 3.87.
    To the second: 95 h of 743 h → 95/743 × 29.99 = 3.8345… → 3.83."""
    start = local(2027, 3, 28)
    (days,) = subscribe(PLAN, start, month(2027, 3), ADVANCE, PARIS).lines
    assert (days.share, days.amount) == (Fraction(4, 31), eur("3.87"))
    seconds = ProrationTerms(basis=ProrationBasis.SECONDS)
    (secs,) = subscribe(PLAN, start, month(2027, 3), seconds, PARIS).lines
    assert (secs.share, secs.amount) == (Fraction(95, 743), eur("3.83"))


def test_partial_local_day_counts_its_elapsed_share():
    """Subscribe 15 Feb 2027 18:00 Paris: 13 days and 6 of 24 hours = 13.25/28 × 29.99 = 14.19."""
    (line,) = subscribe(PLAN, local(2027, 2, 15, 18), month(2027, 2), ADVANCE, PARIS).lines
    assert line.share == Fraction(53, 112)
    assert line.amount == eur("14.19")


def test_cancel_in_advance_credits_unused_time():
    """Cancel 20 Feb 2027 (paid in advance): 9 unused days → −9/28 × 29.99 = −9.6396… → −9.64."""
    proposal = cancel(PLAN, local(2027, 2, 20), month(2027, 2), ADVANCE, PARIS)
    (line,) = proposal.lines
    assert line.kind is ProrationKind.UNUSED_CREDIT
    assert line.amount == eur("-9.64")
    assert line.quantity == -1
    assert not proposal.replaces_period_charge


def test_cancel_in_arrears_charges_the_used_part():
    """In arrears, cancel 20 Feb 2027: 19 used days → 19/28 × 29.99 = 20.3503… → 20.35."""
    proposal = cancel(PLAN, local(2027, 2, 20), month(2027, 2), ARREARS, PARIS)
    assert [line.amount for line in proposal.lines] == [eur("20.35")]
    assert proposal.replaces_period_charge


@pytest.mark.parametrize("policy", [ChangePolicy.END_OF_TERM, ChangePolicy.NONE])
def test_cancel_without_immediate_policy_prorates_nothing(policy: ChangePolicy):
    terms = ProrationTerms(change_policy=policy)
    proposal = cancel(PLAN, local(2027, 2, 20), month(2027, 2), terms, PARIS)
    assert proposal.lines == ()
    expected = month(2027, 2).end if policy is ChangePolicy.END_OF_TERM else local(2027, 2, 20)
    assert proposal.effective_at == expected


def test_upgrade_immediately_in_advance():
    """29.99 → 49.99 on 15 Feb 2027: credit −14/28 × 29.99 = −15.00, charge 14/28 × 49.99 = 24.995
    → 25.00; the customer pays 10.00 more."""
    proposal = change_offer(PLAN, PLAN_L, local(2027, 2, 15), month(2027, 2), ADVANCE, PARIS)
    assert [(ln.kind, ln.amount) for ln in proposal.lines] == [
        (ProrationKind.UNUSED_CREDIT, eur("-15.00")),
        (ProrationKind.REMAINDER, eur("25.00")),
    ]


def test_downgrade_in_arrears_splits_the_period():
    """49.99 → 29.99 on 22 Feb 2027, in arrears: used 21/28 × 49.99 = 37.4925 → 37.49,
    then 7/28 × 29.99 = 7.4975 → 7.50."""
    proposal = change_offer(PLAN_L, PLAN, local(2027, 2, 22), month(2027, 2), ARREARS, PARIS)
    assert [ln.amount for ln in proposal.lines] == [eur("37.49"), eur("7.50")]
    assert proposal.replaces_period_charge


def test_downgrade_at_end_of_term_waits_for_the_period_end():
    terms = ProrationTerms(change_policy=ChangePolicy.END_OF_TERM)
    proposal = change_offer(PLAN_L, PLAN, local(2027, 2, 22), month(2027, 2), terms, PARIS)
    assert (proposal.lines, proposal.effective_at) == ((), month(2027, 2).end)


def test_quantity_change_in_advance_is_one_line_for_the_difference():
    """10.00 EUR per line, 3 → 5 lines on 22 Feb 2027: 2 × 10.00 × 7/28 = 5.00;
    5 → 2: −3 × 10.00 × 7/28 = −7.50."""
    seat = PricedItem("SEAT", "Extra line", eur("10.00"), Decimal(3))
    (up,) = change_quantity(seat, Decimal(5), local(2027, 2, 22), month(2027, 2), ADVANCE, PARIS).lines
    assert (up.quantity, up.amount) == (Decimal(2), eur("5.00"))
    five = PricedItem("SEAT", "Extra line", eur("10.00"), Decimal(5))
    (down,) = change_quantity(five, Decimal(2), local(2027, 2, 22), month(2027, 2), ADVANCE, PARIS).lines
    assert (down.quantity, down.amount) == (Decimal(-3), eur("-7.50"))


def test_suspension_gives_no_charge_while_suspended():
    """Suspended 8 → 22 Feb 2027: in advance a credit of −14/28 × 29.99 = −15.00; in arrears the
    active half is charged, 15.00; an offer that charges while suspended proposes nothing."""
    feb = month(2027, 2)
    s, r = local(2027, 2, 8), local(2027, 2, 22)
    assert [ln.amount for ln in suspension(PLAN, s, r, feb, ADVANCE, PARIS).lines] == [eur("-15.00")]
    arrears = suspension(PLAN, s, r, feb, ARREARS, PARIS)
    assert [ln.amount for ln in arrears.lines] == [eur("15.00")]
    charged = ProrationTerms(charge_while_suspended=True)
    assert suspension(PLAN, s, r, feb, charged, PARIS).lines == ()


def test_suspension_still_running_at_period_end_and_started_before():
    """Suspended since January, still suspended: all of February is credited (−29.99)."""
    (line,) = suspension(PLAN, local(2027, 1, 20), None, month(2027, 2), ADVANCE, PARIS).lines
    assert line.amount == eur("-29.99")


def test_cycle_change_short_and_long_transition():
    """BCD 1 → 15 from 1 Mar 2027. Short: 1 → 15 Mar is 14 days of the new-cycle period
    15 Feb → 15 Mar (28 days) → 14/28 × 29.99 = 15.00.
    Long: 1 Mar → 15 Apr is 14/28 + 1 = 3/2 → 44.985 → 44.99."""
    tz = ZoneInfo(PARIS)
    new_cycle = BillingCycle.monthly(15, date(2027, 2, 1))
    feb15, mar15 = period_at(new_cycle, tz, 0), period_at(new_cycle, tz, 1)
    short = Interval(local(2027, 3, 1), local(2027, 3, 15))
    (line,) = cycle_change(PLAN, short, [feb15], ADVANCE, PARIS).lines
    assert (line.share, line.amount) == (Fraction(1, 2), eur("15.00"))
    long = Interval(local(2027, 3, 1), local(2027, 4, 15))
    (line,) = cycle_change(PLAN, long, [feb15, mar15], ADVANCE, PARIS).lines
    assert (line.share, line.amount) == (Fraction(3, 2), eur("44.99"))


def test_change_outside_the_period_is_refused():
    with pytest.raises(ValidationFailed, match="outside the period"):
        cancel(PLAN, local(2027, 3, 2), month(2027, 2), ADVANCE, PARIS)
    with pytest.raises(ValidationFailed, match="not inside"):
        fraction(Interval(local(2027, 1, 30), local(2027, 2, 3)), month(2027, 2))


def test_policy_from_the_offer_settings():
    assert change_policy("immediate") is ChangePolicy.IMMEDIATE
    assert change_policy("immediate", "none") is ChangePolicy.NONE
    assert change_policy("end_of_period", "credit_and_charge") is ChangePolicy.END_OF_TERM
    with pytest.raises(ValidationFailed):
        change_policy("tomorrow")


def test_rounding_modes_on_a_tie():
    half = Fraction(29985, 1000)  # 29.985 → 29.99 half-up, 29.98 half-even
    assert round_to_int(half * 100, Rounding.HALF_UP) == 2999
    assert round_to_int(half * 100, Rounding.HALF_EVEN) == 2998
    assert round_to_int(-half * 100, Rounding.HALF_UP) == -2999
    assert prorate(eur("29.99"), Fraction(1, 2), Rounding.HALF_EVEN) == eur("15.00")
    assert prorate(eur("29.97"), Fraction(1, 2), Rounding.HALF_EVEN) == eur("14.98")


# --- properties ---------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Havana",
]
bases = st.sampled_from(list(ProrationBasis))
codes = st.sampled_from(["EUR", "JPY", "TND"])


@st.composite
def periods(draw: st.DrawFn) -> tuple[Period, str]:
    """A monthly, quarterly or annual period on some calendar, often crossing a DST change."""
    tz = draw(st.sampled_from(ZONES))
    count = draw(st.sampled_from([1, 1, 1, 3, 12]))
    bcd = draw(st.integers(1, 31))
    anchor = date(draw(st.integers(2020, 2030)), draw(st.integers(1, 12)), 1)
    return period_at(BillingCycle("month", count, bcd, anchor), ZoneInfo(tz), 0), tz


@st.composite
def prices(draw: st.DrawFn) -> Money:
    code = draw(codes)
    minor = draw(st.integers(0, 10**9))
    return Money.from_minor(minor, code)


def cut(period: Period, points: list[int]) -> list[datetime]:
    """Instants inside a period at given microsecond offsets, sorted, with both ends."""
    span = (period.end - period.start) // timedelta(microseconds=1)
    inner = sorted({p % span for p in points} - {0})
    return [period.start, *(period.start + timedelta(microseconds=p) for p in inner), period.end]


@given(periods(), bases, prices())
def test_full_period_is_exactly_the_full_price(
    drawn: tuple[Period, str], basis: ProrationBasis, price: Money
):
    period, tz = drawn
    share = fraction(period, period, basis, tz)
    assert share == 1
    assert prorate(price, share) == price
    item = PricedItem("X", "x", price)
    (line,) = subscribe(item, period.start, period, ProrationTerms(basis=basis), tz).lines
    assert line.amount == price


@given(periods(), bases, st.lists(st.integers(min_value=0), min_size=2, max_size=2))
def test_fraction_is_between_zero_and_one(drawn: tuple[Period, str], basis: ProrationBasis, pts: list[int]):
    period, tz = drawn
    span = (period.end - period.start) // timedelta(microseconds=1)
    a, b = sorted(p % (span + 1) for p in pts)
    service = Interval(period.start + timedelta(microseconds=a), period.start + timedelta(microseconds=b))
    share = fraction(service, period, basis, tz)
    assert 0 <= share <= 1


@given(periods(), bases, prices(), st.lists(st.integers(min_value=0), min_size=0, max_size=8))
def test_consecutive_parts_add_up_to_the_full_price(
    drawn: tuple[Period, str], basis: ProrationBasis, price: Money, pts: list[int]
):
    """Shares of consecutive sub-periods add up to exactly 1; the rounded amounts differ from the
    full price by at most half a minor unit per piece (half-up rounding)."""
    period, tz = drawn
    instants = cut(period, pts)
    parts = [Interval(a, b) for a, b in pairwise(instants)]
    shares = [fraction(part, period, basis, tz) for part in parts]
    assert sum(shares) == 1
    amounts = [prorate(price, s) for s in shares]
    minor = currency(price.currency).quantum
    error = abs(sum(a.amount for a in amounts) - price.amount)
    assert error <= minor * len(parts) / 2


@given(periods(), st.lists(st.integers(min_value=0), min_size=1, max_size=1))
def test_every_local_day_weighs_the_same(drawn: tuple[Period, str], pts: list[int]):
    """On the actual-days basis a whole local day (23, 24 or 25 hours) is 1/number-of-days."""
    period, tz = drawn
    zi = ZoneInfo(tz)
    first, last = period.start.astimezone(zi).date(), period.end.astimezone(zi).date()
    days = (last - first).days
    day = first + timedelta(days=pts[0] % days)
    one_day = Interval(local(day.year, day.month, day.day, tz=tz), local_next(day, tz))
    assert fraction(one_day, period, ProrationBasis.ACTUAL_DAYS, tz) == Fraction(1, days)


def local_next(day: date, tz: str) -> datetime:
    nxt = day + timedelta(days=1)
    return local(nxt.year, nxt.month, nxt.day, tz=tz)
