"""Which rate prices each part of each record: tariff version, zone, destination set, time band.

A record of a time usage type (voice, video) is split where its time band changes: each part
keeps its offset range [a, b) within the event, so slots continue across the split.
Records without a rate go to the tariff's fallback, then to rejects with the reason.
"""

from __future__ import annotations

import polars as pl

from telbill.catalog.tariffs import TIME_USAGE, USAGE_TYPES
from telbill.rating import schema
from telbill.rating.prefixes import match_sets
from telbill.rating.tariff import CompiledRating, CompiledTariff, CompiledVersion

TZ_SHIFT = 36  # instants are keyed (timezone index << 36) + epoch seconds
TIME_CODES = [USAGE_TYPES.index(u) for u in TIME_USAGE]
PART_COLUMNS = ["_row", "_part", "_rate", "_band", "_set", "_zone", "_a", "_b", "_multi"]


def match_parts(tariff: CompiledTariff, work: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(parts with their rate, unmatched work rows with `reject_reason`) through the fallback chain."""
    parts: list[pl.DataFrame] = []
    current: CompiledTariff | None = tariff
    remaining = work.with_columns(reject_reason=pl.lit(schema.NO_VERSION))
    while current is not None and remaining.height:
        misses = []
        for version, rows in _by_version(current, remaining):
            found, missed = _match_version(current.rating, version, rows)
            parts.append(found)
            misses.append(missed)
        misses.append(_outside_versions(current, remaining))
        remaining = pl.concat(misses, how="vertical_relaxed")
        current = current.fallback
    empty = pl.DataFrame(schema={c: pl.Boolean if c == "_multi" else pl.Int64 for c in PART_COLUMNS})
    if len(parts) == 1:
        return parts[0], remaining
    return pl.concat([empty, *(p.select(PART_COLUMNS) for p in parts)], how="vertical_relaxed"), remaining


def _by_version(tariff: CompiledTariff, rows: pl.DataFrame) -> list[tuple[CompiledVersion, pl.DataFrame]]:
    lo, hi = rows["_start"].min(), rows["_start"].max()
    out = []
    for v in tariff.versions:
        if v.start_s <= lo and hi < v.end_s:  # type: ignore[operator]
            return [(v, rows)]
        sub = rows.filter((pl.col("_start") >= v.start_s) & (pl.col("_start") < v.end_s))
        if sub.height:
            out.append((v, sub))
    return out


def _outside_versions(tariff: CompiledTariff, rows: pl.DataFrame) -> pl.DataFrame:
    inside = pl.lit(False)
    for v in tariff.versions:
        inside = inside | ((pl.col("_start") >= v.start_s) & (pl.col("_start") < v.end_s))
    return rows.filter(~inside).with_columns(reject_reason=pl.lit(schema.NO_VERSION))


def _match_version(
    rating: CompiledRating, v: CompiledVersion, rows: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    columns = rows.columns
    rows = rows.with_columns(_set=_global_sets(v, rows), _tzi=pl.lit(0, pl.Int64))
    bounds, bands, tz_index = _timeline(v, rows)
    rows = rows.with_columns(_tzi=tz_index)
    is_time = pl.col("_u").is_in(TIME_CODES) & (pl.col("_q") > 0)
    last = pl.col("_start") + pl.when(is_time).then(pl.col("_q") - 1).otherwise(0)
    plain = pl.Series([b - ((b >> TZ_SHIFT) << TZ_SHIFT) for b in bounds.to_list()], dtype=pl.Int64)
    crossing = pl.col("_i0") != pl.col("_i1")
    first_end = pl.min_horizontal(pl.lit(plain).gather(pl.col("_i0") + 1) - pl.col("_start"), pl.col("_q"))
    # every record's first part, in record order; the further parts of band-crossing records after them
    first = (
        rows.lazy()
        .select(
            "_row",
            "_u",
            "_q",
            "_start",
            "_zone",
            "_set",
            _local=_local_sets(rating, v),
            _i0=_interval(bounds, pl.col("_start"), rows),
            _i1=_interval(bounds, last, rows),
        )
        .with_columns(
            _multi=crossing,
            _part=pl.lit(0, pl.Int64),
            _k=pl.col("_i0"),
            _a=pl.lit(0, pl.Int64),
            _b=pl.when(crossing).then(first_end).otherwise(pl.col("_q")),
        )
    )
    pieces = [_with_rate(rating, v, bands, first).collect()]
    multi = pieces[0].filter(pl.col("_multi")).drop("_k", "_part", "_a", "_b", "_band", "_rate")
    if multi.height:
        further = (
            multi.lazy()
            .with_columns(_k=pl.int_ranges(pl.col("_i0") + 1, pl.col("_i1") + 1))
            .explode("_k")
            .with_columns(
                _part=pl.col("_k") - pl.col("_i0"),
                _a=pl.lit(plain).gather(pl.col("_k")) - pl.col("_start"),
                _b=pl.min_horizontal(pl.lit(plain).gather(pl.col("_k") + 1) - pl.col("_start"), pl.col("_q")),
            )
        )
        pieces.append(_with_rate(rating, v, bands, further).collect().select(pieces[0].columns))
    parts = pl.concat(pieces) if len(pieces) > 1 else pieces[0]
    return _split_misses(parts, rows, columns)


def _with_rate(
    rating: CompiledRating, v: CompiledVersion, bands: pl.Series, parts: pl.LazyFrame
) -> pl.LazyFrame:
    """The band of each part and the rate of (usage type, zone, destination set, band)."""
    dims = (len(rating.zones.codes), len(v.set_local) + 1, len(rating.band_codes))
    band = pl.lit(bands).gather(pl.col("_k"))
    key = ((pl.col("_u") * dims[0] + pl.col("_zone")) * dims[1] + pl.col("_local")) * dims[2] + pl.col(
        "_band"
    )
    return parts.with_columns(_band=band).with_columns(
        _rate=pl.when((pl.col("_zone") >= 0) & (pl.col("_band") >= 0)).then(
            pl.lit(v.dense).gather(key.clip(0))
        )
    )


def _split_misses(
    parts: pl.DataFrame, rows: pl.DataFrame, columns: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    missing = pl.col("_rate").is_null() | (pl.col("_rate") < 0)
    if not parts.select(missing.any()).item():
        return parts, rows.clear().select(columns)
    bad = parts.filter(missing)
    missed_rows = bad["_row"].unique()
    good = parts.filter(~pl.col("_row").is_in(missed_rows.implode()))
    reason = pl.when(pl.col("_zone") < 0).then(pl.lit(schema.NO_ZONE)).otherwise(pl.lit(schema.NO_TARIFF))
    missed = rows.filter(pl.col("_row").is_in(missed_rows.implode())).with_columns(reject_reason=reason)
    return good.select(PART_COLUMNS), missed.select(columns)


def _global_sets(v: CompiledVersion, rows: pl.DataFrame) -> pl.Series:
    """The set id (-1 none) matched by each row's number, with the index of its usage type."""
    result = pl.Series("_set", [-1] * rows.height, dtype=pl.Int32)
    present = set(rows["_u"].unique().to_list())
    groups: dict[int, list[int]] = {}
    for usage, index in v.prefix_index.items():
        u = USAGE_TYPES.index(usage)
        if u in present:
            groups.setdefault(id(index), []).append(u)
    for usages in groups.values():
        index = v.prefix_index[USAGE_TYPES[usages[0]]]
        found = match_sets(index, rows, "_pad", "_len", "other_party")
        if set(usages) >= present:
            return found
        mask = rows["_u"].is_in(usages)
        result = pl.select(pl.when(mask).then(found).otherwise(result)).to_series()
    return result.alias("_set")


def _local_sets(rating: CompiledRating, v: CompiledVersion) -> pl.Expr:
    lut = [0] * (len(rating.set_codes) + 1)
    for g, local in v.set_local.items():
        lut[g + 1] = local
    return pl.lit(pl.Series(lut, dtype=pl.Int64)).gather(pl.col("_set").cast(pl.Int64) + 1)


MINUTE_CELLS_MAX = 2_000_000


def _interval(bounds: pl.Series, instant: pl.Expr, rows: pl.DataFrame) -> pl.Expr:
    """Index of the timeline interval holding `instant` (epoch s) in each row's timezone.

    Band boundaries fall on whole minutes, so a table per minute of the batch's time range
    answers with one gather; otherwise (or for a very long range) a sorted search."""
    lo = int(rows["_start"].min()) // 60 * 60  # type: ignore[arg-type]
    hi = int(rows.select(instant.max()).item())
    cells = (hi - lo) // 60 + 1
    zones = int(rows["_tzi"].max()) + 1  # type: ignore[arg-type]
    key = pl.col("_tzi") * (1 << TZ_SHIFT) + instant
    plain = bounds % (1 << TZ_SHIFT)
    if cells * zones > MINUTE_CELLS_MAX or (plain.filter(plain < 1 << (TZ_SHIFT - 1)) % 60 != 0).any():
        return pl.lit(bounds).search_sorted(key, side="right").cast(pl.Int64) - 1
    minutes = pl.int_range(0, cells, dtype=pl.Int64, eager=True) * 60 + lo
    starts = pl.concat([minutes + (z << TZ_SHIFT) for z in range(zones)])
    table = bounds.search_sorted(starts, side="right").cast(pl.Int64) - 1
    return pl.lit(table).gather(pl.col("_tzi") * cells + (instant - lo) // 60)


def _timeline(v: CompiledVersion, rows: pl.DataFrame) -> tuple[pl.Series, pl.Series, pl.Expr]:
    """Boundaries keyed by timezone, the global band from each, and each row's timezone index."""
    named = rows.filter(pl.col("timezone").str.len_bytes() > 0)["timezone"]
    tzs = sorted(set(named.unique().to_list())) if named.len() else []
    names = [v.timezone, *tzs]
    lo = int(rows["_start"].min())  # type: ignore[arg-type]
    end = pl.when(pl.col("_u").is_in(TIME_CODES)).then(pl.col("_q")).otherwise(0) + pl.col("_start")
    hi = int(rows.select(end.max()).item())
    keys: list[int] = []
    bands: list[int] = []
    for i, tz in enumerate(names):
        b, band = v.calendar.timeline(tz, lo, hi)
        keys += [(i << TZ_SHIFT) + x for x in b] + [(i << TZ_SHIFT) + (1 << (TZ_SHIFT - 1))]
        bands += [v.band_ids[x] if x >= 0 else -1 for x in band] + [-1]  # sentinel: end of this zone
    tz_index = pl.col("timezone").replace_strict(
        names, list(range(len(names))), default=0, return_dtype=pl.Int64
    )
    if not tzs:
        tz_index = pl.lit(0, pl.Int64)
    return pl.Series(keys, dtype=pl.Int64), pl.Series(bands, dtype=pl.Int64), tz_index
