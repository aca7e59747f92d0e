"""Columns of usage the rating engine reads, and of the rated records it writes.

Aligned with mediation's normalised usage; optional columns get their default when absent.
"""

from __future__ import annotations

import polars as pl

# name: (dtype, default when the column is absent). No default: required. No dtype: kept as given,
# null Int64 when absent.
USAGE_COLUMNS: dict[str, tuple[pl.DataType | None, object]] = {
    "record_id": (pl.String(), None),
    "usage_type": (pl.String(), None),
    "start_time": (pl.Datetime("us", "UTC"), None),
    "other_party": (pl.String(), ""),
    "duration_s": (pl.Int64(), 0),
    "volume_up": (pl.Int64(), 0),
    "volume_down": (pl.Int64(), 0),
    "roaming": (pl.Boolean(), False),
    "visited_mcc": (pl.String(), ""),
    "visited_mnc": (pl.String(), ""),
    "account_id": (None, None),  # kept as given (mediation: Int64); matched to buckets as text
    "subscription_id": (None, None),
    "timezone": (pl.String(), ""),
    "tariff_code": (pl.String(), ""),
}

RATED_COLUMNS: dict[str, pl.DataType] = {
    "amount_micros": pl.Int64(),
    "currency": pl.String(),
    "tariff": pl.String(),
    "tariff_version": pl.Int64(),
    "destination_set": pl.String(),
    "zone": pl.String(),
    "bands": pl.String(),
    "slots_used": pl.String(),
    "charged_quantity": pl.Int64(),
    "free_quantity": pl.Int64(),
    "bucket_ids": pl.String(),
    "covered_micros": pl.Int64(),
}

REJECT_COLUMNS: dict[str, pl.DataType] = {"reject_reason": pl.String(), "reject_detail": pl.String()}

# Reasons a record is not rated (it goes to suspense with the reason).
NO_TARIFF = "no_tariff_for_destination"
NO_VERSION = "no_tariff_version"
NO_ZONE = "no_roaming_zone"
TOO_LARGE = "quantity_out_of_range"
INVALID = "invalid_record"
UNKNOWN_TARIFF = "unknown_tariff"


def conform(batch: pl.DataFrame) -> pl.DataFrame:
    """The batch with every usage column present and typed (extra columns kept as they are)."""
    missing = [
        n for n, (t, d) in USAGE_COLUMNS.items() if t is not None and d is None and n not in batch.columns
    ]
    if missing:
        from telbill.core.errors import ValidationFailed

        raise ValidationFailed("usage batch lacks required columns", details=missing)
    exprs = []
    for name, (dtype, default) in USAGE_COLUMNS.items():
        if name not in batch.columns:
            exprs.append(pl.lit(default, dtype=dtype or pl.Int64()).alias(name))
        elif dtype is None:
            continue
        elif batch.schema[name] != dtype:
            exprs.append(_cast(name, dtype, batch.schema[name]))
    return batch.with_columns(exprs) if exprs else batch


def _cast(name: str, dtype: pl.DataType, current: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime) and isinstance(current, pl.Datetime):
        tz = col.dt.replace_time_zone("UTC") if current.time_zone is None else col.dt.convert_time_zone("UTC")
        return tz.dt.cast_time_unit("us").alias(name)
    if isinstance(dtype, pl.Datetime):
        if_str = col.cast(pl.String).str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
        return if_str.alias(name)
    if dtype == pl.Boolean():
        text = col.cast(pl.String).str.to_lowercase()
        return text.is_in(["true", "1", "yes", "t"]).alias(name)
    return col.cast(dtype, strict=False).alias(name)
