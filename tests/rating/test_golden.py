"""Golden costs, computed by hand in each docstring (Paris: CET = UTC+1, CEST = UTC+2).

Band prices on destination `fr` are per second: day 0.60/min = 0.01/s, evening 0.005/s,
night 0.002/s, weekend 0.001/s, holiday 0.0005/s. Every case is also checked against the
naive reference engine.
"""

from __future__ import annotations

import pytest

from telbill.rating.tariff import CompiledRating

from .golden import golden
from .helpers import amounts, one, rate_both, usage


@pytest.fixture(scope="module")
def rating() -> CompiledRating:
    return golden()


MONDAY_DAY = "2026-03-02T10:00:00+01:00"


@pytest.mark.parametrize(
    ("dur", "micros"),
    [(0, 0), (1, 700_000), (59, 700_000), (60, 700_000), (61, 710_000), (120, 1_300_000)],
)
def test_sixty_then_per_second_at_the_slot_edges(rating, dur, micros):
    """60/1 at 0.60/min with a 0.10 connect fee: the first minute is whole, then per second.
    1 s → 60 s → 0.60 + 0.10 = 0.70; 60 s → 0.70; 61 s → 0.61 + 0.10 = 0.71;
    120 s → 1.20 + 0.10 = 1.30; 0 s → nothing at all, not even the connect fee."""
    assert one(rating, to="440155", at=MONDAY_DAY, dur=dur)["amount_micros"] == micros


@pytest.mark.parametrize(
    ("dur", "charged", "micros"),
    [(1, 30, 300_000), (30, 30, 300_000), (31, 36, 360_000), (36, 36, 360_000), (37, 42, 420_000)],
)
def test_thirty_then_six_seconds(rating, dur, charged, micros):
    """30/6 at 0.60/min (0.01/s): 31 s → 30 + 6 = 36 s → 0.36; 37 s → 42 s → 0.42."""
    row = one(rating, to="440255", at=MONDAY_DAY, dur=dur)
    assert (row["charged_quantity"], row["amount_micros"]) == (charged, micros)


def test_call_crossing_from_day_to_evening_is_split(rating):
    """Mon 19:59:00 Paris for 120 s: 60 s day × 0.01 + 60 s evening × 0.005 = 0.60 + 0.30 = 0.90."""
    row = one(rating, at="2026-03-02T19:59:00+01:00", dur=120)
    assert (row["amount_micros"], row["bands"]) == (900_000, "day+evening")


def test_midnight_into_the_weekend(rating):
    """Fri 23:59 Paris for 120 s: 60 s evening (0.30) + 60 s weekend (0.06) = 0.36."""
    row = one(rating, at="2026-03-06T23:59:00+01:00", dur=120)
    assert (row["amount_micros"], row["bands"]) == (360_000, "evening+weekend")


def test_long_call_across_evening_midnight_and_weekend(rating):
    """Fri 19:00 Paris for 6 h: 1 h day (36.00) + 4 h evening (72.00) + 1 h weekend (3.60) = 111.60."""
    row = one(rating, at="2026-03-06T19:00:00+01:00", dur=6 * 3600)
    assert (row["amount_micros"], row["bands"]) == (111_600_000, "day+evening+weekend")


def test_spring_forward_moves_the_weekend_end(rating):
    """Sun 29 Mar 2026, clocks go 02:00 CET → 03:00 CEST. Monday 00:00 CEST is Sunday 22:00 UTC.
    21:59 UTC for 120 s: 60 s weekend (0.06) + 60 s Monday night (0.12) = 0.18
    (with the winter offset it would all be weekend: 0.12)."""
    row = one(rating, at="2026-03-29T21:59:00+00:00", dur=120)
    assert (row["amount_micros"], row["bands"]) == (180_000, "weekend+night")


def test_fall_back_day_is_25_hours(rating):
    """Sun 25 Oct 2026, clocks go 03:00 CEST → 02:00 CET. Monday 00:00 CET is Sunday 23:00 UTC.
    22:59 UTC for 120 s: 60 s weekend (0.06) + 60 s night (0.12) = 0.18.
    Mon 07:59 CET (06:59 UTC) for 120 s: 60 s night (0.12) + 60 s day (0.60) = 0.72."""
    assert one(rating, at="2026-10-25T22:59:00+00:00", dur=120)["amount_micros"] == 180_000
    assert one(rating, at="2026-10-26T06:59:00+00:00", dur=120)["amount_micros"] == 720_000


def test_leap_day(rating):
    """Mon 28 Feb 2028 23:59:30 CET for 60 s: 30 s evening (0.15) + 30 s night of Tue 29 Feb (0.06)
    = 0.21. Tue 29 Feb 23:59 for 120 s: 60 s evening (0.30) + 60 s night of Wed 1 Mar (0.12) = 0.42."""
    assert one(rating, at="2028-02-28T23:59:30+01:00", dur=60)["amount_micros"] == 210_000
    assert one(rating, at="2028-02-29T23:59:00+01:00", dur=120)["amount_micros"] == 420_000


def test_a_holiday_beats_the_weekly_rule(rating):
    """Fri 1 May 2026 (Fête du Travail) 10:00 Paris for 60 s: holiday 0.0005/s → 0.03, not 0.60."""
    row = one(rating, at="2026-05-01T10:00:00+02:00", dur=60)
    assert (row["amount_micros"], row["bands"]) == (30_000, "holiday")


@pytest.mark.parametrize(("dur", "micros"), [(30, 6_000_000), (61, 10_000_000), (3600, 10_000_000)])
def test_max_cost_caps_the_event(rating, dur, micros):
    """6.00/min by whole minutes, capped at 10.00: 30 s → 6.00; 61 s → 12.00 → 10.00."""
    assert one(rating, to="440355", at=MONDAY_DAY, dur=dur)["amount_micros"] == micros


