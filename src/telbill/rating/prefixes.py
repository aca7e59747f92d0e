"""Longest-prefix match of E.164 numbers against destination-set prefixes.

Each prefix of length L covers the range [p·10^(15-L), (p+1)·10^(15-L)) of numbers padded to 15
digits. Prefix ranges nest or are disjoint, so they flatten into sorted elementary intervals each
owned by its innermost (longest) prefix: matching is then one sorted search per number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import polars as pl

F = TypeVar("F", pl.DataFrame, pl.LazyFrame)

PAD = 15
POWERS = [10**k for k in range(PAD + 1)]
CELL_DIGITS = 6  # a direct table on the first 6 digits answers most numbers without a search
CELL = 10 ** (PAD - CELL_DIGITS)
DIRECT_FROM = 256  # intervals from which the direct table pays for itself


@dataclass(frozen=True)
class PrefixIndex:
    """Sorted interval starts with the set id (-1 none) and prefix length owning each interval."""

    starts: pl.Series
    set_ids: pl.Series
    lengths: pl.Series
    by_length: dict[int, dict[str, int]]  # for the per-record reference and short numbers
    cells: pl.DataFrame | None = None  # direct tables (see _cells)
    subcells: pl.DataFrame | None = None

    def lookup(self, number: str) -> tuple[int, int]:
        """(set id, prefix length) of the longest prefix of `number`, or (-1, 0)."""
        for length in sorted(self.by_length, reverse=True):
            if length <= len(number):
                sid = self.by_length[length].get(number[:length])
                if sid is not None:
                    return sid, length
        return -1, 0


def build_prefix_index(entries: list[tuple[str, int]]) -> PrefixIndex:
    """Index (prefix, set id) pairs; when a prefix is listed twice, the first listing wins."""
    first: dict[str, int] = {}
    for prefix, sid in entries:
        first.setdefault(prefix, sid)
    by_length: dict[int, dict[str, int]] = {}
    for prefix, sid in first.items():
        by_length.setdefault(len(prefix), {})[prefix] = sid
    ranges = sorted(
        (int(p) * POWERS[PAD - len(p)], (int(p) + 1) * POWERS[PAD - len(p)], sid, len(p))
        for p, sid in first.items()
    )
    ranges.sort(key=lambda r: (r[0], -r[1]))  # outer prefix first when two start together
    out: list[tuple[int, int, int]] = [(0, -1, 0)]
    stack: list[tuple[int, int, int]] = []

    def emit(pos: int, sid: int, length: int) -> None:
        if out[-1][0] == pos:
            out[-1] = (pos, sid, length)
        else:
            out.append((pos, sid, length))

    def pop_until(pos: int | None) -> None:
        while stack and (pos is None or stack[-1][0] <= pos):
            end = stack.pop()[0]
            parent = stack[-1] if stack else (0, -1, 0)
            emit(end, parent[1], parent[2])

    for start, end, sid, length in ranges:
        pop_until(start)
        emit(start, sid, length)
        stack.append((end, sid, length))
    pop_until(None)
    starts = pl.Series("starts", [o[0] for o in out], dtype=pl.Int64)
    set_ids = pl.Series("set_ids", [o[1] for o in out], dtype=pl.Int32)
    lengths = pl.Series("lengths", [o[2] for o in out], dtype=pl.Int8)
    cells, subcells = _cells(starts, set_ids, lengths) if len(out) >= DIRECT_FROM else (None, None)
    return PrefixIndex(starts, set_ids, lengths, by_length, cells, subcells)


def _cells(starts: pl.Series, set_ids: pl.Series, lengths: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two levels of direct tables: 6-digit cells, then 100 sub-cells (2 more digits) of each mixed
    cell. A cell holds its owner (set id ≥ -1) when one interval covers it, -2 when it must search,
    and a first-level cell that has sub-cells holds -(3 + its block number)."""
    level1 = _owners(
        starts, set_ids, lengths, pl.int_range(0, 10**CELL_DIGITS, dtype=pl.Int64, eager=True) * CELL, CELL
    )
    mixed = (level1["sid"] == -2).arg_true().cast(pl.Int64)
    sub = CELL // 100
    firsts = (
        (mixed * CELL)
        .to_frame("c")
        .join(pl.int_range(0, 100, dtype=pl.Int64, eager=True).to_frame("j"), how="cross")
    )
    level2 = _owners(starts, set_ids, lengths, firsts["c"] + firsts["j"] * sub, sub)
    blocks = pl.Series(range(len(mixed)), dtype=pl.Int64)
    sid1 = level1["sid"].cast(pl.Int64).scatter(mixed, -3 - blocks)
    return pl.DataFrame({"sid": sid1, "plen": level1["plen"]}), level2


