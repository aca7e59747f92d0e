"""Longest-prefix match of E.164 numbers against destination-set prefixes.

Each prefix of length L covers the range [p·10^(15-L), (p+1)·10^(15-L)) of numbers padded to 15
digits. Prefix ranges nest or are disjoint, so they flatten into sorted elementary intervals each
owned by its innermost (longest) prefix: matching is then one sorted search per number. A big index
also gets direct tables on the first 6 digits, then 2 more digits for the cells that several
intervals share, so most numbers are answered by one or two gathers.

An owner is packed in one Int32: `(set id + 1) << 4 | prefix length` (lengths are at most 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import polars as pl

F = TypeVar("F", pl.DataFrame, pl.LazyFrame)

PAD = 15
POWERS = [10**k for k in range(PAD + 1)]
CELL_DIGITS = 6  # a direct table on the first 6 digits answers most numbers without a search
CELL = 10 ** (PAD - CELL_DIGITS)
SUB = CELL // 100  # second level: 2 more digits
DIRECT_FROM = 256  # intervals from which the direct tables pay for themselves
SEARCH = -1  # a table cell shared by several intervals: search the number
BUILD_CHUNK = 2_000  # mixed cells per step when building the second level (bounds the temporaries)


@dataclass(frozen=True)
class PrefixIndex:
    """Sorted interval starts with the packed owner of each interval, and the direct tables.

    `cells` (10^6 entries): an owner (≥ 0), SEARCH, or -(2 + block) where `subcells[block*100 + d]`
    holds the owners of the cell by its next two digits `d` (an owner or SEARCH)."""

    starts: pl.Series  # Int64
    owners: pl.Series  # Int32, packed
    entries: tuple[tuple[str, int], ...]  # (prefix, set id), first listing of each prefix
    cells: pl.Series | None = None
    subcells: pl.Series | None = None

    @property
    def set_ids(self) -> pl.Series:
        return self.owners // 16 - 1

    @property
    def lengths(self) -> pl.Series:
        return self.owners % 16

    @cached_property
    def by_length(self) -> dict[int, dict[str, int]]:
        """Prefix → set id per prefix length, for the per-record reference (built on first use)."""
        out: dict[int, dict[str, int]] = {}
        for prefix, sid in self.entries:
            out.setdefault(len(prefix), {})[prefix] = sid
        return out

    @cached_property
    def longest(self) -> int:
        """The longest prefix's length (a shorter number may need the exact lookup)."""
        return int(self.lengths.max() or 0)  # type: ignore[arg-type]

    @cached_property
    def searches(self) -> bool:
        """Whether the direct tables send some numbers to the sorted search."""
        return any(t is not None and bool((t == SEARCH).any()) for t in (self.cells, self.subcells))

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
    ranges = sorted(
        (int(p) * POWERS[PAD - len(p)], (int(p) + 1) * POWERS[PAD - len(p)], sid, len(p))
        for p, sid in first.items()
    )
    ranges.sort(key=lambda r: (r[0], -r[1]))  # outer prefix first when two start together
    out: list[tuple[int, int]] = [(0, 0)]  # (start, packed owner); 0 = no set, length 0
    stack: list[tuple[int, int]] = []  # (end, packed owner) of the open prefixes

    def emit(pos: int, owner: int) -> None:
        if out[-1][0] == pos:
            out[-1] = (pos, owner)
        else:
            out.append((pos, owner))

    def pop_until(pos: int | None) -> None:
        while stack and (pos is None or stack[-1][0] <= pos):
            end = stack.pop()[0]
            emit(end, stack[-1][1] if stack else 0)

    for start, end, sid, length in ranges:
        pop_until(start)
        owner = (sid + 1) << 4 | length
        emit(start, owner)
        stack.append((end, owner))
    pop_until(None)
    starts = pl.Series("starts", [o[0] for o in out], dtype=pl.Int64)
    owners = pl.Series("owners", [o[1] for o in out], dtype=pl.Int32)
    cells, subcells = _tables(starts, owners) if len(out) >= DIRECT_FROM else (None, None)
    return PrefixIndex(starts, owners, tuple(first.items()), cells, subcells)


