import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.billing.periods import (
    BillingCycle,
    Period,
    clamp_day,
    describe_length,
    first_period_for,
    local_date_to_utc,
    next_period_start,
    parse_length,
    period_at,
    period_containing,
    period_index,
    periods_between,
    start_date,
)
from telbill.core.errors import ValidationFailed

PARIS = ZoneInfo("Europe/Paris")
ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Apia",
    "UTC",
]


def starts(cycle, tz, count):
    return [period_at(cycle, tz, n).start.astimezone(tz).date() for n in range(count)]


# --- golden examples -----------------------------------------------------------------------------


def test_bcd_31_clamps_to_month_end_and_comes_back():
    cycle = BillingCycle.monthly(31, date(2024, 1, 1))
    assert starts(cycle, PARIS, 6) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
    ]
    common = BillingCycle.monthly(31, date(2025, 1, 1))
    assert starts(common, PARIS, 3) == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]


@pytest.mark.parametrize(
    ("bcd", "year", "february", "march"),
    [
        (29, 2024, date(2024, 2, 29), date(2024, 3, 29)),
        (29, 2025, date(2025, 2, 28), date(2025, 3, 29)),
        (30, 2024, date(2024, 2, 29), date(2024, 3, 30)),
        (30, 2100, date(2100, 2, 28), date(2100, 3, 30)),  # 2100 is not a leap year
        (31, 2000, date(2000, 2, 29), date(2000, 3, 31)),  # 2000 is
    ],
)
def test_bcd_29_30_31_through_february(bcd, year, february, march):
    cycle = BillingCycle.monthly(bcd, date(year, 2, 1))
    assert period_at(cycle, PARIS, 0).start == local_date_to_utc(february, PARIS)
    assert period_at(cycle, PARIS, 0).end == local_date_to_utc(march, PARIS)


def test_quarterly_and_annual_take_their_months_from_the_anchor():
    quarterly = BillingCycle.quarterly(31, date(2024, 2, 10))
    assert starts(quarterly, PARIS, 5) == [
        date(2024, 2, 29),
        date(2024, 5, 31),
        date(2024, 8, 31),
        date(2024, 11, 30),
        date(2025, 2, 28),
    ]
    annual = BillingCycle.annual(29, date(2024, 2, 1))
    assert starts(annual, PARIS, 5) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_negative_indexes_go_back_from_the_anchor():
    cycle = BillingCycle.monthly(31, date(2024, 3, 1))
    assert start_date(cycle, -1) == date(2024, 2, 29)
    assert start_date(cycle, -3) == date(2023, 12, 31)


def test_week_and_day_cycles_start_on_the_anchor():
    weekly = BillingCycle("week", 2, 1, date(2026, 1, 5))
    assert starts(weekly, PARIS, 3) == [date(2026, 1, 5), date(2026, 1, 19), date(2026, 2, 2)]
    daily = BillingCycle("day", 10, 1, date(2026, 1, 1))
    assert period_index(daily, PARIS, datetime(2025, 12, 31, 12, tzinfo=UTC)) == -1


def test_periods_are_local_midnights_so_dst_days_are_23_or_25_hours():
    daily = BillingCycle("day", 1, 1, date(2026, 1, 1))
    spring = period_containing(daily, PARIS, datetime(2026, 3, 29, 12, tzinfo=UTC))
    autumn = period_containing(daily, PARIS, datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert spring == Period(datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC))
    assert spring.duration == timedelta(hours=23)
    assert autumn.duration == timedelta(hours=25)
    lord_howe = period_containing(daily, ZoneInfo("Australia/Lord_Howe"), datetime(2026, 4, 5, 6, tzinfo=UTC))
    assert lord_howe.duration == timedelta(hours=24, minutes=30)

    march = period_containing(
        BillingCycle.monthly(1, date(2026, 1, 1)), PARIS, datetime(2026, 3, 15, tzinfo=UTC)
    )
    assert march == Period(datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))


def test_a_boundary_instant_belongs_to_the_period_it_starts():
    cycle = BillingCycle.monthly(15, date(2026, 1, 1))
    boundary = local_date_to_utc(date(2026, 2, 15), PARIS)
    assert period_containing(cycle, PARIS, boundary).start == boundary
    assert period_containing(cycle, PARIS, boundary - timedelta(microseconds=1)).end == boundary
    assert next_period_start(cycle, PARIS, boundary) == local_date_to_utc(date(2026, 3, 15), PARIS)


def test_first_period_is_the_partial_leading_period():
    cycle = BillingCycle.monthly(1, date(2026, 1, 1))
    start = datetime(2026, 1, 20, 9, 30, tzinfo=UTC)
    assert first_period_for(cycle, PARIS, start) == Period(start, datetime(2026, 1, 31, 23, tzinfo=UTC))
    boundary = local_date_to_utc(date(2026, 2, 1), PARIS)
    assert first_period_for(cycle, PARIS, boundary) == period_containing(cycle, PARIS, boundary)


