"""Properties of the engine on random usage: agreement with the reference, batching, monotonicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.rating.allowances import Bucket
from telbill.rating.engine import rate

from .golden import golden
from .helpers import rate_both

RATING = golden()
NUMBERS = ["33123456", "4401999", "4402999", "4403999", "4404999", "99123", "33", "", "4401"]
T0 = datetime(2026, 3, 20, tzinfo=UTC)  # a range that spans the spring DST change and weekends


@st.composite
def records(draw: st.DrawFn, n_max: int = 25) -> pl.DataFrame:
    n = draw(st.integers(1, n_max))
    rows = []
    for i in range(n):
        kind = draw(st.sampled_from(["voice", "voice", "voice", "sms", "data"]))
        rows.append(
            {
                "record_id": f"r{i:03d}",
                "usage_type": kind,
                "other_party": draw(st.sampled_from(NUMBERS)),
                "start_time": T0 + timedelta(seconds=draw(st.integers(0, 20 * 86400))),
                "duration_s": draw(st.integers(0, 9000)) if kind == "voice" else 0,
                "volume_up": 0,
                "volume_down": draw(st.integers(0, 3_000_000)) if kind == "data" else 0,
                "roaming": draw(st.booleans()) if kind == "data" else False,
                "visited_mcc": draw(st.sampled_from(["262", "310", "214"])),
                "visited_mnc": draw(st.sampled_from(["07", "01"])),
                "account_id": draw(st.sampled_from(["a1", "a2", "a3"])),
            }
        )
    return pl.DataFrame(rows).with_columns(pl.col("start_time").dt.cast_time_unit("us"))


@st.composite
def buckets(draw: st.DrawFn) -> tuple[Bucket, ...]:
    out = []
    for i in range(draw(st.integers(0, 4))):
        unit = draw(st.sampled_from(["seconds", "micros", "events", "bytes"]))
        usage = {"seconds": "voice", "events": "sms", "bytes": "data", "micros": "voice"}[unit]
        out.append(
            Bucket(
                f"b{i}",
                tuple(draw(st.sets(st.sampled_from(["a1", "a2", "a3"]), min_size=1))),
                unit,
                draw(st.integers(0, 5000 if unit != "bytes" else 5_000_000)),
                frozenset({usage}),
                T0 + timedelta(days=draw(st.integers(0, 5))),
                T0 + timedelta(days=draw(st.integers(6, 25))),
                destination_sets=draw(st.sampled_from([None, frozenset({"fr"}), frozenset({"fr", "s60_1"})])),
                priority=draw(st.integers(0, 2)),
            )
        )
    return tuple(out)


@settings(max_examples=60)
@given(batch=records(), balances=buckets())
def test_the_engine_equals_the_naive_reference(batch, balances):
    rate_both(RATING, "golden", batch, balances)


@settings(max_examples=30)
@given(batch=records(), balances=buckets())
def test_with_versions_and_fallbacks_too(batch, balances):
    """Versions change on 28 March (inside the random range); other destinations fall back."""
    rate_both(RATING, "banded_versions", batch, balances)


@settings(max_examples=40)
@given(batch=records(), cut=st.integers(0, 25))
def test_rating_a_batch_equals_rating_its_pieces(batch, cut):
    whole = rate(RATING.tariff("golden"), batch).rated.sort("record_id")
    pieces = [rate(RATING.tariff("golden"), part).rated for part in (batch[:cut], batch[cut:])]
    assert pl.concat(pieces).sort("record_id").equals(whole)


@pytest.mark.parametrize("number", ["33123456", "4401999", "4402999", "4403999", "4404999"])
@settings(max_examples=25)
@given(start=st.integers(0, 20 * 86400), durations=st.lists(st.integers(0, 20_000), min_size=2, max_size=8))
def test_cost_never_decreases_with_duration(number, start, durations):
    durations = sorted(durations)
    batch = pl.DataFrame(
        {
            "record_id": [f"d{i}" for i in range(len(durations))],
            "usage_type": "voice",
            "other_party": number,
            "start_time": [T0 + timedelta(seconds=start)] * len(durations),
            "duration_s": durations,
        }
    ).with_columns(pl.col("start_time").dt.cast_time_unit("us"))
    costs = rate(RATING.tariff("golden"), batch).rated.sort("duration_s")["amount_micros"].to_list()
    assert costs == sorted(costs)
