"""Longest-prefix match by sorted search equals a dict lookup per length, from the longest."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.rating.prefixes import build_prefix_index, match_sets, with_padded_number

digits = st.text("0123", min_size=1, max_size=6)


@settings(max_examples=150)
@given(
    prefixes=st.lists(st.tuples(digits, st.integers(0, 5)), max_size=30),
    numbers=st.lists(
        st.one_of(digits, st.text("0123", max_size=15), st.just("12a")), min_size=1, max_size=30
    ),
)
def test_sorted_search_equals_the_naive_lookup(prefixes, numbers):
    index = build_prefix_index(prefixes)
    first: dict[str, int] = {}
    for p, sid in prefixes:
        first.setdefault(p, sid)

    def naive(number: str) -> int:
        if not number.isdigit():
            return -1
        for n in range(len(number), 0, -1):
            if number[:n] in first:
                return first[number[:n]]
        return -1

    frame = with_padded_number(pl.DataFrame({"d": numbers}, schema={"d": pl.String}), "d", "p", "n")
    assert match_sets(index, frame, "p", "n", "d").to_list() == [naive(x) for x in numbers]


def test_one_prefix_in_several_sets_the_first_listing_wins():
    index = build_prefix_index([("336", 1), ("33", 0), ("336", 2)])
    assert index.lookup("33612") == (1, 3)
    assert index.lookup("3371") == (0, 2)


@settings(max_examples=30)
@given(numbers=st.lists(st.text("0123456789", min_size=1, max_size=15), min_size=1, max_size=200))
def test_the_direct_cell_table_agrees_with_the_search(numbers):
    """A big index (past DIRECT_FROM) answers most numbers from its 6-digit cells."""
    entries = [(str(p), p % 7) for p in range(3000, 3600)] + [(str(p), 9) for p in range(3300000, 3300400)]
    entries += [("33", 5), ("3", 6), ("330012345", 4), ("3300123", 8)]
    index = build_prefix_index(entries)
    assert index.cells is not None
    frame = pl.DataFrame(
        {"d": [*numbers, "3300123", "33001234", "3312", "3300123456"]}, schema={"d": pl.String}
    )
    frame = with_padded_number(frame, "d", "p", "n")
    assert match_sets(index, frame, "p", "n", "d").to_list() == [index.lookup(x)[0] for x in frame["d"]]
