"""Which rate prices each part of each record: tariff version, zone, destination set, time band.

A record of a time usage type (voice, video) is split where its time band changes: each part
keeps its offset range [a, b) within the event, so slots continue across the split. What a record
with one or two parts needs is a handful of expressions over the batch, so it runs in one lazy
query (`Plan.two_parts`); records with more parts are laid out part by part (`first_part`,
`further_parts`). Every per-row pass costs time, so what the batch as a whole rules out (invalid
records, roaming, several timezones) is left out of the query.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from telbill.catalog.tariffs import TIME_USAGE, USAGE_TYPES, VOLUME_USAGE
from telbill.rating.prefixes import PrefixIndex, needs_exact, set_of, with_owner
from telbill.rating.tariff import CompiledRating, CompiledVersion

TZ_SHIFT = 36  # instants are keyed (timezone index << 36) + epoch seconds
SENTINEL = 1 << (TZ_SHIFT - 1)  # the end of a timezone's timeline
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
    last: int  # latest start
    null_starts: int
    usages: tuple[str | None, ...]  # usage types present (any value, nulls included)
    timezones: tuple[str, ...]  # record timezones named in the batch
    roaming: bool
    clean: bool  # no record can be invalid
    shortest: int  # the shortest `other_party` (bytes)


def facts_of(frame: pl.DataFrame) -> Facts:
    ts, usage, dur = pl.col("start_time"), pl.col("usage_type"), pl.col("duration_s")
    row = frame.select(
        lo=ts.min().dt.epoch("s"),
        last=ts.max().dt.epoch("s"),
        nulls=ts.null_count(),
        dmin=dur.min(),
        dmax=dur.max(),
        dnull=dur.null_count(),
        vmin=pl.min_horizontal(pl.col("volume_up").min(), pl.col("volume_down").min()),
        vnull=pl.col("volume_up").null_count() + pl.col("volume_down").null_count(),
        roaming=pl.col("roaming").any(),
        named=(pl.col("timezone").str.len_bytes() > 0).any(),
        one=(usage == usage.first()).all() & (usage.null_count() == 0),
        first=usage.first(),
        shortest=pl.col("other_party").str.len_bytes().min(),
    ).row(0, named=True)
    usages = (row["first"],) if row["one"] else tuple(frame["usage_type"].unique().to_list())
    named = frame["timezone"].filter(frame["timezone"].str.len_bytes() > 0) if row["named"] else None
    timed, volume = (any(u in kind for u in usages) for kind in (TIME_USAGE, VOLUME_USAGE))
    clean = (
        not row["nulls"]
        and all(u in USAGE_TYPES for u in usages)
        and (not timed or (not row["dnull"] and row["dmin"] >= 0 and row["dmax"] <= MAX_DURATION_S))
        and (not volume or (not row["vnull"] and row["vmin"] >= 0))
    )
    lo, last = row["lo"] or 0, row["last"] or 0
    return Facts(
        lo=lo,
        hi=max(lo, last + min(max(row["dmax"] or 0, 0), MAX_DURATION_S)),
        last=last,
        null_starts=row["nulls"],
        usages=usages,
        timezones=tuple(sorted(set(named.unique().to_list()))) if named is not None else (),
        roaming=bool(row["roaming"]),
        clean=bool(clean),
        shortest=row["shortest"] or 0,
    )


def _one_usage(facts: Facts) -> str | None:
    """The batch's only usage type, when it has one (known) type."""
    return facts.usages[0] if len(facts.usages) == 1 and facts.usages[0] in USAGE_TYPES else None


def work_columns(rating: CompiledRating, facts: Facts) -> list[pl.Expr]:
    """Usage code, start (epoch s) and zone of each record."""
    present = [u for u in USAGE_TYPES if u in facts.usages]
    one = _one_usage(facts)
    if one is not None:
        usage = pl.lit(USAGE_TYPES.index(one), pl.Int64)
    else:
        usage = pl.lit(-1, pl.Int64)
        for u in present:
            usage = pl.when(pl.col("usage_type") == u).then(USAGE_TYPES.index(u)).otherwise(usage)
    return [usage.alias("_u"), pl.col("start_time").dt.epoch("s").alias("_start"), _zone(rating, facts)]


def quantity_column(facts: Facts) -> pl.Expr:
    one = _one_usage(facts)
    volume = pl.col("volume_up") + pl.col("volume_down")
    if one is not None:
        return (
            pl.col("duration_s")
            if one in TIME_USAGE
            else volume
            if one in VOLUME_USAGE
            else pl.lit(1, pl.Int64)
        ).alias("_q")
    quantity = (
        pl.when(pl.col("_u").is_in(TIME_CODES))
        .then(pl.col("duration_s"))
        .when(pl.col("_u").is_in(VOLUME_CODES))
        .then(volume)
        .otherwise(pl.lit(1, pl.Int64))
    )
    return quantity.alias("_q")


def _is_time(facts: Facts) -> pl.Expr | bool:
    one = _one_usage(facts)
    return pl.col("_u").is_in(TIME_CODES) if one is None else one in TIME_USAGE


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