def test_periods_between_returns_the_whole_periods_that_overlap():
    cycle = BillingCycle.monthly(10, date(2026, 1, 1))
    end = local_date_to_utc(date(2026, 4, 10), PARIS)  # exclusive: April's period is not included
    got = periods_between(cycle, PARIS, datetime(2026, 1, 20, tzinfo=UTC), end)
    assert [p.start.astimezone(PARIS).date() for p in got] == [
        date(2026, 1, 10),
        date(2026, 2, 10),
        date(2026, 3, 10),
    ]
    assert periods_between(cycle, PARIS, got[0].end, got[0].end) == []


def test_lengths_parse_and_print():
    assert parse_length("monthly") == ("month", 1)
    assert parse_length("Quarterly") == ("month", 3)
    assert parse_length("annual") == ("month", 12)
    assert parse_length("14d") == ("day", 14)
    assert parse_length("2 weeks") == ("week", 2)
    assert parse_length("6m") == ("month", 6)
    assert describe_length("month", 3) == "quarterly"
    assert describe_length("day", 14) == "14d"
    for bad in ("fortnightly", "0d", "40m"):
        with pytest.raises(ValidationFailed):
            parse_length(bad)


def test_invalid_cycles_and_naive_instants_are_refused():
    with pytest.raises(ValidationFailed) as err:
        BillingCycle("month", 0, 32, date(2026, 1, 1))
    assert len(err.value.details) == 2
    with pytest.raises(ValidationFailed):
        period_containing(BillingCycle.monthly(1, date(2026, 1, 1)), PARIS, datetime(2026, 1, 1))


def test_clamp_day():
    assert clamp_day(2023, 2, 31) == date(2023, 2, 28)
    assert clamp_day(2023, 4, 15) == date(2023, 4, 15)


# --- properties ----------------------------------------------------------------------------------


@st.composite
def cycles(draw):
    unit = draw(st.sampled_from(["month", "month", "day", "week"]))
    count = draw(
        {
            "month": st.sampled_from([1, 1, 2, 3, 6, 12]),
            "day": st.integers(1, 45),
            "week": st.integers(1, 8),
        }[unit]
    )
    bcd = draw(st.sampled_from([1, 15, 28, 29, 30, 31]) | st.integers(1, 31))
    anchor = draw(st.dates(date(1995, 1, 1), date(2050, 12, 31)))
    return BillingCycle(unit, count, bcd, anchor)


zones = st.sampled_from(ZONES).map(ZoneInfo)
instants = st.datetimes(datetime(1996, 1, 1), datetime(2050, 1, 1), timezones=st.just(UTC))


@given(cycles(), zones, instants, st.integers(1, 6))
def test_consecutive_periods_tile_time(cycle, tz, instant, k):
    n = period_index(cycle, tz, instant)
    periods = [period_at(cycle, tz, i) for i in range(n - 1, n + k)]
    for before, after in itertools.pairwise(periods):
        assert before.end == after.start
    for p in periods:
        assert p.start <= p.end
        if cycle.unit != "day":
            assert p.start < p.end


@given(cycles(), zones, instants)
def test_every_instant_is_in_exactly_one_period(cycle, tz, instant):
    n = period_index(cycle, tz, instant)
    assert instant in period_at(cycle, tz, n)
    assert instant not in period_at(cycle, tz, n - 1)
    assert instant not in period_at(cycle, tz, n + 1)
    assert period_containing(cycle, tz, instant) == period_at(cycle, tz, n)
    assert next_period_start(cycle, tz, instant) > instant


@given(cycles(), zones, instants)
def test_each_period_starts_at_local_midnight_on_the_clamped_bcd(cycle, tz, instant):
    n = period_index(cycle, tz, instant)
    period = period_at(cycle, tz, n)
    local = period.start.astimezone(tz)
    expected = start_date(cycle, n)
    assert local.date() == expected
    # midnight, or the first instant of that day when midnight falls in a DST gap
    assert (
        local.time().isoformat() == "00:00:00"
        or (period.start - timedelta(seconds=1)).astimezone(tz).date() < expected
    )
    if cycle.unit == "month":
        assert expected.day == clamp_day(expected.year, expected.month, cycle.bill_cycle_day).day


@given(cycles(), zones, instants, st.integers(0, 400))
def test_periods_between_cover_the_interval_without_overlap(cycle, tz, start, days):
    end = start + timedelta(days=days, hours=1)
    got = periods_between(cycle, tz, start, end)
    assert got[0].start <= start < got[0].end
    assert got[-1].start < end <= got[-1].end
    for before, after in itertools.pairwise(got):
        assert before.end == after.start


def test_a_skipped_local_day_is_an_empty_period_that_owns_no_instant():
    """Samoa skipped 30 December 2011 (UTC-10 → UTC+14): that day's period is empty."""
    apia = ZoneInfo("Pacific/Apia")
    daily = BillingCycle("day", 1, 1, date(2011, 12, 1))
    skipped = period_at(daily, apia, 29)
    assert skipped.start == skipped.end == datetime(2011, 12, 30, 10, tzinfo=UTC)
    assert period_index(daily, apia, skipped.start) == 30
    got = periods_between(
        daily, apia, datetime(2011, 12, 29, 12, tzinfo=UTC), datetime(2011, 12, 31, tzinfo=UTC)
    )
    assert [p.start.astimezone(apia).date() for p in got] == [date(2011, 12, 29), date(2011, 12, 31)]