def _owners(
    starts: pl.Series, set_ids: pl.Series, lengths: pl.Series, first: pl.Series, size: int
) -> pl.DataFrame:
    pos = starts.search_sorted(first, side="right").cast(pl.Int64) - 1
    after = pl.concat([starts, pl.Series([1 << 62], dtype=pl.Int64)])
    return pl.DataFrame({"pos": pos, "first": first}).select(
        sid=pl.when(pl.lit(after).gather(pl.col("pos") + 1) >= pl.col("first") + size)
        .then(pl.lit(set_ids).gather(pl.col("pos")).cast(pl.Int64))
        .otherwise(-2),
        plen=pl.lit(lengths).gather(pl.col("pos")).cast(pl.Int64),
    )


def with_padded_number(frame: F, digits: str, padded: str, length: str) -> F:
    """Add the number padded to 15 digits and its digit count; null when not 1..15 plain digits."""
    n, v = pl.col("_digits_n"), pl.col("_digits_v")
    ok = v.is_not_null() & (v >= 0) & (n >= 1) & (n <= PAD) & ~pl.col(digits).str.starts_with("+")
    scale = pl.lit(pl.Series(POWERS[::-1], dtype=pl.Int64)).gather(n.clip(0, PAD))
    return (
        frame.with_columns(
            _digits_n=pl.col(digits).str.len_bytes().cast(pl.Int64),
            _digits_v=pl.col(digits).cast(pl.Int64, strict=False),  # null unless digits (and a sign)
        )
        .with_columns(pl.when(ok).then(v * scale).alias(padded), pl.when(ok).then(n).alias(length))
        .drop("_digits_n", "_digits_v")
    )


def match_sets(index: PrefixIndex, frame: pl.DataFrame, padded: str, length: str, digits: str) -> pl.Series:
    """The set id (-1 none) of each row's longest matching prefix."""
    found = _direct(index, frame, padded, length) if index.cells is not None else None
    if found is None:
        pos = index.starts.search_sorted(frame[padded].fill_null(-1), side="right").cast(pl.Int64) - 1
        found = frame.select(
            sid=pl.lit(index.set_ids).gather(pos.clip(0)),
            plen=pl.lit(index.lengths).gather(pos.clip(0)).cast(pl.Int64),
            n=pl.col(length),
        )
    sid = found.select(pl.when(pl.col("n").is_null()).then(-1).otherwise(pl.col("sid"))).to_series()
    short = found.select((pl.col("plen") > pl.col("n")).fill_null(False)).to_series()
    if short.any():  # numbers shorter than their padded match: look them up digit by digit
        rows = short.arg_true()
        fixed = [index.lookup(d)[0] for d in frame[digits].gather(rows).to_list()]
        sid = sid.scatter(rows, fixed)
    return sid.cast(pl.Int32)


def _direct(index: PrefixIndex, frame: pl.DataFrame, padded: str, length: str) -> pl.DataFrame:
    """Owners from the cell tables; the rows in still-mixed sub-cells are searched."""
    assert index.cells is not None and index.subcells is not None
    number = pl.col(padded).fill_null(0)
    cell = (number // CELL).clip(0, 10**CELL_DIGITS - 1)
    block = -3 - pl.col("sid1")
    sub = (block.clip(lower_bound=0) * 100 + number // (CELL // 100) % 100).clip(
        0, max(index.subcells.height - 1, 0)
    )
    deeper = pl.col("sid1") <= -3
    found = (
        frame.lazy()
        .select(
            number,
            pl.col(length).alias("n"),
            sid1=pl.lit(index.cells["sid"]).gather(cell),
            plen1=pl.lit(index.cells["plen"]).gather(cell),
        )
        .select(
            "n",
            sid=pl.when(deeper).then(pl.lit(index.subcells["sid"]).gather(sub)).otherwise(pl.col("sid1")),
            plen=pl.when(deeper).then(pl.lit(index.subcells["plen"]).gather(sub)).otherwise(pl.col("plen1")),
        )
        .collect()
    )
    mixed = found["sid"] == -2
    if mixed.any():
        rows = mixed.arg_true()
        pos = index.starts.search_sorted(frame[padded].gather(rows), side="right").cast(pl.Int64) - 1
        found = found.with_columns(
            sid=found["sid"].scatter(rows, index.set_ids.gather(pos).cast(pl.Int64)),
            plen=found["plen"].scatter(rows, index.lengths.gather(pos).cast(pl.Int64)),
        )
    return found
