"""One rating pass over mediated usage records: classify, price tariff charges with the engine
(allowance buckets drawn in event order), keep quantities of model charges (pure).

The result has one row per input record, in the columns of `rated_usage` (without the ids the
service assigns), and the buckets' balances after the pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import polars as pl

from telbill.rating.allowances import Bucket
from telbill.rating.batch import apply_deltas, rate_by_subject
from telbill.rating.classify import Facts, classify
from telbill.rating.grants import Grant, grants_for, owner_key
from telbill.rating.rollover import Carry, rollover_grants
from telbill.rating.tariff import CompiledRating

CURRENCY_MISMATCH = "tariff_currency_mismatch"
UTC_US = pl.Datetime("us", "UTC")
Balances = Mapping[str, int] | Callable[[set[str]], Mapping[str, int]]

ROW_SCHEMA: dict[str, pl.DataType] = {
    "usage_record_id": pl.Int64(),
    "status": pl.String(),
    "reason": pl.String(),
    "reason_detail": pl.String(),
    "account_id": pl.Int64(),
    "subscription_id": pl.Int64(),
    "start_time": UTC_US,
    "billing_period_start": UTC_US,
    "usage_type": pl.String(),
    "scope": pl.String(),
    "destination": pl.String(),
    "zone": pl.String(),
    "bands": pl.String(),
    "slots": pl.String(),
    "offer_code": pl.String(),
    "offer_version": pl.Int64(),
    "charge_code": pl.String(),
    "pricing": pl.String(),
    "quantity_base": pl.Int64(),
    "charged_quantity": pl.Int64(),
    "free_quantity": pl.Int64(),
    "bucket_ids": pl.String(),
    "amount_micros": pl.Int64(),
    "currency": pl.String(),
    "tariff_code": pl.String(),
    "tariff_version": pl.Int64(),
}


@dataclass
class PassResult:
    rows: pl.DataFrame  # ROW_SCHEMA, one row per input record
    grants: dict[str, Grant] = field(default_factory=dict)
    remaining: dict[str, int] = field(default_factory=dict)  # bucket id -> after the pass


def quantity_base() -> pl.Expr:
    """Seconds for voice and video, bytes for data, one event otherwise."""
    utype = pl.col("usage_type")
    return (
        pl.when(utype.is_in(["voice", "video"]))
        .then(pl.col("duration_s").fill_null(0))
        .when(utype == "data")
        .then(pl.col("volume_up").fill_null(0) + pl.col("volume_down").fill_null(0))
        .otherwise(pl.lit(1, pl.Int64))
    )


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [pl.lit(None, dtype=t).alias(n) for n, t in ROW_SCHEMA.items() if n not in frame.columns]
    return frame.with_columns(missing).select([pl.col(n).cast(t) for n, t in ROW_SCHEMA.items()])


def rate_usage(
    usage: pl.DataFrame,
    facts: Facts,
    rating: CompiledRating | None,
    balances: Balances | None = None,
    previous: Balances | None = None,
) -> PassResult:
    """Rate mediated usage records (repository.USAGE_SCHEMA); `balances`: bucket id -> remaining
    before the pass, or a function giving them for the buckets the pass needs (a bucket not
    given starts at its grant). `previous` gives the stored end balances of earlier periods'
    buckets, from which rollover chunks are computed (default: `balances`)."""
    frame, found = classify(usage, facts)
    frame = frame.with_columns(quantity_base=quantity_base())
    currency = pl.col("account_id").replace_strict(
        {a: t.currency for a, t in facts.accounts.items()}, default=None, return_dtype=pl.String
    )
    frame = frame.with_columns(currency=currency)
    failed = frame.filter(pl.col("_reason").is_not_null())
    ok = frame.filter(pl.col("_reason").is_null())
    tariffed = ok.filter(pl.col("pricing") == "tariff")
    plain = ok.filter(pl.col("pricing") != "tariff")
    parts = [
        _plain_rows(plain),
        _failed_rows(failed.with_columns(reason_detail=pl.lit(None, pl.String))),
    ]
    result = PassResult(pl.DataFrame(schema=ROW_SCHEMA))
    if tariffed.height:
        if rating is None:
            parts.append(_failed_rows(tariffed.with_columns(_reason=pl.lit("no_rating_catalog"))))
        else:
            balances = balances or {}
            priced, result = _priced(tariffed, facts, found, rating, balances, previous or balances)
            parts.append(priced)
    rows = pl.concat([_conform(p) for p in parts]).sort("usage_record_id")
    return replace(result, rows=rows)


def _plain_rows(frame: pl.DataFrame) -> pl.DataFrame:
    amount = pl.when(pl.col("pricing") == "included").then(pl.lit(0, pl.Int64))
    return frame.with_columns(
        status=pl.lit("rated"),
        subscription_id=pl.col("charge_subscription_id"),
        zone=pl.col("roaming_zone"),
        amount_micros=amount,
    )


def _failed_rows(frame: pl.DataFrame) -> pl.DataFrame:
    sub = (
        pl.coalesce("charge_subscription_id", "subscription_id")
        if "charge_subscription_id" in frame.columns
        else pl.col("subscription_id")
    )
    return frame.with_columns(
        status=pl.lit("failed"),
        reason=pl.col("_reason"),
        subscription_id=sub,
        zone=pl.col("roaming_zone"),
        amount_micros=pl.lit(None, pl.Int64),
    )


def _lookup(balances: Balances) -> Callable[[set[str]], Mapping[str, int]]:
    if callable(balances):
        return balances
    return lambda ids: {b: balances[b] for b in ids if b in balances}  # type: ignore[index]


def _grants(frame: pl.DataFrame, facts: Facts, found: Mapping[int, object]) -> dict[str, Grant]:
    """The period grants the records may draw on, and the chunks rolled into them."""
    grants: dict[str, Grant] = {}
    keys = frame.select("_key", "usage_type", "billing_period_start", "billing_period_end", "_basis").unique()
    for key, utype, start, end, basis in keys.iter_rows():
        for g in grants_for(facts, found[key], utype, start, end, basis):  # type: ignore[arg-type]
            old = grants.get(g.bucket_id)
            if old is not None:
                g = replace(old, owners=tuple(sorted({*old.owners, *g.owners})))
            grants[g.bucket_id] = g
    for g in list(grants.values()):
        if g.allowance is not None and g.allowance.rollover is not None:
            grants.update({r.bucket_id: r for r in rollover_grants(g, g.allowance, facts)})
    return grants


def _rounds(frame: pl.DataFrame, facts: Facts) -> list[pl.DataFrame]:
    """The records cut by the rank of their billing period within their family, so a period's
    rolled chunks are computed after the previous period's balances."""
    family = pl.col("account_id").replace_strict(
        {a: t.family_id for a, t in facts.accounts.items()}, default=None, return_dtype=pl.Int64
    )
    ranked = frame.with_columns(_round=pl.col("billing_period_start").rank("dense").over(family))
    return [p.drop("_round") for p in ranked.sort("_round").partition_by("_round", maintain_order=True)]


