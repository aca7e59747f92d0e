"""Allowance buckets: units (seconds, events, bytes) or money (micros) drawn in event-time order.

A bucket belongs to one account or is shared by several (a family). An event draws on the buckets
that match it (account, usage type, optional destination sets and zones, validity window), one
bucket per priority level (lowest priority number first; within a level the earliest expiry, then
the bucket id). Unit buckets cover the first part of the event's charged quantity; money buckets
cover the rated amount. The engine never mutates balances: it returns what each bucket gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from telbill.catalog.tariffs import TIME_USAGE, USAGE_TYPES, VOLUME_USAGE
from telbill.core.clock import ensure_utc
from telbill.core.errors import ValidationFailed
from telbill.rating.tariff import CompiledRating

UNITS = ("seconds", "events", "bytes", "micros")


@dataclass(frozen=True)
class Bucket:
    bucket_id: str
    accounts: tuple[str, ...]
    unit: str
    remaining: int
    usage_types: frozenset[str]
    valid_from: datetime
    valid_to: datetime
    destination_sets: frozenset[str] | None = None
    zones: frozenset[str] | None = None
    priority: int = 0

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValidationFailed(f"bucket {self.bucket_id}: unknown unit {self.unit!r}")
        if self.remaining < 0:
            raise ValidationFailed(f"bucket {self.bucket_id}: remaining must not be negative")
        wrong = [u for u in self.usage_types if u not in USAGE_TYPES or not fits(self.unit, u)]
        if wrong:
            raise ValidationFailed(
                f"bucket {self.bucket_id}: unit {self.unit} cannot count {', '.join(sorted(wrong))}"
            )
        ensure_utc(self.valid_from)
        ensure_utc(self.valid_to)

    def matches(self, account: str | None, usage: str, dest: str | None, zone: str, start_s: int) -> bool:
        return (
            account in self.accounts
            and usage in self.usage_types
            and (self.destination_sets is None or dest in self.destination_sets)
            and (self.zones is None or zone in self.zones)
            and int(self.valid_from.timestamp()) <= start_s < int(self.valid_to.timestamp())
        )


def fits(unit: str, usage: str) -> bool:
    if unit == "micros":
        return True
    if usage in TIME_USAGE:
        return unit == "seconds"
    return unit == ("bytes" if usage in VOLUME_USAGE else "events")


def _bucket_frame(buckets: Sequence[Bucket], rating: CompiledRating) -> pl.DataFrame:
    rows = []
    for b in buckets:
        sets = (
            None if b.destination_sets is None else [_index(rating.set_codes, s) for s in b.destination_sets]
        )
        zones = None if b.zones is None else [_index(rating.zones.codes, z) for z in b.zones]
        for account in b.accounts:
            for usage in b.usage_types:
                rows.append(
                    (
                        b.bucket_id,
                        account,
                        USAGE_TYPES.index(usage),
                        b.priority,
                        int(b.valid_from.timestamp()),
                        int(b.valid_to.timestamp()),
                        sets,
                        zones,
                        b.remaining,
                    )
                )
    schema = {
        "bucket_id": pl.String,
        "account_id": pl.String,
        "_u": pl.Int64,
        "priority": pl.Int64,
        "valid_from": pl.Int64,
        "valid_to": pl.Int64,
        "sets": pl.List(pl.Int64),
        "zones": pl.List(pl.Int64),
        "remaining": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _index(codes: Sequence[str], code: str) -> int:
    return list(codes).index(code) if code in codes else -99


def draw(
    records: pl.DataFrame, buckets: Sequence[Bucket], rating: CompiledRating
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Draw `_demand` of each record: ((_row, bucket_id, took) rows in draw order, deltas)."""
    bk = _bucket_frame(buckets, rating)
    cand = records.select(
        "_row", "_u", "_set", "_zone", "_start", "record_id", account_id=pl.col("account_id").cast(pl.String)
    ).join(bk, on=["account_id", "_u"])
    cand = cand.filter(
        (pl.col("valid_from") <= pl.col("_start"))
        & (pl.col("_start") < pl.col("valid_to"))
        & (pl.col("sets").is_null() | pl.col("sets").list.contains(pl.col("_set").cast(pl.Int64)))
        & (pl.col("zones").is_null() | pl.col("zones").list.contains(pl.col("_zone")))
    )
    residual = records.select("_row", "_demand")
    taken: list[pl.DataFrame] = []
    for level in sorted(set(cand["priority"].to_list())):
        lvl = cand.filter(pl.col("priority") == level).join(residual, on="_row").filter(pl.col("_demand") > 0)
        pick = lvl.sort("_row", "valid_to", "bucket_id").group_by("_row", maintain_order=True).first()
        pick = pick.sort("bucket_id", "_start", "record_id").with_columns(
            _cum=pl.col("_demand").cum_sum().over("bucket_id")
        )
        took = pl.min_horizontal(
            (pl.col("remaining") - pl.col("_cum") + pl.col("_demand")).clip(0), pl.col("_demand")
        )
        got = pick.select("_row", "bucket_id", took=took, level=pl.lit(level))
        taken.append(got)
        residual = residual.join(got.select("_row", "took"), on="_row", how="left").select(
            "_row", _demand=pl.col("_demand") - pl.col("took").fill_null(0)
        )
    empty = pl.DataFrame(
        schema={"_row": pl.Int64, "bucket_id": pl.String, "took": pl.Int64, "level": pl.Int64}
    )
    drawn = pl.concat([empty, *taken], how="vertical_relaxed")
    deltas = drawn.group_by("bucket_id").agg(consumed=pl.col("took").sum())
    return drawn, deltas


