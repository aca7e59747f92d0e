"""The arithmetic of rating as Polars expressions: slots, event totals, rounding, rated columns.

Each part of a record is priced slot by slot: the increments of a slot that start inside the part
are charged whole; a slot's price per base unit is an exact integer in units of 1/scale micro-units.
The event total (connect fee + usage, at least the minimum, at most the cap; nothing when no usage
is paid) is rounded once, to the version's decimals by its method.
"""

from __future__ import annotations

import polars as pl

from telbill.rating.tariff import CompiledRating, rate_table

RATE = pl.col("_rate").clip(lower_bound=0)  # rows without a rate are dropped later; keep gathers in range


class Prices:
    """A compiled rating's rate table, with the expressions that price parts and records."""

    def __init__(self, rating: CompiledRating) -> None:
        self.rating = rating
        self.table = rate_table(rating)
        self.width = sum(1 for c in self.table.columns if c.endswith("_inc"))

    def attr(self, name: str, part: str = "") -> pl.Expr:
        """A rate attribute per row: a literal when every rate has the same value, else a gather."""
        column = self.table[name]
        if column.n_unique() == 1:
            return pl.lit(column[0], pl.Int64)
        return pl.lit(column).gather(RATE if not part else pl.col(f"_rate{part}").clip(lower_bound=0))

    def slot_columns(self, part: str = "") -> list[pl.Expr]:
        """`_c{i}`: the quantity charged in slot i for the part [_a, _b) (whole increments);
        `_c{i}_1` for the second part [_a1, _b1) when `part` is "1"."""
        exprs = []
        for i in range(self.width):
            start, end, inc = (self.attr(f"s{i}_{n}", part) for n in ("start", "end", "inc"))
            lo = (pl.col(f"_a{part}") - start).clip(lower_bound=0)  # the part within the slot, from its start
            hi = (pl.col(f"_b{part}") - start).clip(upper_bound=end - start)
            count = ((hi + inc - 1) // inc - (lo + inc - 1) // inc).clip(lower_bound=0)
            exprs.append((count * inc).alias(f"_c{i}" + (f"_{part}" if part else "")))
        return exprs

    def _totals(self, part: str = "") -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        c = [pl.col(f"_c{i}" + (f"_{part}" if part else "")) for i in range(self.width)]
        return (
            pl.sum_horizontal(c),
            pl.sum_horizontal(c[i] * self.attr(f"s{i}_per", part) for i in range(self.width)),
            pl.sum_horizontal((c[i] > 0).cast(pl.Int64) * (1 << i) for i in range(self.width)),
        )

    def part_columns(self, second: bool = False) -> list[pl.Expr]:
        """Charged quantity, scaled amount, mask of the slots used and band names of each part; with
        `second`, of the record's two parts together when it crosses a band boundary (`_multi`)."""
        charged, amount, mask = self._totals()
        codes = list(self.rating.band_codes)
        band = pl.col("_band").clip(lower_bound=0)
        if second:
            two = pl.col("_multi")
            charged1, amount1, mask1 = self._totals("1")
            charged = charged + pl.when(two).then(charged1).otherwise(0)
            amount = amount + pl.when(two).then(amount1).otherwise(0)
            mask = mask | pl.when(two).then(mask1).otherwise(0)
            n = len(codes)
            band = pl.when(two).then(n + band * n + pl.col("_band1").clip(0, n - 1)).otherwise(band)
            codes += [f"{x}+{y}" for x in self.rating.band_codes for y in self.rating.band_codes]
        return [
            charged.alias("_charged"),
            amount.alias("_amount"),
            mask.alias("_mask"),
            pl.lit(pl.Series(codes, dtype=pl.String)).gather(band).alias("_bands"),
        ]

    def paid_amount(self) -> pl.Expr:
        """A part's scaled amount once `_free` units are taken from the event's first charged units
        (`_before`: what the earlier parts charged)."""
        paid = []
        for i in range(self.width):
            before = pl.col("_before") + pl.sum_horizontal(
                [pl.lit(0, pl.Int64)] + [pl.col(f"_c{j}") for j in range(i)]
            )
            covered = pl.min_horizontal((pl.col("_free") - before).clip(0), pl.col(f"_c{i}"))
            paid.append((pl.col(f"_c{i}") - covered) * self.attr(f"s{i}_per"))
        return pl.sum_horizontal(paid)

    def finish(self, records: pl.LazyFrame) -> pl.LazyFrame:
        """Connect fee, minimum, cap and the one rounding of the event total: `amount_micros`."""
        a = {n: self.attr(n) for n in ("connect", "minimum", "cap")}
        paid = pl.col("_charged") - pl.col("_free") > 0
        total = (
            pl.when(paid).then(pl.max_horizontal(a["connect"] + pl.col("_amount"), a["minimum"])).otherwise(0)
        )
        if (self.table["cap"] >= 0).any():
            total = pl.when(a["cap"] >= 0).then(pl.min_horizontal(total, a["cap"])).otherwise(total)
        t, q = pl.col("_total"), pl.col("_quantum")
        by_method = [(t + q - 1) // q, t // q, (2 * t + q) // (2 * q)]
        methods = self.table["method"].unique().to_list()
        rounded = by_method[methods[0]]
        if len(methods) > 1:
            method = pl.lit(self.table["method"]).gather(RATE)
            rounded = (
                pl.when(method == 0)
                .then(by_method[0])
                .when(method == 1)
                .then(by_method[1])
                .otherwise(by_method[2])
            )
        return (
            records.with_columns(_total=total, _quantum=self.attr("quantum"))
            .with_columns(amount_micros=rounded * self.attr("unit"), covered_micros=pl.lit(0, pl.Int64))
            .drop("_total", "_quantum")
        )

    def described(self) -> list[pl.Expr]:
        """The rated columns of each record (schema.RATED_COLUMNS, in order)."""
        rates, rating = self.rating.rates, self.rating
        slot_text = [
            ",".join(str(i + 1) for i in range(self.width) if m >> i & 1) for m in range(1 << self.width)
        ]
        return [
            pl.col("amount_micros"),
            label([r.currency for r in rates], RATE).alias("currency"),
            label([r.tariff_code for r in rates], RATE).alias("tariff"),
            pl.lit(pl.Series([r.version for r in rates], dtype=pl.Int64))
            .gather(RATE)
            .alias("tariff_version"),
            label([None, *rating.set_codes], (pl.col("_set").cast(pl.Int64) + 1).clip(lower_bound=0)).alias(
                "destination_set"
            ),
            label(list(rating.zones.codes), pl.col("_zone").clip(lower_bound=0)).alias("zone"),
            pl.col("_bands").alias("bands"),
            label(slot_text, pl.col("_mask")).alias("slots_used"),
            pl.col("_charged").alias("charged_quantity"),
            pl.col("_free").alias("free_quantity"),
            pl.col("_buckets").alias("bucket_ids"),
            pl.col("covered_micros"),
        ]


def label(values: list[str | None], index: pl.Expr) -> pl.Expr:
    """Text per row from a small table: a literal when the table has one value."""
    if len(set(values)) == 1:
        return pl.lit(values[0], pl.String)
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(index)


def merge_parts(first: pl.DataFrame, further: pl.DataFrame) -> pl.DataFrame:
    """Records from their first part and the totals of their further parts (band-crossing records):
    quantities and amounts add up, slot masks combine, band names join in part order."""
    if not further.height:
        return first
    extra = (
        further.lazy()
        .sort("_row", "_part")
        .group_by("_row", maintain_order=True)
        .agg(
            _x_charged=pl.col("_charged").sum(),
            _x_amount=pl.col("_amount").sum(),
            _x_mask=pl.col("_mask").bitwise_or(),
            _x_bands=pl.col("_bands").str.join("+"),
        )
    )
    merged = first.lazy().join(extra, on="_row", how="left", maintain_order="left")
    has = pl.col("_x_charged").is_not_null()
    return (
        merged.with_columns(
            _charged=pl.col("_charged") + pl.col("_x_charged").fill_null(0),
            _amount=pl.col("_amount") + pl.col("_x_amount").fill_null(0),
            _mask=pl.col("_mask") | pl.col("_x_mask").fill_null(0),
            _bands=pl.when(has)
            .then(pl.concat_str("_bands", pl.lit("+"), "_x_bands"))
            .otherwise(pl.col("_bands")),
        )
        .drop("_x_charged", "_x_amount", "_x_mask", "_x_bands")
        .collect()
    )
