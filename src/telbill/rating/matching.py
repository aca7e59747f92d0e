"""Which rate prices each part of each record: tariff version, zone, destination set, time band.

A record of a time usage type (voice, video) is split where its time band changes: each part
keeps its offset range [a, b) within the event, so slots continue across the split. Everything a
record's first part needs is an expression over the batch, so it runs inside one lazy query; the
further parts of the few band-crossing records are laid out afterwards (`further_parts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from telbill.catalog.tariffs import TIME_USAGE, USAGE_TYPES, VOLUME_USAGE
from telbill.rating.prefixes import PrefixIndex, needs_exact, set_of, with_owner
from telbill.rating.tariff import CompiledRating, CompiledVersion

TZ_SHIFT = 36  # instants are keyed (timezone index << 36) + epoch seconds
TIME_CODES = [USAGE_TYPES.index(u) for u in TIME_USAGE]
VOLUME_CODES = [USAGE_TYPES.index(u) for u in VOLUME_USAGE]
MAX_DURATION_S = 31 * 86400
MINUTE_CELLS_MAX = 2_000_000
INVALID_REASONS = [
    "unknown usage type",
    "missing start_time",
    "negative or missing quantity",
    "duration longer than 31 days",
]


@dataclass(frozen=True)
class Facts:
    """What a batch's query plan depends on, from one cheap pass over it."""

    lo: int  # earliest start (epoch s)
    hi: int  # at or after the last second of every valid record
    usages: tuple[str | None, ...]  # usage types present (any value, nulls included)
    timezones: tuple[str, ...]  # record timezones named in the batch
    roaming: bool


def facts_of(frame: pl.DataFrame) -> Facts:
    start = pl.col("start_time").dt.epoch("s")
    usage = pl.col("usage_type")
    row = frame.select(
        lo=start.min(),
        last=start.max(),
        longest=pl.col("duration_s").clip(0, MAX_DURATION_S).max(),
        roaming=pl.col("roaming").any(),
        named=(pl.col("timezone").str.len_bytes() > 0).any(),
        one=(usage == usage.first()).all() & (usage.null_count() == 0),
        first=usage.first(),
    ).row(0, named=True)
    usages = (row["first"],) if row["one"] else tuple(frame["usage_type"].unique().to_list())
    named = frame["timezone"].filter(frame["timezone"].str.len_bytes() > 0) if row["named"] else None
    lo = row["lo"] if row["lo"] is not None else 0
    return Facts(
        lo=lo,
        hi=max(lo, (row["last"] or 0) + (row["longest"] or 0)),
        usages=usages,
        timezones=tuple(sorted(set(named.unique().to_list()))) if named is not None else (),
        roaming=bool(row["roaming"]),
    )


def work_columns(rating: CompiledRating, facts: Facts) -> list[pl.Expr]:
    """Usage code, start (epoch s), quantity and zone of each record."""
    present = [u for u in USAGE_TYPES if u in facts.usages]
    if len(facts.usages) == 1 and present:
        usage = pl.lit(USAGE_TYPES.index(present[0]), pl.Int64)
    else:
        usage = pl.lit(-1, pl.Int64)
        for u in present:
            usage = pl.when(pl.col("usage_type") == u).then(USAGE_TYPES.index(u)).otherwise(usage)
    return [usage.alias("_u"), pl.col("start_time").dt.epoch("s").alias("_start"), _zone(rating, facts)]


def quantity_columns() -> list[pl.Expr]:
    quantity = (
        pl.when(pl.col("_u").is_in(TIME_CODES))
        .then(pl.col("duration_s"))
        .when(pl.col("_u").is_in(VOLUME_CODES))
        .then(pl.col("volume_up") + pl.col("volume_down"))
        .otherwise(pl.lit(1, pl.Int64))
    )
    return [quantity.alias("_q")]


def invalid_code() -> pl.Expr:
    """Index into INVALID_REASONS, null for a valid record."""
    return (
        pl.when(pl.col("_u") < 0)
        .then(pl.lit(0, pl.Int8))
        .when(pl.col("_start").is_null())
        .then(pl.lit(1, pl.Int8))
        .when(pl.col("_q").is_null() | (pl.col("_q") < 0))
        .then(pl.lit(2, pl.Int8))
        .when(pl.col("_u").is_in(TIME_CODES) & (pl.col("_q") > MAX_DURATION_S))
        .then(pl.lit(3, pl.Int8))
    )


