"""The one normalised usage schema every reader and pipeline step agrees on, and the reason codes.

Readers produce *staging* frames: every field as text (or null), plus where it came from, so that a
record that cannot be parsed still travels, with its raw content, to suspense. Normalisation turns a
staging frame into the typed USAGE schema below.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl
import pyarrow as pa


class UsageType(StrEnum):
    VOICE = "voice"
    SMS = "sms"
    MMS = "mms"
    DATA = "data"


USAGE_TYPES = tuple(t.value for t in UsageType)


class Reason(StrEnum):
    """Why a record did not become usage. Stable codes: operators filter suspense by them."""

    MISSING_FIELD = "MISSING_FIELD"
    BAD_VALUE = "BAD_VALUE"
    BAD_TIMESTAMP = "BAD_TIMESTAMP"
    BAD_NUMBER = "BAD_NUMBER"
    BAD_USAGE_TYPE = "BAD_USAGE_TYPE"
    FUTURE_EVENT = "FUTURE_EVENT"
    NEGATIVE_DURATION = "NEGATIVE_DURATION"
    NEGATIVE_VOLUME = "NEGATIVE_VOLUME"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    UNKNOWN_SUBSCRIBER = "UNKNOWN_SUBSCRIBER"
    DUPLICATE = "DUPLICATE"
    MISSING_PARTIAL = "MISSING_PARTIAL"
    LATE_PARTIAL = "LATE_PARTIAL"
    UNDECODABLE = "UNDECODABLE"
    ZERO_USAGE = "ZERO_USAGE"


# Text fields a reader fills (the staging frame). Times are text too: the source says how to read them.
STAGING_FIELDS = (
    "record_id",
    "usage_type",
    "served_msisdn",
    "served_imsi",
    "other_party",
    "start_time",
    "duration_s",
    "volume_up",
    "volume_down",
    "visited_mcc",
    "visited_mnc",
    "cell_id",
    "rating_group",
    "charging_id",
    "record_sequence",
    "cause_for_closing",
    "partial",
)

STAGING_SCHEMA = pl.Schema(
    {"source": pl.String, "file_id": pl.Int64, "line_no": pl.Int64}
    | {name: pl.String for name in STAGING_FIELDS}
)

UTC_US = pl.Datetime("us", "UTC")

USAGE_SCHEMA = pl.Schema(
    {
        "record_id": pl.String,
        "source": pl.String,
        "file_id": pl.Int64,
        "line_no": pl.Int64,
        "usage_type": pl.String,
        "served_msisdn": pl.String,
        "served_imsi": pl.String,
        "other_party": pl.String,
        "start_time": UTC_US,
        "duration_s": pl.Int64,
        "volume_up": pl.Int64,
        "volume_down": pl.Int64,
        "visited_mcc": pl.String,
        "visited_mnc": pl.String,
        "roaming": pl.Boolean,
        "cell_id": pl.String,
        "rating_group": pl.Int64,
        "charging_id": pl.String,
        "record_sequence": pl.Int64,
        "cause_for_closing": pl.String,
        "partial": pl.Boolean,
        "subscription_id": pl.Int64,
        "account_id": pl.Int64,
    }
)

REJECT_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "file_id": pl.Int64,
        "line_no": pl.Int64,
        "record_id": pl.String,
        "reason": pl.String,
        "message": pl.String,
        "raw": pl.String,  # the record as read (JSON object of its text fields, or the raw line)
    }
)

# The service-id validity intervals guiding joins against (provided by the subscriptions context).
INTERVAL_SCHEMA = pl.Schema(
    {
        "id_type": pl.String,  # "msisdn" | "imsi"
        "value": pl.String,
        "valid_from": UTC_US,
        "valid_to": UTC_US,  # null = open-ended
        "subscription_id": pl.Int64,
        "account_id": pl.Int64,
    }
)


def usage_arrow_schema() -> pa.Schema:
    """The normalised schema as Arrow, for consumers outside Polars (rating, distributed engines)."""
    return pl.DataFrame(schema=USAGE_SCHEMA).to_arrow().schema


def empty_usage() -> pl.DataFrame:
    return pl.DataFrame(schema=USAGE_SCHEMA)


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def empty_staging() -> pl.DataFrame:
    return pl.DataFrame(schema=STAGING_SCHEMA)


def reject(frame: pl.DataFrame, reason: Reason, message: str | pl.Expr) -> pl.DataFrame:
    """Rejects for every row of `frame` (a staging or usage frame), with one reason."""
    msg = message if isinstance(message, pl.Expr) else pl.lit(message)
    return frame.select(
        pl.col("source"),
        pl.col("file_id"),
        pl.col("line_no"),
        pl.col("record_id").cast(pl.String),
        pl.lit(reason.value).alias("reason"),
        msg.cast(pl.String).alias("message"),
        pl.lit(None, pl.String).alias("raw"),
    )


Check = tuple[pl.Expr, Reason, pl.Expr]  # (condition, reason, message)


def split_by_checks(frame: pl.DataFrame, checks: list[Check]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows passing every check, rejects with the first failing check's reason and message).

    Only the reason code is computed for every row; messages (string formatting, the costly part)
    are built for the rejected rows alone.
    """
    failed: pl.Expr = pl.lit(None, pl.String)
    for cond, code, _ in reversed(checks):
        failed = pl.when(cond).then(pl.lit(code.value)).otherwise(failed)
    checked = frame.with_columns(_reason=failed)
    good = checked.filter(pl.col("_reason").is_null()).drop("_reason")
    bad = checked.filter(pl.col("_reason").is_not_null())
    if bad.is_empty():
        return good, empty_rejects()
    message: pl.Expr = pl.lit(None, pl.String)
    for cond, _, text in reversed(checks):
        message = pl.when(cond).then(text.cast(pl.String)).otherwise(message)
    rejects = bad.select(
        pl.col("source"),
        pl.col("file_id"),
        pl.col("line_no"),
        pl.col("record_id").cast(pl.String),
        pl.col("_reason").alias("reason"),
        message.alias("message"),
        pl.lit(None, pl.String).alias("raw"),
    )
    return good, rejects