@pytest.mark.parametrize(("dur", "micros"), [(0, 0), (10, 500_000), (600, 600_000)])
def test_minimum_charge(rating, dur, micros):
    """0.06/min per second with a 0.50 minimum: 10 s → 0.01 → 0.50; 600 s → 0.60; 0 s → 0."""
    assert one(rating, to="440455", at=MONDAY_DAY, dur=dur)["amount_micros"] == micros


@pytest.mark.parametrize(
    ("volume", "charged", "micros"),
    [
        (0, 0, 0),
        (1, 1_000_000, 1_000_000),
        (1_000_000, 1_000_000, 1_000_000),
        (1_000_001, 1_100_000, 1_100_000),
        (1_250_000, 1_300_000, 1_300_000),
    ],
)
def test_data_block_rounding(rating, volume, charged, micros):
    """1.00/MB, first MB whole then 100 KB blocks: 1 B → 1 MB → 1.00; 1,000,001 B → 1.1 MB → 1.10;
    1,250,000 B → 1.3 MB → 1.30."""
    row = one(rating, type="data", at=MONDAY_DAY, bytes=volume)
    assert (row["charged_quantity"], row["amount_micros"]) == (charged, micros)


def test_sms_is_priced_per_event(rating):
    """0.10 per SMS, whatever the band."""
    assert one(rating, type="sms", at="2026-03-07T23:00:00+01:00")["amount_micros"] == 100_000


def test_roaming_zones(rating):
    """1.5 MB in Germany (EU, roam like at home) → 1.50; in the US (rest of the world, 5.00/MB by
    whole MB) → 2 MB → 10.00; Spain's network 214-07 is listed by MCC-MNC."""
    de = one(rating, type="data", at=MONDAY_DAY, bytes=1_500_000, roaming=True, mcc="262", mnc="01")
    us = one(rating, type="data", at=MONDAY_DAY, bytes=1_500_000, roaming=True, mcc="310", mnc="410")
    es = one(rating, type="data", at=MONDAY_DAY, bytes=1_500_000, roaming=True, mcc="214", mnc="07")
    assert (de["zone"], de["amount_micros"]) == ("home", 1_500_000)
    assert (us["zone"], us["amount_micros"]) == ("world", 10_000_000)
    assert es["zone"] == "home"


@pytest.mark.parametrize(
    ("code", "micros"), [("rounding_up", 110_000), ("rounding_down", 100_000), ("rounding_half_up", 100_000)]
)
def test_the_event_total_is_rounded_once(rating, code, micros):
    """0.10/min per second, 61 s = 0.101666… EUR: up → 0.11, down → 0.10, half-up → 0.10."""
    assert one(rating, code, at=MONDAY_DAY, dur=61)["amount_micros"] == micros


def test_half_up_rounds_the_half_away(rating):
    """0.10/min per second, 3 s = 0.005 EUR exactly: half-up to cents → 0.01."""
    assert one(rating, "rounding_half_up", at=MONDAY_DAY, dur=3)["amount_micros"] == 10_000


def test_the_version_in_force_at_the_start_prices_the_event(rating):
    """v1 (0.60/min) until 1 Jul 2026 00:00 UTC, v2 (0.30/min) from then."""
    early = one(rating, "versioned", at="2026-06-30T23:59:59+00:00", dur=60)
    late = one(rating, "versioned", at="2026-07-01T00:00:00+00:00", dur=60)
    assert (early["tariff_version"], early["amount_micros"]) == (1, 600_000)
    assert (late["tariff_version"], late["amount_micros"]) == (2, 300_000)


def test_the_account_timezone_overrides_the_tariff_one(rating):
    """Mon 10:00 UTC is 10:00 in London's winter (day, 0.60/min) but 05:00 in New York (night,
    0.12/min) when the record carries the account's zone."""
    assert (
        one(rating, at="2026-03-02T10:00:00+00:00", dur=60, tz="America/New_York")["amount_micros"] == 120_000
    )
    assert one(rating, at="2026-03-02T10:00:00+00:00", dur=60, tz="Europe/London")["amount_micros"] == 600_000


def test_rejects_say_why(rating):
    """Unknown destination (no any-destination voice rate in `golden`), unknown usage type,
    negative duration, a roaming network outside every zone is priced by the default zone."""
    batch = usage(
        {"id": "nowhere", "to": "99", "at": MONDAY_DAY, "dur": 60},
        {"id": "fax", "type": "fax", "at": MONDAY_DAY},
        {"id": "negative", "at": MONDAY_DAY, "dur": -5},
        {"id": "ok", "at": MONDAY_DAY, "dur": 60},
    )
    result = rate_both(rating, "golden", batch)
    reasons = {r["record_id"]: (r["reject_reason"], r["reject_detail"]) for r in result.rejects.to_dicts()}
    assert reasons == {
        "nowhere": ("no_tariff_for_destination", None),
        "fax": ("invalid_record", "unknown usage type"),
        "negative": ("invalid_record", "negative or missing quantity"),
    }
    assert result.rated["record_id"].to_list() == ["ok"]


def test_a_batch_spanning_years_searches_the_timeline(rating):
    """Past ~4 years of range the per-minute table gives way to a sorted search; same costs:
    Mon 2 Mar 2026 19:59 for 120 s = 0.90 (day+evening); Fri 5 Mar 2032 10:00 for 60 s = 0.60."""
    batch = usage(
        {"id": "2026", "at": "2026-03-02T19:59:00+01:00", "dur": 120},
        {"id": "2032", "at": "2032-03-05T10:00:00+01:00", "dur": 60},
    )
    assert amounts(rate_both(rating, "golden", batch)) == {"2026": 900_000, "2032": 600_000}
