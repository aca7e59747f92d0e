"""The sorted key set an import keeps of its own stored records answers like a plain set."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.mediation.dedupe import is_seen, merge_keys

ints = st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=50)


@settings(max_examples=200, deadline=None)
@given(batches=st.lists(ints, max_size=5), probe=ints)
def test_merged_keys_answer_membership_like_a_set(batches: list[list[int]], probe: list[int]) -> None:
    seen = pl.Series(dtype=pl.Int64)
    for batch in batches:
        seen = merge_keys(seen, pl.Series(batch, dtype=pl.Int64))
    stored = {k for b in batches for k in b}
    assert seen.to_list() == sorted(seen.to_list())
    found = is_seen(pl.Series(probe, dtype=pl.Int64), seen).to_list()
    assert found == [k in stored for k in probe]