def band_labels(band_codes: tuple[str, ...]) -> list[str]:
    """Band names by label index: 0 none, 1 + band, then 1 + n + first * n + second for two parts."""
    return ["", *band_codes, *(f"{x}+{y}" for x in band_codes for y in band_codes)]


class Plan:
    """One tariff version laid out for a batch: its band timeline, lookup tables and expressions."""

    def __init__(self, rating: CompiledRating, v: CompiledVersion, facts: Facts) -> None:
        self.rating, self.v, self.facts = rating, v, facts
        self.names = [v.timezone, *(t for t in facts.timezones if t != v.timezone)]  # no duplicate keys
        keys: list[int] = []
        bands: list[int] = []
        for i, tz in enumerate(self.names):
            b, band = v.calendar.timeline(tz, facts.lo, facts.hi)
            keys += [(i << TZ_SHIFT) + x for x in b] + [(i << TZ_SHIFT) + SENTINEL]
            bands += [v.band_ids[x] if x >= 0 else -1 for x in band] + [-1]  # sentinel: end of the zone
        self.bounds = pl.Series(keys, dtype=pl.Int64)
        self.plain = pl.Series([k - ((k >> TZ_SHIFT) << TZ_SHIFT) for k in keys], dtype=pl.Int64)
        self.bands = pl.Series(bands, dtype=pl.Int64)
        self.minutes = self._minute_table()
        self.at_start = self._start_tables(bands)
        self.dense = _rates_by_key(rating, v)
        zones, sets, nb = len(rating.zones.codes) + 1, len(v.set_local) + 1, len(rating.band_codes) + 1
        self.key_dims = (zones, sets * nb, nb)
        lut = [0] * (len(rating.set_codes) + 2)  # by set id + 2 (-2: to search, -1: none)
        for g, local in v.set_local.items():
            lut[g + 2] = local * nb
        self.set_keys = lut

    def _minute_table(self) -> pl.Series | None:
        """Interval index per minute of the batch's range and timezone, when band bounds are whole
        minutes and the table stays small; None means a sorted search per instant."""
        lo, hi = self.facts.lo // 60 * 60, self.facts.hi
        cells = (hi - lo) // 60 + 1
        ends = self.plain.filter(self.plain < SENTINEL)
        if cells * len(self.names) > MINUTE_CELLS_MAX or (ends % 60 != 0).any():
            return None
        minutes = pl.int_range(0, cells, dtype=pl.Int64, eager=True) * 60 + lo
        starts = pl.concat([minutes + (z << TZ_SHIFT) for z in range(len(self.names))])
        return self.bounds.search_sorted(starts, side="right").cast(pl.Int64) - 1

    def _start_tables(self, bands: list[int]) -> dict[str, pl.Series]:
        """What a record needs from the interval it starts in: its band and end, the next interval's
        band and end (a timezone's last interval ends at the sentinel), the band labels of one and
        of two parts. Per minute when there is a minute table, else per interval."""
        plain, n, nb = self.plain.to_list(), len(self.bands), len(self.rating.band_codes)
        end0 = [plain[j + 1] if j + 1 < n else SENTINEL for j in range(n)]
        end1 = [SENTINEL if e == SENTINEL or j + 1 >= n else end0[j + 1] for j, e in enumerate(end0)]
        second = [*bands[1:], -1]
        tables = {
            "_band": self.bands,
            "_band1": pl.Series(second, dtype=pl.Int64),
            "_e0": pl.Series(end0, dtype=pl.Int64),
            "_e1": pl.Series(end1, dtype=pl.Int64),
            "_lab0": pl.Series([b + 1 for b in bands], dtype=pl.Int64),
            "_lab2": pl.Series(
                [1 + nb + b * nb + c if b >= 0 and c >= 0 else 0 for b, c in zip(bands, second, strict=True)],
                dtype=pl.Int64,
            ),
        }
        if self.minutes is None:
            return tables
        return {name: table.gather(self.minutes) for name, table in tables.items()}

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
        """`_set` from the direct prefix tables and `_exact`: the rows those tables cannot answer
        (left out when no number is shorter than a prefix and no table cell is shared)."""
        groups = self.indexes()
        found, exact = pl.lit(-1, pl.Int32), pl.lit(False)
        for i, (index, usages) in enumerate(groups):
            owner = f"_owner{i}"
            lf = with_owner(lf, index, "_pad", owner)
            sid = set_of(pl.col(owner))
            fix = needs_exact(pl.col(owner), pl.col("_len"))
            if not index.searches and self.facts.shortest >= index.longest:
                fix = pl.lit(False)
            if len(groups) == 1 and _one_usage(self.facts) is not None:
                found, exact = sid, fix
            else:
                mine = pl.col("_u").is_in(usages)
                found = pl.when(mine).then(sid).otherwise(found)
                exact = pl.when(mine).then(fix).otherwise(exact)
        owners = [f"_owner{i}" for i in range(len(groups))]
        return lf.with_columns(found.alias("_set"), exact.alias("_exact")).drop(owners)

    def _set_key(self) -> pl.Expr:
        """The part of a record's rate key fixed by its usage type, zone and destination set."""
        zones, per_zone, _ = self.key_dims
        local = pl.lit(pl.Series(self.set_keys, dtype=pl.Int64)).gather(pl.col("_set").cast(pl.Int64) + 2)
        one = _one_usage(self.facts)
        if one is not None and not self.facts.roaming:
            return local + (USAGE_TYPES.index(one) + 1) * zones * per_zone + per_zone
        return local + ((pl.col("_u") + 1) * zones + pl.col("_zone") + 1) * per_zone

    def rate_of(self, band_column: str) -> pl.Expr:
        """The rate of (usage type, zone, destination set, band); null without one."""
        return pl.lit(self.dense).gather(pl.col("_key") + pl.col(band_column) + 1)

    def two_parts(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """Each record's first part [0, _b) and, when it crosses one band boundary (`_multi`), its
        second [_a1, _b1) in `_band1`, with their rates; `_long`: it crosses more than one.
        A second part is empty (b1 <= a1) unless the record crosses a boundary."""
        start, q = pl.col("_start"), pl.col("_q")
        if self.minutes is None:
            at = self.interval(start)
        else:
            lo, cells = self.facts.lo // 60 * 60, len(self.minutes) // len(self.names)
            at = (start - lo) // 60
            if len(self.names) > 1:
                at = pl.col("_tzi") * cells + at
        d0, d1 = pl.col("_e0") - start, pl.col("_e1") - start
        timed = _is_time(self.facts)
        if isinstance(timed, bool):
            q_time = q if timed else pl.lit(0, pl.Int64)
            span = dict(_multi=q_time > d0, _long=q_time > d1, _b=pl.min_horizontal(d0, q) if timed else q)
        else:
            q_time = pl.when(timed).then(q).otherwise(0)
            span = dict(
                _multi=q_time > d0,
                _long=q_time > d1,
                _b=pl.when(timed).then(pl.min_horizontal(d0, q)).otherwise(q),
            )
        out = (
            lf.with_columns(_at=at, _key=self._set_key())
            .with_columns(
                pl.lit(table).gather(pl.col("_at")).alias(name) for name, table in self.at_start.items()
            )
            .with_columns(**span, _a=pl.lit(0, pl.Int64), _a1=d0, _b1=pl.min_horizontal(d1, q_time))
        )
        return out.with_columns(_rate=self.rate_of("_band"), _rate1=self.rate_of("_band1"))

    def first_part(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """Each record's interval at its start and at its last second, its first part and that part's
        rate (the further parts of band-crossing records come from `further_parts`)."""
        crossing = pl.col("_i0") != pl.col("_i1")
        plain, start, q = pl.lit(self.plain), pl.col("_start"), pl.col("_q")
        is_time = pl.col("_u").is_in(TIME_CODES) & (q > 0)
        last = start + pl.when(is_time).then(q - 1).otherwise(0)
        out = lf.with_columns(
            _key=self._set_key(), _i0=self.interval(start), _i1=self.interval(last)
        ).with_columns(
            _multi=crossing,
            _part=pl.lit(0, pl.Int64),
            _k=pl.col("_i0"),
            _a=pl.lit(0, pl.Int64),
            _b=pl.when(crossing)
            .then(pl.min_horizontal(plain.gather(pl.col("_i0") + 1) - start, q))
            .otherwise(q),
        )
        return self.with_rate(out)

    def with_rate(self, parts: pl.LazyFrame) -> pl.LazyFrame:
        """The band of each part (interval `_k`) and its rate."""
        with_band = parts.with_columns(_band=pl.lit(self.bands).gather(pl.col("_k")))
        return with_band.with_columns(_rate=self.rate_of("_band"))

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


def _rates_by_key(rating: CompiledRating, v: CompiledVersion) -> pl.Series:
    """The version's rate ids (null: none) by ((usage + 1, zone + 1), set, band + 1): every key a
    record can make, unknown usage, zone or band included, falls inside the table."""
    name = f"rates_by_key:{id(v)}"
    found = rating.derived.get(name)
    if isinstance(found, pl.Series):
        return found
    dims = (len(USAGE_TYPES), len(rating.zones.codes), len(v.set_local) + 1, len(rating.band_codes))
    nz, ns, nb = dims[1] + 1, dims[2], dims[3] + 1
    i = pl.int_range(0, (dims[0] + 1) * nz * ns * nb, dtype=pl.Int64)
    b, s, z, u = i % nb, i // nb % ns, i // (nb * ns) % nz, i // (nb * ns * nz)
    old = (((u - 1) * dims[1] + z - 1) * dims[2] + s) * dims[3] + b - 1
    rate = pl.lit(v.dense).gather(old.clip(0, len(v.dense) - 1))
    table = pl.select(pl.when((u > 0) & (z > 0) & (b > 0) & (rate >= 0)).then(rate)).to_series()
    rating.derived[name] = table
    return table


def missing_rate(part: str = "") -> pl.Expr:
    return pl.col(f"_rate{part}").is_null()
