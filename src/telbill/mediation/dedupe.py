"""Duplicates: by (source, record id), and by content within a time window.

Content means everything that is billed (subscriber, type, other party, duration, volumes,
charging id, sequence): two records with the same content whose start times are within the
source's window are the same event written twice (a switch resending a file under a new name).
The stored content hash covers the content and the start time's bucket (start // window): a
later record is compared with stored hashes of its own bucket and the two next to it, so the
look-up stays selective however often the same two parties exchange SMS. Polars' hash with a fixed
seed; a Polars upgrade that changed it would only miss old duplicates, never invent one.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from telbill.mediation.schema import Reason, reject

CONTENT_FIELDS = (
    "usage_type",
    "served_msisdn",
    "served_imsi",
    "other_party",
    "duration_s",
    "volume_up",
    "volume_down",
    "charging_id",
    "record_sequence",
)


def _bucket(window_s: int, shift: int = 0) -> pl.Expr:
    return pl.col("start_time").dt.epoch("s") // max(window_s, 1) + shift


def _hash(window_s: int, shift: int = 0) -> pl.Expr:
    return (
        pl.struct(*CONTENT_FIELDS, _bucket(window_s, shift).alias("_b"))
        .hash(seed=20260101)
        .reinterpret(signed=True)
    )


def content_hash(frame: pl.DataFrame, window_s: int) -> pl.Series:
    """The stored hash: content and start-time bucket."""
    return frame.select(_hash(window_s).alias("content_hash")).to_series()


def neighbour_hashes(frame: pl.DataFrame, window_s: int) -> pl.Series:
    """Hashes a stored duplicate of these records could have (their bucket and the two next to it)."""
    shifted = frame.select(
        pl.concat_list(_hash(window_s, -1), _hash(window_s), _hash(window_s, 1)).alias("h")
    )
    return shifted.explode("h")["h"].unique()


def dedupe_batch(frame: pl.DataFrame, window_s: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep the first of each (source, record_id) and of each content within the window; add content_hash."""
    frame = frame.with_columns(content_hash=_hash(window_s))
    one_source = frame["source"].n_unique() <= 1  # a file's batch: the record id alone is the key
    first_id = (pl.col("record_id") if one_source else pl.struct("source", "record_id")).is_first_distinct()
    by_id = frame.filter(~first_id)
    frame = frame.filter(first_id)
    if window_s == 0:  # same content at the same instant: no ordering needed
        # by the content hash, as stored records are compared (a 64-bit collision is negligible)
        first = pl.struct("content_hash", "start_time").is_first_distinct()
        kept, by_content = frame.filter(first), frame.filter(~first)
    else:
        kept, by_content = _chained(frame, window_s)
    rejects = pl.concat(
        [
            reject(by_id, Reason.DUPLICATE, "record id already seen in this file"),
            reject(by_content, Reason.DUPLICATE, "same content as another record in this file"),
        ]
    )
    return kept, rejects


def _chained(frame: pl.DataFrame, window_s: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Same content with each start within the window of the previous one: the first is kept."""
    key = pl.struct(*CONTENT_FIELDS).hash(seed=20260101)
    ordered = frame.with_columns(_key=key).sort("_key", "start_time", "line_no")
    gap = pl.col("start_time") - pl.col("start_time").shift(1)
    same = (pl.col("_key") == pl.col("_key").shift(1)) & (gap <= timedelta(seconds=window_s))
    ordered = ordered.with_columns(_dup=same.fill_null(False)).drop("_key")
    by_content = ordered.filter(pl.col("_dup")).drop("_dup")
    kept = ordered.filter(~pl.col("_dup")).drop("_dup").sort("line_no")
    return kept, by_content


def dedupe_against(
    frame: pl.DataFrame, seen_ids: pl.Series, seen_content: pl.DataFrame, window_s: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Drop what is already stored: record ids in `seen_ids`, or a stored (content_hash, start_time) near."""
    frame = frame.with_row_index("_row")
    by_id = frame.filter(pl.col("record_id").is_in(seen_ids.implode()))
    rest = frame.filter(~pl.col("record_id").is_in(seen_ids.implode()))
    window = timedelta(seconds=window_s)
    if seen_content.height:
        near = (
            rest.select(
                "_row",
                "start_time",
                pl.concat_list(_hash(window_s, -1), _hash(window_s), _hash(window_s, 1)).alias(
                    "content_hash"
                ),
            )
            .explode("content_hash")
            .join(seen_content.rename({"start_time": "_seen_start"}), on="content_hash")
            .filter((pl.col("start_time") - pl.col("_seen_start")).abs() <= window)
            .select("_row")
            .unique()
        )
        by_content = rest.join(near, on="_row", how="semi")
        rest = rest.join(near, on="_row", how="anti")
    else:
        by_content = rest.clear()
    rejects = pl.concat(
        [
            reject(by_id, Reason.DUPLICATE, "record id already imported"),
            reject(by_content, Reason.DUPLICATE, "same content already imported"),
        ]
    )
    return rest.drop("_row"), rejects


# --- exact duplicates (window 0) against a growing set of stored keys ----------------------------


def exact_keys(frame: pl.DataFrame) -> pl.Series:
    """One Int64 per record for window 0: a stored duplicate has the same content and start time."""
    return frame.select(
        pl.struct("content_hash", "start_time").hash(seed=20260101).reinterpret(signed=True).alias("k")
    ).to_series()


def merge_keys(seen: pl.Series, new: pl.Series) -> pl.Series:
    """`seen` (sorted) with `new` merged in, still sorted: linear, so an import of many batches
    does not re-sort (or re-hash) what it stored before."""
    fresh = pl.DataFrame({"k": new.sort()})
    if seen.is_empty():
        return fresh["k"]
    return pl.DataFrame({"k": seen}).merge_sorted(fresh, key="k")["k"]


def is_seen(keys: pl.Series, seen: pl.Series) -> pl.Series:
    """Membership of each key in the sorted `seen`, by binary search (no hash set of `seen` built)."""
    if seen.is_empty():
        return pl.Series(values=[False] * len(keys), dtype=pl.Boolean)
    at = seen.search_sorted(keys).clip(0, len(seen) - 1)
    return (seen.gather(at) == keys).fill_null(False)


def dedupe_exact(frame: pl.DataFrame, seen: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`dedupe_against` for window 0 and no ids, on keys from `exact_keys`."""
    hit = is_seen(exact_keys(frame), seen)
    rejects = reject(frame.filter(hit), Reason.DUPLICATE, "same content already imported")
    return frame.filter(~hit), rejects
