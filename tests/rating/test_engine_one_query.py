"""The one-query path of the engine (direct prefix tables, two-part calls priced in the query,
batch facts that leave checks out) equals the naive reference, and so do its exits to the exact
part-by-part path: numbers in shared table cells or shorter than their prefix, calls over more
than one band boundary, invalid records, misses that fall back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.catalog.tariffs import RatingCatalog
from telbill.rating.allowances import Bucket
from telbill.rating.tariff import CompiledRating, compile_rating

from .helpers import rate_both

T0 = datetime(2026, 3, 27, tzinfo=UTC)  # Friday: a weekend, the spring DST change and weekdays follow


def _prefixes() -> list[str]:
    rng = random.Random(5)
    found = {
        str(rng.randint(30, 49)) + "".join(rng.choices("0123456789", k=rng.randint(1, 6))) for _ in range(700)
    }
    found |= {"3312345678", "331234567", "33123456", "4412"}  # 9–10 digits: shared cells of the tables
    return sorted(found)


PREFIXES = _prefixes()


def _catalog() -> CompiledRating:
    sets = [{"code": f"d{i}", "prefixes": PREFIXES[i::5]} for i in range(5)]
    rates = [
        {
            "destination_set": "d0",
            "band": "peak",
            "price": "0.60",
            "increments": "60/1",
            "connect_fee": "0.10",
        },
        {"destination_set": "d0", "band": "offpeak", "price": "0.30", "increments": "60/1"},
        {"destination_set": "d1", "price": "0.60", "increments": "30/6"},
        {"destination_set": "d2", "price": "6.00", "increments": "60/60", "max_cost": "10.00"},
        {"destination_set": "d3", "price": "0.06", "increments": "1", "minimum_charge": "0.50"},
        {"destination_set": "d4", "band": "peak", "price": "0.12", "increments": "60/60"},
        {"price": "0.50", "increments": "60/60", "band": "peak"},
        {"price": "0.25", "increments": "60/60", "band": "offpeak"},
        {"usage_type": "sms", "price": "0.10", "per": 1},
        {"usage_type": "data", "price": "1.00", "per": "1MB", "increments": "1MB/100KB"},
    ]
    data = {
        "destination_sets": sets,
        "time_bands": [
            {
                "code": "week",
                "timezone": "Europe/Paris",
                "rules": [
                    {"band": "offpeak", "days": ["all"]},
                    {"band": "peak", "days": ["weekdays"], "hours": ["08:00-20:00"], "priority": 1},
                ],
            }
        ],
        "tariffs": [
            {
                "code": "big",
                "versions": [
                    {"version": 1, "effective_from": "2026-01-01", "currency": "EUR", "time_bands": "week",
                     "rounding": {"decimals": 4, "method": "half_up"}, "rates": rates}
                ],
            },
            {
                "code": "no_offpeak",  # d4 off-peak has no rate: those records fall back to `big`
                "fallback": "big",
                "versions": [
                    {"version": 1, "effective_from": "2026-01-01", "currency": "EUR", "time_bands": "week",
                     "rates": [{"destination_set": "d4", "band": "peak", "price": "0.90",
                                "increments": "60/60"}]}
                ],
            },
        ],
    }  # fmt: skip
    return compile_rating(RatingCatalog.model_validate(data))


RATING = _catalog()


def test_the_index_has_direct_tables_with_shared_cells():
    index = RATING.tariffs["big"].versions[0].prefix_index["voice"]
    assert index.cells is not None and index.searches and index.longest == 10


numbers = st.one_of(
    st.builds(lambda p, tail: (p + tail)[:15], st.sampled_from(PREFIXES), st.text("0123456789", max_size=8)),
    st.sampled_from(["3312345678901", "33123456", "3312", "33", "4", "", "12a", "+33123"]),
    st.builds(lambda p, k: p[:k], st.sampled_from(PREFIXES), st.integers(1, 9)),  # shorter than a prefix
)


@st.composite
def voice_batches(draw: st.DrawFn, n_max: int = 40) -> pl.DataFrame:
    """Voice only, valid: the batch facts leave the validity checks out of the query."""
    n = draw(st.integers(1, n_max))
    long_calls = st.integers(0, 40 * 3600)  # over one or two band boundaries
    return pl.DataFrame(
        {
            "record_id": [f"v{i:03d}" for i in range(n)],
            "usage_type": ["voice"] * n,
            "other_party": [draw(numbers) for _ in range(n)],
            "start_time": [T0 + timedelta(seconds=draw(st.integers(0, 6 * 86400))) for _ in range(n)],
            "duration_s": [draw(st.one_of(st.integers(0, 1500), long_calls)) for _ in range(n)],
            "account_id": [draw(st.sampled_from(["a1", "a2"])) for _ in range(n)],
        }
    ).with_columns(pl.col("start_time").dt.cast_time_unit("us"))


@st.composite
def mixed_batches(draw: st.DrawFn, n_max: int = 30) -> pl.DataFrame:
    """Several usage types, a few invalid records, accounts' own timezones."""
    n = draw(st.integers(1, n_max))
    rows = []
    for i in range(n):
        kind = draw(st.sampled_from(["voice", "voice", "sms", "data", "fax"]))
        rows.append(
            {
                "record_id": f"m{i:03d}",
                "usage_type": kind,
                "other_party": draw(numbers),
                "start_time": T0 + timedelta(seconds=draw(st.integers(0, 6 * 86400))),
                "duration_s": draw(st.integers(-5, 30 * 3600)) if kind == "voice" else 0,
                "volume_up": 0,
                "volume_down": draw(st.integers(0, 3_000_000)) if kind == "data" else 0,
                "account_id": "a1",
                "timezone": draw(st.sampled_from(["", "", "America/New_York", "Asia/Tokyo"])),
            }
        )
    return pl.DataFrame(rows).with_columns(pl.col("start_time").dt.cast_time_unit("us"))


@settings(max_examples=60, deadline=None)
@given(batch=voice_batches())
def test_voice_batches_equal_the_reference(batch):
    rate_both(RATING, "big", batch)


@settings(max_examples=40, deadline=None)
@given(batch=mixed_batches())
def test_mixed_batches_equal_the_reference(batch):
    rate_both(RATING, "big", batch)


@settings(max_examples=30, deadline=None)
@given(batch=voice_batches())
def test_misses_fall_back_like_the_reference(batch):
    rate_both(RATING, "no_offpeak", batch)


@settings(max_examples=30, deadline=None)
@given(batch=voice_batches(), remaining=st.integers(0, 4000))
def test_with_balances_part_by_part_equals_the_reference(batch, remaining):
    bucket = Bucket("min", ("a1",), "seconds", remaining, frozenset({"voice"}), T0, T0 + timedelta(days=7))
    rate_both(RATING, "big", batch, (bucket,))


@pytest.mark.parametrize("duration", [0, 59, 60, 61, 3599, 3600, 43_200, 90_000])
def test_a_call_over_the_evening_boundary(duration):
    """19:59:30 Paris on a Monday: whatever the duration, engine and reference agree (one, two or
    more parts)."""
    batch = pl.DataFrame(
        {
            "record_id": ["x"],
            "usage_type": ["voice"],
            "other_party": [PREFIXES[0] + "55"],
            "start_time": [datetime(2026, 3, 30, 17, 59, 30, tzinfo=UTC)],
            "duration_s": [duration],
        }
    ).with_columns(pl.col("start_time").dt.cast_time_unit("us"))
    assert rate_both(RATING, "big", batch).rated.height == 1
