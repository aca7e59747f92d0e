"""The arithmetic of rating as Polars expressions: slots, event totals, rounding, rated columns.

Each part of a record is priced slot by slot: the increments of a slot that start inside the part
are charged whole; a slot's price per base unit is an exact integer in units of 1/scale micro-units.
The event total (connect fee + usage, at least the minimum, at most the cap; nothing when no usage
is paid) is rounded once, to the version's decimals by its method.
"""

from __future__ import annotations

import polars as pl

from telbill.rating.matching import band_labels
from telbill.rating.tariff import OPEN_END, CompiledRating, rate_table

RATE = pl.col("_rate")  # null for records without a rate: their gathers give null


class Prices:
    """A compiled rating's rate table, with the expressions that price parts and records."""

    def __init__(self, rating: CompiledRating) -> None:
        self.rating = rating
        self.table = rate_table(rating)
        self.width = sum(1 for c in self.table.columns if c.endswith("_inc"))
        self.labels = pl.Series(band_labels(rating.band_codes), dtype=pl.String)

    def value(self, name: str) -> int | None:
        """The attribute's value when every rate has the same one."""
        column = self.table[name]
        return int(column[0]) if column.n_unique() == 1 else None

    def attr(self, name: str, part: str = "") -> pl.Expr:
        """A rate attribute per row: a literal when every rate has the same value, else a gather."""
        same = self.value(name)
        if same is not None:
            return pl.lit(same, pl.Int64)
        return pl.lit(self.table[name]).gather(pl.col(f"_rate{part}"))

    def slot_columns(self, part: str = "", from_zero: bool = False) -> list[pl.Expr]:
        """`_c{i}`: the quantity charged in slot i for the part [_a, _b): the increments that start
        inside it, whole (`_c{i}_1` for the second part [_a1, _b1) when `part` is "1"). With
        `from_zero`, every part starts at offset 0. Never negative: an empty part charges 0."""
        exprs = []
        for i in range(self.width):
            start, end, inc = (self.attr(f"s{i}_{n}", part) for n in ("start", "end", "inc"))
            first, open_end = self.value(f"s{i}_start"), self.value(f"s{i}_end") == OPEN_END
            a, b = pl.col(f"_a{part}"), pl.col(f"_b{part}")
            lo = (
                None
                if from_zero and first is not None
                else a
                if first == 0
                else pl.max_horizontal(a - start, 0)
            )
            hi = b - start if open_end else pl.min_horizontal(b - start, end - start)
            count = (hi + inc - 1) // inc
            if lo is not None:
                count = pl.max_horizontal(count - (lo + inc - 1) // inc, 0)
            elif first is None or not open_end or first > 0:
                count = pl.max_horizontal(count, 0)
            exprs.append((count * inc).alias(f"_c{i}" + (f"_{part}" if part else "")))
        return exprs

    def _totals(self, part: str = "") -> tuple[list[pl.Expr], pl.Expr, pl.Expr]:
        c = [pl.col(f"_c{i}" + (f"_{part}" if part else "")) for i in range(self.width)]
        amount = pl.sum_horizontal(c[i] * self.attr(f"s{i}_per", part) for i in range(self.width))
        return c, pl.sum_horizontal(c), amount

    def part_columns(self, second: bool = False) -> list[pl.Expr]:
        """Charged quantity, scaled amount, mask of the slots used and band names of each part; with
        `second`, of the record's first two parts together (an empty second part adds nothing)."""
        c, charged, amount = self._totals()
        used = [x > 0 for x in c]
        label = pl.col("_band") + 1
        if second:
            c1, charged1, amount1 = self._totals("1")
            used = [(x > 0) | (y > 0) for x, y in zip(c, c1, strict=True)]  # y is null without a 2nd rate
            charged, amount = charged + charged1, amount + amount1.fill_null(0)
            label = pl.when(pl.col("_multi")).then(pl.col("_lab2")).otherwise(pl.col("_lab0"))
        mask = pl.sum_horizontal(used[i].cast(pl.Int64) * (1 << i) for i in range(self.width))
        return [
            charged.alias("_charged"),
            amount.alias("_amount"),
            mask.alias("_mask"),
            pl.lit(self.labels).gather(label).alias("_bands"),
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

    def finish(self, records: pl.LazyFrame, nothing_free: bool = False) -> pl.LazyFrame:
        """Connect fee, minimum, cap and the one rounding of the event total: `amount_micros`.
        With `nothing_free` (no allowances) and no connect fee or minimum anywhere, the total is
        the usage amount (0 when nothing is charged)."""
        a = {n: self.attr(n) for n in ("connect", "minimum", "cap")}
        if nothing_free and self.value("connect") == 0 and self.value("minimum") == 0:
            total = pl.col("_amount")
        else:
            paid = pl.col("_charged") - pl.col("_free") > 0
            total = (
                pl.when(paid)
                .then(pl.max_horizontal(a["connect"] + pl.col("_amount"), a["minimum"]))
                .otherwise(0)
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
            self.attr("version").alias("tariff_version"),
            label([None, None, *rating.set_codes], pl.col("_set").cast(pl.Int64) + 2).alias(
                "destination_set"
            ),
            label([None, *rating.zones.codes], pl.col("_zone") + 1).alias("zone"),
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