def _priced(
    frame: pl.DataFrame,
    facts: Facts,
    found: Mapping[int, object],
    rating: CompiledRating,
    balances: Balances,
    previous: Balances,
) -> tuple[pl.DataFrame, PassResult]:
    """Price tariff-charge records; period after period when allowances roll over."""
    grants = _grants(frame, facts, found)
    if not any(g.origin is not None for g in grants.values()):
        return _priced_round(frame, facts, rating, grants, balances)
    out, total = [], PassResult(pl.DataFrame())
    for part in _rounds(frame, facts):
        carry = Carry(facts, total.remaining, _lookup(previous))
        priced, result = _priced_round(part, facts, rating, carry.fill(_grants(part, facts, found)), balances)
        out.append(priced)
        total.grants.update(result.grants)
        total.remaining.update(result.remaining)
    return pl.concat(out), total


def _priced_round(
    frame: pl.DataFrame,
    facts: Facts,
    rating: CompiledRating,
    grants: dict[str, Grant],
    balances: Balances,
) -> tuple[pl.DataFrame, PassResult]:
    if callable(balances):
        balances = balances(set(grants))
    buckets: tuple[Bucket, ...] = tuple(
        g.bucket(balances.get(b, g.granted)) for b, g in sorted(grants.items())
    )
    tz = {a: t.timezone for a, t in facts.accounts.items()}
    # The account's timezone evaluates the bands; left empty when it is the tariff's own (the
    # engine then uses the tariff's: the same calendar).
    own = {v.timezone for t in rating.tariffs.values() for v in t.versions}
    same = pl.col("timezone").is_in(list(own))
    engine_in = frame.with_columns(
        acct=pl.col("account_id"),
        account_id=pl.concat_str(
            pl.col("charge_subscription_id").cast(pl.String), pl.lit("|"), pl.col("scope")
        ),
        timezone=pl.col("account_id").replace_strict(tz, default="", return_dtype=pl.String),
        _currency=pl.col("currency"),
    ).drop("currency", "destination_set", strict=False)
    engine_in = engine_in.with_columns(timezone=pl.when(same).then(pl.lit("")).otherwise("timezone"))
    result = rate_by_subject(rating, engine_in, buckets)
    after = apply_deltas(buckets, result.balance_deltas)
    rated = result.rated.with_columns(
        account_id=pl.col("acct"),
        status=pl.lit("rated"),
        subscription_id=pl.col("charge_subscription_id"),
        slots=pl.col("slots_used"),
        tariff_code=pl.col("tariff"),
    )
    mismatch = pl.col("currency") != pl.col("_currency")
    wrong = rated.filter(mismatch).with_columns(
        _reason=pl.lit(CURRENCY_MISMATCH),
        reason_detail=pl.format("tariff in {}, account in {}", "currency", "_currency"),
    )
    rejects = result.rejects.with_columns(
        account_id=pl.col("acct"), _reason=pl.col("reject_reason"), reason_detail=pl.col("reject_detail")
    )
    parts = [rated.filter(~mismatch), _failed_rows(wrong)]
    if rejects.height:
        parts.append(_failed_rows(rejects))
    remaining = {b.bucket_id: b.remaining for b in after}
    return pl.concat([_conform(p) for p in parts]), PassResult(pl.DataFrame(), grants, remaining)


__all__ = ["ROW_SCHEMA", "PassResult", "owner_key", "quantity_base", "rate_usage"]
