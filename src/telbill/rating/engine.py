"""The vectorised rating engine: (tariff, usage batch, balances) -> (rated, rejects, balance deltas).

Pure and integer-only. Each part of a record is priced slot by slot: the increments of a slot that
start inside the part are charged whole; a slot's price per base unit is an exact integer in units
of 1/scale micro-units. The event total (connect fee + usage, at least the minimum, at most the cap;
nothing when no usage is paid) is rounded once, to the version's decimals by its method.
Allowances draw on the charged quantity in event-time order before pricing what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from telbill.catalog.tariffs import TIME_USAGE, USAGE_TYPES, VOLUME_USAGE
from telbill.rating import schema
from telbill.rating.allowances import Bucket, draw_money, draw_units
from telbill.rating.matching import match_parts
from telbill.rating.prefixes import with_padded_number
from telbill.rating.tariff import CompiledRating, CompiledTariff, rate_table

MAX_DURATION_S = 31 * 86400


@dataclass(frozen=True)
class RatingResult:
    rated: pl.DataFrame
    rejects: pl.DataFrame
    balance_deltas: pl.DataFrame  # bucket_id, consumed (in the bucket's unit)


def rate(
    tariff: CompiledTariff, batch: pl.DataFrame | pa.Table, balances: Sequence[Bucket] = ()
) -> RatingResult:
    """Rate a batch of normalised usage with one tariff (and its fallbacks).

    Pure: the balances are read, never changed; their consumption comes back as deltas."""
    frame = schema.conform(batch if isinstance(batch, pl.DataFrame) else pl.from_arrow(batch))  # type: ignore[arg-type]
    stale = [c for c in (*schema.RATED_COLUMNS, *schema.REJECT_COLUMNS) if c in frame.columns]
    frame = frame.drop(stale)  # rating a rated file again replaces its rating
    frame = frame.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    work = _work(tariff, frame)
    if work["_invalid"].null_count() == work.height:
        invalid = work.clear()
    else:
        invalid = work.filter(pl.col("_invalid").is_not_null())
        work = work.filter(pl.col("_invalid").is_null())
    none = work.clear().with_columns(reject_reason=pl.lit(None, pl.String))
    parts, missed = match_parts(tariff, work) if work.height else (None, none)
    records, parts = _price(tariff, parts) if parts is not None else (None, None)
    deltas: list[pl.DataFrame] = []
    if records is not None and records.height:
        if balances:
            who = frame.select("_row", "record_id", "account_id")
            records = records.join(work.select("_row", "_u", "_start"), on="_row").join(who, on="_row")
        records, parts, deltas = _apply_allowances(tariff, records, parts, balances)
        records = _finish(tariff, records)
        if any(b.unit == "micros" for b in balances):
            records, delta = draw_money(records, balances, tariff.rating)
            deltas.append(delta)
    return RatingResult(
        rated=_rated(frame, records, tariff.rating),
        rejects=_rejects(frame, invalid, missed, records),
        balance_deltas=_deltas(deltas),
    )


def _work(tariff: CompiledTariff, frame: pl.DataFrame) -> pl.DataFrame:
    zones = tariff.rating.zones
    usage = pl.col("usage_type").replace_strict(
        list(USAGE_TYPES), list(range(len(USAGE_TYPES))), default=-1, return_dtype=pl.Int64
    )
    time_codes = [USAGE_TYPES.index(u) for u in TIME_USAGE]
    volume_codes = [USAGE_TYPES.index(u) for u in VOLUME_USAGE]
    qty = (
        pl.when(pl.col("_u").is_in(time_codes))
        .then(pl.col("duration_s"))
        .when(pl.col("_u").is_in(volume_codes))
        .then(pl.col("volume_up") + pl.col("volume_down"))
        .otherwise(pl.lit(1, pl.Int64))
    )
    work = (
        frame.lazy()
        .select(
            "_row",
            "other_party",
            "timezone",
            "duration_s",
            "volume_up",
            "volume_down",
            _u=usage,
            _start=pl.col("start_time").dt.epoch("s"),
        )
        .with_columns(_q=qty)
        .drop("duration_s", "volume_up", "volume_down")
    )
    work = with_padded_number(work, "other_party", "_pad", "_len").collect()
    if frame["roaming"].any():
        keys = pl.when(pl.col("roaming")).then(pl.concat_str("visited_mcc", pl.lit("-"), "visited_mnc"))
        by_net = keys.replace_strict(zones.networks, default=None, return_dtype=pl.Int64)
        by_mcc = pl.col("visited_mcc").replace_strict(
            zones.networks, default=zones.default, return_dtype=pl.Int64
        )
        zone = pl.when(frame["roaming"]).then(pl.coalesce(by_net, by_mcc)).otherwise(0)
        work = work.with_columns(_zone=frame.select(zone).to_series())
    else:
        work = work.with_columns(_zone=pl.lit(0, pl.Int64))
    bad = (
        pl.when(pl.col("_u") < 0)
        .then(pl.lit(0, pl.Int8))
        .when(pl.col("_start").is_null())
        .then(pl.lit(1, pl.Int8))
        .when(pl.col("_q").is_null() | (pl.col("_q") < 0))
        .then(pl.lit(2, pl.Int8))
        .when(pl.col("_u").is_in(time_codes) & (pl.col("_q") > MAX_DURATION_S))
        .then(pl.lit(3, pl.Int8))
    )
    return work.with_columns(_invalid=bad)


INVALID_REASONS = [
    "unknown usage type",
    "missing start_time",
    "negative or missing quantity",
    "duration longer than 31 days",
]


def attr(table: pl.DataFrame, name: str, rate: pl.Expr) -> pl.Expr:
    """A rate attribute per row: a literal when every rate has the same value, else a gather."""
    column = table[name]
    if column.n_unique() == 1:
        return pl.lit(column[0], pl.Int64)
    return pl.lit(column).gather(rate)


def _price(tariff: CompiledTariff, parts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(records with charged quantity and scaled amount, parts with their per-slot quantities)."""
    table = rate_table(tariff.rating)
    width = sum(1 for c in table.columns if c.endswith("_inc"))
    rate = pl.col("_rate")
    exprs = []
    for i in range(width):
        start, end, inc = (attr(table, f"s{i}_{n}", rate) for n in ("start", "end", "inc"))
        lo = (pl.col("_a") - start).clip(lower_bound=0)  # the part within the slot, from the slot start
        hi = (pl.col("_b") - start).clip(upper_bound=end - start)
        count = ((hi + inc - 1) // inc - (lo + inc - 1) // inc).clip(lower_bound=0)
        exprs.append((count * inc).alias(f"_c{i}"))
    amount = pl.sum_horizontal(pl.col(f"_c{i}") * attr(table, f"s{i}_per", rate) for i in range(width))
    mask = pl.sum_horizontal((pl.col(f"_c{i}") > 0).cast(pl.Int64) * (1 << i) for i in range(width))
    band_names = pl.Series(tariff.rating.band_codes, dtype=pl.String)
    parts = (
        parts.lazy()
        .with_columns(exprs)
        .with_columns(
            _charged=pl.sum_horizontal(pl.col(f"_c{i}") for i in range(width)),
            _amount=amount,
            _mask=mask,
            _bands=pl.lit(band_names).gather(pl.col("_band")),
        )
        .collect()
    )
    n_extra = int((parts["_part"] > 0).sum())
    if n_extra == 0:
        records = parts
    else:
        base = parts.head(parts.height - n_extra)
        merged = (
            parts.lazy()
            .filter(pl.col("_multi"))
            .sort("_row", "_part")
            .group_by("_row", maintain_order=True)
            .agg(
                pl.col("_charged", "_amount").sum(),
                pl.col("_mask").bitwise_or(),
                pl.col("_bands").str.join("+"),
            )
            .collect()
        )
        if base["_part"].max() != 0 or not base["_row"].is_sorted():  # several versions or fallbacks
            base = parts.filter(pl.col("_part") == 0).sort("_row")
        records = _update_rows(base, merged)
    return records.select("_row", "_rate", "_set", "_zone", "_charged", "_amount", "_mask", "_bands"), parts


def _update_rows(base: pl.DataFrame, merged: pl.DataFrame) -> pl.DataFrame:
    """First parts (sorted by record) with the totals of multi-part records put in place."""
    at = base["_row"].search_sorted(merged["_row"]).cast(pl.Int64)
    return base.with_columns(base[c].scatter(at, merged[c]) for c in merged.columns if c != "_row")


def _apply_allowances(
    tariff: CompiledTariff, records: pl.DataFrame, parts: pl.DataFrame, balances: Sequence[Bucket]
) -> tuple[pl.DataFrame, pl.DataFrame, list[pl.DataFrame]]:
    if not any(b.unit != "micros" for b in balances):
        return records.with_columns(_free=pl.lit(0, pl.Int64), _buckets=pl.lit(None, pl.String)), parts, []
    drawn, delta = draw_units(records, balances, tariff.rating)
    records = records.join(drawn, on="_row", how="left").with_columns(pl.col("_free").fill_null(0))
    width = sum(1 for c in parts.columns if c.startswith("_c") and c[2:].isdigit())
    table = rate_table(tariff.rating)
    p = parts.sort("_row", "_part").join(records.select("_row", "_free"), on="_row")
    p = p.with_columns(_before=pl.col("_charged").cum_sum().over("_row") - pl.col("_charged"))
    paid = []
    for i in range(width):
        before = pl.col("_before") + pl.sum_horizontal(
            [pl.lit(0, pl.Int64)] + [pl.col(f"_c{j}") for j in range(i)]
        )
        covered = pl.min_horizontal((pl.col("_free") - before).clip(0), pl.col(f"_c{i}"))
        paid.append((pl.col(f"_c{i}") - covered) * pl.lit(table[f"s{i}_per"]).gather(pl.col("_rate")))
    amounts = p.group_by("_row").agg(_paid_amount=pl.sum_horizontal(paid).sum())
    records = (
        records.join(amounts, on="_row").with_columns(_amount=pl.col("_paid_amount")).drop("_paid_amount")
    )
    return records, parts, [delta]


def _finish(tariff: CompiledTariff, records: pl.DataFrame) -> pl.DataFrame:
    """Connect fee, minimum, cap and the one rounding of the event total, in micros."""
    table = rate_table(tariff.rating)
    a = {n: attr(table, n, pl.col("_rate")) for n in ("connect", "minimum", "cap", "scale", "decimals")}
    paid = pl.col("_charged") - pl.col("_free") > 0
    total = pl.when(paid).then(pl.max_horizontal(a["connect"] + pl.col("_amount"), a["minimum"])).otherwise(0)
    if (table["cap"] >= 0).any():
        total = pl.when(a["cap"] >= 0).then(pl.min_horizontal(total, a["cap"])).otherwise(total)
    unit = pl.lit(pl.Series([10 ** (6 - d) for d in range(7)], dtype=pl.Int64)).gather(a["decimals"])
    quantum = unit * a["scale"]
    t = pl.col("_total")
    by_method = [(t + quantum - 1) // quantum, t // quantum, (2 * t + quantum) // (2 * quantum)]
    methods = table["method"].unique().to_list()
    rounded = by_method[methods[0]]
    if len(methods) > 1:
        method = pl.lit(table["method"]).gather(pl.col("_rate"))
        rounded = (
            pl.when(method == 0)
            .then(by_method[0])
            .when(method == 1)
            .then(by_method[1])
            .otherwise(by_method[2])
        )
    finished = records.lazy().with_columns(_total=total)
    return finished.with_columns(amount_micros=rounded * unit, covered_micros=pl.lit(0, pl.Int64)).collect()


def _rated(frame: pl.DataFrame, records: pl.DataFrame | None, rating: CompiledRating) -> pl.DataFrame:
    if records is None or not records.height:
        return (
            frame.clear()
            .drop("_row")
            .with_columns([pl.lit(None, dtype=t).alias(n) for n, t in schema.RATED_COLUMNS.items()])
        )
    rating_cols = _describe(records, rating)
    rating_cols = rating_cols.sort("_row") if not rating_cols["_row"].is_sorted() else rating_cols
    base = frame.drop("_row")
    if records.height != frame.height:
        base = base[rating_cols["_row"]]
    return pl.concat([base, rating_cols.drop("_row")], how="horizontal")


def _describe(records: pl.DataFrame, rating: CompiledRating) -> pl.DataFrame:
    """The rating columns of each record, in the order of `_row`."""
    rates = rating.rates
    rid = pl.col("_rate")
    width = max((len(r.slots) for r in rates), default=1)
    slot_text = [",".join(str(i + 1) for i in range(width) if m >> i & 1) for m in range(1 << width)]
    return (
        records.lazy()
        .select(
            "_row",
            "amount_micros",
            currency=label([r.currency for r in rates], rid),
            tariff=label([r.tariff_code for r in rates], rid),
            tariff_version=pl.lit(pl.Series([r.version for r in rates], dtype=pl.Int64)).gather(rid),
            destination_set=label([None, *rating.set_codes], pl.col("_set").cast(pl.Int64) + 1),
            zone=label(list(rating.zones.codes), pl.col("_zone")),
            bands=pl.col("_bands"),
            slots_used=label(slot_text, pl.col("_mask")),
            charged_quantity=pl.col("_charged"),
            free_quantity=pl.col("_free"),
            bucket_ids=pl.col("_buckets"),
            covered_micros=pl.col("covered_micros"),
        )
        .collect()
    )


def label(values: list[str | None], index: pl.Expr) -> pl.Expr:
    """Text per row from a small table: a literal when the table has one value."""
    if len(set(values)) == 1:
        return pl.lit(values[0], pl.String)
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(index)


def _rejects(
    frame: pl.DataFrame, invalid: pl.DataFrame, missed: pl.DataFrame, records: pl.DataFrame | None
) -> pl.DataFrame:
    reasons = [
        invalid.select(
            "_row",
            reject_reason=pl.lit(schema.INVALID),
            reject_detail=pl.lit(pl.Series(INVALID_REASONS, dtype=pl.String)).gather(pl.col("_invalid")),
        ),
        missed.select("_row", "reject_reason", reject_detail=pl.lit(None, pl.String)),
    ]
    found = pl.concat(reasons, how="vertical_relaxed").sort("_row")
    return pl.concat([frame.drop("_row")[found["_row"]], found.drop("_row")], how="horizontal")


def _deltas(deltas: list[pl.DataFrame]) -> pl.DataFrame:
    empty = pl.DataFrame(schema={"bucket_id": pl.String, "consumed": pl.Int64})
    joined = pl.concat([empty, *deltas], how="vertical_relaxed")
    totals = joined.group_by("bucket_id").agg(pl.col("consumed").sum())
    return totals.filter(pl.col("consumed") > 0).sort("bucket_id")
