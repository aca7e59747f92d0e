"""The threaded CSV pass falls back to a serial re-read at a ragged row; prefetching keeps order."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.mediation.prefetch import prefetch
from telbill.mediation.readers import CsvReader
from telbill.mediation.sources import BUILTIN_SOURCES

from .conftest import write

CSV = BUILTIN_SOURCES["telbill-csv"]


def _line(i: int) -> str:
    return f"r{i},voice,0612345678,,0142685300,2026-01-10 10:00:00,{i},,,,,,"


@pytest.mark.parametrize("ragged_at", [None, 5, 180, 399])
def test_ragged_row_after_threaded_batches_keeps_line_numbers(tmp_path, ragged_at):
    lines = [_line(i) for i in range(400)]
    if ragged_at is not None:
        lines[ragged_at] = "broken,row"
    path = write(tmp_path / "a.csv", *lines)
    reader = CsvReader(CSV)
    reader.block_size = 1 << 12  # many small Arrow blocks, so the ragged row comes after some batches
    batches = list(reader.batches(path, file_id=1, batch_size=64))
    staging = [b.staging for b in batches]
    got = [(r, n) for s in staging for r, n in zip(s["record_id"], s["line_no"], strict=True)]
    expected = [(f"r{i}", i + 2) for i in range(400) if i != ragged_at]
    assert got == expected
    rejects = [row for b in batches for row in b.rejects.select("line_no", "raw").rows()]
    assert rejects == ([] if ragged_at is None else [(ragged_at + 2, "broken,row")])


@given(st.lists(st.integers(), max_size=50), st.integers(min_value=1, max_value=4))
@settings(max_examples=25, deadline=None)
def test_prefetch_yields_the_same_items_in_order(items, depth):
    assert list(prefetch(iter(items), depth)) == items


def test_prefetch_raises_where_the_producer_failed():
    def items():
        yield 1
        yield 2
        raise ValueError("broken at 3")

    seen = []
    with pytest.raises(ValueError, match="broken at 3"):
        for x in prefetch(items()):
            seen.append(x)
    assert seen == [1, 2]


def test_leaving_early_stops_the_producer():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    for x in prefetch(items(), depth=2):
        if x == 3:
            break
    assert len(produced) < 10
