"""Validation of normalised usage: required fields, ranges and clock skew, each with a reason code."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from telbill.mediation.schema import Check, Reason, split_by_checks
from telbill.mediation.sources import SourceConfig


def validate(frame: pl.DataFrame, source: SourceConfig, now: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(good, rejects). `now` is passed in: an event later than now + max skew is FUTURE_EVENT."""
    latest = now + timedelta(seconds=source.max_future_skew_s)
    return split_by_checks(frame, _checks(source, latest))


def _missing(name: str) -> Check:
    return pl.col(name).is_null(), Reason.MISSING_FIELD, pl.lit(f"{name} is missing")


def _checks(source: SourceConfig, latest: datetime) -> list[Check]:
    kind = pl.col("usage_type")
    volume = pl.col("volume_up").fill_null(0) + pl.col("volume_down").fill_null(0)
    return [
        _missing("record_id"),
        _missing("usage_type"),
        _missing("start_time"),
        (
            pl.col("served_msisdn").is_null() & pl.col("served_imsi").is_null(),
            Reason.MISSING_FIELD,
            pl.lit("served subscriber is missing (neither MSISDN nor IMSI)"),
        ),
        (
            kind.is_in(["voice", "sms", "mms"]) & pl.col("other_party").is_null(),
            Reason.MISSING_FIELD,
            pl.format("other party is missing for {}", kind),
        ),
        (
            (kind == "voice") & pl.col("duration_s").is_null(),
            Reason.MISSING_FIELD,
            pl.lit("duration_s is missing for voice"),
        ),
        (
            (kind == "data") & pl.col("volume_up").is_null() & pl.col("volume_down").is_null(),
            Reason.MISSING_FIELD,
            pl.lit("volumes are missing for data"),
        ),
        (
            pl.col("partial") & (pl.col("charging_id").is_null() | pl.col("record_sequence").is_null()),
            Reason.MISSING_FIELD,
            pl.lit("a partial record needs charging_id and record_sequence"),
        ),
        (
            pl.col("duration_s") < 0,
            Reason.NEGATIVE_DURATION,
            pl.format("duration_s is {}", pl.col("duration_s")),
        ),
        (
            (pl.col("volume_up") < 0) | (pl.col("volume_down") < 0),
            Reason.NEGATIVE_VOLUME,
            pl.format("volumes are {} up, {} down", pl.col("volume_up"), pl.col("volume_down")),
        ),
        (
            pl.col("duration_s") > source.max_duration_s,
            Reason.OUT_OF_RANGE,
            pl.format("duration_s {} exceeds {}", pl.col("duration_s"), pl.lit(source.max_duration_s)),
        ),
        (volume > 1 << 40, Reason.OUT_OF_RANGE, pl.format("volume {} bytes is not plausible", volume)),
        (pl.col("record_sequence") < 1, Reason.OUT_OF_RANGE, pl.lit("record_sequence starts at 1")),
        (
            pl.col("start_time") > latest,
            Reason.FUTURE_EVENT,
            pl.format("starts at {}, after the accepted clock skew", pl.col("start_time")),
        ),
    ]


def drop_zero_usage(frame: pl.DataFrame, source: SourceConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records with nothing to bill (a 0 s call, a 0-byte session) are dropped when the source says so."""
    if not source.drop_zero_usage:
        return frame, frame.clear().select("source", "file_id", "line_no", "record_id")
    zero = ((pl.col("usage_type") == "voice") & (pl.col("duration_s") == 0)) | (
        (pl.col("usage_type") == "data")
        & (pl.col("volume_up").fill_null(0) + pl.col("volume_down").fill_null(0) == 0)
    )
    zero = zero & ~pl.col("partial")
    return frame.filter(~zero), frame.filter(zero)
