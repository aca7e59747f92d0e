"""Rating by subject and in a stream: records name their tariff, batches come one after another.

Allowance balances carry from one batch to the next (the deltas are applied in between), which is
exact when batches arrive in event-time order — the order usage files are rated in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

import polars as pl

from telbill.rating import schema
from telbill.rating.allowances import Bucket
from telbill.rating.engine import RatingResult, rate
from telbill.rating.tariff import CompiledRating


def rate_by_subject(
    rating: CompiledRating, batch: pl.DataFrame, balances: Sequence[Bucket] = (), tariff: str | None = None
) -> RatingResult:
    """Rate each record with `tariff`, or else the tariff named in its `tariff_code` column."""
    if tariff is not None:
        return rate(rating.tariff(tariff), batch, balances)
    batch = schema.conform(batch)
    default = next(iter(rating.tariffs)) if len(rating.tariffs) == 1 else ""
    codes = batch.with_columns(pl.col("tariff_code").fill_null("").replace("", default))
    results, unknown = [], []
    for (code,), part in codes.group_by("tariff_code", maintain_order=True):
        if code in rating.tariffs:
            results.append(rate(rating.tariffs[str(code)], part, balances))
            balances = apply_deltas(balances, results[-1].balance_deltas)
        else:
            unknown.append(part)
    rejects = [r.rejects for r in results]
    if unknown:
        detail = pl.format("no tariff {}", pl.col("tariff_code"))
        rejects += [
            pl.concat(unknown).with_columns(reject_reason=pl.lit(schema.UNKNOWN_TARIFF), reject_detail=detail)
        ]
    empty = rate(rating.tariffs[next(iter(rating.tariffs))], batch.clear()) if rating.tariffs else None
    rated = pl.concat(
        [r.rated for r in results] or [empty.rated if empty else batch.clear()], how="vertical_relaxed"
    )
    deltas = pl.concat(
        [r.balance_deltas for r in results]
        or [pl.DataFrame(schema={"bucket_id": pl.String, "consumed": pl.Int64})]
    )
    return RatingResult(
        rated, pl.concat(rejects, how="diagonal_relaxed") if rejects else batch.clear(), deltas
    )


def apply_deltas(balances: Sequence[Bucket], deltas: pl.DataFrame) -> tuple[Bucket, ...]:
    """The buckets after the consumption a rating returned (the engine itself never mutates them)."""
    used = dict(zip(deltas["bucket_id"].to_list(), deltas["consumed"].to_list(), strict=True))
    return tuple(replace(b, remaining=b.remaining - used.get(b.bucket_id, 0)) for b in balances)


def rate_stream(
    rating: CompiledRating,
    batches: Iterable[pl.DataFrame],
    balances: Sequence[Bucket] = (),
    tariff: str | None = None,
) -> Iterator[RatingResult]:
    """Rate batch after batch in bounded memory; each result is yielded as soon as it is ready."""
    for batch in batches:
        result = rate_by_subject(rating, batch, balances, tariff)
        balances = apply_deltas(balances, result.balance_deltas)
        yield result
