"""The pure part of mediating one batch: normalise, validate, drop, dedupe, guide.

What needs stored state (duplicates of earlier files, partials held from earlier files) is done
by the service with the same pure functions (`dedupe_against`, `correlate`), so this module runs
unchanged on one process or on partitions of a distributed engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from telbill.mediation.dedupe import dedupe_batch
from telbill.mediation.guide import guide
from telbill.mediation.normalise import NumberBook, normalise
from telbill.mediation.schema import STAGING_FIELDS, UTC_US, Reason, reject
from telbill.mediation.sources import SourceConfig
from telbill.mediation.validate import drop_zero_usage, validate


@dataclass(frozen=True)
class BatchOutcome:
    good: pl.DataFrame  # complete records, guided, with content_hash
    partials: pl.DataFrame  # partial records, guided, with content_hash, for correlation
    rejects: pl.DataFrame  # REJECT_SCHEMA, raw attached


def process_batch(
    staging: pl.DataFrame,
    source: SourceConfig,
    intervals: pl.DataFrame,
    now: datetime,
    book: NumberBook,
) -> BatchOutcome:
    good, bad_read = normalise(staging, source, book)
    good, invalid = validate(good, source, now)
    good, zero = drop_zero_usage(good, source)
    good, dups = dedupe_batch(good, source.dedupe_window_s)
    good, unknown = guide(good, intervals)
    rejects = pl.concat(
        [bad_read, invalid, reject(zero, Reason.ZERO_USAGE, "nothing to bill"), dups, unknown]
    )
    return BatchOutcome(
        good=good.filter(~pl.col("partial")),
        partials=good.filter(pl.col("partial")),
        rejects=attach_raw(rejects, staging),
    )


def staging_raw(staging: pl.DataFrame) -> pl.DataFrame:
    """(line_no, raw): each staging row as a JSON object of its text fields."""
    return staging.select("line_no", pl.struct(*STAGING_FIELDS).struct.json_encode().alias("_raw"))


def attach_raw(rejects: pl.DataFrame, staging: pl.DataFrame) -> pl.DataFrame:
    """Fill the raw content of rejects that have none, from the staging rows of the same batch."""
    if rejects.is_empty():
        return rejects
    own = staging.join(rejects.select("line_no"), on="line_no", how="semi")
    joined = rejects.join(staging_raw(own), on="line_no", how="left")
    return joined.with_columns(raw=pl.coalesce("raw", "_raw")).drop("_raw")


def usage_raw(frame: pl.DataFrame) -> pl.DataFrame:
    """Normalised rows back to staging text (JSON), for records suspended after normalisation."""
    text = [
        pl.col(f).dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00").alias(f)
        if frame.schema.get(f) == UTC_US
        else pl.col(f).cast(pl.String).alias(f)
        for f in STAGING_FIELDS
    ]
    return frame.select("file_id", "line_no", pl.struct(text).struct.json_encode().alias("_raw"))