def _zone(rating: CompiledRating, facts: Facts) -> pl.Expr:
    if not facts.roaming:
        return pl.lit(0, pl.Int64).alias("_zone")
    zones = rating.zones
    keys = pl.when(pl.col("roaming")).then(pl.concat_str("visited_mcc", pl.lit("-"), "visited_mnc"))
    by_net = keys.replace_strict(zones.networks, default=None, return_dtype=pl.Int64)
    by_mcc = pl.col("visited_mcc").replace_strict(
        zones.networks, default=zones.default, return_dtype=pl.Int64
    )
    return pl.when(pl.col("roaming")).then(pl.coalesce(by_net, by_mcc)).otherwise(0).alias("_zone")


class Plan:
    """One tariff version laid out for a batch: its band timeline, lookup tables and expressions."""

    def __init__(self, rating: CompiledRating, v: CompiledVersion, facts: Facts) -> None:
        self.rating, self.v, self.facts = rating, v, facts
        self.names = [v.timezone, *facts.timezones]
        keys: list[int] = []
        bands: list[int] = []
        for i, tz in enumerate(self.names):
            b, band = v.calendar.timeline(tz, facts.lo, facts.hi)
            keys += [(i << TZ_SHIFT) + x for x in b] + [(i << TZ_SHIFT) + (1 << (TZ_SHIFT - 1))]
            bands += [v.band_ids[x] if x >= 0 else -1 for x in band] + [-1]  # sentinel: end of the zone
        self.bounds = pl.Series(keys, dtype=pl.Int64)
        self.plain = pl.Series([k - ((k >> TZ_SHIFT) << TZ_SHIFT) for k in keys], dtype=pl.Int64)
        self.bands = pl.Series(bands, dtype=pl.Int64)
        self.minutes = self._minute_table()
        lut = [0] * (len(rating.set_codes) + 1)
        for g, local in v.set_local.items():
            lut[g + 1] = local
        self.local = pl.Series(lut, dtype=pl.Int64)

    def _minute_table(self) -> pl.Series | None:
        """Interval index per minute of the batch's range and timezone, when band bounds are whole
        minutes and the table stays small; None means a sorted search per instant."""
        lo, hi = self.facts.lo // 60 * 60, self.facts.hi
        cells = (hi - lo) // 60 + 1
        ends = self.plain.filter(self.plain < 1 << (TZ_SHIFT - 1))
        if cells * len(self.names) > MINUTE_CELLS_MAX or (ends % 60 != 0).any():
            return None
        minutes = pl.int_range(0, cells, dtype=pl.Int64, eager=True) * 60 + lo
        starts = pl.concat([minutes + (z << TZ_SHIFT) for z in range(len(self.names))])
        return self.bounds.search_sorted(starts, side="right").cast(pl.Int64) - 1

    def interval(self, instant: pl.Expr) -> pl.Expr:
        """Index of the timeline interval holding `instant` (epoch s) in the row's timezone."""
        if self.minutes is None:
            key = pl.col("_tzi") * (1 << TZ_SHIFT) + instant
            return pl.lit(self.bounds).search_sorted(key, side="right").cast(pl.Int64) - 1
        lo = self.facts.lo // 60 * 60
        cells = len(self.minutes) // len(self.names)
        minute = ((instant - lo) // 60).clip(0, cells - 1)  # clipped only for invalid rows
        return pl.lit(self.minutes).gather(pl.col("_tzi") * cells + minute)

    def timezone_index(self) -> pl.Expr:
        if len(self.names) == 1:
            return pl.lit(0, pl.Int64)
        return pl.col("timezone").replace_strict(
            self.names, list(range(len(self.names))), default=0, return_dtype=pl.Int64
        )

    def indexes(self) -> list[tuple[PrefixIndex, list[int]]]:
        """The prefix indexes the batch's usage types need, each with its usage codes."""
        groups: dict[int, tuple[PrefixIndex, list[int]]] = {}
        for usage, index in self.v.prefix_index.items():
            if usage in self.facts.usages:
                groups.setdefault(id(index), (index, []))[1].append(USAGE_TYPES.index(usage))
        return list(groups.values())

    def with_sets(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """`_set` from the direct prefix tables and `_exact`: the rows those tables cannot answer."""
        groups = self.indexes()
        found, exact = pl.lit(-1, pl.Int32), pl.lit(False)
        for i, (index, usages) in enumerate(groups):
            owner = f"_owner{i}"
            lf = with_owner(lf, index, "_pad", owner)
            sid, fix = set_of(pl.col(owner), pl.col("_len")), needs_exact(pl.col(owner), pl.col("_len"))
            if len(groups) == 1 and len(self.facts.usages) == 1:
                found, exact = sid, fix
            else:
                mine = pl.col("_u").is_in(usages)
                found, exact = (
                    pl.when(mine).then(sid).otherwise(found),
                    pl.when(mine).then(fix).otherwise(exact),
                )
        owners = [f"_owner{i}" for i in range(len(groups))]
        return lf.with_columns(found.alias("_set"), exact.alias("_exact")).drop(owners)

    def first_part(self, lf: pl.LazyFrame, second: bool = False) -> pl.LazyFrame:
        """Each record's interval at its start and at its last second, its first part and that part's
        rate; with `second`, also the second part of a record that crosses one band boundary
        (`_a1`, `_b1`, `_band1`, `_rate1`) and `_long`: it crosses more than one."""
        is_time = pl.col("_u").is_in(TIME_CODES) & (pl.col("_q") > 0)
        last = pl.col("_start") + pl.when(is_time).then(pl.col("_q") - 1).otherwise(0)
        crossing = pl.col("_i0") != pl.col("_i1")
        plain, start, q = pl.lit(self.plain), pl.col("_start"), pl.col("_q")
        out = lf.with_columns(
            _local=pl.lit(self.local).gather((pl.col("_set").cast(pl.Int64) + 1).clip(lower_bound=0)),
            _i0=self.interval(start),
            _i1=self.interval(last),
        ).with_columns(
            _multi=crossing,
            _part=pl.lit(0, pl.Int64),
            _k=pl.col("_i0"),
            _a=pl.lit(0, pl.Int64),
            _b=pl.when(crossing)
            .then(pl.min_horizontal(plain.gather(pl.col("_i0") + 1) - start, q))
            .otherwise(q),
        )
        if not second:
            return self.with_rate(out)
        k1 = (pl.col("_i0") + 1).clip(upper_bound=len(self.plain) - 2)  # in range for every row
        out = out.with_columns(_k1=k1, _long=pl.col("_i1") - pl.col("_i0") > 1).with_columns(
            _a1=plain.gather(pl.col("_k1")) - start,
            _b1=pl.min_horizontal(plain.gather(pl.col("_k1") + 1) - start, q),
        )
        return self.with_rate(self.with_rate(out), "1")

    def with_rate(self, parts: pl.LazyFrame, part: str = "") -> pl.LazyFrame:
        """The band of each part (interval `_k`) and the rate of (usage, zone, destination set, band)."""
        dims = (len(self.rating.zones.codes), len(self.v.set_local) + 1, len(self.rating.band_codes))
        u, zone, local, band = (pl.col(c) for c in ("_u", "_zone", "_local", f"_band{part}"))
        key = ((u * dims[0] + zone) * dims[1] + local) * dims[2] + band
        found = pl.when((zone >= 0) & (band >= 0)).then(pl.lit(self.v.dense).gather(key.clip(0)))
        with_band = parts.with_columns(pl.lit(self.bands).gather(pl.col(f"_k{part}")).alias(f"_band{part}"))
        return with_band.with_columns(found.alias(f"_rate{part}"))

    def further_parts(self, multi: pl.DataFrame) -> pl.LazyFrame:
        """Parts 1.. of band-crossing records, each with its offset range [a, b) in the event."""
        plain = pl.lit(self.plain)
        further = (
            multi.lazy()
            .with_columns(_k=pl.int_ranges(pl.col("_i0") + 1, pl.col("_i1") + 1))
            .explode("_k")
            .with_columns(
                _part=pl.col("_k") - pl.col("_i0"),
                _a=plain.gather(pl.col("_k")) - pl.col("_start"),
                _b=pl.min_horizontal(plain.gather(pl.col("_k") + 1) - pl.col("_start"), pl.col("_q")),
            )
        )
        return self.with_rate(further)


def missing_rate(part: str = "") -> pl.Expr:
    return pl.col(f"_rate{part}").is_null() | (pl.col(f"_rate{part}") < 0)
