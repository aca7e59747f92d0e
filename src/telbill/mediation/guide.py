"""Guiding: which subscription (and account) a record belongs to, by the service id valid at its time.

The intervals are half-open `[valid_from, valid_to)`: at a plan-change instant T, an event at T
belongs to the new subscription and one a microsecond before to the old one. MSISDN is tried first,
then IMSI.
"""

from __future__ import annotations

import polars as pl

from telbill.mediation.schema import INTERVAL_SCHEMA, UTC_US, Reason, reject


def conform_intervals(intervals: pl.DataFrame) -> pl.DataFrame:
    """Accept any frame with the interval columns; cast to INTERVAL_SCHEMA and sort for the as-of join."""
    missing = [c for c in INTERVAL_SCHEMA if c not in intervals.columns]
    if missing:
        raise ValueError(f"service-id intervals lack columns {missing}")
    cols = []
    for name, dtype in INTERVAL_SCHEMA.items():
        col = pl.col(name)
        if dtype == UTC_US:
            col = col.dt.replace_time_zone("UTC") if intervals.schema[name].time_zone is None else col  # type: ignore[attr-defined]
        cols.append(col.cast(dtype).alias(name))
    return intervals.select(cols).sort("valid_from")


def guide(frame: pl.DataFrame, intervals: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(guided rows with subscription_id/account_id, UNKNOWN_SUBSCRIBER rejects)."""
    indexed = frame.drop("subscription_id", "account_id").with_row_index("_i")
    by_msisdn = _match(indexed, intervals, "msisdn", "served_msisdn")
    found = [by_msisdn]
    if (intervals["id_type"] == "imsi").any():  # IMSI only for what the MSISDN did not guide
        rest = indexed.join(by_msisdn.select("_i"), on="_i", how="anti")
        found.append(_match(rest, intervals, "imsi", "served_imsi"))
    guided = indexed.join(pl.concat(found), on="_i", how="left", maintain_order="left").drop("_i")
    unknown = guided.filter(pl.col("subscription_id").is_null())
    rejects = reject(
        unknown,
        Reason.UNKNOWN_SUBSCRIBER,
        pl.format(
            "no subscription for MSISDN {} / IMSI {} at {}",
            pl.col("served_msisdn").fill_null("-"),
            pl.col("served_imsi").fill_null("-"),
            pl.col("start_time"),
        ),
    )
    return guided.filter(pl.col("subscription_id").is_not_null()).select(frame.columns), rejects


def _match(indexed: pl.DataFrame, intervals: pl.DataFrame, id_type: str, key: str) -> pl.DataFrame:
    left = indexed.filter(pl.col(key).is_not_null()).select("_i", pl.col(key).alias("_key"), "start_time")
    right = intervals.filter(pl.col("id_type") == id_type).select(
        pl.col("value").alias("_key"), "valid_from", "valid_to", "subscription_id", "account_id"
    )
    joined = left.sort("start_time").join_asof(
        right,
        left_on="start_time",
        right_on="valid_from",
        by="_key",
        strategy="backward",
        check_sortedness=False,
    )
    valid = pl.col("valid_from").is_not_null() & (
        pl.col("valid_to").is_null() | (pl.col("start_time") < pl.col("valid_to"))
    )
    return joined.filter(valid).select("_i", "subscription_id", "account_id")