def _per_record(drawn: pl.DataFrame) -> pl.DataFrame:
    return (
        drawn.filter(pl.col("took") > 0)
        .sort("_row", "level")
        .group_by("_row")
        .agg(_took=pl.col("took").sum(), _ids=pl.col("bucket_id").str.join("+"))
    )


def draw_units(
    records: pl.DataFrame, buckets: Sequence[Bucket], rating: CompiledRating
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(_row, _free, _buckets) for records that drew on unit buckets, and the deltas."""
    units = [b for b in buckets if b.unit != "micros"]
    drawn, deltas = draw(records.with_columns(_demand=pl.col("_charged")), units, rating)
    per = _per_record(drawn).select("_row", _free=pl.col("_took"), _buckets=pl.col("_ids"))
    return per, deltas


def draw_money(
    records: pl.DataFrame, buckets: Sequence[Bucket], rating: CompiledRating
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records with money buckets applied to `amount_micros` (`covered_micros` says how much)."""
    money = [b for b in buckets if b.unit == "micros"]
    drawn, deltas = draw(records.with_columns(_demand=pl.col("amount_micros")), money, rating)
    per = _per_record(drawn)
    out = records.join(per, on="_row", how="left").with_columns(
        covered_micros=pl.col("_took").fill_null(0),
        amount_micros=pl.col("amount_micros") - pl.col("_took").fill_null(0),
        _buckets=pl.when(pl.col("_ids").is_null())
        .then(pl.col("_buckets"))
        .when(pl.col("_buckets").is_null())
        .then(pl.col("_ids"))
        .otherwise(pl.concat_str("_buckets", pl.lit("+"), "_ids")),
    )
    return out.drop("_took", "_ids"), deltas


def prorated(grant: int, cycle_start: datetime, cycle_end: datetime, active_from: datetime) -> int:
    """The allowance for a cycle entered at `active_from`: grant × remaining share, rounded down."""
    start, end, active = (int(ensure_utc(t).timestamp()) for t in (cycle_start, cycle_end, active_from))
    if active <= start:
        return grant
    if active >= end:
        return 0
    return grant * (end - active) // (end - start)


def rolled_over(unused: int, cap: int | None) -> int:
    """What passes to the next cycle from an unused allowance, at most `cap` when one is set."""
    return max(0, unused if cap is None else min(unused, cap))
