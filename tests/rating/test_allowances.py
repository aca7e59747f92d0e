"""Allowance buckets drawn in event-time order; costs by hand as in the golden tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telbill.core.errors import ValidationFailed
from telbill.rating.allowances import Bucket, prorated, rolled_over
from telbill.rating.batch import apply_deltas

from .golden import golden
from .helpers import amounts, rate_both, usage

MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def rating():
    return golden()


def bucket(
    bid: str, remaining: int, *accounts: str, unit: str = "seconds", usage_types=("voice",), **kw
) -> Bucket:
    return Bucket(bid, accounts or ("a1",), unit, remaining, frozenset(usage_types), *MARCH, **kw)


def test_a_bucket_exhausted_mid_call_leaves_the_rest_charged(rating):
    """90 s left; Mon day band at 0.01/s. A 150 s call: 90 s free, 60 s paid → 0.60.
    A later 30 s call finds the bucket empty → 0.30."""
    batch = usage(
        {"id": "first", "at": "2026-03-02T10:00:00+01:00", "dur": 150},
        {"id": "later", "at": "2026-03-02T11:00:00+01:00", "dur": 30},
    )
    result = rate_both(rating, "golden", batch, (bucket("min", 90),))
    assert amounts(result) == {"first": 600_000, "later": 300_000}
    first = result.rated.filter(result.rated["record_id"] == "first").row(0, named=True)
    assert (first["free_quantity"], first["bucket_ids"]) == (90, "min")
    assert dict(result.balance_deltas.iter_rows()) == {"min": 90}


def test_the_free_part_covers_the_first_slot_first(rating):
    """60/1 at 0.60/min with a 0.10 connect fee, 30 s left, a 100 s call: slots charge 60 + 40 s;
    the bucket covers 30 s of the first minute, so 30 + 40 = 70 s are paid → 0.70 + 0.10 = 0.80."""
    batch = usage({"id": "c", "to": "440155", "at": "2026-03-02T10:00:00+01:00", "dur": 100})
    assert amounts(rate_both(rating, "golden", batch, (bucket("min", 30),))) == {"c": 800_000}


def test_a_fully_covered_call_costs_nothing_not_even_the_connect_fee(rating):
    """60/1 with a 0.10 connect fee, 600 s left, a 61 s call (61 s charged): all free → 0."""
    batch = usage({"id": "c", "to": "440155", "at": "2026-03-02T10:00:00+01:00", "dur": 61})
    assert amounts(rate_both(rating, "golden", batch, (bucket("min", 600),))) == {"c": 0}


def test_a_family_bucket_is_drawn_in_event_time_order(rating):
    """100 s shared by a1 and a2, rows given latest first. a2 calls first (10:00, 70 s, all free);
    a1 calls at 10:05 for 70 s: 30 s free, 40 s paid at 0.01/s → 0.40."""
    batch = usage(
        {"id": "a1-call", "account": "a1", "at": "2026-03-02T10:05:00+01:00", "dur": 70},
        {"id": "a2-call", "account": "a2", "at": "2026-03-02T10:00:00+01:00", "dur": 70},
    )
    result = rate_both(rating, "golden", batch, (bucket("family", 100, "a1", "a2"),))
    assert amounts(result) == {"a1-call": 400_000, "a2-call": 0}
    assert dict(result.balance_deltas.iter_rows()) == {"family": 100}


def test_priorities_and_money_buckets(rating):
    """A rollover bucket (priority 0, 20 s) is drawn before the main one (priority 1, 20 s); then
    a 1.00 EUR credit pays what is left. Call 1: 60 s, 40 s free, 20 s paid = 0.20, all covered by
    the credit (0.80 left). Call 2: 100 s, nothing free → 1.00, 0.80 covered, 0.20 to pay."""
    buckets = (
        bucket("main", 20, priority=1),
        bucket("rollover", 20, priority=0),
        bucket("credit", 1_000_000, unit="micros", usage_types=("voice", "sms")),
    )
    batch = usage(
        {"id": "c1", "at": "2026-03-02T10:00:00+01:00", "dur": 60},
        {"id": "c2", "at": "2026-03-02T10:10:00+01:00", "dur": 100},
    )
    result = rate_both(rating, "golden", batch, buckets)
    assert amounts(result) == {"c1": 0, "c2": 200_000}
    assert dict(result.balance_deltas.iter_rows()) == {"credit": 1_000_000, "main": 20, "rollover": 20}
    c1 = result.rated.filter(result.rated["record_id"] == "c1").row(0, named=True)
    assert (c1["bucket_ids"], c1["covered_micros"]) == ("rollover+main+credit", 200_000)


def test_buckets_expire_and_filter_by_destination(rating):
    """A bucket valid in March does not cover an April call; a bucket for `fr` does not cover `s30_6`."""
    batch = usage(
        {"id": "april", "at": "2026-04-01T10:00:00+02:00", "dur": 60},
        {"id": "other", "to": "440255", "at": "2026-03-02T10:00:00+01:00", "dur": 30},
    )
    result = rate_both(
        rating, "golden", batch, (bucket("fr-only", 1000, destination_sets=frozenset({"fr"})),)
    )
    assert amounts(result) == {"april": 600_000, "other": 300_000}


def test_deltas_apply_to_the_balances_for_the_next_batch(rating):
    buckets = (bucket("min", 90),)
    first = rate_both(
        rating, "golden", usage({"id": "a", "at": "2026-03-02T10:00:00+01:00", "dur": 60}), buckets
    )
    after = apply_deltas(buckets, first.balance_deltas)
    second = rate_both(
        rating, "golden", usage({"id": "b", "at": "2026-03-02T11:00:00+01:00", "dur": 60}), after
    )
    assert (after[0].remaining, amounts(second)) == (30, {"b": 300_000})


def test_proration_and_rollover():
    """3000 s granted for March (31 days), active from 16 March 00:00: 3000 × 16/31 = 1548.39 → 1548."""
    assert prorated(3000, *MARCH, datetime(2026, 3, 16, tzinfo=UTC)) == 1548
    assert prorated(3000, *MARCH, datetime(2026, 2, 1, tzinfo=UTC)) == 3000
    assert prorated(3000, *MARCH, datetime(2026, 4, 1, tzinfo=UTC)) == 0
    assert (rolled_over(700, 500), rolled_over(300, 500), rolled_over(300, None)) == (500, 300, 300)


def test_a_bucket_unit_must_fit_its_usage():
    with pytest.raises(ValidationFailed, match="cannot count data"):
        bucket("x", 10, usage_types=("data",))