def _tables(starts: pl.Series, owners: pl.Series) -> tuple[pl.Series, pl.Series | None]:
    level1 = _owners(
        starts, owners, pl.int_range(0, 10**CELL_DIGITS, dtype=pl.Int64, eager=True) * CELL, CELL
    )
    mixed = (level1 == SEARCH).arg_true().cast(pl.Int64)
    if not len(mixed):
        return level1, None
    level2 = [_level2(starts, owners, mixed.slice(i, BUILD_CHUNK)) for i in range(0, len(mixed), BUILD_CHUNK)]
    blocks = pl.int_range(0, len(mixed), dtype=pl.Int32, eager=True)
    return level1.scatter(mixed, -2 - blocks), pl.concat(level2)


def _level2(starts: pl.Series, owners: pl.Series, cells: pl.Series) -> pl.Series:
    """Owners of the 100 sub-cells of each of `cells` (cell numbers), in cell order."""
    i = pl.int_range(0, 100 * len(cells), dtype=pl.Int64)
    firsts = pl.select(pl.lit(cells).gather(i // 100) * CELL + i % 100 * SUB).to_series()
    return _owners(starts, owners, firsts, SUB)


def _owners(starts: pl.Series, owners: pl.Series, first: pl.Series, size: int) -> pl.Series:
    """The owner of each range [first, first + size) when one interval covers it, else SEARCH."""
    pos = starts.search_sorted(first, side="right").cast(pl.Int64) - 1
    after = pl.concat([starts, pl.Series([1 << 62], dtype=pl.Int64)])
    return pl.select(
        pl.when(pl.lit(after).gather(pos + 1) >= first + size)
        .then(pl.lit(owners).gather(pos))
        .otherwise(pl.lit(SEARCH, pl.Int32))
    ).to_series()


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


def with_owner(lf: pl.LazyFrame, index: PrefixIndex, padded: str, owner: str) -> pl.LazyFrame:
    """Add the packed owner of each padded number (null when the number is null); SEARCH where the
    direct tables cannot tell. Without direct tables (a small index) this is the sorted search.
    Each table is read once per row: the levels are separate steps, so no gather runs twice."""
    number = pl.col(padded)
    if index.cells is None:
        pos = pl.lit(index.starts).search_sorted(number.fill_null(0), side="right").cast(pl.Int64) - 1
        found = pl.when(number.is_not_null()).then(pl.lit(index.owners).gather(pos.clip(0)))
        return lf.with_columns(found.alias(owner))
    lf = lf.with_columns(pl.lit(index.cells).gather(number // CELL).alias(owner))  # numbers are < 10^15
    if index.subcells is None:
        return lf
    block = pl.max_horizontal(-2 - pl.col(owner), 0).cast(pl.Int64)
    level2 = pl.lit(index.subcells).gather(block * 100 + number // SUB % 100)
    return lf.with_columns(pl.when(pl.col(owner) <= -2).then(level2).otherwise(pl.col(owner)).alias(owner))


def set_of(owner: pl.Expr) -> pl.Expr:
    """Set id from a packed owner: -1 none (or no number), -2 where the tables say SEARCH."""
    return (owner // 16 - 1).fill_null(-1).cast(pl.Int32)


def needs_exact(owner: pl.Expr, length: pl.Expr) -> pl.Expr:
    """Rows the tables cannot answer: a shared cell, or a number shorter than its padded match."""
    return ((owner == SEARCH) | (owner % 16 > length)).fill_null(False)


def match_sets(index: PrefixIndex, frame: pl.DataFrame, padded: str, length: str, digits: str) -> pl.Series:
    """The set id (-1 none) of each row's longest matching prefix, exactly."""
    owner = with_owner(frame.lazy().select(padded), index, padded, "_owner").collect()["_owner"]
    search = (owner == SEARCH).arg_true()
    if len(search):
        pos = index.starts.search_sorted(frame[padded].gather(search).fill_null(0), side="right")
        owner = owner.scatter(search, index.owners.gather(pos.cast(pl.Int64) - 1))
    found = frame.select(
        sid=set_of(pl.lit(owner)), short=(pl.lit(owner) % 16 > pl.col(length)).fill_null(False)
    )
    sid = found["sid"]
    if found["short"].any():  # numbers shorter than their padded match: look them up digit by digit
        rows = found["short"].arg_true()
        sid = sid.scatter(rows, [index.lookup(d)[0] for d in frame[digits].gather(rows).to_list()])
    return sid.cast(pl.Int32).alias("_set")
