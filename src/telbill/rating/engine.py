"""The vectorised rating engine: (tariff, usage batch, balances) -> (rated, rejects, balance deltas).

Pure and integer-only; the arithmetic is in `pricing.py`, the choice of rate in `matching.py`.
A batch is rated by one lazy query per tariff version: every record is priced as if it had one
part, its destination set read from the direct prefix tables, and flagged when that is not the
whole story — an invalid record, no zone or rate, a number the tables cannot answer alone, a call
that crosses a band boundary. Only the flagged few are rated again exactly, part by part, and put
in place. With balances, allowances draw on the charged quantities in event-time order before the
event totals are made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from telbill.rating import schema
from telbill.rating.allowances import Bucket, draw_money, draw_units
from telbill.rating.matching import (
    INVALID_REASONS,
    MAX_DURATION_S,
    Facts,
    Plan,
    facts_of,
    invalid_code,
    missing_rate,
    quantity_column,
    work_columns,
)
from telbill.rating.prefixes import match_sets, with_padded_number
from telbill.rating.pricing import Prices, merge_parts
from telbill.rating.tariff import CompiledRating, CompiledTariff, CompiledVersion

__all__ = ["INVALID_REASONS", "MAX_DURATION_S", "RatingResult", "rate"]

# `_status` of a record after the one-part query: 0 rated; 1-4 invalid (1 + INVALID_REASONS index)
EXACT, NO_ZONE, NO_RATE, MULTI = 5, 6, 7, 8


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
    run = _Run(tariff.rating, frame, balances)
    missed = run.chain(tariff, frame)
    records = run.records()
    deltas: list[pl.DataFrame] = []
    if records is not None and balances:
        records, deltas = run.allowances(records, frame, balances)
    return RatingResult(
        rated=_rated(frame, records),
        rejects=_rejects(frame, run.invalid, missed),
        balance_deltas=_deltas(deltas),
    )


def prices_of(rating: CompiledRating) -> Prices:
    prices = rating.derived.get("prices")
    if not isinstance(prices, Prices) or prices.table.height != len(rating.rates):
        prices = rating.derived["prices"] = Prices(rating)
    return prices


class _Run:
    """One batch through one tariff chain: priced pieces, further parts, invalid rows as found."""

    def __init__(self, rating: CompiledRating, frame: pl.DataFrame, balances: Sequence[Bucket]) -> None:
        self.rating = rating
        self.facts = facts_of(frame) if frame.height else Facts(0, 0, 0, 0, (), (), False, True, 0)
        self.prices = prices_of(rating)
        self.inline = not balances  # without balances, totals and rated columns are in the same query
        self.pieces: list[pl.DataFrame] = []
        self.further: list[pl.DataFrame] = []
        self.invalid: list[pl.DataFrame] = []
        self.plans: dict[int, Plan] = {}

    def plan(self, v: CompiledVersion) -> Plan:
        if id(v) not in self.plans:
            self.plans[id(v)] = Plan(self.rating, v, self.facts)
        return self.plans[id(v)]

    def chain(self, tariff: CompiledTariff, rows: pl.DataFrame) -> pl.DataFrame:
        """Rate `rows` through the tariff and its fallbacks; the rows none could rate, with the reason."""
        missed = rows.clear().with_columns(reject_reason=pl.lit(None, pl.String))
        current: CompiledTariff | None = tariff
        first = True
        while current is not None and rows.height:
            versions, outside = self._by_version(current, rows, first)
            misses = [self._version(v, sub) for v, sub in versions]
            misses.append(outside.with_columns(reject_reason=pl.lit(schema.NO_VERSION)))
            missed = pl.concat(misses, how="vertical_relaxed")
            if sum(1 for m in misses if m.height) > 1:
                missed = missed.sort("_row")
            rows, current, first = missed.drop("reject_reason"), current.fallback, False
        return missed

    def _by_version(
        self, tariff: CompiledTariff, rows: pl.DataFrame, first: bool
    ) -> tuple[list[tuple[CompiledVersion, pl.DataFrame]], pl.DataFrame]:
        start = pl.col("start_time").dt.epoch("s")
        if first:  # the whole batch: its facts tell
            lo, hi, nulls = self.facts.lo, self.facts.last, self.facts.null_starts
        else:
            ts = pl.col("start_time")
            lo, hi, nulls = rows.select(
                lo=ts.min().dt.epoch("s"), hi=ts.max().dt.epoch("s"), nulls=ts.null_count()
            ).row(0)
        for v in tariff.versions:
            if not nulls and lo is not None and v.start_s <= lo and hi < v.end_s:
                return [(v, rows)], rows.clear()
        if first:  # invalid records are rejected as such whatever their start
            rows = self._split_invalid(rows)
        inside, out = pl.lit(False), []
        for v in tariff.versions:
            within = (start >= v.start_s) & (start < v.end_s)
            sub = rows.filter(within)
            if sub.height:
                out.append((v, sub))
            inside = inside | within
        return out, rows.filter(~inside)

    def _split_invalid(self, rows: pl.DataFrame) -> pl.DataFrame:
        code = self._work(None, rows.lazy()).select(invalid_code()).collect().to_series()
        bad = code.is_not_null()
        if bad.any():
            self.invalid.append(rows.filter(bad).with_columns(_invalid=code.filter(bad)))
        return rows.filter(~bad)

    def _work(self, plan: Plan | None, lf: pl.LazyFrame) -> pl.LazyFrame:
        lf = with_padded_number(
            lf.with_columns(work_columns(self.rating, self.facts)), "other_party", "_pad", "_len"
        )
        return lf.with_columns(
            quantity_column(self.facts), _tzi=plan.timezone_index() if plan else pl.lit(0, pl.Int64)
        )

    def _priced(self, plan: Plan, lf: pl.LazyFrame, second: bool = False) -> pl.LazyFrame:
        """First parts priced (with `second`, two-part records whole): slot quantities, charged
        quantity, amount, slot mask, band names."""
        lf = (plan.two_parts(lf) if second else plan.first_part(lf)).with_columns(
            self.prices.slot_columns(from_zero=True)
        )
        if second:
            lf = lf.with_columns(self.prices.slot_columns("1"))
        return lf.with_columns(self.prices.part_columns(second))

    def _output(self, lf: pl.LazyFrame, *extra: str) -> pl.LazyFrame:
        """The columns a priced record carries on: rated columns, or what allowances need first."""
        if self.inline:
            done = self.prices.finish(
                lf.with_columns(_free=pl.lit(0, pl.Int64), _buckets=pl.lit(None, pl.String)),
                nothing_free=True,
            )
            return done.select("_row", *self.prices.described(), *extra)
        slots = [f"_c{i}" for i in range(self.prices.width)]
        internal = ["_u", "_start", "_rate", "_set", "_zone", "_charged", "_amount", "_mask", "_bands"]
        return lf.select("_row", *internal, *slots, *extra)

    def _version(self, v: CompiledVersion, rows: pl.DataFrame) -> pl.DataFrame:
        """Rate `rows` with one version; the rows it has no rate for, with the reason."""
        plan = self.plan(v)
        second = self.inline  # two-part records whole in the query (with balances, part by part)
        lf = self._priced(plan, plan.with_sets(self._work(plan, rows.lazy())), second)
        out = self._output(lf.with_columns(_status=_status(self.facts, second)), "_status").collect(
            engine="streaming"
        )
        status = out["_status"]
        if not (status != 0).any():
            self.pieces.append(out.drop("_status"))
            return rows.clear().with_columns(reject_reason=pl.lit(None, pl.String))
        invalid = (status >= 1) & (status <= 4)
        if invalid.any():
            self.invalid.append(rows.filter(invalid).with_columns(_invalid=status.filter(invalid) - 1))
        missed = [
            rows.filter(status == NO_ZONE).with_columns(reject_reason=pl.lit(schema.NO_ZONE)),
            rows.filter(status == NO_RATE).with_columns(reject_reason=pl.lit(schema.NO_TARIFF)),
        ]
        keep = status == 0
        redo = (status == EXACT) | (status == MULTI)
        if redo.any():
            fixed, missed_exactly = self._exact(plan, rows.filter(redo))
            missed.append(missed_exactly)
            if fixed.height:
                at = out["_row"].search_sorted(fixed["_row"]).cast(pl.Int64)
                out = out.with_columns(out[c].scatter(at, fixed[c]) for c in fixed.columns if c != "_row")
                keep = keep.scatter(at, True)
        self.pieces.append(out.filter(keep).drop("_status"))
        found = pl.concat(missed, how="vertical_relaxed")
        return found.sort("_row") if found.height else found

    def _exact(self, plan: Plan, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Rate `rows` part by part with exact prefix matching: (rated records, missed rows)."""
        work = self._work(plan, rows.lazy()).collect()
        first = self._priced(plan, work.lazy().with_columns(_set=_exact_sets(plan, work))).collect()
        missing = first.select(missing_rate()).to_series()
        multi = first.filter(pl.col("_multi") & ~missing)
        further = first.clear()
        if multi.height:
            lf = plan.further_parts(multi).with_columns(self.prices.slot_columns())
            further = lf.with_columns(self.prices.part_columns()).collect()
            missing = missing | first["_row"].is_in(further.filter(missing_rate())["_row"].implode())
        reason = pl.when(pl.col("_zone") < 0).then(pl.lit(schema.NO_ZONE)).otherwise(pl.lit(schema.NO_TARIFF))
        missed = rows.filter(missing).with_columns(
            reject_reason=first.filter(missing).select(reason).to_series()
        )
        further = further.filter(~pl.col("_row").is_in(first.filter(missing)["_row"].implode()))
        if not self.inline:
            self.further.append(
                further.select("_row", "_part", "_rate", *(f"_c{i}" for i in range(self.prices.width)))
            )
        records = merge_parts(first.filter(~missing), further)
        return self._output(records.lazy()).collect(), missed

    def records(self) -> pl.DataFrame | None:
        """Every priced record, in batch order."""
        pieces = [p for p in self.pieces if p.height]
        if not pieces:
            return None
        return pieces[0] if len(pieces) == 1 else pl.concat(pieces).sort("_row")

    def allowances(
        self, records: pl.DataFrame, frame: pl.DataFrame, balances: Sequence[Bucket]
    ) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        """Unit buckets take the first charged units; totals; money buckets pay what they can."""
        records = records.join(
            frame.select("_row", "record_id", "account_id"), on="_row", maintain_order="left"
        )
        deltas: list[pl.DataFrame] = []
        if any(b.unit != "micros" for b in balances):
            records, delta = self._draw_units(records, balances)
            deltas.append(delta)
        else:
            records = records.with_columns(_free=pl.lit(0, pl.Int64), _buckets=pl.lit(None, pl.String))
        records = self.prices.finish(records.lazy()).collect()
        if any(b.unit == "micros" for b in balances):
            records, delta = draw_money(records, balances, self.rating)
            deltas.append(delta)
        return records.select("_row", *self.prices.described()), deltas

    def _draw_units(
        self, records: pl.DataFrame, balances: Sequence[Bucket]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        drawn, delta = draw_units(records, balances, self.rating)
        records = records.join(drawn, on="_row", how="left", maintain_order="left").with_columns(
            pl.col("_free").fill_null(0)
        )
        slots = [f"_c{i}" for i in range(self.prices.width)]
        first = records.select("_row", pl.lit(0, pl.Int64).alias("_part"), "_rate", *slots)
        parts = pl.concat([first, *(f.select(first.columns) for f in self.further)], how="vertical_relaxed")
        amounts = (
            parts.lazy()
            .with_columns(_charged=pl.sum_horizontal(pl.col(c) for c in slots))
            .sort("_row", "_part")
            .join(records.lazy().select("_row", "_free"), on="_row", maintain_order="left")
            .with_columns(_before=pl.col("_charged").cum_sum().over("_row") - pl.col("_charged"))
            .group_by("_row")
            .agg(_paid=self.prices.paid_amount().sum())
        )
        records = records.lazy().join(amounts, on="_row", maintain_order="left")
        return records.with_columns(_amount=pl.col("_paid")).drop("_paid").collect(), delta


def _status(facts: Facts, second: bool) -> pl.Expr:
    """What the one-query pricing of a record needs next (0: nothing, it is rated). Checks the
    batch rules out (invalid records, no roaming zone) are left out of the query."""
    missing = missing_rate() | (pl.col("_multi") & missing_rate("1")) if second else missing_rate()
    redo = pl.col("_exact") | pl.col("_long") if second else pl.col("_exact")
    status = pl.when(redo).then(pl.lit(EXACT, pl.Int8)).when(missing).then(pl.lit(NO_RATE, pl.Int8))
    if not second:
        status = status.when(pl.col("_multi")).then(pl.lit(MULTI, pl.Int8))
    status = status.otherwise(pl.lit(0, pl.Int8))
    if facts.roaming:
        status = pl.when(pl.col("_zone") < 0).then(pl.lit(NO_ZONE, pl.Int8)).otherwise(status)
    if not facts.clean:
        invalid = invalid_code()
        status = pl.when(invalid.is_not_null()).then(invalid + 1).otherwise(status)
    return status


def _exact_sets(plan: Plan, work: pl.DataFrame) -> pl.Series:
    """The set id (-1 none) of each row's number by exact longest-prefix matching."""
    found = pl.Series("_set", [-1] * work.height, dtype=pl.Int32)
    for index, usages in plan.indexes():
        sets = match_sets(index, work, "_pad", "_len", "other_party")
        found = work.select(pl.when(pl.col("_u").is_in(usages)).then(sets).otherwise(found)).to_series()
    return found.alias("_set")


def _rated(frame: pl.DataFrame, records: pl.DataFrame | None) -> pl.DataFrame:
    if records is None or not records.height:
        return (
            frame.clear()
            .drop("_row")
            .with_columns([pl.lit(None, dtype=t).alias(n) for n, t in schema.RATED_COLUMNS.items()])
        )
    base = frame.drop("_row")
    if records.height != frame.height:
        base = base[records["_row"]]
    return pl.concat([base, records.drop("_row")], how="horizontal")


def _rejects(frame: pl.DataFrame, invalid: list[pl.DataFrame], missed: pl.DataFrame) -> pl.DataFrame:
    details = pl.lit(pl.Series(INVALID_REASONS, dtype=pl.String))
    reasons = [
        *(
            i.select(
                "_row",
                reject_reason=pl.lit(schema.INVALID),
                reject_detail=details.gather(pl.col("_invalid").cast(pl.Int64)),
            )
            for i in invalid
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
